#!/usr/bin/python3
"""The sanity check against corrupted labels (issue 6): does `hpsearch check`
pass real labels and fail shuffled ones?

    /usr/bin/python3 tests/bench/sanity_bench.py [BUILD_DIR] [--seeds 10] [--write]

1. 8000 Fashion-MNIST training images written as CSV twice: with their
   labels, and with the labels permuted over the rows (the guide's
   "labels incorrectly shuffled"). `hpsearch check` on an MLP study over
   each, for search.seed 0..seeds-1: how often it passes, the memorised
   model's held-out accuracy and the bar it had to clear.
2. The built-in dataset (60,000 images, 6000 validation) with the MLP,
   LeNet and LSTM: held-out accuracy, chance level and the check's wall time
   (process start to exit, one BLAS thread).
3. Synthetic data where one batch of 32 cannot show much (many classes,
   weak signal, regression over many features), real and shuffled: what
   the check says (pass, pass with a warning, fail). Sound data must never
   fail.

There is no peer to compare with: no other tuner has a check that runs
before a search. With --write the results replace the sanity-bench section
of docs/benchmarks.md.
"""
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from benchdoc import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BEGIN = "<!-- sanity-bench:begin -->"
END = "<!-- sanity-bench:end -->"
DATA = "/usr/share/datasets/fashion-mnist"

SPEC = """name: sanity-{tag}
objective: {{metric: val_error}}
search: {{algorithm: random, max_trials: 4, seed: {seed}}}
space:
  hidden: {{type: int, low: 64, high: 256}}
trial:
  model: {model}
  dataset: {dataset}
  epochs: 3
"""

HELD = re.compile(r"accuracy ([0-9.]+) on ([0-9]+)")
CHANCE = re.compile(r"chance \(([0-9.]+)")
NEEDS = re.compile(r"> ([0-9.]+)")
CORR = re.compile(r"r = (-?[0-9.]+)")


def write_csvs(d, n=8000):
    x = np.frombuffer(gzip.open(DATA + "/train-images-idx3-ubyte.gz").read(), np.uint8,
                      offset=16).reshape(-1, 784)[:n]
    y = np.frombuffer(gzip.open(DATA + "/train-labels-idx1-ubyte.gz").read(), np.uint8,
                      offset=8)[:n]
    paths = {}
    for tag, lab in (("real", y), ("shuffled", np.random.default_rng(0).permutation(y))):
        p = os.path.join(d, "fm_%s.csv" % tag)
        with open(p, "w") as f:
            f.write(",".join(["p%d" % i for i in range(784)] + ["label"]) + "\n")
            for xi, yi in zip(x, lab):
                f.write(",".join(map(str, xi)) + ",%d\n" % yi)
        paths[tag] = p
    return paths


