#!/usr/bin/env python3
"""CORAL on the synthesized test distributions (issue 18).

For each shift (darken, noise, and the control `same`) and seed, one study of
one trial with `dataset.adapt: coral` runs through `hpsearch run` (a real
coordinator and worker). With adapt_compare on (the default) the worker
trains the same trial once more without adaptation, so one report gives the
distribution-shift term (shift_val_error - val_error) with CORAL and
without it, measured on the same splits. Prints a markdown table of
medians for docs/benchmarks.md.

    python3 tests/bench/coral_bench.py --build build [--seeds 3] [--epochs 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

SPEC = """name: coral-{shift}-{seed}
objective: {{metric: val_error, goal: minimize}}
search: {{algorithm: random, max_trials: 1, parallelism: 1, seed: {seed}}}
space:
  lr: {{type: categorical, values: [0.001]}}
trial:
  model: {model}
  dataset: {{name: fashion-mnist, train_subset: {train}, shift: {shift}, adapt: coral}}
  epochs: {epochs}
"""


def run(hpsearch, tmp, shift, seed, a):
    spec = os.path.join(tmp, f"{shift}-{seed}.yaml")
    db = os.path.join(tmp, f"{shift}-{seed}.db")
    with open(spec, "w") as f:
        f.write(SPEC.format(shift=shift, seed=seed, model=a.model, train=a.train,
                            epochs=a.epochs))
    subprocess.run([hpsearch, "run", spec, "--workers", "1", "--db", db], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rep = subprocess.run([hpsearch, "report", "--format", "json", "--db", db,
                          f"coral-{shift}-{seed}"], check=True, capture_output=True, text=True)
    t = json.loads(rep.stdout)["trial"]
    q = subprocess.run([hpsearch, "sql", "--db", db, "--format", "json",
                        "SELECT name, value FROM metrics WHERE step = -1 AND name IN "
                        "('test_error_noadapt', 'val_error_noadapt', 'shift_val_error_noadapt')"],
                       check=True, capture_output=True, text=True)
    rows = json.loads(q.stdout)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    m = {r["name"]: r["value"] for r in rows}
    return {
        "with": t["terms"]["distribution_shift"]["value"],
        "without": t["shift_without_adaptation"],
        "test_with": t["errors"]["test_error"],
        "test_without": m.get("test_error_noadapt"),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--model", default="mlp")
    a = p.parse_args()
    hpsearch = os.path.join(a.build, "bin", "hpsearch")
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for shift in ("darken", "noise", "same"):
            out[shift] = [run(hpsearch, tmp, shift, s, a) for s in range(1, a.seeds + 1)]
            print(shift, out[shift], file=sys.stderr)
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print("| shift | distribution shift without CORAL | with CORAL | test error without | with |")
    print("|---|---|---|---|---|")
    for shift, rs in out.items():
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"| {shift} | {med('without'):.4f} | {med('with'):.4f} | "
              f"{med('test_without'):.4f} | {med('test_with'):.4f} |")
    bad = [s for s in ("darken",) if statistics.median(r["with"] for r in out[s]) >=
           statistics.median(r["without"] for r in out[s])]
    if bad:
        print(f"CORAL did not shrink the distribution-shift term on: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
