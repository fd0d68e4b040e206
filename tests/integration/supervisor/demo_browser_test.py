#!/usr/bin/env python3
"""The demo's whole loop in headless Chromium (issue 10 acceptance).

Starts what tools/demo.sh starts, on free ports: opamp-server, and opampsupervisor with
etc/demo/supervisor.yaml (the demo's settings, accepts_remote_config on) running the real
Collector (<build>/bin/otelcol-opsup) on a copy of etc/demo/collector.yaml whose OTLP ports
are free ones (and whose internal metrics are off, so port 8888 need not be free), with the
built capability modules copied into a private 0700 directory (the supervisor refuses
symlinked modules). Then, in the browser:

  1. the agent list shows the supervisor; its link opens the agent page, which shows the
     Collector's own description and a healthy health tree;
  2. a remote config is pushed through the page's form: an OTLP/HTTP receiver on another
     free port, a debug exporter that prints every record, a logs pipeline between them;
  3. the page shows APPLIED with the pushed hash, the health tree healthy with the pushed
     pipeline in it, and, when the effective_config module is installed, the effective
     config with the pushed receiver.

And outside the browser: the supervisor's log has a new "Collector started (pid N) on
config generation G" line (another pid, a later generation), and a log record posted to the
new OTLP port comes out in <storage>/agent.log. Every process is stopped at the end (the
supervisor gets SIGTERM and stops its Collector; the children also get SIGKILL from the
kernel should this script die, through PR_SET_PDEATHSIG).

tools/install-deps.sh installs selenium, chromium and chromedriver, so a missing one fails
the test; it exits 77 (ctest: skipped) instead only when OPSUP_ALLOW_NO_BROWSER=1. The real
Collector and the modules missing fail the test with the command that builds them.
Deadlines are generous (DEADLINE_S, default 120 s each): the test waits on conditions, never
on fixed sleeps, so a loaded 2-core machine only makes it slower.
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SKIP = 77
FAIL = 1
DEADLINE_S = float(os.environ.get("OPSUP_DEMO_TEST_DEADLINE_S", "120"))
SOURCE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(SOURCE_DIR, "..", "..", ".."))
STARTED = r"Collector started \(pid (\d+)\) on config generation (\d+)"
REQUIRED_MODULES = ("remote_config.so", "health.so")


def missing(what):
    """Skips when OPSUP_ALLOW_NO_BROWSER=1, fails otherwise."""
    if os.environ.get("OPSUP_ALLOW_NO_BROWSER") == "1":
        print(f"skipping (OPSUP_ALLOW_NO_BROWSER=1): {what}")
        return SKIP
    print(f"FAILED: {what}; run tools/install-deps.sh, or set OPSUP_ALLOW_NO_BROWSER=1 "
          "to skip this test", file=sys.stderr)
    return FAIL


def die_with_parent():
    """In the child before exec: SIGKILL when this script dies (PR_SET_PDEATHSIG), so a
    killed test leaves no supervisor or server behind (the supervisor's Collector dies with
    the supervisor the same way)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


class Process:
    """A child process whose output lines are collected by a reader thread and copied to a
    log file."""

    def __init__(self, args, log_path, env=None):
        self.args = args
        self.lines = []
        self.changed = threading.Condition()
        self.log = open(log_path, "w")
        self.popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, bufsize=1, env=env,
                                      preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            if os.environ.get("OPSUP_TEST_VERBOSE"):
                print(f"[{os.path.basename(self.args[0])}] {line}", file=sys.stderr)
            self.log.write(line + "\n")
            self.log.flush()
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def matches(self, pattern, start=0):
        regex = re.compile(pattern)
        with self.changed:
            return [m for m in (regex.search(line) for line in self.lines[start:]) if m]

    def line_count(self):
        with self.changed:
            return len(self.lines)

    def wait_for(self, pattern, start=0, timeout_s=DEADLINE_S):
        """The match of the first line from `start` matching `pattern`; fails the test at the
        deadline or when the process exited without printing it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                for line in self.lines[start:]:
                    match = regex.search(line)
                    if match:
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.popen.poll() is not None and not self.reader.is_alive()):
                    state = ("exited with " + str(self.popen.returncode)
                             if self.popen.poll() is not None else "still running")
                    raise AssertionError(f"{os.path.basename(self.args[0])} ({state}) never "
                                         f"printed /{pattern}/; its log: {self.log.name}")
                self.changed.wait(min(remaining, 0.5))

    def stop(self):
        """SIGTERM, then the exit status (SIGKILL after the deadline: None)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return None
        finally:
            self.reader.join(5)
            self.log.close()


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def wait_until(condition, what, timeout_s=DEADLINE_S):
    """Polls `condition` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (OSError, KeyError, TypeError, ValueError) as error:
            last_error = error
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}"
                         + (f" (last error: {last_error})" if last_error else ""))


def free_ports(count):
    """`count` distinct loopback ports that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def demo_collector_config(grpc_port, http_port):
    """etc/demo/collector.yaml with its OTLP ports moved to free ones and the Collector's
    internal metrics off (their default listener, port 8888, may be taken)."""
    with open(os.path.join(REPO, "etc", "demo", "collector.yaml")) as source:
        text = source.read()
    for fixed, free in (("127.0.0.1:4317", grpc_port), ("127.0.0.1:4318", http_port)):
        assert text.count(fixed) == 1, f"etc/demo/collector.yaml no longer has one {fixed}"
        text = text.replace(fixed, f"127.0.0.1:{free}")
    assert text.count("\nservice:\n") == 1, "etc/demo/collector.yaml has no top-level service:"
    return text.replace("\nservice:\n",
                        "\nservice:\n  telemetry:\n    metrics:\n      level: none\n")


