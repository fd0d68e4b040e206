#!/usr/bin/env python3
"""The whole supervisor with the real Collector: start-up, death and memory.

Starts build/bin/opamp-server, then build/bin/opampsupervisor running build/bin/otelcol-opsup
(tools/otelcol/build.sh) and measures:

  1. supervisor exec to the running Collector's first connection to the local OpAMP server
     ("local OpAMP server: Collector connected" on the supervisor's stdout), cold (a fresh
     storage directory: the Collector is bootstrapped first, so it is the second such line;
     the first is the bootstrap Collector's) and cached (the same storage directory again:
     "Collector description taken from the bootstrap cache", the first such line). Each run
     is one cold start then one cached start on the same directory.
  2. SIGKILL of the supervisor to its Collector gone (pid from "Collector started (pid N)",
     watched through a pidfd).
  3. VmRSS and RssAnon (/proc/<pid>/status) of the supervisor once the Collector is
     connected and idle for IDLE_SECONDS, with an empty --modules-dir and with
     BUILD_DIR/lib/opampsupervisor/modules (when it holds modules); the Collector's too.

The binaries are copied to a temporary directory first (a rebuild of BUILD_DIR during the
run does not mix builds). Times are taken with this script's monotonic clock when the line arrives on the pipe
(spdlog flushes every line); the log's own timestamps are checked against it. Every child
is stopped at the end, also on failure or Ctrl-C. Usage:
    tools/bench/collector_lifecycle.py BUILD_DIR [RUNS]       (RUNS default 10)
    IDLE_SECONDS=5 tools/bench/collector_lifecycle.py build
"""
import os, re, select, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
from datetime import datetime

if len(sys.argv) < 2:
    sys.exit(__doc__)
BUILD = os.path.abspath(sys.argv[1])
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", "5"))
SETTLE_SECONDS = 1.0  # after a start, before the supervisor's SIGTERM
LINE_TIMEOUT = 60.0
SUPERVISOR = f"{BUILD}/bin/opampsupervisor"
COLLECTOR = f"{BUILD}/bin/otelcol-opsup"
SERVER = f"{BUILD}/bin/opamp-server"
MODULES = f"{BUILD}/lib/opampsupervisor/modules"

CONNECTED = "local OpAMP server: Collector connected"
FROM_CACHE = "Collector description taken from the bootstrap cache"
BOOTSTRAPPING = "Bootstrapping the Collector"
STARTED = re.compile(r"Collector started \(pid (\d+)\)")

children = []        # every Popen this script started
collector_pids = []  # every Collector pid a supervisor reported


class Failure(Exception):
    pass


def on_signal(signo, _frame):
    raise SystemExit(f"interrupted by signal {signo}")


class Child:
    """A child process whose merged stdout/stderr is read by a thread; every line is kept
    with the monotonic time it arrived and copied to a log file."""

    def __init__(self, argv, log_path):
        self.lines = []  # (monotonic, wall clock, text)
        self.cond = threading.Condition()
        self.log = open(log_path, "w")
        self.wall0 = time.time()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        children.append(self.proc)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for text in self.proc.stdout:
            now = time.monotonic()
            with self.cond:
                self.lines.append((now, time.time(), text.rstrip("\n")))
                self.cond.notify_all()
            self.log.write(text)
            self.log.flush()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, needle, nth=1, start=0):
        """(index, monotonic time, text) of the nth line from `start` containing `needle`."""
        deadline = time.monotonic() + LINE_TIMEOUT
        with self.cond:
            while True:
                hits = [i for i in range(start, len(self.lines)) if needle in self.lines[i][2]]
                if len(hits) >= nth:
                    i = hits[nth - 1]
                    return i, self.lines[i][0], self.lines[i][2]
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise Failure(f"{os.path.basename(self.proc.args[0])} exited "
                                  f"({self.proc.returncode}) before '{needle}'; see {self.log.name}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no '{needle}' within {LINE_TIMEOUT:.0f} s; see {self.log.name}")
                self.cond.wait(min(left, 0.5))

    def has_line(self, needle, end=None):
        with self.cond:
            return any(needle in text for _, _, text in self.lines[:end])

    def stop(self, grace=20.0):
        """SIGTERM, SIGKILL after `grace`; returns seconds to exit (None if it was killed)."""
        if self.proc.poll() is not None:
            return 0.0
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
            took = time.monotonic() - t
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            took = None
        self.reader.join(5)
        self.log.close()
        return took


