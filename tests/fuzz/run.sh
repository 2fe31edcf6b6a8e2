#!/bin/sh
# tests/fuzz/run.sh BUILD_DIR [SECONDS]: runs every libFuzzer target of a
# HP_FUZZ=ON build for SECONDS each (default 30), starting from its seed
# corpus (tests/fuzz/corpus/NAME, read only; new inputs go to
# BUILD_DIR/fuzz-corpus/NAME) and the inputs that once crashed it
# (tests/fuzz/regress/NAME). Prints one line per target: executions,
# coverage (edges) and features reached, and writes them to
# BUILD_DIR/fuzz-summary.txt. A crash stops the run with the failing
# input saved as BUILD_DIR/fuzz-artifacts/NAME/crash-*: copy it into
# tests/fuzz/regress/NAME/ with the fix, so it is replayed by ctest for good.
set -eu
build=$1
secs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
summary="$build/fuzz-summary.txt"
: > "$summary"
status=0
for bin in "$build"/bin/fuzz_*; do
    name=${bin##*/fuzz_}
    [ "$name" = make_seeds ] && continue
    corpus="$build/fuzz-corpus/$name"
    art="$build/fuzz-artifacts/$name"
    mkdir -p "$corpus" "$art"
    dirs="$corpus $here/corpus/$name"
    [ -d "$here/regress/$name" ] && dirs="$dirs $here/regress/$name"
    log="$build/fuzz-$name.log"
    # -rss_limit_mb: a decoder must not need more than this for any input
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" $dirs > "$log" 2>&1; then
        res=ok
    else
        res=CRASH
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    line="fuzz_$name: $res, ${execs:-?} executions in ${secs} s, coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$corpus" | wc -l) new inputs"
    echo "$line" | tee -a "$summary"
    if [ "$res" = CRASH ]; then
        tail -n 40 "$log"
        echo "fuzz: the input that crashed fuzz_$name: $(ls "$art"/* 2>/dev/null | head -n 1)"
    fi
done
exit $status
