#!/usr/bin/python3
"""Pruning benchmark (issue 13, benchmark 1): early stopping on synthetic
learning curves, through the real service, against Optuna's pruners.

    /usr/bin/python3 tests/bench/pruning_bench.py [BUILD_DIR] [--quick] [--write] [--raw FILE]

The curves are pruning_curves.py's family (realistic shapes, some slow
starters, small seeded noise; T = 27 steps). Per seed the bench draws N = 81
configurations once (pruning_curves.configs, seeded random sampling) and
gives the same list to both tools, so "same sampler and seeds" is exact:

- hpsearch: `hpsearch run SPEC --workers 2` (a real hpsearchd and 2 real
  hpworker processes), `search: {algorithm: grid, parallelism: 2}` over
  `cfg: {type: int, low: 0, high: 80}`, each trial the external program
  `pruning_curves.py {cfg} SEED N WORK`, which prints "step=t loss=X" lines
  and does WORK iterations of arithmetic per step (no sleeping). The rule
  is the spec's `pruning:` section. Read back from the study's database:
  the steps the rule granted each trial (T for a completed trial,
  trials.pruned_step for a pruned one), the steps the program actually ran
  (the highest step stored in metrics: a stop takes a moment to reach the
  program), the best completed value.
- Optuna (3.1, in-process, one trial at a time): the same configurations
  through enqueue_trial({"cfg": i}) with RandomSampler(seed) behind it,
  trial.report(loss, t) every step and should_prune() -> TrialPruned at
  steps below T (at T the trial is complete, as max_resource in hpsearch).
  Steps used = reports made.

Rules, each against the Optuna pruner of the same kind and settings:
  none       | NopPruner
  asha       | SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
  asha (min_resource 3) | SuccessiveHalvingPruner(min_resource=3, reduction_factor=3)
  asha, rank-checked (min_rank_correlation 0.5) | SuccessiveHalvingPruner as for asha
  hyperband  | HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)
  hyperband (min_resource 3) | HyperbandPruner(min_resource=3, max_resource=27, reduction_factor=3)
  median     | MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1)
  median (warmup_steps 3) | MedianPruner(n_startup_trials=5, n_warmup_steps=3, interval_steps=1)

Regret = best completed final value - the best final value over the seed's
N configurations (what no pruning finds: it runs every configuration to T).
Medians over seeds 0..4 (--quick: 0..1). --write replaces the pruning-bench
section of docs/benchmarks.md (and nothing else).
"""
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import pruning_curves as pc  # noqa: E402  (the curve family, the same for both tools)
import optuna  # noqa: E402
from benchdoc import write_section

BEGIN = "<!-- pruning-bench:begin -->"
END = "<!-- pruning-bench:end -->"
N = 81           # configurations (= trials) per study
T = pc.T         # 27 steps: max_resource
WORK = 300000    # arithmetic per step in the program: ~10 ms of CPython
NOISE = 0.005    # the curves' noise sd: a regret below it is "the same best value"
RUN_TIMEOUT = 900

