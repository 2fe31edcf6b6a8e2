#!/usr/bin/python3
"""Multi-objective search quality, in-process: hpsearch bayes (ParEGO over
its GP) and random (bench_mo, C) against Optuna's NSGAIISampler and its
multi-objective TPESampler (MOTPE) on ZDT1, ZDT2, ZDT3 (d = 6), DTLZ2
(d = 6, 2 objectives) and BraninCurrin (d = 2), in the same run, the
methods interleaved seed by seed (A B C D A B C D ...).

    /usr/bin/python3 tests/bench/mo_bench.py [--build build] [--seeds 10]
        [--problems zdt1,zdt2,...] [--speed] [--quick]

Every method's hypervolume is computed here, from its trials' objective
values, by one exact 2-D sweep against the problem's reference point
(BoTorch's: ZDT (11, 11), DTLZ2 (1.1, 1.1), BraninCurrin (18, 6)); the C
harness's own value (common/pareto.c) is checked against it. Prints the
median over the seeds after 60 and 100 trials as a markdown table, and
with --speed the time of a bayes suggestion at n = 500 completed trials
(and with 4 pending). About 10 minutes on a quiet 2-core machine (18 at
load 12); --quick runs 3 seeds.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import optuna

REF = {"zdt1": (11, 11), "zdt2": (11, 11), "zdt3": (11, 11), "dtlz2": (1.1, 1.1),
       "branincurrin": (18, 6)}
DIM = {"zdt1": 6, "zdt2": 6, "zdt3": 6, "dtlz2": 6, "branincurrin": 2}
EVALS = 100


def zdt_g(x):
    return 1 + 9 * sum(x[1:]) / (len(x) - 1)


def evaluate(problem, x):
    if problem.startswith("zdt"):
        g = zdt_g(x)
        r = x[0] / g
        if problem == "zdt1":
            return x[0], g * (1 - math.sqrt(r))
        if problem == "zdt2":
            return x[0], g * (1 - r * r)
        return x[0], g * (1 - math.sqrt(r) - r * math.sin(10 * math.pi * x[0]))
    if problem == "dtlz2":
        g = sum((v - 0.5) ** 2 for v in x[1:])
        return ((1 + g) * math.cos(x[0] * math.pi / 2), (1 + g) * math.sin(x[0] * math.pi / 2))
    u, v = 15 * x[0] - 5, 15 * x[1]
    t = v - 5.1 / (4 * math.pi ** 2) * u * u + 5 / math.pi * u - 6
    branin = t * t + 10 * (1 - 1 / (8 * math.pi)) * math.cos(u) + 10
    a, b = x[0], x[1]
    e = 1 - math.exp(-1 / (2 * b)) if b > 0 else 1
    currin = e * (2300 * a ** 3 + 1900 * a ** 2 + 2092 * a + 60) / (
        100 * a ** 3 + 500 * a ** 2 + 4 * a + 20)
    return branin, currin


def hypervolume(ys, ref):
    pts = sorted(p for p in ys if p[0] < ref[0] and p[1] < ref[1])
    v, low = 0.0, ref[1]
    for f1, f2 in pts:
        if f2 < low:
            v += (ref[0] - f1) * (low - f2)
            low = f2
    return v


def run_hpsearch(exe, problem, algo, seed):
    out = subprocess.run([exe, "--problem", problem, "--only", algo, "--seeds", "1",
                          "--seed0", str(seed), "--evals", str(EVALS)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    ys = [tuple(p) for p in r["ys"]]
    for k in (60, 100):
        mine = hypervolume(ys[:k], REF[problem])
        assert abs(mine - r["hv%d" % k]) <= 1e-6 * max(1, mine), (problem, k, mine, r)
    return ys, r["sec_max"]


def run_optuna(problem, kind, seed):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.NSGAIISampler(seed=seed) if kind == "nsga2"
               else optuna.samplers.TPESampler(seed=seed))
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    d = DIM[problem]

    def objective(trial):
        x = [trial.suggest_float("x%d" % (i + 1), 0, 1) for i in range(d)]
        return evaluate(problem, x)

    study.optimize(objective, n_trials=EVALS)
    return [tuple(t.values) for t in sorted(study.trials, key=lambda t: t.number)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default="zdt1,zdt2,zdt3,dtlz2,branincurrin")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--quick", action="store_true", help="3 seeds")
    args = ap.parse_args()
    if args.quick:
        args.seeds = 3
    exe = os.path.join(args.build, "bin", "bench_mo")
    subprocess.run(["cmake", "--build", args.build, "--target", "bench_mo"], check=True,
                   stdout=subprocess.DEVNULL)
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), file=sys.stderr)
    methods = ["hpsearch bayes", "optuna nsga2", "optuna motpe", "hpsearch random"]
    rows = []
    t_start = time.time()
    worst_suggest = 0.0
    for problem in args.problems.split(","):
        hv = {m: {60: [], 100: []} for m in methods}
        secs = {m: [] for m in methods}
        for seed in range(args.seeds):
            for m in methods:
                t0 = time.time()
                if m.startswith("hpsearch"):
                    ys, smax = run_hpsearch(exe, problem, m.split()[1], seed)
                    if m == "hpsearch bayes":
                        worst_suggest = max(worst_suggest, smax)
                else:
                    ys = run_optuna(problem, m.split()[1], seed)
                secs[m].append(time.time() - t0)
                for k in (60, 100):
                    hv[m][k].append(hypervolume(ys[:k], REF[problem]))
        for m in methods:
            rows.append((problem, m, statistics.median(hv[m][60]), statistics.median(hv[m][100]),
                         statistics.median(secs[m]), hv[m][60]))
        print("%s done at %.0f s, load %.2f" % (problem, time.time() - t_start,
                                                 os.getloadavg()[0]), file=sys.stderr)
    print("| problem | method | HV @60 (median) | HV @100 (median) | s per run (median) |")
    print("|---|---|---|---|---|")
    for problem, m, h60, h100, s, _ in rows:
        print("| %s | %s | %.4f | %.4f | %.1f |" % (problem, m, h60, h100, s))
    print()
    for problem in args.problems.split(","):
        by = {m: h60 for p, m, h60, _, _, _ in rows if p == problem}
        peers = max(by["optuna nsga2"], by["optuna motpe"])
        print("%s: hpsearch bayes %.4f vs best Optuna %.4f at 60 trials: %s" % (
            problem, by["hpsearch bayes"], peers,
            "above" if by["hpsearch bayes"] > peers else "NOT above"))
    print("slowest bayes suggestion in these runs: %.3f s" % worst_suggest)
    if args.speed:
        for pending in (0, 4):
            out = subprocess.run([exe, "--speed", "500", "--pending", str(pending)], check=True,
                                 capture_output=True, text=True).stdout
            r = json.loads(out)
            print("bayes suggestion at n = 500 completed, %d pending: %s s" % (
                pending, ", ".join("%.3f" % s for s in r["sec"])))
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
