#!/usr/bin/env python3
"""Remote config push to APPLIED with the real Collector, and the idle supervisor's cost.

Starts build/bin/opamp-server, then build/bin/opampsupervisor running build/bin/otelcol-opsup
(tools/otelcol/build.sh) with the built capability modules, and measures:

  1. PUSHES (default 100) remote configs pushed through the server's JSON API
     (POST /api/agents/{uid}/config), two configs alternating so that each push changes the
     composed config and restarts the Collector, each push once the previous one is
     APPLIED. Per push, on this script's monotonic clock (lines are timed when they arrive
     on the supervisor's stdout; spdlog flushes every line):
       push                the POST to the server (it pushes over the open WebSocket at once)
       answered            the server's answer to the POST ("delivery": "sent")
       composed            "Collector config generation G written to ..." (logged once the
                           config is composed, vetted by the modules, written to
                           effective.yaml and the old Collector sent SIGTERM)
       old exited          the previous Collector gone (a pidfd on it)
       exec                "Collector started (pid N) on config generation G"
       connected           "local OpAMP server: Collector connected"
       healthy             "hello_c: Collector pid N healthy on config generation G"
                           (the SDK's hello_c example module, loaded for this phase only,
                           logs the host's COLLECTOR_HEALTHY event)
       APPLIED sent        the debug line "Sending AgentToServer #S" for the sequence number
                           S of the message the server logged with APPLIED and this hash
       APPLIED at server   that message's time in the server's message log (wall clock, ms)
     The supervisor logs at debug level in this phase (for the "Sending" lines).
  2. The supervisor idle: a fresh supervisor with the capability modules only (no example
     module), info level, its Collector running and healthy, left alone for SETTLE_SECONDS
     (default 5), then for IDLE_SECONDS (default 60): context switches summed over all its
     threads (/proc/<pid>/task/*/status), VmRSS and RssAnon; the Collector's context
     switches too, for comparison. Then, when strace is installed (and STRACE is not 0),
     `strace -c -f -p <pid>` for another IDLE_SECONDS: syscalls and epoll_wait returns.

The binaries and modules are copied to a temporary directory first, so a rebuild of
BUILD_DIR during the run does not mix builds. Prints a markdown table (details on stderr).
Every child is stopped at the end, also on failure or Ctrl-C; on failure the logs are kept
in the /tmp/opsup-rcapply-* directory it names (with KEEP_LOGS=1 also on success). Usage:
    tools/bench/remote_config_apply.py BUILD_DIR [PUSHES]
    IDLE_SECONDS=60 SETTLE_SECONDS=5 STRACE=1 tools/bench/remote_config_apply.py build
"""
import json, math, os, re, select, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

if len(sys.argv) < 2:
    sys.exit(__doc__)
BUILD = os.path.abspath(sys.argv[1])
PUSHES = int(sys.argv[2]) if len(sys.argv) > 2 else 100
IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", "60"))
SETTLE_SECONDS = float(os.environ.get("SETTLE_SECONDS", "5"))
USE_STRACE = os.environ.get("STRACE", "1") != "0" and shutil.which("strace") is not None
LINE_TIMEOUT = 60.0
SUPERVISOR = f"{BUILD}/bin/opampsupervisor"
COLLECTOR = f"{BUILD}/bin/otelcol-opsup"
SERVER = f"{BUILD}/bin/opamp-server"
MODULES = f"{BUILD}/lib/opampsupervisor/modules"
HELLO_C = f"{BUILD}/lib/opampsupervisor/examples/hello_c.so"

