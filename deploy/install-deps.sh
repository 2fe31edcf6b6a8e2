#!/bin/sh
# install-deps.sh: installs the Debian packages hpsearch needs to build, run
# and test. Idempotent: packages already installed are skipped, and apt is
# not touched at all when nothing is missing.
#
#   deploy/install-deps.sh            build + runtime + test (python3 for the
#                                     structure check; iproute2 and nftables
#                                     for the partition tests) + dataset
#   deploy/install-deps.sh --bench    also the peers the benchmarks compare
#                                     against (PyTorch, Optuna, scikit-learn)
#   deploy/install-deps.sh --browser  also Debian's Chromium, for the dashboard's
#                                     browser test (tests/browser, Playwright)
#   deploy/install-deps.sh --fuzz     also clang and libFuzzer (make fuzz)
#   deploy/install-deps.sh --slurm    also Slurm and munge, for the test that
#                                     runs workers through a real single-node
#                                     Slurm (tests/deploy/test_slurm.sh)
#   deploy/install-deps.sh --build-only    only what building needs (with the
#                                     compiler and cmake): a container's build stage
#   deploy/install-deps.sh --runtime-only  only the shared libraries the binaries
#                                     load: a container's run stage
#   deploy/install-deps.sh --check    only report what is missing (exit 1 if any)
#
# Works as root, or through sudo when run as another user.
set -eu

BUILD_PKGS="pkg-config libuv1-dev libnng-dev libsqlite3-dev sqlite3
libopenblas-dev liblapacke-dev libprotobuf-c-dev protobuf-c-compiler
libfyaml-dev libnlopt-dev zlib1g-dev check libsubunit-dev libmbedtls-dev"
# python3-yaml reads the Kubernetes manifests; systemd's systemd-analyze
# verifies the unit files (tests/deploy); iproute2 and nftables build the
# partition tests' network namespaces; curl is the dashboard's HTTPS client
# in its TLS test
TEST_PKGS="python3 python3-yaml systemd iproute2 nftables curl"
DATA_PKGS="dataset-fashion-mnist"
BROWSER_PKGS="chromium"
FUZZ_PKGS="clang libclang-rt-14-dev"
SLURM_PKGS="slurm-wlm munge"
TOOLCHAIN_PKGS="cmake gcc libc6-dev make"
RUNTIME_PKGS="libuv1 libnng1 libsqlite3-0 libopenblas0-pthread liblapacke libprotobuf-c1
libfyaml0 libnlopt0 zlib1g libmbedtls14 libmbedx509-1 libmbedcrypto7"
BENCH_PKGS="python3 python3-numpy python3-scipy python3-torch python3-optuna python3-sklearn"

# The build runs `npm ci` for the dashboard's charts (coordinator/dash/web).
# Debian's npm conflicts with a nodejs that bundles its own npm (as
# NodeSource's does), so npm is only asked for when there is none.
NODE_PKGS=""
command -v npm >/dev/null 2>&1 || NODE_PKGS="nodejs npm"

want="$BUILD_PKGS $NODE_PKGS $TEST_PKGS $DATA_PKGS"
only_check=0
for arg in "$@"; do
    case "$arg" in
    --bench) want="$want $BENCH_PKGS" ;;
    --browser) want="$want $BROWSER_PKGS" ;;
    --fuzz) want="$want $FUZZ_PKGS" ;;
    --slurm) want="$want $SLURM_PKGS" ;;
    --build-only) want="$TOOLCHAIN_PKGS $BUILD_PKGS" ;;
    --runtime-only) want="$RUNTIME_PKGS" ;;
    --check) only_check=1 ;;
    -h|--help) sed -n '2,/^# Works as root/p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "install-deps: $*"; }
die() { echo "install-deps: error: $*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 ||
    die "dpkg-query not found: this script supports Debian (bookworm or newer) only"

missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$st" in
    ii*) ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    say "all $(echo $want | wc -w) packages already installed"
    exit 0
fi
say "missing:$missing"
[ "$only_check" -eq 1 ] && exit 1

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
    say "not root: using sudo"
else
    die "need root to install packages; run as root or install sudo (missing:$missing)"
fi

export DEBIAN_FRONTEND=noninteractive
# Tests run this script, and ctest -j runs two tests at once: one install
# at a time (flock), and apt waits for a dpkg lock someone else holds
# instead of failing at once.
APT_WAIT="-o DPkg::Lock::Timeout=600"
if [ -z "${HP_INSTALL_DEPS_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    HP_INSTALL_DEPS_LOCKED=1 exec flock /tmp/hpsearch-install-deps.lock "$0" "$@"
fi
say "apt-get update"
# shellcheck disable=SC2086
$SUDO apt-get $APT_WAIT update -q >/dev/null || die "apt-get update failed (network or sources.list?)"
say "apt-get install$missing"
# shellcheck disable=SC2086
$SUDO apt-get $APT_WAIT install -y -q --no-install-recommends $missing ||
    die "apt-get install failed for:$missing"
say "done"
