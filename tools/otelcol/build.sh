#!/usr/bin/env bash
# Builds the slim Collector of manifest.yaml with the OpenTelemetry Collector Builder into
# <build>/bin/otelcol-opsup, and the same Collector reporting another version
# ($next_version) into <build>/bin/otelcol-opsup-next: the "newer release" the binary-update
# tests install. The second one is the generated source with one version string changed, built
# with the builder's own flags; Go's build cache makes that a relink (a few seconds).
# Skips the work when the manifest, this script and the Go toolchain are what the last
# successful build used (<build>/otelcol/stamp) and both binaries exist.
# Usage: tools/otelcol/build.sh [BUILD_DIR]   (default: $OPSUP_BUILD_DIR, else build/)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-${OPSUP_BUILD_DIR:-$root/build}}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# The builder's release; keep it equal to the collector release in manifest.yaml.
builder_module=go.opentelemetry.io/collector/cmd/builder@v0.149.0

work=$build/otelcol
binary=$build/bin/otelcol-opsup
next_binary=$build/bin/otelcol-opsup-next
next_version=0.149.1-opsup.next
mkdir -p "$work" "$build/bin"

# Go's caches live under $HOME; a bare environment (CI, cron) may not set it.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
# The machines' Go lives in /usr/local/go; it wins over an older distribution `go` on PATH.
if [[ -x /usr/local/go/bin/go ]]; then
  PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null 2>&1; then
  echo "otelcol build: no 'go' in /usr/local/go/bin or on PATH; Go 1.25 or newer (1.26 here)" \
    "is needed to build the real Collector" >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [[ -z "$go_minor" || "$go_minor" -lt 25 ]]; then
  echo "otelcol build: $(command -v go) is $(go env GOVERSION); the Collector builder" \
    "v0.149.0 needs Go 1.25 or newer (1.26 here)" >&2
  exit 1
fi

# One build at a time per build tree (the demo and the tests may start together).
exec 9>"$work/lock"
flock 9

stamp=$( { cat "$here/manifest.yaml" "$here/build.sh"; go version; go env GOOS GOARCH; } |
  sha256sum | cut -d' ' -f1)
if [[ -x "$binary" && -x "$next_binary" && -f "$work/stamp" && "$(cat "$work/stamp")" == "$stamp" ]]; then
  echo "otelcol build: $binary and $next_binary are up to date"
  exit 0
fi

echo "otelcol build: building $binary with $builder_module (a cold build takes several minutes)"
started=$(date +%s)
src=$work/src
rm -rf "$src"
sed "s|^  output_path:.*|  output_path: $src|" "$here/manifest.yaml" >"$work/manifest.yaml"
log=$work/build.log

export CGO_ENABLED=0
refusal='not available|403 Forbidden|404 Not Found|410 Gone|unknown revision|invalid version|no matching versions'
# The builder passes -trimpath and strips the binary unless debug_compilation is set. A
# failure that is not a refusal (a dropped connection to the proxy) is tried once more.
build_once() { (cd "$work" && go run "$builder_module" --config "$work/manifest.yaml") >"$log" 2>&1; }
built=0
for attempt in 1 2; do
  if build_once; then
    built=1
    break
  fi
  grep -qE "$refusal" "$log" && break  # refused: trying again cannot help
  if [[ $attempt == 1 ]]; then
    echo "otelcol build: the build failed without a refusal; trying once more" >&2
    sleep 5
  fi
done
if [[ $built == 0 ]]; then
  refused=$(grep -E "$refusal" "$log" |
    grep -oE '[A-Za-z0-9._~/-]+@v[0-9][A-Za-z0-9.+-]*' | head -n 1 || true)
  if [[ -n "$refused" ]]; then
    echo "otelcol build: the Go module proxy refused $refused" >&2
  else
    echo "otelcol build: the Collector builder failed" >&2
  fi
  echo "otelcol build: last lines of $log:" >&2
  tail -n 15 "$log" >&2
  exit 1
fi

install -m 0755 "$src/otelcol-opsup" "$binary.tmp"
mv -f "$binary.tmp" "$binary"
echo "otelcol build: built $binary ($(du -h "$binary" | cut -f1)) in $(($(date +%s) - started)) s"

# The "next" Collector: the same source with BuildInfo.Version changed, built with the flags
# the builder uses (-trimpath -ldflags="-s -w", CGO_ENABLED=0).
started=$(date +%s)
next_src=$work/src-next
rm -rf "$next_src"
mkdir -p "$next_src"
cp "$src"/*.go "$src/go.mod" "$src/go.sum" "$next_src/"
sed -i "s|^\(\t*Version: *\)\"[^\"]*\",|\1\"$next_version\",|" "$next_src/main.go"
if ! grep -q "\"$next_version\"" "$next_src/main.go"; then
  echo "otelcol build: could not set the version in $next_src/main.go" >&2
  exit 1
fi
if ! (cd "$next_src" && go build -trimpath -o otelcol-opsup -ldflags="-s -w") >>"$log" 2>&1; then
  echo "otelcol build: building $next_binary failed; last lines of $log:" >&2
  tail -n 15 "$log" >&2
  exit 1
fi
install -m 0755 "$next_src/otelcol-opsup" "$next_binary.tmp"
mv -f "$next_binary.tmp" "$next_binary"
echo "$stamp" >"$work/stamp"
echo "otelcol build: built $next_binary (version $next_version) in $(($(date +%s) - started)) s"
