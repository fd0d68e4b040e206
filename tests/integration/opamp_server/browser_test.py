#!/usr/bin/env python3
"""Browser test of opamp-server's web page.

Starts opamp-server and an opamp-test-agent process, opens the page in headless Chromium
(Debian's chromium + chromium-driver + python3-selenium), finds the agent in the list,
opens its page (whose first HTML already shows the agent, before any script ran), pushes a
remote config of two files through the form and waits until the page shows the agent's
answer: status APPLIED with the pushed hash, and both files as effective config. Then it
offers a package through the package form with "keep others": the package offered earlier
through the API stays exactly as it was.

tools/install-deps.sh installs selenium, chromium and chromedriver, so a missing one fails
the test; it exits 77 (ctest: skipped) instead only when OPSUP_ALLOW_NO_BROWSER=1.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
FAIL = 1
DEADLINE_S = 30


def missing(what):
    """Skips when OPSUP_ALLOW_NO_BROWSER=1, fails otherwise."""
    if os.environ.get("OPSUP_ALLOW_NO_BROWSER") == "1":
        print(f"skipping (OPSUP_ALLOW_NO_BROWSER=1): {what}")
        return SKIP
    print(f"FAILED: {what}; run tools/install-deps.sh, or set OPSUP_ALLOW_NO_BROWSER=1 "
          "to skip this test", file=sys.stderr)
    return FAIL


class Process:
    """A child process whose output lines are collected by a reader thread."""

    def __init__(self, args):
        self.args = args
        self.lines = []
        self.changed = threading.Condition()
        self.popen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            if os.environ.get("OPSUP_TEST_VERBOSE"):
                print(f"[{os.path.basename(self.args[0])}] {line}", file=sys.stderr)
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern, timeout_s=DEADLINE_S):
        """First group of the first line matching `pattern`; fails the test at the deadline."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                for line in self.lines:
                    match = regex.search(line)
                    if match:
                        return match.group(1)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.popen.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"{self.args[0]} never printed /{pattern}/; output:\n"
                                         + "\n".join(self.lines))
                self.changed.wait(min(remaining, 0.5))

    def stop(self):
        """SIGTERM, then the exit status (SIGKILL after the deadline)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return None


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_until(condition, what, timeout_s=DEADLINE_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.environ.get("OPSUP_BUILD_DIR", "."))
    args = parser.parse_args()

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return missing(f"python3-selenium is not installed for {sys.executable}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium or not os.path.exists(chromedriver):
        return missing("chromium and chromium-driver are needed")

    bin_dir = os.path.join(args.build_dir, "bin")
    server = Process([os.path.join(bin_dir, "opamp-server"),
                      "--opamp-listen", "127.0.0.1:0", "--ui-listen", "127.0.0.1:0"])
    agent = None
    driver = None
    profile = tempfile.mkdtemp(prefix="opamp-server-browser-")
    try:
        ws_url = server.wait_for(r"opamp listening on (\S+)")
        ui_url = server.wait_for(r"ui listening on (\S+?)/?$")
        agent = Process([os.path.join(bin_dir, "opamp-test-agent"),
                         "--endpoint", ws_url, "--service-name", "browser-test-agent"])
        uid = agent.wait_for(r"instance_uid (\S+)")
        wait_until(lambda: any(a["instance_uid"] == uid and a["connection"]["connected"]
                               for a in get_json(ui_url + "/api/agents")["agents"]),
                   "the agent to connect")

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        wait = WebDriverWait(driver, DEADLINE_S)

        # The list shows the agent, connected; its link opens the agent page.
        driver.get(ui_url + "/")
        row_selector = f'tr[data-uid="{uid}"]'
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, row_selector),
                                                    "browser-test-agent"))
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, row_selector), "connected"))
        driver.find_element(By.CSS_SELECTOR, row_selector + " a").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "uid"), uid))
        wait.until(EC.text_to_be_present_in_element((By.ID, "status-line"), "connected over ws"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "description"), "browser-test-agent"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "capabilities"),
                                                    "AcceptsRemoteConfig"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "health"), "receiver:otlp"))

        # Push a config of two files through the form: the first row, plus one added.
        yaml = "receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines: {}\n"
        extra = "processors:\n  batch: {}\n"
        rows = driver.find_elements(By.CSS_SELECTOR, "#config-files .config-file")
        assert len(rows) == 1, f"{len(rows)} config rows before any config was pushed"
        rows[0].find_element(By.CSS_SELECTOR, ".config-file-body").send_keys(yaml)
        driver.find_element(By.ID, "add-config-file").click()
        driver.find_element(By.ID, "add-config-file").click()
        rows = driver.find_elements(By.CSS_SELECTOR, "#config-files .config-file")
        assert len(rows) == 3, f"{len(rows)} config rows after adding two"
        rows[1].find_element(By.CSS_SELECTOR, ".config-file-name").send_keys("extra.yaml")
        rows[1].find_element(By.CSS_SELECTOR, ".config-file-body").send_keys(extra)
        rows[2].find_element(By.CSS_SELECTOR, ".config-file-name").send_keys("dropped.yaml")
        rows[2].find_element(By.CSS_SELECTOR, ".remove-config-file").click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#config-files .config-file")) == 2
        driver.find_element(By.ID, "push-config").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "action-result"), "config: sent"))

        # The agent's answer appears on the page without a reload.
        wait.until(EC.text_to_be_present_in_element((By.ID, "remote-config-status"), "APPLIED"))
        desired = driver.find_element(By.ID, "remote-config-desired-hash").text
        reported = driver.find_element(By.ID, "remote-config-hash").text
        assert re.fullmatch(r"[0-9a-f]{64}", desired), f"desired hash {desired!r}"
        assert reported == desired, f"reported {reported!r} != desired {desired!r}"
        wait.until(EC.text_to_be_present_in_element((By.ID, "effective-config"), "debug: {}"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "effective-config"), "extra.yaml"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "effective-config"), "batch: {}"))

        # The JSON API agrees with the page.
        view = get_json(f"{ui_url}/api/agents/{uid}")
        assert view["remote_config_status"]["status"] == "APPLIED", view
        assert view["remote_config_status"]["last_remote_config_hash"] == desired, view
        assert sorted(view["remote_config"]["files"]) == ["", "extra.yaml"], view
        assert view["effective_config"]["files"][""]["body"] == yaml, view
        assert view["effective_config"]["files"]["extra.yaml"]["body"] == extra, view

        # Reloaded, the page shows that state in its first HTML (no script run yet) and
        # starts the config rows from the pushed files.
        with urllib.request.urlopen(f"{ui_url}/agents/{uid}", timeout=10) as response:
            html = response.read().decode()
        assert f'<code id="remote-config-desired-hash">{desired}</code>' in html, html
        assert '<strong id="remote-config-status">APPLIED</strong>' in html, html
        assert "browser-test-agent" in html and "receiver:otlp" in html, html
        driver.get(f"{ui_url}/agents/{uid}")
        names = [row.find_element(By.CSS_SELECTOR, ".config-file-name").get_attribute("value")
                 for row in driver.find_elements(By.CSS_SELECTOR, "#config-files .config-file")]
        assert sorted(names) == ["", "extra.yaml"], names
        wait.until(EC.text_to_be_present_in_element((By.ID, "status-line"), "connected over ws"))

        # Another form: a custom message, answered by the agent.
        driver.find_element(By.CSS_SELECTOR, "#form-custom-message input[name=capability]") \
            .send_keys("io.opsup.test.echo")
        driver.find_element(By.CSS_SELECTOR, "#form-custom-message input[name=type]") \
            .send_keys("ping")
        driver.find_element(By.CSS_SELECTOR, "#form-custom-message textarea[name=data]") \
            .send_keys("from the browser")
        driver.find_element(By.CSS_SELECTOR, "#form-custom-message button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "custom"), "echo:from the browser"))
        # The package form with "keep others" (checked by default) adds one package and
        # leaves the one offered earlier through the API exactly as it was.
        first = post_json(f"{ui_url}/api/agents/{uid}/packages", {"packages": {"otelcol": {
            "version": "3.0.0", "content": "collector\n",
            "signature_base64": base64.b64encode(b"SIGNATURE").decode(),
            "headers": {"Authorization": "Bearer download"}}}})
        kept = first["packages"]["otelcol"]
        addon_path = os.path.join(profile, "addon.bin")
        with open(addon_path, "w") as out:
            out.write("addon\n")
        # Records what the page posts, to check the form sends only its own package.
        driver.execute_script("""
            window.postedBodies = [];
            const fetchBefore = window.fetch;
            window.fetch = (url, init) => {
              if (init && init.method === "POST") window.postedBodies.push(JSON.parse(init.body));
              return fetchBefore(url, init);
            };""")
        form = driver.find_element(By.ID, "form-packages")
        assert form.find_element(By.NAME, "keep_others").is_selected()
        form.find_element(By.NAME, "name").send_keys("addon")
        form.find_element(By.NAME, "version").send_keys("0.2")
        form.find_element(By.NAME, "file_path").send_keys(addon_path)
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "action-result"), "packages: sent"))
        posted = driver.execute_script("return window.postedBodies;")
        assert posted == [{"merge": True, "packages": {"addon": {
            "version": "0.2", "type": "TopLevel", "file_path": addon_path}}}], posted
        offer = get_json(f"{ui_url}/api/agents/{uid}")["packages_offer"]
        assert sorted(offer["packages"]) == ["addon", "otelcol"], offer
        otelcol = offer["packages"]["otelcol"]
        assert otelcol["hash"] == kept["hash"], (otelcol, kept)
        assert otelcol["content_hash"] == kept["content_hash"], (otelcol, kept)
        assert base64.b64decode(otelcol["signature_base64"]) == b"SIGNATURE", otelcol
        # The form's package came without a signature file: the server signed it, and the
        # packages area shows the server's public key as GET /api/package-signing-key has it.
        assert offer["packages"]["addon"]["signature_base64"], offer
        with urllib.request.urlopen(f"{ui_url}/api/package-signing-key", timeout=10) as response:
            signing_key = response.read().decode()
        assert signing_key.startswith("-----BEGIN PUBLIC KEY-----"), signing_key
        pem = driver.find_element(By.ID, "package-signing-key-pem")
        wait_until(lambda: pem.get_attribute("textContent") == signing_key,
                   "the page to show the package signing key")
        # Unchecked, the form's package replaces the whole offer.
        form.find_element(By.NAME, "keep_others").click()
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait_until(lambda: sorted(get_json(f"{ui_url}/api/agents/{uid}")["packages_offer"]
                                  ["packages"]) == ["addon"],
                   "the unchecked package form to replace the offer")
        posted = driver.execute_script("return window.postedBodies;")
        assert len(posted) == 2 and "merge" not in posted[1], posted
        print("browser test passed: APPLIED", desired)
    finally:
        if driver is not None:
            driver.quit()
        agent_status = agent.stop() if agent is not None else 0
        server_status = server.stop()
        shutil.rmtree(profile, ignore_errors=True)
    assert agent_status == 0, f"opamp-test-agent exited with {agent_status}"
    assert server_status == 0, f"opamp-server exited with {server_status}"
    return 0


if __name__ == "__main__":
    sys.exit(main())
