#!/usr/bin/python3
"""Search quality, in-process: our random, coarse-to-fine and bayes samplers
(bench_search_quality, C) against Optuna's TPESampler and RandomSampler and
the scikit-learn GP-EI reference (gp_reference.py, 50 evaluations: 10
random points then 40 GP-EI steps) on Branin, Hartmann-6, Rosenbrock-4d
([-5,10]^4) and Ackley-5d ([-32.768,32.768]^5), in the same run.

    /usr/bin/python3 tests/bench/bench_search_quality.py [--build build] [--seeds 10]
        [--skip-sklearn]

Prints median simple regret (best - known minimum) over the seeds after 20,
50 and 100 evaluations, and bayes with 4 parallel workers at 60, as a
markdown table. The through-the-daemon version of this benchmark comes
with the daemon integration.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import optuna  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gp_reference  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(x):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


HA = np.array([1.0, 1.2, 3.0, 3.2])
HAm = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
HP = np.array([[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
               [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
               [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
               [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]])


def hartmann6(x):
    x = np.asarray(x)
    return -float(np.sum(HA * np.exp(-np.sum(HAm * (x - HP) ** 2, axis=1))))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    x = np.asarray(x)
    n = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x ** 2) / n))
                 - np.exp(np.sum(np.cos(2 * np.pi * x)) / n) + 20 + np.e)


FNS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.397887357729738),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551),
    "rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0),
    "ackley5": (ackley, [(-32.768, 32.768)] * 5, 0.0),
}


def run_optuna(fn, bounds, fmin, sampler, evals):
    study = optuna.create_study(sampler=sampler)
    best, curve = math.inf, []

    def obj(trial):
        x = [trial.suggest_float("x%d" % i, lo, hi) for i, (lo, hi) in enumerate(bounds)]
        return fn(x)

    for _ in range(evals):
        t = study.ask()
        y = obj(t)
        study.tell(t, y)
        best = min(best, y)
        curve.append(best - fmin)
    return curve


def run_sklearn(fn, bounds, fmin, seed, evals, n_init=10):
    rng = np.random.default_rng(seed)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    U, Y, curve, best = [], [], [], math.inf
    for k in range(evals):
        if k < n_init:
            u = rng.uniform(size=len(bounds))
        else:
            u = gp_reference.suggest(np.array(U), np.array(Y), rng)
        y = fn(lo + u * (hi - lo))
        U.append(u)
        Y.append(y)
        best = min(best, y)
        curve.append(best - fmin)
    return curve


def fmt(v):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 0.01:
        return "%.3g" % v
    return "%.1e" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--raw", default=None, help="also write every run as JSON lines here")
    args = ap.parse_args()
    subprocess.check_call(["cmake", "--build", args.build, "-j1", "--target",
                           "bench_search_quality"], stdout=subprocess.DEVNULL)
    exe = os.path.join(args.build, "bin", "bench_search_quality")
    t0 = time.time()
    out = subprocess.check_output([exe, "--seeds", str(args.seeds), "--evals", "100"], text=True)
    rows = [json.loads(line) for line in out.splitlines()]
    print("ours: %.0f s" % (time.time() - t0), file=sys.stderr, flush=True)
    for name, (fn, bounds, fmin) in FNS.items():
        for seed in range(args.seeds):
            for label, sampler in (("optuna-tpe", optuna.samplers.TPESampler(seed=seed)),
                                   ("optuna-random", optuna.samplers.RandomSampler(seed=seed))):
                c = run_optuna(fn, bounds, fmin, sampler, 100)
                rows.append({"fn": name, "algo": label, "seed": seed, "r20": c[19], "r50": c[49],
                             "r100": c[99]})
    print("optuna done: %.0f s" % (time.time() - t0), file=sys.stderr, flush=True)
    if not args.skip_sklearn:
        for name, (fn, bounds, fmin) in FNS.items():
            for seed in range(args.seeds):
                c = run_sklearn(fn, bounds, fmin, seed, 50)
                rows.append({"fn": name, "algo": "sklearn-gp-ei", "seed": seed, "r20": c[19],
                             "r50": c[49]})
            print("sklearn %s done: %.0f s" % (name, time.time() - t0), file=sys.stderr,
                  flush=True)
    if args.raw:
        with open(args.raw, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    algos = ["random", "coarse-to-fine", "bayes", "optuna-random", "optuna-tpe",
             "sklearn-gp-ei", "bayes-4workers"]
    print("\nMedian simple regret over %d seeds (lower is better):\n" % args.seeds)
    print("| function | algorithm | @20 | @50 | @60 | @100 |")
    print("|---|---|---:|---:|---:|---:|")
    for name in FNS:
        for a in algos:
            sel = [r for r in rows if r["fn"] == name and r["algo"] == a]
            if not sel:
                continue
            med = {k: (float(np.median([r[k] for r in sel])) if k in sel[0] else None)
                   for k in ("r20", "r50", "r60", "r100")}
            print("| %s | %s | %s | %s | %s | %s |" % (name, a, fmt(med["r20"]), fmt(med["r50"]),
                                                     fmt(med["r60"]), fmt(med["r100"])))


if __name__ == "__main__":
    main()