def log_time(text):
    """Wall clock of a console log line ("2026-12-06T07:37:20.809+0000\tinfo\t...")."""
    stamp = text.split("\t", 1)[0]
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure(f"no {field} in /proc/{pid}/status")


def is_collector(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(COLLECTOR)
    except OSError:
        return False


def graceful_exit(storage):
    """Whether the Collector's log (<storage>/agent.log) ends with its shutdown."""
    try:
        with open(os.path.join(storage, "agent.log")) as f:
            tail = f.read().splitlines()[-3:]
    except OSError:
        return False
    return any("Shutdown complete" in line for line in tail)


class Bench:
    def __init__(self, work):
        self.work = work
        self.count = 0
        self.empty_modules = os.path.join(work, "no-modules")
        os.mkdir(self.empty_modules)
        self.server = Child([SERVER, "--opamp-listen", "127.0.0.1:0", "--ui-listen", "127.0.0.1:0"],
                            os.path.join(work, "opamp-server.log"))
        _, _, line = self.server.wait_line("opamp listening on ")
        self.endpoint = line.split("opamp listening on ", 1)[1].split()[0]
        self.server.wait_line("opamp-server: ready")

    def start_supervisor(self, storage, modules_dir):
        """Writes a Collector config on a free port and a supervisor config, and starts it."""
        self.count += 1
        n = self.count
        collector_config = os.path.join(self.work, f"collector-{n}.yaml")
        with open(collector_config, "w") as f:
            f.write(f"""receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{free_port()}
exporters:
  debug: {{}}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
""")
        supervisor_config = os.path.join(self.work, f"supervisor-{n}.yaml")
        with open(supervisor_config, "w") as f:
            f.write(f"""server:
  endpoint: {self.endpoint}
agent:
  executable: {COLLECTOR}
  config_files: [{collector_config}]
storage:
  directory: {storage}
telemetry:
  logs:
    level: info
    encoding: console
""")
        return Child([SUPERVISOR, "--config", supervisor_config, "--modules-dir", modules_dir],
                     os.path.join(self.work, f"supervisor-{n}.log"))

    def wait_running(self, sup, cached):
        """Waits for the running Collector's connection; returns (seconds from exec,
        seconds by the log's timestamps, phases, Collector pid)."""
        nth = 1 if cached else 2
        i, t, text = sup.wait_line(CONNECTED, nth)
        if sup.has_line(FROM_CACHE, i) != cached or sup.has_line(BOOTSTRAPPING, i) == cached:
            raise Failure(f"expected a {'cached' if cached else 'cold'} start; see {sup.log.name}")
        j, t_started, started = sup.wait_line("Collector started (pid")
        if j > i:
            raise Failure(f"the Collector connected before 'Collector started'; see {sup.log.name}")
        pid = int(STARTED.search(started).group(1))
        collector_pids.append(pid)
        phases = {"first log line": sup.lines[0][0] - sup.t0,
                  "key": sup.wait_line(FROM_CACHE if cached else BOOTSTRAPPING)[1] - sup.t0}
        if not cached:
            phases["bootstrap connected"] = sup.wait_line(CONNECTED)[1] - sup.t0
        phases["started"] = t_started - sup.t0
        stamp = log_time(text)
        by_log = None if stamp is None else stamp - sup.wall0
        return t - sup.t0, by_log, phases, pid

    def startup(self, runs):
        cold, cached, phases, log_diff, stops = [], [], {}, [], []
        for run in range(runs):
            storage = os.path.join(self.work, f"storage-{run}")
            for is_cached in (False, True):
                sup = self.start_supervisor(storage, self.empty_modules)
                took, by_log, ph, _ = self.wait_running(sup, is_cached)
                (cached if is_cached else cold).append(took)
                for name, value in ph.items():
                    phases.setdefault(("cached " if is_cached else "cold ") + name, []).append(value)
                if by_log is not None:
                    log_diff.append(by_log - took)
                # SIGTERM on a Collector that is still starting is a case of its own; let it settle.
                time.sleep(SETTLE_SECONDS)
                stop = sup.stop()
                if stop is None:
                    raise Failure(f"the supervisor did not stop within 20 s of SIGTERM; see {sup.log.name}")
                if not graceful_exit(storage):
                    raise Failure(f"the Collector did not log 'Shutdown complete.'; see {storage}/agent.log")
                stops.append(stop)
                print(f"  run {run + 1} {'cached' if is_cached else 'cold  '}: {took * 1000:7.1f} ms"
                      f" (by its log {by_log * 1000 if by_log is not None else float('nan'):7.1f} ms);"
                      + "".join(f" {k} at {v * 1000:.1f} ms;" for k, v in ph.items())
                      + f" SIGTERM to exit {stop * 1000:.0f} ms", file=sys.stderr)
        return cold, cached, phases, log_diff, stops

    def kill_supervisor(self, runs, storage):
        results = []
        for run in range(runs):
            sup = self.start_supervisor(storage, self.empty_modules)
            _, _, _, pid = self.wait_running(sup, cached=True)
            fd = os.pidfd_open(pid)
            try:
                t0 = time.monotonic()
                sup.proc.send_signal(signal.SIGKILL)
                ready, _, _ = select.select([fd], [], [], 10)
                if not ready:
                    raise Failure(f"the Collector (pid {pid}) outlived the supervisor by 10 s")
                results.append(time.monotonic() - t0)
            finally:
                os.close(fd)
            sup.proc.wait()
            sup.reader.join(5)
            sup.log.close()
            print(f"  run {run + 1}: SIGKILL to Collector gone {results[-1] * 1000:.2f} ms", file=sys.stderr)
        return results

    def memory(self, storage, modules_dir):
        sup = self.start_supervisor(storage, modules_dir)
        try:
            _, _, _, pid = self.wait_running(sup, cached=True)
            time.sleep(IDLE_SECONDS)
            if sup.proc.poll() is not None or not os.path.exists(f"/proc/{pid}"):
                raise Failure(f"the supervisor or its Collector exited while idle; see {sup.log.name}")
            return {"sup_rss": status_kib(sup.pid, "VmRSS"), "sup_anon": status_kib(sup.pid, "RssAnon"),
                    "col_rss": status_kib(pid, "VmRSS"), "col_anon": status_kib(pid, "RssAnon")}
        finally:
            sup.stop()


def spread(values, scale=1000.0, unit="ms", digits=1):
    v = sorted(values)
    f = f"{{:.{digits}f}}"
    return (f"min {f.format(v[0] * scale)} {unit}, median {f.format(statistics.median(v) * scale)} {unit}, "
            f"max {f.format(v[-1] * scale)} {unit} ({len(v)} runs)")


def cleanup():
    for proc in children:
        if proc.poll() is None:
            proc.kill()
    for proc in children:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    # A Collector dies with its supervisor (PR_SET_PDEATHSIG); this is a safety net.
    for pid in collector_pids:
        if is_collector(pid):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    left = [p.pid for p in children if p.poll() is None] + [p for p in collector_pids if is_collector(p)]
    if left:
        print(f"warning: processes still running after cleanup: {left}", file=sys.stderr)


def snapshot(work):
    """Copies the binaries and modules into `work`, so a rebuild of BUILD_DIR during the run
    does not mix two builds; returns `opampsupervisor --version`."""
    global SUPERVISOR, COLLECTOR, SERVER, MODULES
    os.makedirs(os.path.join(work, "build/bin"))
    copies = []
    for name in (SUPERVISOR, COLLECTOR, SERVER):
        copies.append(shutil.copy2(name, os.path.join(work, "build/bin")))
    SUPERVISOR, COLLECTOR, SERVER = copies
    modules = os.path.join(work, "build/lib/opampsupervisor/modules")
    if os.path.isdir(MODULES):
        shutil.copytree(MODULES, modules)
    MODULES = modules
    return subprocess.run([SUPERVISOR, "--version"], capture_output=True, text=True).stdout.strip()


def main():
    for name in (SUPERVISOR, COLLECTOR, SERVER):
        if not os.access(name, os.X_OK):
            sys.exit(f"{name} is missing (build it; the Collector with tools/otelcol/build.sh)")
    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signo, on_signal)
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="opsup-lifecycle-")
    try:
        version = snapshot(work)
        bench = Bench(work)
        print(f"startup: {RUNS} cold + {RUNS} cached starts", file=sys.stderr)
        cold, cached, phases, log_diff, stops = bench.startup(RUNS)
        warm = os.path.join(work, "storage-0")
        print(f"supervisor SIGKILL: {RUNS} runs", file=sys.stderr)
        deaths = bench.kill_supervisor(RUNS, warm)
        print(f"memory: idle {IDLE_SECONDS:g} s", file=sys.stderr)
        mem_none = bench.memory(warm, bench.empty_modules)
        modules = sorted(f for f in os.listdir(MODULES) if f.endswith(".so")) if os.path.isdir(MODULES) else []
        mem_mods = bench.memory(warm, MODULES) if modules else None
        bench.server.stop()
    except Failure as e:
        cleanup()
        sys.exit(f"error: {e} (logs kept in {work})")
    finally:
        cleanup()
    shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after; {version}")
    print()
    print("| measurement | value |")
    print("|---|---|")
    print(f"| supervisor exec to the running Collector connected to the local OpAMP server, cold (bootstrap) | {spread(cold)} |")
    slow = [t for t in cold if t > 1.0]
    if slow:
        print(f"| cold starts over 1 s | {len(slow)} of {len(cold)}: {', '.join(f'{t * 1000:.0f} ms' for t in slow)} |")
        fast = [t for t in cold if t <= 1.0]
        if fast:
            print(f"| cold starts under 1 s | {spread(fast)} |")
    print(f"| the same, bootstrap cached | {spread(cached)} |")
    labels = [("cold first log line", "cold: the supervisor's first log line at"),
              ("cold key", "cold: \"Bootstrapping the Collector\" (after hashing the executable) at"),
              ("cold bootstrap connected", "cold: the bootstrap Collector connected at"),
              ("cold started", "cold: \"Collector started\" (the running one spawned) at"),
              ("cached key", "cached: \"description taken from the bootstrap cache\" at"),
              ("cached started", "cached: \"Collector started\" at")]
    for name, what in labels:
        if name in phases:
            print(f"| {what} | median {statistics.median(phases[name]) * 1000:.1f} ms |")
    print(f"| supervisor SIGTERM to exit, Collector stopped gracefully ({SETTLE_SECONDS:g} s after its start) | {spread(stops)} |")
    print(f"| supervisor SIGKILL to its Collector gone | {spread(deaths, digits=2)} |")
    print(f"| supervisor, Collector connected and idle {IDLE_SECONDS:g} s, no modules: VmRSS / RssAnon | "
          f"{mem_none['sup_rss']} KiB / {mem_none['sup_anon']} KiB |")
    if mem_mods:
        print(f"| the same with {', '.join(modules)}: VmRSS / RssAnon | "
              f"{mem_mods['sup_rss']} KiB / {mem_mods['sup_anon']} KiB |")
    print(f"| the Collector (otelcol-opsup), idle: VmRSS / RssAnon | {mem_none['col_rss']} KiB / {mem_none['col_anon']} KiB |")
    if log_diff:
        print(f"\nlog timestamps minus this script's clock: {min(log_diff) * 1000:+.1f} .. {max(log_diff) * 1000:+.1f} ms "
              "(the log has millisecond resolution)")


if __name__ == "__main__":
    main()
