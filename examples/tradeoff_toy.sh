#!/bin/sh
# A toy program for examples/two-objectives.yaml: a wider model has a lower
# loss but a higher latency, so no setting is best at both; the study's
# Pareto front is the trade-off between them.
# usage: tradeoff_toy.sh --lr LR --width W
set -eu
lr=0.1 width=8
while [ $# -gt 0 ]; do
    case "$1" in
    --lr) lr=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    *) echo "tradeoff_toy.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
awk -v lr="$lr" -v width="$width" 'BEGIN {
    a = log(lr / 0.01);
    printf "loss=%.6f latency_ms=%.6f\n", a * a + 4 / width + 0.1, 0.5 + 0.05 * width;
}'
