#!/usr/bin/env bash
# The demo: the reference OpAMP server with its web UI, and opampsupervisor connected to it
# on loopback. Installs dependencies and builds when needed; Ctrl-C stops everything.
#
#   OTELCOL_BIN=/path/to/otelcol-contrib tools/demo.sh   # use a real Collector
#   OPSUP_DEMO_OPAMP_PORT / OPSUP_DEMO_UI_PORT            # default 4320 / 4321
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OPSUP_BUILD_DIR:-$root/build}
opamp_port=${OPSUP_DEMO_OPAMP_PORT:-4320}
ui_port=${OPSUP_DEMO_UI_PORT:-4321}

"$root/tools/install-deps.sh"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" -j "$(nproc)" --target opampsupervisor opamp-server fake-otelcol \
  opsup_example_hello_c opsup_example_echo_cpp

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
  echo "demo: stopped (server log kept in $storage/server.log)"
}
trap cleanup INT TERM EXIT

# Children run in their own session: Ctrl-C reaches only this script, whose cleanup
# then stops each child once (a second signal makes the supervisor exit at once).
setsid "$build/bin/opamp-server" --opamp-listen "127.0.0.1:$opamp_port" --ui-listen "127.0.0.1:$ui_port" \
  > "$storage/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "ui listening on" "$storage/server.log" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: opamp-server failed to start"; exit 1; }
  sleep 0.1
done

export OPSUP_DEMO_OPAMP_PORT=$opamp_port
export OPSUP_DEMO_STORAGE=$storage/supervisor
export OPSUP_DEMO_COLLECTOR=${OTELCOL_BIN:-$build/bin/fake-otelcol}
# The real capability modules arrive with later work; the demo loads the SDK's example
# modules, so the server shows their custom capabilities and answers custom messages.
setsid "$build/bin/opampsupervisor" --config "$root/etc/demo/supervisor.yaml" \
  --modules-dir "$build/lib/opampsupervisor/examples" &
pids+=($!)

cat <<MSG

demo: web UI      http://127.0.0.1:$ui_port/
demo: OpAMP       ws://127.0.0.1:$opamp_port/v1/opamp
demo: Collector   $OPSUP_DEMO_COLLECTOR (not started yet: Collector lifecycle is the next
                  issue; the supervisor reports itself and its modules without one)
demo: try         send custom message capability io.opsup.example.hello type ping
demo: server log  $storage/server.log
demo: Ctrl-C stops everything

MSG
wait -n "${pids[@]}" || true
