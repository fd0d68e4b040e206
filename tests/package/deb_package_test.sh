#!/usr/bin/env bash
# The Debian packages end to end: `cpack -G DEB` in the build tree, their contents (paths,
# modes, owners, conffiles, Depends), then `dpkg -i` on this machine, the installed service
# (--version, the module directory, the system user, the storage directory, `validate` as that
# user, `systemd-analyze verify`), a reinstall that keeps state and the edited conffile,
# `dpkg --remove` that keeps them, then `dpkg --purge` and nothing left behind.
#
# Run by ctest (tests/package/CMakeLists.txt sets the variables below). It fails, never
# skips, on a missing tool or without root, unless told otherwise:
#   OPSUP_ALLOW_NO_DEB_TOOLS=1    skip (exit 77) when cpack, dpkg-deb, dpkg-shlibdeps,
#                                 systemd-analyze, adduser or runuser are missing
#   OPSUP_DEB_TEST_NO_INSTALL=1   build and inspect the packages only (no root needed)
# It refuses to run when an opampsupervisor package, its user, or its config or storage
# directory already exist, so it never touches a real installation, and it always purges
# what it installed.
set -euo pipefail

for variable in OPSUP_BUILD_DIR CPACK OPSUP_EXPECTED_VERSION OPSUP_EXPECTED_COMMIT \
    OPSUP_EXPECTED_ABI OPSUP_DEB_CONFIG_DIR OPSUP_DEB_STORAGE_DIR OPSUP_DEB_USER \
    OPSUP_DEB_SYSTEMD_UNIT_DIR OPSUP_DEB_MODULE_DIR; do
    [[ -n "${!variable:-}" ]] || { echo "deb_package_test: $variable is not set (run it through ctest)" >&2; exit 1; }
done

fail() { echo "deb_package_test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# ---- Tools and guards -------------------------------------------------------------------
missing=()
for tool in "$CPACK" dpkg dpkg-deb dpkg-query dpkg-shlibdeps file systemd-analyze adduser runuser getent stat; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "${OPSUP_ALLOW_NO_DEB_TOOLS:-}" == 1 ]]; then
        echo "deb_package_test: SKIP: missing ${missing[*]} (OPSUP_ALLOW_NO_DEB_TOOLS=1)"
        exit 77
    fi
    fail "missing ${missing[*]}; tools/install-deps.sh installs them (dpkg-dev, systemd, adduser), or set OPSUP_ALLOW_NO_DEB_TOOLS=1 to skip"
fi

install=1
[[ "${OPSUP_DEB_TEST_NO_INSTALL:-}" == 1 ]] && install=0
if [[ $install == 1 && $(id -u) -ne 0 ]]; then
    fail "installing with dpkg -i needs root; run ctest as root, or set OPSUP_DEB_TEST_NO_INSTALL=1 to check the packages without installing them"
fi

storage_parent=$(dirname "$OPSUP_DEB_STORAGE_DIR")
if [[ $install == 1 ]]; then
    for package in opampsupervisor opampsupervisor-dev; do
        status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
        if [[ -n "$status" && "$status" != *not-installed* && "$status" != "unknown ok not-installed" ]]; then
            fail "package $package is already on this machine ($status); the test installs and purges its own build, so it refuses to touch it. Remove it, or set OPSUP_DEB_TEST_NO_INSTALL=1"
        fi
    done
    getent passwd "$OPSUP_DEB_USER" >/dev/null && fail "user $OPSUP_DEB_USER exists already; the test would delete it on purge, so it refuses to run"
    getent group "$OPSUP_DEB_USER" >/dev/null && fail "group $OPSUP_DEB_USER exists already; the test would delete it on purge, so it refuses to run"
    for path in "$OPSUP_DEB_CONFIG_DIR" "$OPSUP_DEB_STORAGE_DIR"; do
        [[ -e "$path" ]] && fail "$path exists already; the test would delete it on purge, so it refuses to run"
    done
