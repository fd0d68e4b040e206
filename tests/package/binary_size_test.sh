#!/usr/bin/env bash
# Upstream's SupervisorBinarySize: the stripped supervisor must stay within the Go
# supervisor's budget (28 MiB for its stripped linux/amd64 build). Here the budget covers the
# supervisor and every capability module together, stripped as the Debian package ships
# them; the shared libraries both link (Boost, OpenSSL, protobuf-lite, yaml-cpp) come from
# the system and are listed, not counted, as upstream's static Go binary has none.
set -euo pipefail
: "${OPSUP_BUILD_DIR:?run it through ctest}"
budget_bytes=$((28 * 1024 * 1024))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total=0
report() {  # name, path
    cp "$2" "$work/$1"
    strip --strip-unneeded "$work/$1"
    local size
    size=$(stat -c %s "$work/$1")
    total=$((total + size))
    printf '%-28s %10d bytes stripped\n' "$1" "$size"
}
report opampsupervisor "$OPSUP_BUILD_DIR/bin/opampsupervisor"
shopt -s nullglob
modules=("$OPSUP_BUILD_DIR"/lib/opampsupervisor/modules/*.so)
[[ ${#modules[@]} -gt 0 ]] || { echo "binary_size_test: FAIL: no modules in $OPSUP_BUILD_DIR/lib/opampsupervisor/modules" >&2; exit 1; }
for module in "${modules[@]}"; do
    report "$(basename "$module")" "$module"
done
printf '%-28s %10d bytes (budget %d)\n' total "$total" "$budget_bytes"
echo "system libraries (not counted):"
ldd "$OPSUP_BUILD_DIR/bin/opampsupervisor" | awk '{print "  " $1}'
if (( total > budget_bytes )); then
    echo "binary_size_test: FAIL: $total bytes stripped exceed the upstream budget of $budget_bytes" >&2
    exit 1
fi
