#!/usr/bin/env bash
# Builds bench_transport (Release) and prints the transport numbers as a markdown table.
#   BUILD_DIR  build directory (default: <repo>/build)
#   MESSAGES   messages per throughput run (default 20000)
#   SIZE       message size in bytes (default 200)
#   AGENTS     idle WebSocket clients held by the server for the per-connection cost (500)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MESSAGES=${MESSAGES:-20000}
SIZE=${SIZE:-200}
AGENTS=${AGENTS:-500}

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD_DIR" -j"${JOBS:-2}" bench_transport opampsupervisor opamp-server >/dev/null
BENCH=$BUILD_DIR/bin/bench_transport
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
rate() { "$BENCH" throughput "$@" | sed -n 's/.*rate=\([0-9]*\).*/\1/p'; }
# Waits (up to 30 s) for a line matching $2 in file $1.
wait_line() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2
  return 1
}

ws_rt=$(rate --transport ws --messages "$MESSAGES" --size "$SIZE" --window 1)
ws_pipe=$(rate --transport ws --messages "$((MESSAGES * 5))" --size "$SIZE" --window 32)
http_rt=$(rate --transport http --messages "$MESSAGES" --size "$SIZE")

"$BENCH" server >"$WORK/server.out" &
server_pid=$!
PIDS+=("$server_pid")
wait_line "$WORK/server.out" '^URL '
url=$(sed -n 's/^URL //p' "$WORK/server.out")
server_idle=$(rss_kib "$server_pid")

"$BENCH" idle-clients --endpoint "$url" --count 1 >"$WORK/idle.out" &
idle_pid=$!
PIDS+=("$idle_pid")
wait_line "$WORK/idle.out" '^connected 1'
idle_rss=$(rss_kib "$idle_pid")
idle_anon=$(anon_kib "$idle_pid")

"$BENCH" idle-clients --endpoint "$url" --count "$AGENTS" >"$WORK/many.out" &
many_pid=$!
PIDS+=("$many_pid")
wait_line "$WORK/many.out" "^connected $AGENTS"
server_loaded=$(rss_kib "$server_pid")
per_agent=$(( (server_loaded - server_idle) * 1024 / AGENTS ))

# The supervisor itself, connected and idle (no modules, no Collector yet).
"$BUILD_DIR/bin/opamp-server" --opamp-listen 127.0.0.1:0 --ui-listen 127.0.0.1:0 \
  >"$WORK/opamp-server.out" 2>&1 &
PIDS+=("$!")
wait_line "$WORK/opamp-server.out" 'opamp listening on'
opamp_url=$(sed -n 's/.*opamp listening on \(ws:[^ ]*\).*/\1/p' "$WORK/opamp-server.out")
mkdir -p "$WORK/modules"
cat >"$WORK/supervisor.yaml" <<YAML
server: {endpoint: "$opamp_url"}
agent: {executable: /bin/true}
storage: {directory: "$WORK/storage"}
telemetry: {logs: {level: info, encoding: console}}
YAML
"$BUILD_DIR/bin/opampsupervisor" --config "$WORK/supervisor.yaml" --modules-dir "$WORK/modules" \
  >"$WORK/supervisor.out" 2>&1 &
supervisor_pid=$!
PIDS+=("$supervisor_pid")
wait_line "$WORK/supervisor.out" 'Connected to the OpAMP server at'
supervisor_rss=$(rss_kib "$supervisor_pid")
supervisor_anon=$(anon_kib "$supervisor_pid")

echo "| measurement | value |"
echo "|---|---|"
echo "| WebSocket round trips, ${SIZE} B, 1 in flight | ${ws_rt} msg/s |"
echo "| WebSocket, ${SIZE} B, 32 in flight | ${ws_pipe} msg/s |"
echo "| HTTP POST round trips, ${SIZE} B, keep-alive | ${http_rt} msg/s |"
echo "| idle WebSocket client process, VmRSS | ${idle_rss} KiB |"
echo "| idle WebSocket client process, RssAnon (not shared libraries) | ${idle_anon} KiB |"
echo "| server VmRSS, no agents | ${server_idle} KiB |"
echo "| server VmRSS, ${AGENTS} idle WebSocket agents | ${server_loaded} KiB |"
echo "| server memory per WebSocket agent | ${per_agent} B |"
echo "| opampsupervisor connected and idle, VmRSS | ${supervisor_rss} KiB |"
echo "| opampsupervisor connected and idle, RssAnon (not shared libraries) | ${supervisor_anon} KiB |"