def pushed_config(port):
    """What the page pushes: an OTLP/HTTP receiver on `port` into a debug exporter that
    prints each record's body, in a pipeline of its own (merged over the local config)."""
    return ("receivers:\n"
            "  otlp/pushed:\n"
            "    protocols:\n"
            "      http:\n"
            f"        endpoint: 127.0.0.1:{port}\n"
            "exporters:\n"
            "  debug/pushed:\n"
            "    verbosity: detailed\n"
            "service:\n"
            "  pipelines:\n"
            "    logs/pushed:\n"
            "      receivers: [otlp/pushed]\n"
            "      exporters: [debug/pushed]\n")


def post_log_record(port, body):
    """One log record over OTLP/HTTP (JSON); true when the receiver took it."""
    payload = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [
        {"body": {"stringValue": body}}]}]}]}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs",
                                     data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 200 <= response.status < 300
    except urllib.error.HTTPError:
        return False


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def tail(path, lines=40):
    return "\n".join(read_text(path).splitlines()[-lines:])


def is_running(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def on_signal(signo, _frame):
    raise SystemExit(f"interrupted by signal {signo}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.environ.get("OPSUP_BUILD_DIR", "."))
    args = parser.parse_args()
    build = os.path.abspath(args.build_dir)
    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signo, on_signal)

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return missing(f"python3-selenium is not installed for {sys.executable}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium or not os.path.exists(chromedriver):
        return missing("chromium and chromium-driver are needed")

    bin_dir = os.path.join(build, "bin")
    server_bin = os.path.join(bin_dir, "opamp-server")
    supervisor_bin = os.path.join(bin_dir, "opampsupervisor")
    collector_bin = os.environ.get("OPSUP_OTELCOL_BIN") or os.path.join(bin_dir, "otelcol-opsup")
    built_modules = os.path.join(build, "lib", "opampsupervisor", "modules")
    for path, how in ((server_bin, f"cmake --build {build} --target opamp-server"),
                      (supervisor_bin, f"cmake --build {build} --target opampsupervisor"),
                      (collector_bin, f"tools/otelcol/build.sh {build}")):
        if not os.access(path, os.X_OK):
            print(f"FAILED: {path} is missing; build it: {how}", file=sys.stderr)
            return FAIL
    for name in REQUIRED_MODULES:
        if not os.path.isfile(os.path.join(built_modules, name)):
            print(f"FAILED: {built_modules}/{name} is missing; build the modules: "
                  f"cmake --build {build} --target opsup_capability_modules", file=sys.stderr)
            return FAIL

    work = tempfile.mkdtemp(prefix="opsup-demo-browser-")  # mode 0700
    modules = os.path.join(work, "modules")
    os.mkdir(modules, 0o700)
    for name in sorted(os.listdir(built_modules)):
        if name.endswith(".so"):
            shutil.copy(os.path.join(built_modules, name), modules)  # copies, not links
            os.chmod(os.path.join(modules, name), 0o755)
    installed = sorted(os.listdir(modules))
    has_effective_config = "effective_config.so" in installed
    storage = os.path.join(work, "storage")
    profile = os.path.join(work, "chromium-profile")
    grpc_port, http_port, pushed_port = free_ports(3)
    collector_yaml = os.path.join(work, "collector.yaml")
    with open(collector_yaml, "w") as out:
        out.write(demo_collector_config(grpc_port, http_port))

    server = supervisor = driver = None
    collector_pids = []
    passed = False
    try:
        server = Process([server_bin, "--opamp-listen", "127.0.0.1:0", "--ui-listen", "127.0.0.1:0"],
                         os.path.join(work, "server.log"))
        opamp_port = server.wait_for(r"opamp listening on ws://127\.0\.0\.1:(\d+)/").group(1)
        ui_url = server.wait_for(r"ui listening on (\S+?)/?$").group(1)

        # The demo's own supervisor config, filled the way tools/demo.sh fills it.
        env = dict(os.environ, OPSUP_DEMO_OPAMP_PORT=opamp_port, OPSUP_DEMO_STORAGE=storage,
                   OPSUP_DEMO_COLLECTOR_BIN=collector_bin,
                   OPSUP_DEMO_COLLECTOR_CONFIG=collector_yaml)
        supervisor = Process([supervisor_bin, "--config",
                              os.path.join(REPO, "etc", "demo", "supervisor.yaml"),
                              "--modules-dir", modules],
                             os.path.join(work, "supervisor.log"), env=env)
        uid = supervisor.wait_for(r"Supervisor starting: id ([0-9a-f-]{36})").group(1)
        first = supervisor.wait_for(STARTED)
        old_pid, old_generation = int(first.group(1)), int(first.group(2))
        collector_pids.append(old_pid)
        agent_url = f"{ui_url}/api/agents/{uid}"

        def agent_healthy():
            view = get_json(agent_url)
            return (view["connection"]["connected"] and view["health"] is not None
                    and view["health"]["healthy"] and view)
        before = wait_until(agent_healthy, "the server to list the agent as connected and healthy")
        assert "AcceptsRemoteConfig" in before["capabilities"]["names"], before["capabilities"]

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        driver.set_page_load_timeout(DEADLINE_S)
        wait = WebDriverWait(driver, DEADLINE_S)

        def element_text(selector):
            found = driver.find_elements(By.CSS_SELECTOR, selector)
            return found[0].text if found else "(no such element)"

        def page_until(condition, what, selector):
            """Waits for `condition`; at the deadline fails naming `what` and what the
            element `selector` shows instead."""
            try:
                return wait.until(condition)
            except TimeoutException:
                raise AssertionError(f"timed out after {DEADLINE_S:.0f} s waiting for {what}; "
                                     f"{selector} shows: {element_text(selector)[:4000]!r}") from None

        def page_shows(selector, text):
            page_until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text),
                       f"{selector} to show {text!r}", selector)

        # The list shows the supervisor under the Collector's own name; its link opens the
        # agent page.
        driver.get(ui_url + "/")
        row_selector = f'tr[data-uid="{uid}"]'
        page_shows(row_selector, "otelcol-opsup")
        page_shows(row_selector, "connected")
        driver.find_element(By.CSS_SELECTOR, row_selector + " a").click()
        page_shows("#uid", uid)
        page_shows("#status-line", "connected over ws")
        page_shows("#description", "otelcol-opsup")
        page_shows("#description", "deployment.environment")
        page_shows("#capabilities", "AcceptsRemoteConfig")
        page_shows("#health", "receiver:otlp")

        def health_root_ok(_driver):
            # The tree's root ("agent") is drawn with class "ok" (●) when healthy.
            roots = _driver.find_elements(By.CSS_SELECTOR, "#health > ul.tree > li > span")
            return bool(roots) and "ok" in roots[0].get_attribute("class").split()
        page_until(health_root_ok, "the health tree's root to be healthy (class ok)", "#health")

        # Push the config through the form: the only row is the unnamed file.
        yaml = pushed_config(pushed_port)
        started_lines = supervisor.line_count()
        rows = driver.find_elements(By.CSS_SELECTOR, "#config-files .config-file")
        assert len(rows) == 1, f"{len(rows)} config rows before any config was pushed"
        assert rows[0].find_element(By.CSS_SELECTOR, ".config-file-name").get_attribute("value") == ""
        rows[0].find_element(By.CSS_SELECTOR, ".config-file-body").send_keys(yaml)
        assert rows[0].find_element(By.CSS_SELECTOR, ".config-file-body").get_attribute("value") == yaml
        driver.find_element(By.ID, "push-config").click()
        page_shows("#action-result", "config: sent (hash ")
        result = driver.find_element(By.ID, "action-result").text
        pushed_hash = re.search(r"\(hash ([0-9a-f]{64})\)", result).group(1)

        # The page shows the Collector's answer without a reload: APPLIED for this hash...
        def applied(_driver):
            status = _driver.find_element(By.ID, "remote-config-status").text
            if status == "FAILED" and _driver.find_element(By.ID, "remote-config-hash").text == pushed_hash:
                raise AssertionError("the page shows FAILED for the pushed config: "
                                     + element_text("section:has(#remote-config-status)"))
            return (_driver.find_element(By.ID, "remote-config-status").text == "APPLIED"
                    and _driver.find_element(By.ID, "remote-config-hash").text == pushed_hash
                    and _driver.find_element(By.ID, "remote-config-desired-hash").text == pushed_hash)
        page_until(applied, f"APPLIED with hash {pushed_hash}",
                   "section:has(#remote-config-status)")
        assert driver.find_element(By.ID, "remote-config-error").text == ""
        # ... the health of the Collector running the pushed config (its pipeline is in the
        # tree), healthy ...
        page_shows("#health", "pipeline:logs/pushed")
        page_shows("#health", "receiver:otlp/pushed")
        page_shows("#health", "exporter:debug/pushed")
        page_until(health_root_ok, "the health tree's root to be healthy (class ok)", "#health")
        assert "StatusOK" in driver.find_element(By.ID, "health").text
        # ... and the effective config, when a module reports it.
        if has_effective_config:
            page_shows("#effective-config", "otlp/pushed")
            page_shows("#effective-config", f"127.0.0.1:{pushed_port}")

        # The Collector really restarted on it: a new process on a later generation ...
        restarted = supervisor.wait_for(STARTED, start=started_lines)
        new_pid, new_generation = int(restarted.group(1)), int(restarted.group(2))
        collector_pids.append(new_pid)
        assert new_pid != old_pid, f"the Collector kept pid {old_pid}"
        assert new_generation > old_generation, (old_generation, new_generation)
        assert not is_running(old_pid), f"the old Collector (pid {old_pid}) still runs"
        with open(os.path.join(storage, "effective.yaml")) as f:
            effective = f.read()
        assert f"127.0.0.1:{pushed_port}" in effective and "logs/pushed" in effective, effective
        # ... whose new receiver takes data that the debug exporter prints to agent.log.
        marker = f"demo-browser-test-{os.getpid()}-{time.time_ns()}"
        wait_until(lambda: post_log_record(pushed_port, marker),
                   f"the pushed OTLP/HTTP receiver on port {pushed_port} to take a log record")
        wait_until(lambda: marker in read_text(os.path.join(storage, "agent.log")),
                   f"the record {marker} in {storage}/agent.log")

        # The JSON API agrees with the page, and the latest Collector is the one running.
        view = get_json(agent_url)
        assert view["remote_config_status"]["status"] == "APPLIED", view["remote_config_status"]
        assert view["remote_config_status"]["last_remote_config_hash"] == pushed_hash
        assert view["remote_config"]["files"][""]["body"] == yaml, view["remote_config"]
        assert view["health"]["healthy"], view["health"]
        latest = supervisor.matches(STARTED)[-1]
        assert int(latest.group(1)) == new_pid and is_running(new_pid), latest.group(0)
        passed = True
        print(f"demo browser test passed: APPLIED {pushed_hash}, Collector pid {old_pid} -> "
              f"{new_pid} (generation {old_generation} -> {new_generation}), modules "
              f"{', '.join(installed)}"
              + ("" if has_effective_config else "; no effective_config module: not checked"))
    finally:
        if driver is not None:
            driver.quit()
        supervisor_status = supervisor.stop() if supervisor is not None else 0
        if supervisor is not None:
            collector_pids.extend(int(m.group(1)) for m in supervisor.matches(STARTED))
        server_status = server.stop() if server is not None else 0
        # The supervisor stops its Collector; a safety net should it not have.
        left = sorted({pid for pid in collector_pids if is_running(pid)})
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        if not passed:
            for name in ("supervisor.log", "server.log", "storage/agent.log"):
                print(f"--- {name} (last lines) ---\n{tail(os.path.join(work, name))}",
                      file=sys.stderr)
            print(f"(files kept in {work})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    assert supervisor_status == 0, f"opampsupervisor exited with {supervisor_status}"
    assert server_status == 0, f"opamp-server exited with {server_status}"
    assert not left, f"Collector processes outlived the supervisor: {left}"
    return 0


if __name__ == "__main__":
    sys.exit(main())
