#!/bin/sh
# A toy "training program" for examples/toy-command.yaml: it prints one
# metric line per step (step=N loss=...) the way hpworker expects, with a
# loss that is lowest near lr = 0.01 and width = 16.
# usage: train_toy.sh --lr LR --width W [--steps N]
set -eu
lr=0.1 width=8 steps=5
while [ $# -gt 0 ]; do
    case "$1" in
    --lr) lr=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "train_toy.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
awk -v lr="$lr" -v width="$width" -v steps="$steps" 'BEGIN {
    a = log(lr / 0.01); b = log(width / 16);
    final = a * a + 0.5 * b * b + 0.1;
    for (s = 1; s <= steps; s++)
        printf "step=%d loss=%.6f\n", s, final + 1.0 / s;
}'
