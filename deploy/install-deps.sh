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
#   deploy/install-deps.sh --fuzz     also clang and libFuzzer (make fuzz)
#   deploy/install-deps.sh --check    only report what is missing (exit 1 if any)
#
# Works as root, or through sudo when run as another user.
set -eu

BUILD_PKGS="pkg-config libuv1-dev libnng-dev libsqlite3-dev sqlite3
libopenblas-dev liblapacke-dev libprotobuf-c-dev protobuf-c-compiler
libfyaml-dev libnlopt-dev zlib1g-dev check libsubunit-dev"
TEST_PKGS="python3 iproute2 nftables"
DATA_PKGS="dataset-fashion-mnist"
FUZZ_PKGS="clang libclang-rt-14-dev"
BENCH_PKGS="python3 python3-numpy python3-scipy python3-torch python3-optuna python3-sklearn"

want="$BUILD_PKGS $TEST_PKGS $DATA_PKGS"
only_check=0
for arg in "$@"; do
    case "$arg" in
    --bench) want="$want $BENCH_PKGS" ;;
    --fuzz) want="$want $FUZZ_PKGS" ;;
    --check) only_check=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
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
say "apt-get update"
$SUDO apt-get update -q >/dev/null || die "apt-get update failed (network or sources.list?)"
say "apt-get install$missing"
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing ||
    die "apt-get install failed for:$missing"
say "done"
