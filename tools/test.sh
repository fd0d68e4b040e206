#!/usr/bin/env bash
# Installs dependencies when missing, builds everything with warnings as errors (and the
# real Collector from tools/otelcol), and runs every test suite (unit, ABI, integration,
# conformance, browser). Usage: tools/test.sh [ctest args...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OPSUP_BUILD_DIR:-$root/build}
jobs=${OPSUP_JOBS:-$(nproc)}

"$root/tools/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPSUP_WERROR=ON
cmake --build "$build" -j "$jobs"
"$root/tools/otelcol/build.sh" "$build"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