def write_synthetic(d, name, n, dim, k, shuffle, seed=7):
    """tests/hp_blobs.h's recipes in numpy: k Gaussian blobs (class c's
    centre 1 on the features j with j mod k = c), or (k = 0) a regression
    target sum_j x_j / sqrt(dim) + 0.3 noise; shuffle permutes the labels"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    if k:
        y = np.arange(n) % k
        x += (np.arange(dim)[None, :] % k == y[:, None])
        fmt = "%d"
    else:
        y = x.sum(1) / np.sqrt(dim) + 0.3 * rng.standard_normal(n)
        fmt = "%.4f"
    if shuffle:
        y = rng.permutation(y)
    p = os.path.join(d, "%s_%d.csv" % (name, shuffle))
    with open(p, "w") as f:
        f.write(",".join(["x%d" % j for j in range(dim)] + ["y"]) + "\n")
        for xi, yi in zip(x, y):
            f.write(",".join("%.4f" % v for v in xi) + "," + fmt % yi + "\n")
    return p if k else "{path: %s, task: regression}" % p


def verdict(r):
    return "fail" if not r["passed"] else "warn" if "WARNING" in r["out"] else "pass"


def check(hpsearch, d, tag, model, dataset, seed):
    spec = os.path.join(d, "%s.yaml" % tag)
    with open(spec, "w") as f:
        f.write(SPEC.format(tag=tag, seed=seed, model=model, dataset=dataset))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    t0 = time.monotonic()
    p = subprocess.run([hpsearch, "check", spec], capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    out = p.stdout + p.stderr
    held, chance, needs = HELD.search(out), CHANCE.search(out), NEEDS.search(out)
    return {"passed": p.returncode == 0, "acc": float(held.group(1)) if held else None,
            "n": int(held.group(2)) if held else None,
            "chance": float(chance.group(1)) if chance else None,
            "needs": float(needs.group(1)) if needs else None, "seconds": dt, "out": out,
            "corr": float(CORR.search(out).group(1)) if CORR.search(out) else None}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    hpsearch = os.path.join(build, "bin", "hpsearch")
    seeds = 10
    if "--seeds" in sys.argv:
        seeds = int(sys.argv[sys.argv.index("--seeds") + 1])
    rows = []
    with tempfile.TemporaryDirectory(prefix="hp-sanity-bench-") as d:
        csv = write_csvs(d)
        results = {}
        for tag in ("real", "shuffled"):
            results[tag] = [check(hpsearch, d, "%s%d" % (tag, s), "mlp", csv[tag], s)
                            for s in range(seeds)]
            for r in results[tag]:
                if r["acc"] is None:
                    sys.exit("no held-out score in:\n" + r["out"])
        builtin = {m: check(hpsearch, d, "builtin-" + m, m, "fashion-mnist", 0)
                   for m in ("mlp", "lenet", "lstm")}
        synth = []
        for label, n, dim, k in (("4 blobs, 64 features", 2000, 64, 4),
                                 ("10 blobs, 16 features", 4000, 16, 10),
                                 ("10 blobs, 64 features", 4000, 64, 10),
                                 ("20 blobs, 64 features", 4000, 64, 20),
                                 ("100 blobs, 200 features", 20000, 200, 100),
                                 ("regression, 16 features", 2000, 16, 0),
                                 ("regression, 64 features", 2000, 64, 0)):
            res = []
            for shuffle in (0, 1):
                ds = write_synthetic(d, "syn", n, dim, k, shuffle)
                res.append(check(hpsearch, d, "syn%d" % shuffle, "mlp", ds, 0))
            synth.append((label, n, res))
    for tag in ("real", "shuffled"):
        rs = results[tag]
        accs = [r["acc"] for r in rs]
        bars = [r["needs"] for r in rs if r["needs"] is not None]
        chances = [r["chance"] for r in rs if r["chance"] is not None]
        rows.append("| %s labels | %d / %d / %d | %.3f–%.3f (median %.3f) | %s | %s |" % (
            tag, sum(verdict(r) == "pass" for r in rs), sum(verdict(r) == "warn" for r in rs),
            sum(verdict(r) == "fail" for r in rs), min(accs), max(accs),
            statistics.median(accs),
            "%.3f–%.3f" % (min(chances), max(chances)) if chances else "—",
            "%.3f–%.3f" % (min(bars), max(bars)) if bars else "—"))
    srows = []
    for label, n, res in synth:
        def score(r):
            if r["corr"] is not None and r["acc"] is None:
                return "r = %.2f" % r["corr"]
            return "%.3f (chance %.3f)" % (r["acc"], r["chance"]) if r["acc"] is not None else "—"
        srows.append("| %s, %d rows | %s: %s | %s: %s |" % (
            label, n, verdict(res[0]), score(res[0]), verdict(res[1]), score(res[1])))
    brows = []
    for m, r in builtin.items():
        brows.append("| %s | %s | %s on %s | %s | %.2f s |" % (
            m, "pass" if r["passed"] else "FAIL", "%.3f" % r["acc"] if r["acc"] else "—",
            r["n"], "%.3f" % r["chance"] if r["chance"] else "—", r["seconds"]))
    text = [BEGIN, "## The sanity check against shuffled labels (issue 6)", "",
            "`/usr/bin/python3 tests/bench/sanity_bench.py`, measured %s on the shared 2-core "
            "machine. `hpsearch check` overfits one batch of 32 for 300 steps, then scores the "
            "memorised model on the study's validation split. It passes if the held-out "
            "accuracy beats chance (Σₖ pₖqₖ for the model's predicted class frequencies p and "
            "the true ones q) by three binomial standard deviations; it fails if the accuracy "
            "is at most two above chance and the batch has at least 3 examples per class; "
            "otherwise it passes with a warning (sound data with many classes or a weak signal "
            "can score like shuffled labels after one batch). For regression: the predictions' "
            "correlation with the targets, a warning below the 3-sd bar. No peer tuner has a "
            "check before a search, so there is nothing to compare against."
            % time.strftime("%Y-%m-%d"),
            "",
            "8000 Fashion-MNIST training images as CSV (640 of them the validation split), the "
            "default MLP, `search.seed` 0..%d; \"shuffled\" permutes the labels over the rows:"
            % (seeds - 1), "",
            "| dataset | pass / warn / fail | held-out accuracy | chance | bar |",
            "|---|---:|---:|---:|---:|"] + rows + [
            "", "The built-in dataset (6000 validation images), seed 0; wall time of the whole "
            "check, process start to exit:", "",
            "| model | check | held-out accuracy | chance | time |",
            "|---|---|---:|---:|---:|"] + brows + [
            "", "Synthetic data (`tests/hp_blobs.h`'s recipes, one data seed), the default MLP, "
            "with the labels as generated and shuffled; held-out accuracy (or, for regression, "
            "the correlation r of predictions with targets):", "",
            "| data | own labels | shuffled labels |", "|---|---|---|"] + srows + ["", END]
    print("\n".join(text))
    if "--write" in sys.argv:
        write_section("\n".join(text), BEGIN, END)


if __name__ == "__main__":
    main()
