#!/usr/bin/env python3
"""How long the Collector outlives a supervisor that is killed with SIGKILL.

Starts tests/integration/collector's collector_process_host (core/collector's
CollectorProcess, which sets PR_SET_PDEATHSIG) with the real Collector built from
tools/otelcol, waits until the Collector is ready, SIGKILLs the host and times, through a
pidfd on the Collector, until the Collector is gone. Usage:
    tools/bench/collector_death.py BUILD_DIR [RUNS]
"""
import os, select, signal, socket, subprocess, sys, tempfile, time

build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
cfg.write(f"""receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{port}
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
cfg.close()
results = []
for run in range(runs):
    host = subprocess.Popen([f"{build}/bin/collector_process_host", f"{build}/bin/otelcol-opsup", "--config", cfg.name],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid = None
    for line in host.stdout:
        if line.startswith("collector pid "):
            pid = int(line.split()[2])
        if "Everything is ready" in line:
            break
    if pid is None:
        sys.exit("collector_process_host did not start the Collector")
    fd = os.pidfd_open(pid)
    t0 = time.monotonic()
    host.send_signal(signal.SIGKILL)
    ready, _, _ = select.select([fd], [], [], 10)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        sys.exit(f"the Collector (pid {pid}) outlived its host by 10 s")
    results.append((time.monotonic() - t0) * 1000)
    host.wait()
    os.close(fd)
results.sort()
os.unlink(cfg.name)
print(f"SIGKILL of the supervisor to the Collector gone: runs={len(results)} min={results[0]:.2f}ms median={results[len(results)//2]:.2f}ms max={results[-1]:.2f}ms")
