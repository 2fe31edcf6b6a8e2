#!/usr/bin/python3
"""Synthetic learning curves for the pruning benchmark (pruning_bench.py),
one family used identically by hpsearch (this file run as a trial's
program) and by Optuna (imported).

A configuration is three numbers in [0, 1], drawn once per seed
(configs): x1 plays the learning rate, x2 the width, x3 the
regularisation. Its loss at step t = 1..T is

    loss(t) = floor + (start - floor) * g(t) + noise
    floor   = 0.10 + 0.6 (x2 - 0.6)^2 + 0.5 (x3 - 0.75)^2 + 0.4 (x1 - 0.45)^2
    start   = 0.9 + 1.5 (floor - 0.1) + 0.2 x2
    g(t)    = exp(-((t - delay)+ / tau)^0.7)
    tau     = 0.6 * 10^(1 - x1)                 (0.6 .. 6 steps)
    delay   = 3 (x3 - 0.7)+ / 0.3               (0 .. 3 steps of plateau)
    noise   ~ N(0, 0.005), seeded by (seed, configuration, step)

so a high "learning rate" descends fast to a worse floor, a low one slowly
to a better one, and strong regularisation (x3 > 0.7, where the floor is
best) first sits on a plateau: the slow starters that start worse and end
better. Over a seed's 81 configurations the Spearman rank correlation of
the loss at step 1 with the loss at step 27 is about 0.15-0.45, at step 3
0.25-0.6, at step 9 0.8-0.9; the best final configuration is often far
down the ranking at step 1.

As a program: pruning_curves.py CFG SEED N WORK prints "step=t loss=X"
for t = 1..T, flushing each line, after WORK iterations of arithmetic per
step (the stand-in for an epoch's compute: a stopped trial must be
stopped while it still has work to do; nothing sleeps).
"""
import math
import random
import sys

T = 27  # max_resource: the step at which a trial is complete


def configs(seed, n):
    """The n configurations of a seed, the same for both tools."""
    rng = random.Random("pruning-bench:%d" % seed)
    return [(rng.random(), rng.random(), rng.random()) for _ in range(n)]


def loss(seed, i, x, t):
    """Configuration i's (= x's) loss at step t of seed's family."""
    x1, x2, x3 = x
    floor = 0.10 + 0.6 * (x2 - 0.6) ** 2 + 0.5 * (x3 - 0.75) ** 2 + 0.4 * (x1 - 0.45) ** 2
    tau = 0.6 * 10 ** (1 - x1)
    delay = 3 * max(0.0, x3 - 0.7) / 0.3
    start = 0.9 + 1.5 * (floor - 0.1) + 0.2 * x2
    g = math.exp(-(max(0.0, t - delay) / tau) ** 0.7)
    noise = random.Random("%d:%d:%d" % (seed, i, t)).gauss(0, 0.005)
    return floor + (start - floor) * g + noise


def work(iterations):
    """iterations of floating-point arithmetic (about 50 ns each in CPython)"""
    a = 1.0
    for _ in range(iterations):
        a = a * 1.0000001 + 1e-9
    return a


def main():
    cfg, seed, n, iters = (int(a) for a in sys.argv[1:5])
    x = configs(seed, n)[cfg]
    for t in range(1, T + 1):
        work(iters)
        sys.stdout.write("step=%d loss=%.17g\n" % (t, loss(seed, cfg, x, t)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
