#!/usr/bin/python3
"""Conditional search spaces: hpsearch bayes (and random) against Optuna's
TPESampler with define-by-run conditionals, at equal trials, in the same
run: on `optimizer` (a choice of optimizer, each with its own learning
rate and second parameter) and `layers` (1-4 layers, width_i only when
there are at least i layers). hpsearch's samplers run in-process
(bench_conditional, C) with the objective evaluated there; Optuna's
objective suggests each parameter only under its branch. Same formulas
both sides (bench_conditional.c).

    /usr/bin/python3 tests/bench/conditional_bench.py [BUILD_DIR] [--seeds 10]
        [--evals 60] [--write]

Prints the median simple regret (best - minimum) over the seeds after 20,
50 and --evals trials; --write replaces the "Conditional spaces" section of
docs/benchmarks.md. Seeds are run interleaved (hpsearch, Optuna, ...).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import optuna
from benchdoc import markers, write_section

optuna.logging.set_verbosity(optuna.logging.WARNING)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN, END = markers("conditional-bench")


def f_optimizer(trial):
    opt = trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    if opt == "sgd":
        lr = trial.suggest_float("sgd_lr", 1e-4, 1, log=True)
        m = trial.suggest_float("momentum", 0, 0.99)
        return 0.3 + 0.2 * (math.log10(lr) + 1.5) ** 2 + 2 * (m - 0.9) ** 2
    if opt == "adam":
        lr = trial.suggest_float("adam_lr", 1e-4, 1, log=True)
        b = trial.suggest_float("beta1", 0.8, 0.999)
        return 0.1 + 0.2 * (math.log10(lr) + 3) ** 2 + 5 * (b - 0.9) ** 2
    lr = trial.suggest_float("rmsprop_lr", 1e-4, 1, log=True)
    d = trial.suggest_float("decay", 0.8, 0.999)
    return 0.2 + 0.2 * (math.log10(lr) + 2.5) ** 2 + 3 * (d - 0.95) ** 2


def f_layers(trial):
    layers = trial.suggest_categorical("layers", [1, 2, 3, 4])
    v = [0.5, 0.3, 0.2, 0.25][layers - 1]
    for i, target in enumerate([8, 7, 6, 5][:layers]):
        w = trial.suggest_int("width%d" % (i + 1), 16, 512, log=True)
        v += 0.02 * (math.log2(w) - target) ** 2
    return v


PROBLEMS = {"optimizer": (f_optimizer, 0.1), "layers": (f_layers, 0.2)}


def run_optuna(fn, fmin, sampler, evals):
    study = optuna.create_study(sampler=sampler)
    best, curve = math.inf, []

    def obj(trial):
        nonlocal best
        y = fn(trial)
        best = min(best, y)
        curve.append(best - fmin)
        return y

    study.optimize(obj, n_trials=evals)
    return curve


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=60)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    subprocess.run(["cmake", "--build", build, "--target", "bench_conditional"], check=True,
                   capture_output=True)
    res = {}  # (problem, algo) -> list of {r20, r50, rN}
    secs = {}
    for problem, (fn, fmin) in PROBLEMS.items():
        for seed in range(a.seeds):
            for algo in ("bayes", "random"):  # hpsearch, then the peers: interleaved
                t0 = time.perf_counter()
                out = subprocess.run([os.path.join(build, "bin", "bench_conditional"),
                                      "--seeds", "1", "--first-seed", str(seed), "--evals",
                                      str(a.evals), "--only", algo, "--problem", problem],
                                     check=True, capture_output=True, text=True).stdout
                secs.setdefault(("hpsearch " + algo, problem), []).append(time.perf_counter() - t0)
                r = json.loads(out.strip().splitlines()[-1])
                res.setdefault((problem, "hpsearch " + algo), []).append(r)
            for name, mk in (("Optuna TPE", lambda s: optuna.samplers.TPESampler(seed=s)),
                             ("Optuna TPE multivariate+group",
                              lambda s: optuna.samplers.TPESampler(seed=s, multivariate=True,
                                                                   group=True)),
                             ("Optuna random", lambda s: optuna.samplers.RandomSampler(seed=s))):
                t0 = time.perf_counter()
                c = run_optuna(fn, fmin, mk(seed), a.evals)
                secs.setdefault((name, problem), []).append(time.perf_counter() - t0)
                res.setdefault((problem, name), []).append(
                    {"r20": c[19], "r50": c[min(50, a.evals) - 1], "rN": c[-1]})
            print(problem, seed, {k[1]: round(v[-1]["rN"], 4) for k, v in res.items()
                                  if k[0] == problem}, flush=True)
    load = os.getloadavg()
    algos = ["hpsearch bayes", "Optuna TPE", "Optuna TPE multivariate+group", "hpsearch random",
             "Optuna random"]
    lines = [
        "## Conditional spaces",
        "",
        "`tests/bench/conditional_bench.py`: median simple regret (best - known minimum; lower "
        "is better) over %d seeds after 20, 50 and %d trials, sequential, on two synthetic "
        "problems whose optimum depends on the conditional structure (formulas in "
        "tests/bench/bench_conditional.c): `optimizer` (optimizer in {sgd, adam, rmsprop}, each "
        "with its own log-scaled learning rate and its own momentum/beta1/decay, 7 parameters, "
        "minimum 0.1) and `layers` (1-4 layers, int widths 16-512 log-scaled, width_i active "
        "when layers >= i, minimum 0.2 at 3 layers of 256, 128, 64). hpsearch's samplers run "
        "in-process with `when:` conditions; Optuna %s suggests each parameter only in its "
        "branch (define-by-run). Seeds interleaved hpsearch / Optuna in one run; load average "
        "%.1f, %.1f, %.1f." % (a.seeds, a.evals, optuna.__version__, *load),
        "",
        "| problem | sampler | regret @20 | regret @50 | regret @%d | seconds per run |" % a.evals,
        "|---|---|---|---|---|---|",
    ]
    for problem in PROBLEMS:
        for algo in algos:
            rs = res[(problem, algo)]
            med = lambda k: float(np.median([r[k] for r in rs]))  # noqa: E731
            lines.append("| %s | %s | %.4g | %.4g | %.4g | %.2f |" % (
                problem, algo, med("r20"), med("r50"), med("rN"),
                float(np.median(secs[(algo, problem)]))))
    lines += [
        "",
        "Both problems are smooth bowls inside each branch, which suits a GP: read them as a "
        "check that bayes handles inactive dimensions soundly (docs/search.md), not as a "
        "claim about real training curves. The hpsearch seconds include starting the "
        "process.",
        "",
    ]
    text = "\n".join([BEGIN] + lines + [END])
    print(text)
    if a.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    sys.exit(main())