STARTED = re.compile(r"Collector started \(pid (\d+)\) on config generation (\d+)")
WRITTEN = re.compile(r"Collector config generation (\d+) written to")
CONNECTED = "local OpAMP server: Collector connected"

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
        self.lines = []  # (monotonic, text)
        self.cond = threading.Condition()
        self.log = open(log_path, "w")
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
                self.lines.append((now, text.rstrip("\n")))
                self.cond.notify_all()
            self.log.write(text)
            self.log.flush()
        with self.cond:
            self.cond.notify_all()

    def count(self):
        with self.cond:
            return len(self.lines)

    def wait_line(self, needle, start=0):
        """(index, monotonic time, text or regex match) of the first line from `start`
        containing `needle` (a string, or a compiled regex that must match)."""
        deadline = time.monotonic() + LINE_TIMEOUT
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    text = self.lines[i][1]
                    if isinstance(needle, str):
                        if needle in text:
                            return i, self.lines[i][0], text
                    else:
                        match = needle.search(text)
                        if match:
                            return i, self.lines[i][0], match
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise Failure(f"{os.path.basename(self.proc.args[0])} exited "
                                  f"({self.proc.returncode}) before '{getattr(needle, 'pattern', needle)}'; "
                                  f"see {self.log.name}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no '{getattr(needle, 'pattern', needle)}' within "
                                  f"{LINE_TIMEOUT:.0f} s; see {self.log.name}")
                self.cond.wait(min(left, 0.5))

    def stop(self, grace=20.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.log.close()
        return self.proc.returncode


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_json(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure(f"no {field} in /proc/{pid}/status")


def context_switches(pid):
    """{tid: (voluntary, nonvoluntary)} over the process's threads."""
    result = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            result[int(tid)] = (int(fields["voluntary_ctxt_switches"]),
                                int(fields["nonvoluntary_ctxt_switches"]))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return result


def switches_over(before, after):
    """(voluntary, nonvoluntary, threads) between two context_switches() snapshots;
    threads that came and went are counted from 0 or up to their last reading."""
    vol = invol = 0
    for tid, (v, n) in after.items():
        v0, n0 = before.get(tid, (0, 0))
        vol += v - v0
        invol += n - n0
    return vol, invol, len(after)


def is_collector(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(COLLECTOR)
    except OSError:
        return False


def watch_exit(pid, into):
    """Records in into["exited"] the monotonic time `pid` exits (through a pidfd)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        into["exited"] = time.monotonic()
        return None
    def wait():
        try:
            ready, _, _ = select.select([fd], [], [], LINE_TIMEOUT)
            if ready:
                into["exited"] = time.monotonic()
        finally:
            os.close(fd)
    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def pushed_config(port, verbosity):
    return (f"receivers:\n  otlp/bench:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{port}\n"
            f"exporters:\n  debug/bench:\n    verbosity: {verbosity}\n"
            "service:\n  pipelines:\n    logs/bench:\n      receivers: [otlp/bench]\n"
            "      exporters: [debug/bench]\n")


class Bench:
    def __init__(self, work):
        self.work = work
        self.count = 0
        self.server = Child([SERVER, "--opamp-listen", "127.0.0.1:0", "--ui-listen", "127.0.0.1:0"],
                            os.path.join(work, "opamp-server.log"))
        _, _, line = self.server.wait_line("opamp listening on ")
        self.endpoint = line.split("opamp listening on ", 1)[1].split()[0]
        _, _, line = self.server.wait_line("ui listening on ")
        self.ui = line.split("ui listening on ", 1)[1].split()[0].rstrip("/")
        self.server.wait_line("opamp-server: ready")

    def modules_dir(self, name, extra=()):
        """A private 0700 directory with copies of the capability modules (and `extra`)."""
        path = os.path.join(self.work, name)
        os.mkdir(path, 0o700)
        for source in [os.path.join(MODULES, f) for f in sorted(os.listdir(MODULES)) if f.endswith(".so")] + list(extra):
            shutil.copy(source, path)
            os.chmod(os.path.join(path, os.path.basename(source)), 0o755)
        return path

    def start_supervisor(self, storage, modules_dir, level):
        """The demo's capabilities (etc/demo/supervisor.yaml) with a Collector config of its
        own: OTLP/gRPC on a free port into debug, internal metrics off."""
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
capabilities:
  reports_heartbeat: true
  reports_available_components: true
  accepts_remote_config: true
agent:
  executable: {COLLECTOR}
  config_files: [{collector_config}]
  # A slow start on a loaded machine must not turn into FAILED (a failed hash is not
  # applied again).
  config_apply_timeout: 60s
storage:
  directory: {storage}
telemetry:
  logs:
    level: {level}
    encoding: console
""")
        sup = Child([SUPERVISOR, "--config", supervisor_config, "--modules-dir", modules_dir],
                    os.path.join(self.work, f"supervisor-{n}.log"))
        _, _, line = sup.wait_line("Supervisor starting: id ")
        uid = line.split("Supervisor starting: id ", 1)[1].split(",")[0].strip()
        return sup, uid

    def wait_healthy(self, uid):
        deadline = time.monotonic() + LINE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                view = http_json(f"{self.ui}/api/agents/{uid}")
                if view["connection"]["connected"] and view["health"] and view["health"]["healthy"]:
                    return view
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure(f"agent {uid} not connected and healthy at the server within {LINE_TIMEOUT:.0f} s")

    def applied_message(self, uid, config_hash, after_seq):
        """The server's log entry of the first AgentToServer after `after_seq` reporting
        APPLIED for `config_hash` (None while there is none); FAILED raises."""
        for m in http_json(f"{self.ui}/api/agents/{uid}/messages?limit=50")["messages"]:
            if m["sequence_num"] <= after_seq or m.get("remote_config_hash") != config_hash:
                continue
            if m.get("remote_config_status") == "FAILED":
                view = http_json(f"{self.ui}/api/agents/{uid}")
                raise Failure(f"config {config_hash[:12]} FAILED: {view['remote_config_status']}")
            if m.get("remote_config_status") == "APPLIED":
                return m
        return None

    def pushes(self, count):
        storage = os.path.join(self.work, "storage-pushes")
        modules = self.modules_dir("modules-pushes", [HELLO_C])
        sup, uid = self.start_supervisor(storage, modules, "debug")
        try:
            _, _, first = sup.wait_line(STARTED)
            pid = int(first.group(1))
            collector_pids.append(pid)
            self.wait_healthy(uid)
            port = free_port()
            configs = [pushed_config(port, "basic"), pushed_config(port, "normal")]
            rows, last_seq = [], 0
            for n in range(count):
                mark = sup.count()
                watched = {}
                watcher = watch_exit(pid, watched)
                t_push = time.monotonic()
                w_push = time.time()
                answer = http_json(f"{self.ui}/api/agents/{uid}/config", {"config": configs[n % 2]})
                t_answer = time.monotonic()
                config_hash = answer["hash"]
                if answer["delivery"] != "sent":
                    raise Failure(f"push {n + 1}: delivery {answer['delivery']}")
                i_written, t_written, m = sup.wait_line(WRITTEN, mark)
                generation = int(m.group(1))
                i_exec, t_exec, m = sup.wait_line(
                    re.compile(rf"Collector started \(pid (\d+)\) on config generation {generation}\b"), mark)
                new_pid = int(m.group(1))
                collector_pids.append(new_pid)
                _, t_connected, _ = sup.wait_line(CONNECTED, i_exec)
                i_healthy, t_healthy, _ = sup.wait_line(
                    f"hello_c: Collector pid {new_pid} healthy on config generation {generation}", i_exec)
                deadline = time.monotonic() + LINE_TIMEOUT
                while (message := self.applied_message(uid, config_hash, last_seq)) is None:
                    if time.monotonic() > deadline:
                        raise Failure(f"push {n + 1}: no APPLIED for {config_hash[:12]} at the server")
                    time.sleep(0.005)
                last_seq = message["sequence_num"]
                _, t_sent, _ = sup.wait_line(f"Sending AgentToServer #{last_seq} ", i_exec)
                if watcher is not None:
                    watcher.join(LINE_TIMEOUT)
                if "exited" not in watched:
                    raise Failure(f"push {n + 1}: the previous Collector (pid {pid}) did not exit")
                row = {"answered": t_answer - t_push, "composed": t_written - t_push, "old exited": watched["exited"] - t_push,
                       "exec": t_exec - t_push, "connected": t_connected - t_push,
                       "healthy": t_healthy - t_push, "sent": t_sent - t_push,
                       "server": message["time_unix_ms"] / 1000.0 - w_push}
                rows.append(row)
                pid = new_pid
                print(f"  push {n + 1:3d} gen {generation:3d}: " + ", ".join(
                    f"{k} {v * 1000:.1f}" for k, v in row.items()) + " ms", file=sys.stderr)
            return rows
        finally:
            sup.stop()

    def idle(self):
        storage = os.path.join(self.work, "storage-idle")
        modules = self.modules_dir("modules-idle")
        sup, uid = self.start_supervisor(storage, modules, "info")
        try:
            _, _, first = sup.wait_line(STARTED)
            collector = int(first.group(1))
            collector_pids.append(collector)
            self.wait_healthy(uid)
            time.sleep(SETTLE_SECONDS)
            lines = sup.count()
            result = {"modules": sorted(os.listdir(modules))}
            sup_before, col_before = context_switches(sup.pid), context_switches(collector)
            cpu_before = cpu_ticks(sup.pid)
            time.sleep(IDLE_SECONDS)
            result["sup_switches"] = switches_over(sup_before, context_switches(sup.pid))
            result["col_switches"] = switches_over(col_before, context_switches(collector))
            result["sup_cpu_ticks"] = cpu_ticks(sup.pid) - cpu_before
            result["rss"] = status_kib(sup.pid, "VmRSS")
            result["anon"] = status_kib(sup.pid, "RssAnon")
            result["col_rss"] = status_kib(collector, "VmRSS")
            result["col_anon"] = status_kib(collector, "RssAnon")
            result["log_lines"] = sup.count() - lines
            if USE_STRACE:
                out = os.path.join(self.work, "strace.txt")
                tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(sup.pid), "-o", out],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                children.append(tracer)
                time.sleep(IDLE_SECONDS)
                tracer.send_signal(signal.SIGINT)
                tracer.wait(20)
                result["strace"] = parse_strace(out)
            if sup.proc.poll() is not None or not is_collector(collector):
                raise Failure(f"the supervisor or its Collector exited while idle; see {sup.log.name}")
            return result
        finally:
            sup.stop()


def cpu_ticks(pid):
    """utime + stime of the whole process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def parse_strace(path):
    """{syscall: calls} and the total from `strace -c` output."""
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
    return calls


def nearest_rank(values, p):
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def spread(values, scale=1000.0):
    return (f"p50 {nearest_rank(values, 50) * scale:.1f} ms, p99 {nearest_rank(values, 99) * scale:.1f} ms, "
            f"max {max(values) * scale:.1f} ms")


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
    """Copies the binaries and modules into `work`; returns `opampsupervisor --version`."""
    global SUPERVISOR, COLLECTOR, SERVER, MODULES, HELLO_C
    os.makedirs(os.path.join(work, "build/bin"))
    SUPERVISOR, COLLECTOR, SERVER = (shutil.copy2(name, os.path.join(work, "build/bin"))
                                     for name in (SUPERVISOR, COLLECTOR, SERVER))
    modules = os.path.join(work, "build/modules")
    shutil.copytree(MODULES, modules)
    MODULES = modules
    HELLO_C = shutil.copy2(HELLO_C, os.path.join(work, "build"))
    return subprocess.run([SUPERVISOR, "--version"], capture_output=True, text=True).stdout.strip()


def main():
    for name in (SUPERVISOR, COLLECTOR, SERVER, HELLO_C):
        if not os.access(name, os.R_OK):
            sys.exit(f"{name} is missing (build it; the Collector with tools/otelcol/build.sh)")
    for name in ("remote_config.so", "health.so"):
        if not os.path.isfile(os.path.join(MODULES, name)):
            sys.exit(f"{MODULES}/{name} is missing (cmake --build {BUILD} --target opsup_capability_modules)")
    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signo, on_signal)
    sys.setswitchinterval(0.0005)  # the pidfd and line-reader threads get the GIL at once
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="opsup-rcapply-")
    try:
        version = snapshot(work)
        bench = Bench(work)
        print(f"pushes: {PUSHES}", file=sys.stderr)
        rows = bench.pushes(PUSHES)
        load_middle = os.getloadavg()
        print(f"idle: settle {SETTLE_SECONDS:g} s, then {IDLE_SECONDS:g} s"
              + (f", then strace for {IDLE_SECONDS:g} s" if USE_STRACE else ""), file=sys.stderr)
        idle = bench.idle()
        bench.server.stop()
    except Failure as e:
        cleanup()
        sys.exit(f"error: {e} (logs kept in {work})")
    finally:
        cleanup()
    if os.environ.get("KEEP_LOGS") == "1":
        print(f"logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    def col(name):
        return [r[name] for r in rows]

    def between(a, b):
        return [r[b] - r[a] for r in rows]

    tick = os.sysconf("SC_CLK_TCK")
    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
          f"{load_middle[0]:.2f} after the pushes, "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after; {version}")
    print()
    print("| measurement | value |")
    print("|---|---|")
    print(f"| push (POST to the server) to the server seeing APPLIED for its hash, {len(rows)} pushes "
          f"(ms resolution) | {spread(col('server'))} |")
    print(f"| push to \"Collector started\" (the new Collector exec'd) | {spread(col('exec'))} |")
    print(f"| of which push to the server's answer (POST round trip; the config is on the WebSocket) | {spread(col('answered'))} |")
    print(f"| of which push to the config composed, written and the old Collector sent SIGTERM (\"generation G written\") | {spread(col('composed'))} |")
    print(f"| of which composed to the old Collector gone (its own graceful shutdown) | "
          f"{spread(between('composed', 'old exited'))} |")
    print(f"| of which old Collector gone to the new one exec'd | {spread(between('old exited', 'exec'))} |")
    print(f"| Collector exec to connected to the local OpAMP server | {spread(between('exec', 'connected'))} |")
    print(f"| Collector exec to healthy (the host's COLLECTOR_HEALTHY event) | {spread(between('exec', 'healthy'))} |")
    print(f"| Collector healthy to APPLIED sent (\"Sending AgentToServer #S\") | {spread(between('healthy', 'sent'))} |")
    print(f"| push to APPLIED sent, on this script's clock | {spread(col('sent'))} |")
    print(f"| supervisor's own share: push to composed + old gone to exec + healthy to sent | "
          f"{spread([r['composed'] + (r['exec'] - r['old exited']) + (r['sent'] - r['healthy']) for r in rows])} |")
    vol, invol, threads = idle["sup_switches"]
    mods = ", ".join(idle["modules"])
    print(f"| supervisor idle {IDLE_SECONDS:g} s ({mods}; Collector running): context switches "
          f"voluntary / involuntary, {threads} threads | {vol} / {invol} ({vol / IDLE_SECONDS:.2f}/s) |")
    print(f"| the same: CPU (utime+stime) | {idle['sup_cpu_ticks'] * 1000 // tick} ms |")
    print(f"| the same: log lines | {idle['log_lines']} |")
    print(f"| the same: VmRSS / RssAnon | {idle['rss']} KiB / {idle['anon']} KiB |")
    cvol, cinvol, cthreads = idle["col_switches"]
    print(f"| its Collector meanwhile: context switches voluntary / involuntary, {cthreads} threads | "
          f"{cvol} / {cinvol} ({cvol / IDLE_SECONDS:.1f}/s) |")
    print(f"| its Collector: VmRSS / RssAnon | {idle['col_rss']} KiB / {idle['col_anon']} KiB |")
    if "strace" in idle:
        calls = idle["strace"]
        top = ", ".join(f"{k} {v}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:6])
        print(f"| supervisor idle, next {IDLE_SECONDS:g} s under `strace -c -f`: syscalls (epoll_wait) | "
              f"{sum(calls.values())} ({calls.get('epoll_wait', 0) + calls.get('epoll_pwait', 0)}): {top} |")


if __name__ == "__main__":
    main()
