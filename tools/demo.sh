#!/usr/bin/env bash
# The demo: the reference OpAMP server with its web UI, and opampsupervisor connected to it
# on loopback. Installs dependencies and builds when needed; Ctrl-C stops everything.
#
#   (default) the real Collector built from tools/otelcol (<build>/bin/otelcol-opsup)
#   OTELCOL_BIN=/path/to/otelcol-contrib tools/demo.sh   # another Collector
#   OPSUP_DEMO_COLLECTOR=fake tools/demo.sh               # the stand-in, tools/fake-otelcol
#   OPSUP_DEMO_OPAMP_PORT / OPSUP_DEMO_UI_PORT            # default 4320 / 4321
#   OPSUP_DEMO_NO_BUILD=1                                 # use the build as it is
#   OPSUP_DEMO_WAIT_SECONDS                               # start-up deadline (default 30)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OPSUP_BUILD_DIR:-$root/build}
opamp_port=${OPSUP_DEMO_OPAMP_PORT:-4320}
ui_port=${OPSUP_DEMO_UI_PORT:-4321}
wait_seconds=${OPSUP_DEMO_WAIT_SECONDS:-30}

if [[ "${OPSUP_DEMO_NO_BUILD:-0}" != 1 ]]; then
  "$root/tools/install-deps.sh"
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build" -j "$(nproc)" --target opampsupervisor opamp-server fake-otelcol \
    opsup_capability_modules opsup_example_hello_c opsup_example_echo_cpp
  if [[ -z "${OTELCOL_BIN:-}" && "${OPSUP_DEMO_COLLECTOR:-real}" != fake ]]; then
    "$root/tools/otelcol/build.sh" "$build"
  fi
fi

case "${OPSUP_DEMO_COLLECTOR:-real}" in
  real) collector=${OTELCOL_BIN:-$build/bin/otelcol-opsup} ;;
  fake) collector=${OTELCOL_BIN:-$build/bin/fake-otelcol} ;;
  *)
    echo "demo: OPSUP_DEMO_COLLECTOR must be 'real' or 'fake', not '$OPSUP_DEMO_COLLECTOR'" >&2
    exit 2
    ;;
esac
if [[ ! -x "$collector" ]]; then
  echo "demo: no Collector at $collector (build it with tools/otelcol/build.sh $build)" >&2
  exit 1
fi

storage=$(mktemp -d /tmp/opsup-demo.XXXXXX)
pids=()
cleanup() {
  trap '' INT TERM  # a second Ctrl-C must not cut the cleanup short
  trap - EXIT
  # Newest first: the supervisor says goodbye to the server before the server stops.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "demo: stopped (logs kept in $storage/server.log and $storage/supervisor.log)"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

command -v python3 >/dev/null || { echo "demo: python3 is needed (tools/install-deps.sh installs it)"; exit 1; }

# True once the server's JSON API lists a connected agent.
agent_connected() {
  python3 - "http://127.0.0.1:$ui_port/api/agents" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if json.load(response).get("connected_count", 0) >= 1 else 1)
PY
}

# Children run in their own session: Ctrl-C reaches only this script, whose cleanup
# then stops each child once (a second signal makes the supervisor exit at once).
setsid "$build/bin/opamp-server" --opamp-listen "127.0.0.1:$opamp_port" --ui-listen "127.0.0.1:$ui_port" \
  > "$storage/server.log" 2>&1 &
pids+=($!)
server_pid=$!
deadline=$((SECONDS + wait_seconds))
until grep -q "ui listening on" "$storage/server.log" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: opamp-server failed to start; its log ($storage/server.log):" >&2
    cat "$storage/server.log" >&2
    exit 1
  fi
  if ((SECONDS > deadline)); then
    echo "demo: opamp-server is running but did not print its 'ui listening' line within" \
      "${wait_seconds}s; see $storage/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

# The capability modules and the SDK's examples side by side in one private directory (the
# supervisor loads one directory; copies, since it refuses symlinked modules).
modules=$storage/modules
mkdir -m 0700 "$modules"
cp "$build"/lib/opampsupervisor/modules/*.so "$build"/lib/opampsupervisor/examples/*.so "$modules/"

export OPSUP_DEMO_OPAMP_PORT=$opamp_port
export OPSUP_DEMO_STORAGE=$storage/supervisor
export OPSUP_DEMO_COLLECTOR_BIN=$collector
export OPSUP_DEMO_COLLECTOR_CONFIG=$root/etc/demo/collector.yaml
# The real capability modules arrive with later work; the demo loads the SDK's example
# modules, so the server shows their custom capabilities and answers custom messages.
setsid "$build/bin/opampsupervisor" --config "$root/etc/demo/supervisor.yaml" \
  --modules-dir "$modules" > "$storage/supervisor.log" 2>&1 &
pids+=($!)
supervisor_pid=$!

# Ready only once the supervisor is still alive and the server lists it as connected.
deadline=$((SECONDS + wait_seconds))
until agent_connected; do
  if ! kill -0 "$supervisor_pid" 2>/dev/null; then
    status=0
    wait "$supervisor_pid" || status=$?
    echo "demo: opampsupervisor exited (status $status) before connecting; its log:" \
      "$storage/supervisor.log" >&2
    tail -n 20 "$storage/supervisor.log" >&2
    exit 1
  fi
  if ((SECONDS > deadline)); then
    echo "demo: opampsupervisor did not show up in http://127.0.0.1:$ui_port/api/agents" \
      "within ${wait_seconds}s; its log: $storage/supervisor.log" >&2
    exit 1
  fi
  sleep 0.2
done

cat <<MSG

demo: web UI      http://127.0.0.1:$ui_port/
demo: OpAMP       ws://127.0.0.1:$opamp_port/v1/opamp
demo: Collector   $collector with $root/etc/demo/collector.yaml
                  (run by the supervisor: OTLP in on 127.0.0.1:4317/4318, debug out,
                  its output in $storage/supervisor/agent.log)
demo: try         send custom message capability io.opsup.example.hello type ping
demo: server log  $storage/server.log
demo: supervisor  $storage/supervisor.log (connected, pid $supervisor_pid)
demo: Ctrl-C stops everything

MSG
wait -n "${pids[@]}" || true