fi
parent_existed=0
[[ -e "$storage_parent" ]] && parent_existed=1

work=$(mktemp -d)
installed=0
cleanup() {
    if [[ $installed == 1 ]]; then
        echo "deb_package_test: purging what the test installed"
        dpkg --purge opampsupervisor-dev opampsupervisor >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- Build ------------------------------------------------------------------------------
step "cpack -G DEB"
started=$SECONDS
"$CPACK" -G DEB --config "$OPSUP_BUILD_DIR/CPackConfig.cmake" -B "$work/packages" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
echo "cpack took $((SECONDS - started)) s"
arch=$(dpkg --print-architecture)
deb="$work/packages/opampsupervisor_${OPSUP_EXPECTED_VERSION}_${arch}.deb"
dev="$work/packages/opampsupervisor-dev_${OPSUP_EXPECTED_VERSION}_all.deb"
for file in "$deb" "$dev"; do
    [[ -f "$file" ]] || fail "cpack did not write $(basename "$file"); it wrote: $(ls "$work/packages")"
done
ls "$work/packages"/*.deb | grep -v -e "/opampsupervisor_" -e "/opampsupervisor-dev_" \
    && fail "cpack wrote packages beyond the two expected"
ls -l "$deb" "$dev" | awk '{print "size " $5 " " $NF}'

# ---- Contents -----------------------------------------------------------------------------
step "contents of $(basename "$deb")"
dpkg-deb -c "$deb" >"$work/runtime.list"
cat "$work/runtime.list"
unit="$OPSUP_DEB_SYSTEMD_UNIT_DIR/opampsupervisor.service"
expect_entry() {  # <list> <mode> <path>
    grep -qE "^$2 root/root +[0-9]+ [0-9-]+ [0-9:]+ \.$3\$" "$1" \
        || fail "$(basename "$1" .list) package: no $3 with mode $2 owned by root/root"
}
expect_entry "$work/runtime.list" -rwxr-xr-x /usr/bin/opampsupervisor
expect_entry "$work/runtime.list" drwxr-xr-x "$OPSUP_DEB_MODULE_DIR/"
expect_entry "$work/runtime.list" -rw-r--r-- "$OPSUP_DEB_CONFIG_DIR/config.yaml"
expect_entry "$work/runtime.list" -rw-r--r-- "$unit"
# Everything root-owned; nothing under the module tree group or other writable (the loader
# refuses such modules and directories).
awk '$2 != "root/root" {print}' "$work/runtime.list" | grep . && fail "entries not owned by root/root"
awk -v dir=".$(dirname "$OPSUP_DEB_MODULE_DIR")" 'index($NF, dir) == 1 && (substr($1, 6, 1) == "w" || substr($1, 9, 1) == "w") {print}' \
    "$work/runtime.list" | grep . && fail "group or other writable entries under $(dirname "$OPSUP_DEB_MODULE_DIR")"
grep -q -e "opamp-server" -e "/include/" "$work/runtime.list" && fail "the runtime package carries the test server or SDK headers"
grep -q "\./var/" "$work/runtime.list" && fail "the storage directory must come from the postinst (owned by $OPSUP_DEB_USER), not the archive"

conffiles=$(dpkg-deb -I "$deb" conffiles)
[[ "$conffiles" == "$OPSUP_DEB_CONFIG_DIR/config.yaml" ]] || fail "conffiles is '$conffiles', not $OPSUP_DEB_CONFIG_DIR/config.yaml"
for script in postinst prerm postrm; do
    dpkg-deb -I "$deb" "$script" >/dev/null || fail "no $script in the package"
done
dpkg-deb -f "$deb" Package Version Architecture Depends
[[ $(dpkg-deb -f "$deb" Version) == "$OPSUP_EXPECTED_VERSION" ]] || fail "Version is not $OPSUP_EXPECTED_VERSION"
depends=$(dpkg-deb -f "$deb" Depends)
# dpkg-shlibdeps computed the library dependencies; adduser is for the postinst.
for needed in adduser libc6 libstdc++6 libssl3; do
    [[ ",$depends" == *[\ ,]"$needed"[\ ,\(]* || ",$depends," == *[\ ,]"$needed",* ]] \
        || fail "Depends lacks $needed: $depends"
done

step "contents of $(basename "$dev")"
dpkg-deb -c "$dev" >"$work/dev.list"
expect_entry "$work/dev.list" -rw-r--r-- /usr/include/opsup/module.h
expect_entry "$work/dev.list" -rw-r--r-- /usr/lib/cmake/opsup-sdk/opsup-sdkConfig.cmake
expect_entry "$work/dev.list" -rw-r--r-- /usr/share/opsup-sdk/proto/opamp.proto
grep -q -e "/bin/" -e "/etc/" "$work/dev.list" && fail "the -dev package carries binaries or config"
[[ $(dpkg-deb -f "$dev" Architecture) == all ]] || fail "the -dev package is not Architecture: all"
echo "$(wc -l <"$work/dev.list") entries"

if [[ $install == 0 ]]; then
    echo "deb_package_test: PASS (packages only; OPSUP_DEB_TEST_NO_INSTALL=1)"
    exit 0
fi

# ---- Install --------------------------------------------------------------------------------
step "dpkg -i"
installed=1
dpkg -i "$deb" "$dev" || fail "dpkg -i failed"

expected_version="opampsupervisor $OPSUP_EXPECTED_VERSION (commit $OPSUP_EXPECTED_COMMIT, module ABI $OPSUP_EXPECTED_ABI)"
actual_version=$(/usr/bin/opampsupervisor --version)
[[ "$actual_version" == "$expected_version" ]] || fail "--version printed '$actual_version', not '$expected_version'"
echo "$actual_version"

modules=$(/usr/bin/opampsupervisor modules)
echo "$modules"
grep -qF "$OPSUP_DEB_MODULE_DIR" <<<"$modules" || fail "the installed binary does not use $OPSUP_DEB_MODULE_DIR"
grep -q "does not exist" <<<"$modules" && fail "the installed module directory is missing"
[[ $(stat -c '%U:%G %a' "$OPSUP_DEB_MODULE_DIR") == "root:root 755" ]] || fail "$OPSUP_DEB_MODULE_DIR is not root:root 0755"

passwd=$(getent passwd "$OPSUP_DEB_USER") || fail "the postinst did not create user $OPSUP_DEB_USER"
echo "$passwd"
uid=$(cut -d: -f3 <<<"$passwd")
max_system_uid=$(awk '$1 == "SYS_UID_MAX" {print $2}' /etc/login.defs 2>/dev/null)
(( uid < ${max_system_uid:-1000} )) || fail "$OPSUP_DEB_USER (uid $uid) is not a system user"
[[ $(cut -d: -f7 <<<"$passwd") == */nologin ]] || fail "$OPSUP_DEB_USER has a login shell"
[[ $(stat -c '%U:%G %a' "$OPSUP_DEB_STORAGE_DIR") == "$OPSUP_DEB_USER:$OPSUP_DEB_USER 700" ]] \
    || fail "$OPSUP_DEB_STORAGE_DIR is $(stat -c '%U:%G %a' "$OPSUP_DEB_STORAGE_DIR"), not $OPSUP_DEB_USER:$OPSUP_DEB_USER 700"

