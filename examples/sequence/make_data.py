#!/usr/bin/env python3
"""Synthetic sequences whose class is a temporal pattern (docs/spec.md, a sequence CSV).

Each row is one sequence of T steps (default 24) with F = 2 features per
step, time-major: columns s0_0, s0_1 (step 0), s1_0, s1_1 (step 1), ...,
then the label 0..2:

  * feature 0 is a sine wave a * sin(2 pi t / P + phase) plus Gaussian
    noise (sigma 0.3), with a random amplitude a in [0.7, 1.3] and a
    random phase; its period P is the class: 16, 8 or 4 steps;
  * feature 1 is noise of about the same variance, a distractor.

Every class has the same per-feature mean (0) and about the same spread
at every step: a model of the features averaged over the steps, or a
linear model of the raw values (the random phase averages any fixed
weighting out), is right one time in three. What tells the classes apart
is how fast the signal turns — how one step follows the last — which a
one-layer LSTM learns in a few epochs.

    python3 make_data.py OUT.csv [--rows 3000] [--steps 24] [--seed 1]
"""
import argparse
import math
import random

PERIODS = (16.0, 8.0, 4.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=3000)
    p.add_argument("--steps", type=int, default=24)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    T = a.steps
    with open(a.out, "w") as f:
        cols = [f"s{t}_{k}" for t in range(T) for k in range(2)]
        f.write(",".join(cols + ["label"]) + "\n")
        for _ in range(a.rows):
            label = rng.randrange(len(PERIODS))
            amp = rng.uniform(0.7, 1.3)
            phase = rng.uniform(0.0, 2.0 * math.pi)
            row = []
            for t in range(T):
                row.append(amp * math.sin(2.0 * math.pi * t / PERIODS[label] + phase)
                           + rng.gauss(0.0, 0.3))
                row.append(rng.gauss(0.0, 0.77))
            f.write(",".join(f"{v:.3f}" for v in row) + f",{label}\n")


if __name__ == "__main__":
    main()
