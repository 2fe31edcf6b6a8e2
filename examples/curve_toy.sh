#!/bin/sh
# A toy training program for examples/asha-toy.yaml: one metric line per
# step (step=N loss=...), a little time per step like a real epoch, and a
# loss that ends lowest near lr = 0.01 and width = 16. Wide models start
# slower (their early loss is higher), so early stopping has something to
# get wrong.
# usage: curve_toy.sh --lr LR --width W [--steps N]
set -eu
lr=0.1 width=8 steps=27
while [ $# -gt 0 ]; do
    case "$1" in
    --lr) lr=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "curve_toy.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
s=1
while [ "$s" -le "$steps" ]; do
    awk -v lr="$lr" -v width="$width" -v s="$s" 'BEGIN {
        a = log(lr / 0.01); b = log(width / 16);
        final = a * a + 0.5 * b * b + 0.1;
        printf "step=%d loss=%.6f\n", s, final + (0.5 + width / 32) / s;
    }'
    sleep 0.02
    s=$((s + 1))
done
