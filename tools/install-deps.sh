#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need, and unpacks
# Debian's source package of the installed protobuf (see protobuf_source below).
# Idempotent: when everything is already there it returns without touching apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build clang-format clang
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libprotobuf-dev protobuf-compiler
  libssl-dev openssl zlib1g-dev libarchive-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  python3
  dpkg-dev file systemd adduser
  chromium chromium-driver python3-selenium
  tinyproxy
)

# Debian's source of the protobuf that libprotobuf-dev installs (same upstream version, with
# Debian's patches): the STATIC_PROTOBUF test of the SDK builds a position-independent
# libprotobuf-lite.a from it, since Debian's own libprotobuf-lite.a is not position-independent
# and cannot go into a module. The build finds it at /usr/local/src/opsup/protobuf-<version>
# (OPSUP_PROTOBUF_SOURCE_DIR).
protobuf_source_root=/usr/local/src/opsup

protobuf_upstream_version() {
  local version
  version=$(dpkg-query -W -f='${Version}' libprotobuf-dev)
  version=${version#*:}
  echo "${version%-*}"
}

protobuf_source_ready() {
  dpkg-query -W libprotobuf-dev >/dev/null 2>&1 &&
    [[ -f "$protobuf_source_root/protobuf-$(protobuf_upstream_version)/src/google/protobuf/message_lite.cc" ]]
}

# Fetches the source package with apt-get source through a private deb-src list, so the
# machine's apt configuration is left as it is.
fetch_protobuf_source() {
  local version upstream codename work target
  version=$(dpkg-query -W -f='${Version}' libprotobuf-dev)
  upstream=$(protobuf_upstream_version)
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/src"
  chmod 755 "$work"
  # apt downloads as its own user where it has one.
  if id _apt >/dev/null 2>&1; then "${sudo_cmd[@]}" chown _apt "$work/src"; fi
  cat >"$work/sources.list" <<SOURCES
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $codename main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $codename-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $codename-security main
SOURCES
  local apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$work/lists")
  echo "install-deps: fetching Debian's source of protobuf $version"
  "${sudo_cmd[@]}" apt-get "${apt_options[@]}" update -qq
  # The exact version when the archive still has it, else the same upstream version.
  if ! (cd "$work/src" && "${sudo_cmd[@]}" apt-get "${apt_options[@]}" source -qq \
    --only-source "protobuf=$version" >/dev/null); then
    (cd "$work/src" && "${sudo_cmd[@]}" apt-get "${apt_options[@]}" source -qq \
      --only-source protobuf >/dev/null)
  fi
  if [[ ! -d "$work/src/protobuf-$upstream" ]]; then
    echo "install-deps: Debian's source of protobuf $upstream is not available" \
      "(got: $(ls "$work/src"))" >&2
    exit 1
  fi
  target="$protobuf_source_root/protobuf-$upstream"
  "${sudo_cmd[@]}" mkdir -p "$protobuf_source_root"
  "${sudo_cmd[@]}" rm -rf "$target"
  "${sudo_cmd[@]}" mv "$work/src/protobuf-$upstream" "$target"
  "${sudo_cmd[@]}" rm -rf "$work"
  echo "install-deps: protobuf source in $target"
}

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]] && protobuf_source_ready; then
  echo "install-deps: all ${#packages[@]} packages and the protobuf source already installed"
  exit 0
fi

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
protobuf_source_ready || fetch_protobuf_source