# (key, label, hpsearch `pruning:` flow mapping or None, Optuna pruner factory)
RULES = [
    ("none", "none", None, lambda: optuna.pruners.NopPruner()),
    ("asha", "asha", "{rule: asha, min_resource: 1, max_resource: 27, reduction_factor: 3}",
     lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
                                                    min_early_stopping_rate=0)),
    ("asha3", "asha, min_resource 3",
     "{rule: asha, min_resource: 3, max_resource: 27, reduction_factor: 3}",
     lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=3, reduction_factor=3,
                                                    min_early_stopping_rate=0)),
    # the rank check has no Optuna counterpart: compared with the plain
    # SuccessiveHalvingPruner it adds a check to
    ("asha_rank", "asha, rank-checked",
     "{rule: asha, min_resource: 1, max_resource: 27, reduction_factor: 3, "
     "min_rank_correlation: 0.5}",
     lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
                                                    min_early_stopping_rate=0)),
    ("hyperband", "hyperband",
     "{rule: hyperband, min_resource: 1, max_resource: 27, reduction_factor: 3}",
     lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)),
    ("hyperband3", "hyperband, min_resource 3",
     "{rule: hyperband, min_resource: 3, max_resource: 27, reduction_factor: 3}",
     lambda: optuna.pruners.HyperbandPruner(min_resource=3, max_resource=27, reduction_factor=3)),
    ("median", "median", "{rule: median, warmup_steps: 0, interval_steps: 1, min_trials: 5, "
     "max_resource: 27}",
     lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1)),
    ("median3", "median, warmup_steps 3", "{rule: median, warmup_steps: 3, interval_steps: 1, "
     "min_trials: 5, max_resource: 27}",
     lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3, interval_steps=1)),
]
# rules whose decisions, made one trial at a time, must be Optuna's exactly
# (hyperband is left out: the two split trials into brackets by different
# hashes)
EXACT = ("none", "asha", "asha3", "median", "median3")
OPTUNA_NAME = {"none": "NopPruner", "asha": "SuccessiveHalvingPruner",
               "asha3": "SuccessiveHalvingPruner(min_resource=3)",
               "asha_rank": "SuccessiveHalvingPruner (no rank check)",
               "hyperband": "HyperbandPruner",
               "hyperband3": "HyperbandPruner(min_resource=3)", "median": "MedianPruner",
               "median3": "MedianPruner(n_warmup_steps=3)"}

SPEC = """name: {name}
objective: {{metric: loss, goal: minimize}}
search: {{algorithm: grid, parallelism: {par}}}
space:
  cfg: {{type: int, low: 0, high: {high}}}
trial:
  command: [{py}, {prog}, '{{cfg}}', '{seed}', '{n}', '{work}']
  timeout: 600
{pruning}"""

problems = []  # service misbehaviour seen during the run, reported in the output
late = []  # trials stopped by the rule whose stop came after their program's last step


def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg, file=sys.stderr, flush=True)


def finals(seed):
    cfgs = pc.configs(seed, N)
    return [pc.loss(seed, i, x, T) for i, x in enumerate(cfgs)]


def hpsearch_study(build, tmp, key, pruning, seed, par=2):
    name = "prune-%s-s%d-p%d" % (key, seed, par)
    spec = os.path.join(tmp, name + ".yaml")
    db = os.path.join(tmp, name + ".db")
    with open(spec, "w") as f:
        f.write(SPEC.format(name=name, high=N - 1, py=sys.executable,
                            prog=os.path.join(HERE, "pruning_curves.py"), seed=seed, n=N,
                            work=WORK, par=par, pruning="pruning: %s\n" % pruning if pruning else ""))
    t0 = time.time()
    try:
        p = subprocess.run([os.path.join(build, "bin", "hpsearch"), "run", spec, "--workers", str(par),
                            "--db", db], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                           cwd=tmp)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    wall = time.time() - t0
    if rc != 0:
        problem("study %s: hpsearch run exited %s after %.1f s; output tail: %s"
                % (name, rc, wall, out.strip().splitlines()[-3:] if out.strip() else "none"))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        study = con.execute("SELECT state FROM studies").fetchall()
        rows = con.execute(
            "SELECT t.number, t.state, t.value, t.pruned_step, t.params, t.error, "
            "(SELECT max(m.step) FROM metrics m WHERE m.trial_id = t.id AND m.step >= 0 "
            " AND m.name = 'loss'), "
            "(SELECT count(*) FROM events e WHERE e.trial_id = t.id AND e.kind = 'trial_pruned') "
            "FROM trials t ORDER BY t.number").fetchall()
    finally:
        con.close()
    if study != [("completed",)]:
        problem("study %s ended %s" % (name, study))
    if [r[0] for r in rows] != list(range(N)):
        problem("study %s: %d trials stored, expected numbers 0..%d" % (name, len(rows), N - 1))
    fin = finals(seed)
    granted = ran = 0
    per_cfg = [None] * N  # steps granted, by configuration
    best, best_cfg, pruned, by_step = float("inf"), None, 0, {}
    for number, state, value, pstep, params, error, top, npruned in rows:
        cfg = json.loads(params)["cfg"]
        ran += top or 0
        if state == "completed":
            granted += T
            per_cfg[cfg] = T
            if top != T:
                problem("study %s trial %d: completed after step %s, not %d" % (name, number,
                                                                                top, T))
            if abs(value - fin[cfg]) > 1e-12:
                problem("study %s trial %d: value %.17g, the curve's final %.17g"
                        % (name, number, value, fin[cfg]))
            if npruned:
                # the stop reached the worker after the program's last step
                late.append("%s trial %d" % (name, number))
                print("late stop: study %s trial %d has a trial_pruned event but ended "
                      "completed" % (name, number), file=sys.stderr, flush=True)
            if value < best:
                best, best_cfg = value, cfg
        elif state == "pruned":
            pruned += 1
            if pstep is None or not error or not error.startswith("pruned at step %d" % pstep):
                problem("study %s trial %d: pruned at step %s with reason %r"
                        % (name, number, pstep, error))
            granted += pstep or 0
            per_cfg[cfg] = pstep
            by_step[pstep] = by_step.get(pstep, 0) + 1
            if npruned != 1:
                problem("study %s trial %d: %d trial_pruned events" % (name, number, npruned))
        else:
            problem("study %s trial %d: state %s (%s)" % (name, number, state, error))
    if pruning is None and pruned:
        problem("study %s: %d trials pruned without a rule" % (name, pruned))
    os.unlink(db)
    return {"tool": "hpsearch" if par == 2 else "hpsearch-p1", "rule": key, "seed": seed,
            "per_cfg": per_cfg, "steps": granted, "ran": ran,
            "best": best, "best_cfg": best_cfg, "regret": best - min(fin), "pruned": pruned,
            "by_step": by_step, "wall": wall}


