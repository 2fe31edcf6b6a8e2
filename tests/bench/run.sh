#!/bin/sh
# run.sh [BUILD_DIR]: every benchmark, each measuring hpsearch against its
# peers (PyTorch, Optuna, scikit-learn) in the same run — what `make bench`
# runs. The engine, dispatch, service-search, pruning and sanity benchmarks
# rewrite their own sections of docs/benchmarks.md; the GP speed and
# in-process search-quality benchmarks print Markdown tables to paste into
# theirs. Expect the whole run to take about an hour and a half on a 2-core
# machine; each script has --quick.
set -eu
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build}" && pwd)
py=/usr/bin/python3   # Debian's python, which has torch, optuna and sklearn
cmake --build "$build" --target bench_gp_speed bench_search_quality bench_conditional bench_mo hpsearch hpsearchd hpworker

echo "== training engine vs PyTorch"
$py tests/bench/engine_bench.py "$build" --write
echo "== dispatch throughput vs Optuna"
$py tests/bench/dispatch_bench.py "$build" --write
echo "== GP suggestion speed vs scikit-learn"
$py tests/bench/bench_gp_speed.py --build "$build"
echo "== search quality in-process vs Optuna and scikit-learn"
$py tests/bench/bench_search_quality.py --build "$build"
if [ -f tests/bench/search_service_bench.py ]; then
    echo "== search quality through the service"
    $py tests/bench/search_service_bench.py "$build" --write
fi
echo "== pruning on synthetic learning curves vs Optuna's pruners"
$py tests/bench/pruning_bench.py "$build" --write
echo "== early stopping on Fashion-MNIST vs Optuna + PyTorch"
$py tests/bench/pruning_real_bench.py "$build" --write
echo "== the sanity check against shuffled labels"
$py tests/bench/sanity_bench.py "$build" --write
echo "== parameter importance vs Optuna's fANOVA on the same trials"
$py tests/bench/importance_bench.py "$build" --write
echo "== conditional spaces: bayes vs Optuna TPE (define-by-run)"
$py tests/bench/conditional_bench.py "$build" --write
echo "== several objectives: hypervolume vs Optuna NSGA-II and MOTPE (table to paste)"
$py tests/bench/mo_bench.py --build "$build" --speed
echo "== CORAL: the distribution-shift term with and without it (prints the table for docs/benchmarks.md)"
$py tests/bench/coral_bench.py --build "$build"