step "validate the example config as $OPSUP_DEB_USER"
# As installed it names a Collector the package does not ship: that must be the only error.
set +e
output=$(runuser -u "$OPSUP_DEB_USER" -- /usr/bin/opampsupervisor validate --config "$OPSUP_DEB_CONFIG_DIR/config.yaml" 2>&1)
status=$?
set -e
echo "$output"
[[ $status == 1 ]] || fail "validate of the example config exited $status, expected 1 (no Collector installed)"
[[ $(grep -ci "error" <<<"$output") == 1 && "$output" == *agent.executable* ]] \
    || fail "the example config has errors beyond agent.executable"
# With a Collector path that exists it is valid for the installed layout.
chmod 0755 "$work"
sed 's|^\(  executable:\).*|\1 /bin/true|' "$OPSUP_DEB_CONFIG_DIR/config.yaml" >"$work/config.yaml"
chmod 0644 "$work/config.yaml"
runuser -u "$OPSUP_DEB_USER" -- /usr/bin/opampsupervisor validate --config "$work/config.yaml" \
    || fail "the example config with agent.executable /bin/true does not validate"

step "systemd-analyze verify $unit"
cat "$unit"
set +e
verify=$(systemd-analyze verify "$unit" 2>&1)
status=$?
set -e
echo "$verify"
[[ $status == 0 ]] || fail "systemd-analyze verify exited $status"
grep -q "opampsupervisor" <<<"$verify" && fail "systemd-analyze verify complains about the unit"

