#!/usr/bin/env python3
"""Synthetic data that needs two input modalities (docs/errors.md).

Each row is an 8x8 grey image (columns px0..px63, row-major) and four
tabular features (f0..f3), and a label 0..3:

  * the image shows one bar, horizontal or vertical, at a random place,
    in Gaussian noise: the bar's direction is bit A;
  * feature f0 is +1 or -1 plus noise: its sign is bit B; f1..f3 are noise;
  * label = 2 * A + B.

The image alone tells A but not B, the features B but not A: either
modality alone is right at most half the time, both together nearly
always.

    python3 make_data.py OUT.csv [--rows 4000] [--seed 1]
"""
import argparse
import random


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    with open(a.out, "w") as f:
        f.write(",".join([f"px{i}" for i in range(64)] + ["f0", "f1", "f2", "f3", "label"]) + "\n")
        for _ in range(a.rows):
            bar, sign = rng.randrange(2), rng.randrange(2)
            at = rng.randrange(1, 7)  # a bar of length 6 starting at 1
            start = rng.randrange(0, 3)
            img = [rng.gauss(0.0, 0.35) for _ in range(64)]
            for k in range(start, start + 6):
                r, c = (at, k) if bar == 0 else (k, at)
                img[8 * r + c] += 1.0
            feats = [(1.0 if sign else -1.0) + rng.gauss(0.0, 0.4)] + \
                    [rng.gauss(0.0, 1.0) for _ in range(3)]
            label = 2 * bar + sign
            f.write(",".join(f"{v:.4f}" for v in img + feats) + f",{label}\n")


if __name__ == "__main__":
    main()