def optuna_study(key, factory, seed):
    cfgs = pc.configs(seed, N)
    study = optuna.create_study(direction="minimize", pruner=factory(),
                                sampler=optuna.samplers.RandomSampler(seed=seed),
                                study_name="prune-%s-s%d" % (key, seed))
    for i in range(N):
        study.enqueue_trial({"cfg": i})
    steps = [0]
    per_cfg = [None] * N

    def objective(trial):
        i = trial.suggest_int("cfg", 0, N - 1)
        for t in range(1, T + 1):
            v = pc.loss(seed, i, cfgs[i], t)
            trial.report(v, t)
            steps[0] += 1
            per_cfg[i] = t
            if t < T and trial.should_prune():
                raise optuna.TrialPruned()
        return v

    t0 = time.time()
    study.optimize(objective, n_trials=N)
    wall = time.time() - t0
    fin = finals(seed)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = min(done, key=lambda t: t.value)
    if sorted(t.params["cfg"] for t in study.trials) != list(range(N)):
        problem("Optuna %s seed %d: the trials did not take the enqueued configurations" % (key,
                                                                                           seed))
    by_step = {}
    for t in study.trials:
        if t.state == optuna.trial.TrialState.PRUNED:
            by_step[t.last_step] = by_step.get(t.last_step, 0) + 1
    return {"tool": "optuna", "rule": key, "seed": seed, "per_cfg": per_cfg,
            "steps": steps[0], "ran": steps[0],
            "best": best.value, "best_cfg": best.params["cfg"], "regret": best.value - min(fin),
            "pruned": sum(by_step.values()), "by_step": by_step, "wall": wall}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    raw_path = sys.argv[sys.argv.index("--raw") + 1] if "--raw" in sys.argv else None
    args = [a for a in sys.argv[1:] if not a.startswith("--") and a != raw_path]
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    quick = "--quick" in sys.argv
    seeds = list(range(2 if quick else 5))
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    tmp = tempfile.mkdtemp(prefix="hp-prune-")
    t_start = time.time()
    rows = []
    try:
        for seed in seeds:
            for key, _, pruning, factory in RULES:
                r = hpsearch_study(build, tmp, key, pruning, seed)
                rows.append(r)
                o = optuna_study(key, factory, seed)
                rows.append(o)
                if key in EXACT:
                    # one worker, one trial at a time: the order Optuna sees
                    q = hpsearch_study(build, tmp, key, pruning, seed, par=1)
                    rows.append(q)
                    if q["per_cfg"] != o["per_cfg"]:
                        diff = [i for i in range(N) if q["per_cfg"][i] != o["per_cfg"][i]]
                        problem("seed %d %s, 1 worker: %d trials stopped at another step than "
                                "Optuna stops them (cfg %s: hpsearch %s, Optuna %s)"
                                % (seed, key, len(diff), diff[:5],
                                   [q["per_cfg"][i] for i in diff[:5]],
                                   [o["per_cfg"][i] for i in diff[:5]]))
                print("seed %d %-9s hpsearch %4d steps (ran %4d) regret %.4f %5.1f s | optuna "
                      "%4d steps regret %.4f %4.1f s" % (seed, key, r["steps"], r["ran"],
                                                         r["regret"], r["wall"], o["steps"],
                                                         o["regret"], o["wall"]),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = time.time() - t_start
    if raw_path:
        with open(raw_path, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    print("\n".join(render(rows, seeds, quick, total)))
    if "--write" in sys.argv:
        write_section("\n".join(render(rows, seeds, quick, total)), BEGIN, END)


def gap_note(rows):
    """how much asha with min_resource 1 misses by, on the family's scale"""
    spread = med([med(finals(r["seed"])) - min(finals(r["seed"])) for r in rows
                  if r["tool"] == "optuna" and r["rule"] == "none"])
    a = med([r["regret"] for r in rows if r["tool"] == "hpsearch" and r["rule"] == "asha"])
    a3 = med([r["regret"] for r in rows if r["tool"] == "hpsearch" and r["rule"] == "asha3"])
    h = [r for r in rows if r["tool"] == "hpsearch" and r["rule"] == "asha"]
    cut1 = sum(1 for r in h if r["per_cfg"][min(range(N), key=finals(r["seed"]).__getitem__)] == 1)
    return ("Why asha with `min_resource: 1` misses \"equal best value\": its first rung is "
            "step 1, where a configuration's loss says little about its final loss (Spearman "
            "0.15-0.45 in this family), so slow starters are cut there: the seed's best "
            "configuration at step 1 in %d of %d seeds. Its median regret %.4f is %.0f%% of "
            "the gap between the median configuration's final loss and the best (%.3f). With "
            "`min_resource: 3` (the issue's example; the rungs at 3 and 9) the median regret is "
            "%.4f (%.0f%% of that gap) at about twice the steps, still under 40%%: for curves "
            "like these give the rule a grace period of a few epochs."
            % (cut1, len(h), a, 100 * a / spread, spread, a3, 100 * a3 / spread))


def render(rows, seeds, quick, total):
    full = N * T

    def sel(tool, key):
        return [r for r in rows if r["tool"] == tool and r["rule"] == key]

    def pct(x):
        return 100.0 * x / full

    def within(rs):
        return sum(1 for r in rs if r["regret"] <= NOISE)

    table = ["| rule | tool | steps used (%% of no pruning) | steps the programs ran | "
             "pruned trials | best final loss | regret (median / max) | seeds with regret "
             "≤ %.3f |" % NOISE, "|---|---|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for key, label, _, _ in RULES:
        for tool in ("hpsearch", "hpsearch-p1", "optuna"):
            rs = sel(tool, key)
            if not rs or (tool == "hpsearch-p1" and key == "none"):
                continue
            name = {"hpsearch": "hpsearch `%s`" % label,
                    "hpsearch-p1": "hpsearch, 1 worker (check)",
                    "optuna": "Optuna %s" % OPTUNA_NAME[key]}[tool]
            table.append("| %s | %s | %.0f (**%.1f%%**) | %s | %.0f | %.4f | %.4f / %.4f | %d of "
                         "%d |" % (label if tool == "hpsearch" else "", name,
                                   med([r["steps"] for r in rs]),
                                   med([pct(r["steps"]) for r in rs]),
                                   "%.0f (%.1f%%)" % (med([r["ran"] for r in rs]),
                                                      med([pct(r["ran"]) for r in rs]))
                                   if tool != "optuna" else "same",
                                   med([r["pruned"] for r in rs]), med([r["best"] for r in rs]),
                                   med([r["regret"] for r in rs]),
                                   max(r["regret"] for r in rs), within(rs), len(rs)))
        if key == "none":
            continue
        h, o = sel("hpsearch", key), sel("optuna", key)
        hs, os_ = med([pct(r["steps"]) for r in h]), med([pct(r["steps"]) for r in o])
        hr, orr = med([r["regret"] for r in h]), med([r["regret"] for r in o])
        step_ok = hs <= 40.0
        equal_ok = within(h) == len(h)
        # "at least as good as Optuna's pruner of the same kind at the same
        # total steps": no more steps (2% slack: the asynchronous order of 2
        # workers) and no worse regret (beyond the noise)
        vs_ok = hs <= os_ * 1.02 + 0.5 and hr <= orr + NOISE / 5
        wins = sum(1 for a in h for b in o if a["seed"] == b["seed"] and
                   a["regret"] <= b["regret"] + 1e-12)
        cut = []  # where the seed's best configuration was stopped, by seed
        for a in h:
            fin = finals(a["seed"])
            b = min(range(N), key=lambda i: fin[i])
            if a["per_cfg"][b] < T:
                cut.append(a["per_cfg"][b])
        why = ("the seed's best configuration was stopped in %d of %d seeds (at step%s %s)"
               % (len(cut), len(h), "s" if len(cut) > 1 else "",
                  ", ".join(str(c) for c in sorted(cut))) if cut else
               "the seed's best configuration was never stopped")
        verdicts.append(
            "- **%s**: %.1f%% of the steps of no pruning (target ≤ 40%%: %s); best value equal "
            "to no pruning's (regret ≤ %.3f) in %d of %d seeds (%s); against Optuna %s: %.1f%% "
            "of the steps, median regret %.4f vs %.4f, regret no worse in %d of %d seeds (%s); "
            "%s."
            % (label, hs, "met" if step_ok else "**missed**", NOISE, within(h), len(h),
               "met" if equal_ok else "**missed**", OPTUNA_NAME[key], os_, hr, orr, wins, len(h),
               "met" if vs_ok else "**missed**", why))
    ran = [r["ran"] / r["steps"] - 1 for r in rows if r["tool"] == "hpsearch" and r["pruned"]]
    over = [(r["ran"] - r["steps"]) / r["pruned"] for r in rows
            if r["tool"] == "hpsearch" and r["pruned"]]
    walls = {key: med([r["wall"] for r in sel("hpsearch", key)]) for key, _, _, _ in RULES}
    same = compared = only_late = 0
    for q in rows:
        if q["tool"] != "hpsearch-p1":
            continue
        o = [r for r in rows if r["tool"] == "optuna" and r["rule"] == q["rule"] and
             r["seed"] == q["seed"]]
        compared += 1
        if o and o[0]["per_cfg"] == q["per_cfg"]:
            same += 1
        elif o and all(a == b or a == T for a, b in zip(q["per_cfg"], o[0]["per_cfg"])):
            only_late += 1  # differs only where hpsearch's trial completed: a late stop
    exact = ("Same rules, one trial at a time: each study of %s run again with 1 worker and "
             "parallelism 1 (the order Optuna's sequential loop sees) stopped **every trial at "
             "the same step as Optuna** in %d of %d studies. With 2 workers the arrival order "
             "differs a little (a trial is judged against the trials that reached the rung "
             "before it, and a median against the trials completed before it), which is where "
             "the differences between the first and the third row of a rule come from."
             % (", ".join("`%s`" % k for k in EXACT if k != "none"), same, compared))
    if only_late:
        exact = exact.replace("studies.", "studies; in %d more the only differences are trials "
                              "that the rule stopped as Optuna does but that completed anyway, "
                              "their stop arriving after their last step (below)."
                              % only_late, 1)
    text = [BEGIN, "## Pruning on synthetic learning curves (issue 13)", "",
            "`tests/bench/pruning_bench.py`, measured %s (%s) on this shared 2-core machine. "
            "Curves from `tests/bench/pruning_curves.py` (T = %d steps; a high \"learning "
            "rate\" descends fast to a worse floor, a low one slowly to a better one, strong "
            "regularisation first sits on a plateau of up to 3 steps: slow starters that start "
            "worse and end better; seeded noise sd %.3f). Per seed %d configurations drawn once "
            "and given to both tools: hpsearch as a grid over `cfg` (the index into the list), "
            "2 workers, parallelism 2, each trial an external Python program printing `step=t "
            "loss=X` after ~10 ms of arithmetic per step; Optuna %s in-process, one trial at a "
            "time, `enqueue_trial({\"cfg\": i})`, `report` every step, `should_prune` below step "
            "%d. Seeds 0..%d; medians over seeds. \"Steps used\" counts what the rule granted "
            "(%d for a completed trial, `trials.pruned_step` for a pruned one; Optuna: reports "
            "made); no pruning uses %d × %d = %d. Regret: best completed final loss − the best "
            "final loss of the %d configurations (what no pruning finds)."
            % (time.strftime("%Y-%m-%d"), "quick mode" if quick else "full mode, %.0f min in all"
               % (total / 60), T, NOISE, N, optuna.__version__, T, seeds[-1], T, N, T, full, N),
            "", *table, "",
            "Settings: hpsearch `pruning: {rule: asha, min_resource: 1, max_resource: 27, "
            "reduction_factor: 3}` (rungs at steps 1, 3, 9), the same with `min_resource: 3` "
            "(rungs 3, 9), the first with `min_rank_correlation: 0.5` (rank-checked; "
            "Optuna has no such check, so it is set against the plain "
            "SuccessiveHalvingPruner), `{rule: hyperband, min_resource: 1, max_resource: 27, "
            "reduction_factor: 3}` (4 brackets) and the same with `min_resource: 3` (3 "
            "brackets), `{rule: median, warmup_steps: 0, min_trials: 5, max_resource: 27}` (not "
            "judged at step 27, where a trial is complete) and the same with `warmup_steps: 3` "
            "(not judged before step 3); Optuna's pruners with the same numbers "
            "(SuccessiveHalvingPruner min_early_stopping_rate 0; MedianPruner n_startup_trials "
            "5, n_warmup_steps 0 or 3).", "",
            exact, "", "Targets (issue 13, benchmark 1):", "", *verdicts, "", gap_note(rows), "",
            "A stop takes a moment to reach the program: the programs ran a median %.1f steps "
            "(max %.1f) past the step at which each pruned trial was stopped (%.0f%% more "
            "steps than granted, median over the pruned studies; one step is ~10 ms of "
            "compute here). Median wall time of one `hpsearch run`: %s."
            % (med(over), max(over) if over else float("nan"), 100 * med(ran),
               ", ".join("%s %.1f s" % (k, w) for k, w in walls.items())), ""]
    if late:
        text += ["**Late stops.** In %d studies with a rule, %d trials were stopped by the rule "
                 "(a `trial_pruned` event) but ended `completed`: the worker sends one PROGRESS "
                 "per step and waits for each reply, so when the coordinator answers more slowly "
                 "than the program prints (here under load on 2 shared cores), the reports queue "
                 "up and the stop comes after the program has already finished. Their steps "
                 "count as granted (27), so they are in \"steps used\" too." % (
                     len(set(x.rsplit(" trial ", 1)[0] for x in late)), len(late)), ""]
    if problems:
        text += ["Service problems seen in this run:", ""] + ["- " + p for p in problems[:20]]
        if len(problems) > 20:
            text.append("- … and %d more" % (len(problems) - 20))
        text.append("")
    else:
        text += ["Every study ended `completed` with trials 0..%d, each `completed` at step %d "
                 "with the curve's final value or `pruned` with its step and a reason, and one "
                 "`trial_pruned` event per pruned trial%s." % (
                     N - 1, T, " (and one for each late stop above)" if late else
                     " and none for a completed one"), ""]
    text.append(END)
    return text


if __name__ == "__main__":
    main()