# ---- Reinstall, remove, purge ----------------------------------------------------------------
step "dpkg -i again (the upgrade path of the maintainer scripts) keeps the state"
runuser -u "$OPSUP_DEB_USER" -- sh -c "echo state >'$OPSUP_DEB_STORAGE_DIR/persistent_state.yaml'"
echo "# edited by the test" >>"$OPSUP_DEB_CONFIG_DIR/config.yaml"
dpkg -i --force-confold "$deb" || fail "reinstalling over the installed package failed"
[[ $(stat -c '%U:%G %a' "$OPSUP_DEB_STORAGE_DIR") == "$OPSUP_DEB_USER:$OPSUP_DEB_USER 700" ]] \
    || fail "reinstalling changed $OPSUP_DEB_STORAGE_DIR to $(stat -c '%U:%G %a' "$OPSUP_DEB_STORAGE_DIR")"
[[ -f "$OPSUP_DEB_STORAGE_DIR/persistent_state.yaml" ]] || fail "reinstalling lost the supervisor's state"
grep -q "edited by the test" "$OPSUP_DEB_CONFIG_DIR/config.yaml" || fail "reinstalling overwrote the edited conffile"

step "dpkg --remove keeps config, state and user"
dpkg --remove opampsupervisor-dev opampsupervisor || fail "dpkg --remove failed"
[[ -e /usr/bin/opampsupervisor || -e "$unit" ]] && fail "dpkg --remove left the binary or the unit"
[[ -f "$OPSUP_DEB_CONFIG_DIR/config.yaml" && -f "$OPSUP_DEB_STORAGE_DIR/persistent_state.yaml" ]] \
    || fail "dpkg --remove deleted the config or the state (only purge may)"
getent passwd "$OPSUP_DEB_USER" >/dev/null || fail "dpkg --remove deleted the user (only purge may)"

step "dpkg --purge"
dpkg --purge opampsupervisor-dev opampsupervisor || fail "dpkg --purge failed"
installed=0
for package in opampsupervisor opampsupervisor-dev; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ -z "$status" || "$status" == *not-installed* ]] || fail "$package is still known to dpkg: $status"
done
left=()
for path in /usr/bin/opampsupervisor "$(dirname "$OPSUP_DEB_MODULE_DIR")" "$OPSUP_DEB_CONFIG_DIR" \
    "$OPSUP_DEB_STORAGE_DIR" "$unit" /usr/include/opsup /usr/lib/cmake/opsup-sdk /usr/share/opsup-sdk; do
    [[ -e "$path" ]] && left+=("$path")
done
[[ $parent_existed == 0 && -e "$storage_parent" ]] && left+=("$storage_parent")
[[ ${#left[@]} -eq 0 ]] || fail "left after purge: ${left[*]}"
getent passwd "$OPSUP_DEB_USER" >/dev/null && fail "user $OPSUP_DEB_USER is left after purge"
getent group "$OPSUP_DEB_USER" >/dev/null && fail "group $OPSUP_DEB_USER is left after purge"

echo "deb_package_test: PASS"
