#!/bin/bash
# test_systemd.sh SOURCE_DIR BIN_DIR: deploy/systemd's units pass
# `systemd-analyze verify` and an offline `systemd-analyze security` bound,
# and their ExecStart lines use flags the binaries have.
#
# verify checks that the programs in ExecStart exist: the units are copied
# to a temp dir with /usr/local/bin/ (where `cmake --install` puts them)
# pointed at this build's binaries. No systemd needs to be running.
set -euo pipefail
SRC="$(cd "${1:?usage: test_systemd.sh SOURCE_DIR BIN_DIR}" && pwd)"
BIN="$(cd "${2:?usage: test_systemd.sh SOURCE_DIR BIN_DIR}" && pwd)"
fail() {
    echo "test_systemd: FAIL: $*" >&2
    exit 1
}
if ! command -v systemd-analyze >/dev/null 2>&1; then
    "$SRC/deploy/install-deps.sh" || fail "deploy/install-deps.sh failed (it installs systemd)"
fi
command -v systemd-analyze >/dev/null 2>&1 || fail "systemd-analyze not found"

T="$(mktemp -d /tmp/hp-systemd-XXXXXX)"
trap 'rm -rf "$T"' EXIT
units=()
for f in "$SRC"/deploy/systemd/*.service; do
    u="$(basename "$f")"
    sed "s|/usr/local/bin/|$BIN/|g" "$f" > "$T/$u"
    units+=("$T/$u")
done
[ "${#units[@]}" -eq 2 ] || fail "expected hpsearchd.service and hpworker@.service in deploy/systemd"
cd "$T"

# verify: any message is a problem (it exits 0 on some warnings)
out="$(systemd-analyze verify "${units[@]}" "$T/hpworker@1.service" 2>&1)" ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
echo "test_systemd: systemd-analyze verify: clean"

# hardened: the offline exposure score (0 best, 10 worst) at most 2.5
for u in hpsearchd.service hpworker@.service; do
    score="$(systemd-analyze security --offline=true "$T/$u" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
    [ -n "$score" ] || fail "systemd-analyze security gave no score for $u"
    awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$u: exposure $score > 2.5"
    echo "test_systemd: $u exposure $score"
done

# ExecStart's flags exist
for u in hpsearchd hpworker; do
    f="$(ls "$SRC"/deploy/systemd/"$u"*.service)"
    prog="$u"
    if [ "$prog" = hpworker ]; then
        help="$("$BIN/$prog" --connect --help)"
    else
        help="$("$BIN/$prog" --help)"
    fi
    for flag in $(sed -n 's/^ExecStart=//p' "$f" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "$flag" <<< "$help" || fail "$f: $prog has no flag $flag"
    done
    for var in $(grep -o 'HPSEARCH_[A-Z_]*' "$f" | sort -u); do
        grep -q "$var" <<< "$help" || fail "$f: $prog does not read $var"
    done
done
grep -q '^DynamicUser=yes' "$SRC/deploy/systemd/hpsearchd.service" || fail "hpsearchd.service: no DynamicUser"
grep -q '^StateDirectory=hpsearch' "$SRC/deploy/systemd/hpsearchd.service" || fail "no StateDirectory"
grep -q -- '--db /var/lib/hpsearch/' "$SRC/deploy/systemd/hpsearchd.service" ||
    fail "hpsearchd.service: the database is not in its StateDirectory"
grep -q '^KillMode=mixed' "$SRC/deploy/systemd/hpworker@.service" ||
    fail "hpworker@.service: KillMode=mixed (the worker stops its trials itself)"
echo "test_systemd: PASS"
