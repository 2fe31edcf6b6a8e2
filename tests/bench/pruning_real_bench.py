#!/usr/bin/python3
"""Early stopping on the real task (issue 13, benchmark 2): tune the MLP (lr,
hidden, dropout, weight decay, batch size) on Fashion-MNIST with 2 workers
of one core each, and measure the wall time until some trial reaches a
target validation accuracy, for

  (a) hpsearch bayes + asha     `hpsearch run SPEC --workers 2` (hpsearchd and
                                 two hpworker processes, one BLAS thread each)
  (a') hpsearch bayes + asha, rank-checked: the same with
                                 `min_rank_correlation: R` (--rank-check R,
                                 default 0.5): a rung whose values do not rank
                                 the completed trials' ends stops no trial
  (b) hpsearch bayes            the same spec without `pruning:`
  (c) Optuna TPE + Hyperband    two processes on one SQLite file, one torch
                                 thread each, driving an equivalent PyTorch loop

    /usr/bin/python3 tests/bench/pruning_real_bench.py [BUILD_DIR] [--quick] [--write]
        [--seeds N] [--first-seed N] [--target ACC] [--cap S] [--trials N]
        [--raw FILE] [--merge FILE ...] [--keep] [--sides a,b,...] [--rank-check R]

Same space, same epochs budget (max_resource = epochs), same reduction
factor, same data (the Fashion-MNIST files of Debian's dataset-fashion-mnist,
10% of the training set held out for validation, inputs standardized on the
training split). A study stops once a trial that reached the target has
ended (or at its trial or time cap); the driver then stops it (SIGINT to
`hpsearch run`, SIGKILL to the Optuna processes).

Time to target: from the start of the study (hpsearch: studies.created,
before its workers start; Optuna: the first trial's datetime_start, after
the processes have imported torch and loaded the data) to the first
validation report at or above the target (hpsearch: metrics.time of the
val_error row; Optuna: the time its loop recorded with that epoch's report).
Final test accuracy: the test accuracy of the best completed trial (by its
last validation accuracy) when the study stopped.

--quick: one seed, 4 epochs, a lower target (a few minutes). --target ACC
changes the target (a fraction), --seeds N the number of seeds, --cap S the
time after which a study that has not reached it is stopped, --trials N each
study's max_trials (large enough that the time cap, not the trial count,
ends a study that misses the target). --sides runs only some of asha,
asha_worst, asha_rank, asha_rank_worst, noprune, optuna (the table compares
each pair on the seeds both have; *_worst sets pruning.pruned_value: worst). --merge adds an earlier run's --raw rows (same settings, a seed and
side at most once). --write replaces
the pruning-real-bench section of docs/benchmarks.md (and nothing else).
"""
import gzip
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from benchdoc import write_section

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = "/usr/share/datasets/fashion-mnist"
BEGIN = "<!-- pruning-real-bench:begin -->"
END = "<!-- pruning-real-bench:end -->"

# the search space, shared by both sides
SPACE = """  lr:           {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
  hidden:       {type: int, low: 64, high: 512, step: 32}
  dropout:      {type: float, low: 0.0, high: 0.5}
  weight_decay: {type: float, low: 1.0e-6, high: 1.0e-2, log: true}
  batch_size:   {type: categorical, values: [64, 128, 256]}
"""

SPEC = """name: {name}
objective: {{metric: val_error, goal: minimize}}
search: {{algorithm: bayes, max_trials: {trials}, parallelism: 2, seed: {seed}}}
space:
{space}trial:
  model: mlp
  dataset: {{name: fashion-mnist, validation_fraction: 0.1}}
  epochs: {epochs}
  fixed: {{activation: relu, optimizer: adam}}
  timeout: 1800
{pruning}"""

PRUNING = ("pruning: {{rule: asha, metric: val_error, min_resource: 1, max_resource: {epochs}, "
           "reduction_factor: {eta}{extra}}}\n")

# asha sides: bayes models a pruned trial at its projection to the end
# (pruning.pruned_value projected, the default) or, *_worst, no better than
# the worst completed trial (pruned_value: worst, the default before)
SIDES = [("asha", "hpsearch bayes + asha"),
         ("asha_worst", "hpsearch bayes + asha, pruned_value: worst"),
         ("asha_rank", "hpsearch bayes + asha, rank-checked"),
         ("asha_rank_worst", "hpsearch bayes + asha, rank-checked, pruned_value: worst"),
         ("noprune", "hpsearch bayes, no pruning"),
         ("optuna", "Optuna TPE + HyperbandPruner, PyTorch")]

problems = []


def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg, file=sys.stderr, flush=True)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- hpsearch

def hp_poll(db, target_err):
    """(study created, first time a val_error <= target, did a trial that
    reached it end, finished) from the study's database, read-only."""
    if not os.path.exists(db):
        return None
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            st = con.execute("SELECT created, state FROM studies").fetchone()
            if not st:
                return None
            hit = con.execute(
                "SELECT min(m.time) FROM metrics m WHERE m.name = 'val_error' AND m.step >= 1 "
                "AND m.value <= ?", (target_err,)).fetchone()[0]
            ended = con.execute(
                "SELECT count(*) FROM trials t WHERE t.state IN ('completed', 'pruned') AND "
                "EXISTS (SELECT 1 FROM metrics m WHERE m.trial_id = t.id AND m.name = "
                "'val_error' AND m.step >= 1 AND m.value <= ?)", (target_err,)).fetchone()[0]
            return st[0], hit, ended > 0, st[1] != "running"
        finally:
            con.close()
    except sqlite3.Error:
        return None


def hp_summary(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        counts = dict(con.execute("SELECT state, count(*) FROM trials GROUP BY state"))
        # epochs trained, counted from the stored val_error reports (epoch >= 1)
        epochs = con.execute("SELECT count(*) FROM metrics WHERE name = 'val_error' AND "
                             "step >= 1").fetchone()[0]
        best = con.execute(
            "SELECT t.number, t.value, t.params, (SELECT m.value FROM metrics m WHERE "
            "m.trial_id = t.id AND m.name = 'test_error' AND m.step = -1 AND m.attempt = "
            "t.attempts) FROM trials t WHERE t.state = 'completed' ORDER BY t.value, t.number "
            "LIMIT 1").fetchone()
        pruned_at = dict(con.execute("SELECT pruned_step, count(*) FROM trials WHERE state = "
                                     "'pruned' GROUP BY pruned_step"))
    finally:
        con.close()
    out = {"counts": counts, "epochs": epochs, "pruned_at": pruned_at}
    if best and best[3] is not None:
        out.update(best_number=best[0], best_val_acc=1 - best[1], test_acc=1 - best[3],
                   best_params=json.loads(best[2]))
    return out


def hp_study(build, tmp, label, seed, cfg, pruning, extra=""):
    name = "%s-%d" % (label, seed)
    spec = os.path.join(tmp, name + ".yaml")
    db = os.path.join(tmp, name + ".db")
    text = SPEC.format(name=name, trials=cfg["trials"], seed=seed, space=SPACE,
                       epochs=cfg["epochs"],
                       pruning=PRUNING.format(epochs=cfg["epochs"], eta=cfg["eta"], extra=extra)
                       if pruning else "")
    with open(spec, "w") as f:
        f.write(text)
    target_err = 1 - cfg["target"]
    logf = open(os.path.join(tmp, name + ".log"), "w")
    t0 = time.time()
    p = subprocess.Popen([os.path.join(build, "bin", "hpsearch"), "run", spec, "--workers", "2",
                          "--db", db], stdout=logf, stderr=subprocess.STDOUT, cwd=tmp)
    state = None
    capped = False
    while p.poll() is None:
        time.sleep(0.5)
        state = hp_poll(db, target_err) or state
        if state and state[2]:
            break
        if time.time() - t0 > cfg["cap"]:
            capped = True
            break
    if p.poll() is None:
        p.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop, every result kept
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            problem("%s: hpsearch run did not stop within 120 s of SIGINT" % name)
            p.kill()
            p.wait()
    wall = time.time() - t0
    logf.close()
    state = hp_poll(db, target_err) or state
    res = {"side": label, "seed": seed, "wall": wall, "capped": capped}
    if not state:
        problem("%s: no study in %s" % (name, db))
        return res
    created, hit, _, _ = state
    res["ttt"] = hit - created if hit is not None else None
    res.update(hp_summary(db))
    if "test_acc" not in res:
        problem("%s: no completed trial with a test_error (trials %s)" % (name, res["counts"]))
    log("%s: %s" % (name, json.dumps(res, sort_keys=True)))
    return res


# ---------------------------------------------------------------- Optuna + PyTorch

def idx(path, n_hdr):
    import numpy as np
    with gzip.open(path, "rb") as f:
        b = f.read()
    return np.frombuffer(b, dtype=np.uint8, offset=n_hdr)


def optuna_worker(argv):
    """One Optuna process: TPE + HyperbandPruner on the shared SQLite study,
    one torch thread, the data loaded once. argv: db seed worker epochs eta
    target trials."""
    import numpy as np
    import optuna
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    db, seed, worker, epochs, eta, target, n_trials = argv
    seed, worker, epochs, eta, n_trials = int(seed), int(worker), int(epochs), int(eta), \
        int(n_trials)
    target = float(target)
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    xtr = idx(DATA + "/train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    ytr = idx(DATA + "/train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    xte = idx(DATA + "/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    yte = idx(DATA + "/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(xtr))  # the study's split
    nval = len(xtr) // 10
    val, tr = perm[:nval], perm[nval:]
    mu = xtr[tr].mean(dtype=np.float64)
    sd = xtr[tr].std(dtype=np.float64)

    def tens(x):
        return (torch.from_numpy(x.copy()).float() - mu) / sd

    Xtr, Ytr = tens(xtr[tr]), torch.from_numpy(ytr[tr].copy())
    Xva, Yva = tens(xtr[val]), torch.from_numpy(ytr[val].copy())
    Xte, Yte = tens(xte), torch.from_numpy(yte.copy())

    def evaluate(net, X, Y):
        net.eval()
        corr = 0
        with torch.no_grad():
            for i in range(0, len(X), 1000):
                corr += (net(X[i:i + 1000]).argmax(1) == Y[i:i + 1000]).sum().item()
        return 1 - corr / len(X)

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        hidden = trial.suggest_int("hidden", 64, 512, step=32)
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        wd = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        batch = trial.suggest_categorical("batch_size", [64, 128, 256])
        torch.manual_seed(seed * 100003 + trial.number)
        rng = np.random.default_rng(seed * 100003 + trial.number)
        # hpworker's MLP: dense -> relu -> dropout -> dense, He normal
        # (Glorot for the output), zero biases; Adam with L2 in the gradient
        net = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(dropout),
                            nn.Linear(hidden, 10))
        nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
        nn.init.xavier_normal_(net[3].weight)
        nn.init.zeros_(net[0].bias)
        nn.init.zeros_(net[3].bias)
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
        n = len(Xtr)
        verr = 1.0
        for ep in range(1, epochs + 1):
            net.train()
            order = torch.from_numpy(rng.permutation(n))
            for i in range(0, n, batch):
                bi = order[i:i + batch]
                loss = F.cross_entropy(net(Xtr[bi]), Ytr[bi])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            verr = evaluate(net, Xva, Yva)
            if not math.isfinite(verr):
                raise optuna.TrialPruned()
            if 1 - verr >= target and "target_at" not in trial.user_attrs:
                trial.set_user_attr("target_at", time.time())
            trial.report(verr, ep)
            if ep < epochs and trial.should_prune():
                raise optuna.TrialPruned()
        trial.set_user_attr("test_acc", 1 - evaluate(net, Xte, Yte))
        return verr

    storage = optuna.storages.RDBStorage("sqlite:///" + db,
                                         engine_kwargs={"connect_args": {"timeout": 120}})
    study = optuna.create_study(
        study_name="mlp", storage=storage, direction="minimize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed * 10 + worker),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs,
                                              reduction_factor=eta))
    study.optimize(objective, callbacks=[optuna.study.MaxTrialsCallback(
        n_trials, states=None)])


def optuna_poll(db, target):
    if not os.path.exists(db):
        return None
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            first = con.execute("SELECT min(datetime_start) FROM trials").fetchone()[0]
            if first is None:
                return None
            hits = con.execute(
                "SELECT t.state, a.value_json FROM trial_user_attributes a JOIN trials t "
                "USING (trial_id) WHERE a.key = 'target_at'").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    # Optuna stores datetimes as local naive text
    import datetime
    t_first = datetime.datetime.fromisoformat(first).timestamp()
    hit = min((json.loads(v) for _, v in hits), default=None)
    ended = any(s in ("COMPLETE", "PRUNED") for s, _ in hits)
    return t_first, hit, ended


def optuna_summary(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        counts = dict(con.execute("SELECT state, count(*) FROM trials GROUP BY state"))
        epochs = con.execute("SELECT count(*) FROM trial_intermediate_values").fetchone()[0]
        best = con.execute(
            "SELECT t.number, v.value, (SELECT a.value_json FROM trial_user_attributes a "
            "WHERE a.trial_id = t.trial_id AND a.key = 'test_acc') FROM trials t JOIN "
            "trial_values v USING (trial_id) WHERE t.state = 'COMPLETE' ORDER BY v.value, "
            "t.number LIMIT 1").fetchone()
        params = {}
        if best:
            for k, v, dist in con.execute(
                    "SELECT p.param_name, p.param_value, p.distribution_json FROM trial_params "
                    "p JOIN trials t USING (trial_id) WHERE t.number = ?", (best[0],)):
                d = json.loads(dist)
                # a categorical is stored as the index of its choice
                choices = d.get("attributes", {}).get("choices")
                params[k] = choices[int(v)] if choices else v
    finally:
        con.close()
    counts = {k.lower().replace("complete", "completed"): v for k, v in counts.items()}
    out = {"counts": counts, "epochs": epochs}
    if best and best[2] is not None:
        out.update(best_number=best[0], best_val_acc=1 - best[1], test_acc=json.loads(best[2]),
                   best_params=params)
    return out


def optuna_study(tmp, seed, cfg):
    name = "optuna-%d" % seed
    db = os.path.join(tmp, name + ".db")
    args = [db, str(seed), "W", str(cfg["epochs"]), str(cfg["eta"]), str(cfg["target"]),
            str(cfg["trials"])]
    # the study exists before either process starts (no race on creating it)
    subprocess.run([sys.executable, "-c", "import optuna; optuna.create_study(study_name='mlp', "
                    "storage='sqlite:///%s', direction='minimize')" % db], check=True)
    t0 = time.time()
    procs = []
    for w in range(2):
        a = list(args)
        a[2] = str(w)
        logf = open(os.path.join(tmp, "%s-%d.log" % (name, w)), "w")
        procs.append((subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                        "--optuna-worker"] + a, stdout=logf,
                                       stderr=subprocess.STDOUT), logf))
    state = None
    capped = False
    while any(p.poll() is None for p, _ in procs):
        time.sleep(0.5)
        state = optuna_poll(db, cfg["target"]) or state
        if state and state[2]:
            break
        if time.time() - t0 > cfg["cap"]:
            capped = True
            break
    for p, logf in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        logf.close()
        if p.returncode not in (0, -signal.SIGKILL):
            problem("%s: an Optuna process exited %s; see its log" % (name, p.returncode))
    wall = time.time() - t0
    state = optuna_poll(db, cfg["target"]) or state
    res = {"side": "optuna", "seed": seed, "wall": wall, "capped": capped}
    if not state:
        problem("%s: no trial in %s" % (name, db))
        return res
    res["ttt"] = state[1] - state[0] if state[1] is not None else None
    res.update(optuna_summary(db))
    if "test_acc" not in res:
        problem("%s: no completed trial with a test accuracy (trials %s)" % (name, res["counts"]))
    log("%s: %s" % (name, json.dumps(res, sort_keys=True)))
    return res


# ---------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "—" if x is None else "%.0f s" % x


def load_merged(paths, settings_of, seeds, sides, raw_path):
    """the studies of earlier runs' --raw files, refused when they would
    not be the same experiment: other settings, a seed and side twice, or
    a seed and side this run measures again"""
    rows = []
    for path in paths:
        if raw_path and os.path.abspath(path) == os.path.abspath(raw_path):
            sys.exit("pruning_real_bench: --raw %s would overwrite the file it merges" % path)
        unchecked = 0
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                r = json.loads(line)
                old = r.get("settings")
                settings = settings_of(r["side"])
                if old is None:
                    unchecked += 1
                elif old != settings:
                    sys.exit("pruning_real_bench: %s:%d was measured with %s, this run uses %s"
                             % (path, n, json.dumps(old, sort_keys=True),
                                json.dumps(settings, sort_keys=True)))
                rows.append(r)
        if unchecked:
            log("%s: %d studies without their settings (a file from before they were "
                "recorded), taken as this run's" % (path, unchecked))
    seen = {}
    for r in rows:
        key = (r["seed"], r["side"])
        if key in seen:
            sys.exit("pruning_real_bench: seed %d, side %s is in the merged files twice" % key)
        seen[key] = r
    clash = sorted(k for k in seen if k[0] in seeds and k[1] in sides)
    if clash:
        sys.exit("pruning_real_bench: %s are both run and merged"
                 % ", ".join("seed %d %s" % k for k in clash))
    return rows


def command_line():
    """the options this run was given, without where its files went"""
    out, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if a == "--raw":
            skip = True
            continue
        if a in ("--write", "--keep") or a.startswith("--raw="):
            continue
        out.append(a)
    return "".join(" " + a for a in out)


def span(xs):
    """seeds as "3..7" when three or more are consecutive, else listed"""
    xs = sorted(xs)
    return "%d..%d" % (xs[0], xs[-1]) if len(xs) > 2 and xs == list(range(xs[0], xs[-1] + 1)) \
        else ", ".join(str(x) for x in xs)


def seed_text(seeds, merged):
    out = span(seeds)
    if merged:
        out += " (seeds %s from an earlier run of the same settings, `--merge`)" % span(merged)
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--optuna-worker":
        optuna_worker(sys.argv[2:])
        return
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the studies' databases and logs")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--target", type=float, help="validation accuracy, a fraction")
    ap.add_argument("--cap", type=int, help="seconds before a study that missed the target stops")
    ap.add_argument("--trials", type=int, help="each study's max_trials")
    ap.add_argument("--raw", help="write one JSON line per study here, as each ends")
    ap.add_argument("--first-seed", type=int, default=0, help="run seeds N, N+1, ...")
    ap.add_argument("--merge", action="append", default=[],
                    help="add the studies of an earlier run's --raw file (same settings, other "
                         "seeds or sides) to the table")
    ap.add_argument("--sides", default=",".join(s for s, _ in SIDES),
                    help="which sides to run, of %s" % ", ".join(s for s, _ in SIDES))
    ap.add_argument("--rank-check", type=float, default=0.5,
                    help="asha_rank's pruning.min_rank_correlation")
    opt = ap.parse_args()
    build = os.path.abspath(opt.build)
    quick = opt.quick
    raw_path = opt.raw
    nseeds = opt.seeds if opt.seeds is not None else (1 if quick else 3)
    # epochs = max_resource; rungs at 1, 3 (eta 3) for 9 epochs
    # the target, 89% validation accuracy in 9 epochs: every study
    # of the first full runs reached it within 2 minutes (--target to change)
    cfg = ({"epochs": 4, "eta": 2, "target": 0.875, "trials": 40, "cap": 180} if quick else
           {"epochs": 9, "eta": 3, "target": 0.89, "trials": 60, "cap": 300})
    for k in ("target", "cap", "trials"):
        if getattr(opt, k) is not None:
            cfg[k] = getattr(opt, k)
    if not 0 < cfg["target"] < 1:
        sys.exit("pruning_real_bench: --target %g is not a fraction in (0, 1)" % cfg["target"])
    import optuna
    import torch
    for b in ("hpsearch", "hpsearchd", "hpworker"):
        if not os.access(os.path.join(build, "bin", b), os.X_OK):
            sys.exit("pruning_real_bench: %s/bin/%s not found; build first" % (build, b))
    tmp = tempfile.mkdtemp(prefix="hp-prune-real-")
    seeds = list(range(opt.first_seed, opt.first_seed + nseeds))
    settings = {k: cfg[k] for k in ("epochs", "eta", "target", "cap")}
    run_sides = [x for x in opt.sides.split(",") if x]
    bad = [x for x in run_sides if x not in dict(SIDES)]
    if bad or not run_sides:
        sys.exit("pruning_real_bench: --sides %s: each must be one of %s"
                 % (opt.sides, ", ".join(s for s, _ in SIDES)))
    if not 0 < opt.rank_check <= 1:
        sys.exit("pruning_real_bench: --rank-check %g is not in (0, 1]" % opt.rank_check)

    def settings_of(side):
        out = dict(settings)
        if side.startswith("asha_rank"):
            out["min_rank_correlation"] = opt.rank_check
        if side.startswith("asha"):
            out["pruned_value"] = "worst" if side.endswith("_worst") else "projected"
        return out
    merged = load_merged(opt.merge, settings_of, seeds, run_sides, raw_path)
    if not seeds and not merged:
        sys.exit("pruning_real_bench: --seeds 0 and nothing to --merge: no table to make")
    rows = []
    raw = open(raw_path, "w") if raw_path else None
    load0 = os.getloadavg()[0]
    t_start = time.time()
    try:
        for seed in seeds:
            # the three sides alternate, seed by seed, so load from other
            # work on the machine falls on all of them
            rank = ", min_rank_correlation: %g" % opt.rank_check
            worst = ", pruned_value: worst"
            runs = {"asha": lambda: hp_study(build, tmp, "asha", seed, cfg, True),
                    "asha_worst": lambda: hp_study(build, tmp, "asha_worst", seed, cfg, True,
                                                   worst),
                    "asha_rank": lambda: hp_study(build, tmp, "asha_rank", seed, cfg, True, rank),
                    "asha_rank_worst": lambda: hp_study(build, tmp, "asha_rank_worst", seed,
                                                        cfg, True, rank + worst),
                    "noprune": lambda: hp_study(build, tmp, "noprune", seed, cfg, False),
                    "optuna": lambda: optuna_study(tmp, seed, cfg)}
            for side in run_sides:
                rows.append(runs[side]())
                rows[-1]["settings"] = settings_of(side)
                if raw:  # as each study ends: a run stopped early keeps what it measured
                    raw.write(json.dumps(rows[-1], sort_keys=True) + "\n")
                    raw.flush()
    finally:
        if raw:
            raw.close()
        if not opt.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log("kept %s" % tmp)
    total = time.time() - t_start
    merged_seeds = sorted({r["seed"] for r in merged})
    rows = sorted(merged + rows, key=lambda r: r["seed"])
    all_seeds = sorted({r["seed"] for r in rows})

    present = {r["side"] for r in rows}
    sides = [(s, label) for s, label in SIDES if s in present]
    by = {s: [r for r in rows if r["side"] == s] for s, _ in sides}

    def ttt_of(r):
        # a study that never reached the target counts at its wall time (a
        # lower bound), marked ">"
        return r.get("ttt") if r.get("ttt") is not None else r["wall"]

    table = ["| side | seeds | time to %.1f%% val. (median) | per seed | epochs trained (median) | "
             "trials: completed / pruned | final test acc. (median) | per seed |"
             % (100 * cfg["target"]),
             "|---|---|---:|---|---:|---|---:|---|"]
    for s, label in sides:
        rs = by[s]
        t = med([ttt_of(r) for r in rs])
        acc = med([r.get("test_acc") for r in rs])
        per = ", ".join(("%s%.0f" % (">" if r.get("ttt") is None else "", ttt_of(r))) for r in rs)
        per_acc = ", ".join("%.2f" % (100 * r["test_acc"]) if "test_acc" in r else "—" for r in rs)
        comp = med([r.get("counts", {}).get("completed", 0) for r in rs])
        prn = med([r.get("counts", {}).get("pruned", 0) for r in rs])
        table.append("| %s | %s | **%s** | %s s | %s | %s / %s | %s | %s |" % (
            label, span([r["seed"] for r in rs]), fmt_s(t), per,
            med([r.get("epochs") for r in rs]), comp, prn,
            "%.2f%%" % (100 * acc) if acc is not None else "—", per_acc))

    def ok(b):
        return "met" if b else "**not met**"

    def paired(a, b):
        """medians of time to target and test accuracy of sides a and b on
        the seeds both have, whether b ever missed, and those seeds"""
        sa = {r["seed"]: r for r in by.get(a, [])}
        sb = {r["seed"]: r for r in by.get(b, [])}
        common = sorted(set(sa) & set(sb))
        if not common:
            return None
        return (med([ttt_of(sa[x]) for x in common]), med([ttt_of(sb[x]) for x in common]),
                med([sa[x].get("test_acc") for x in common]),
                med([sb[x].get("test_acc") for x in common]),
                any(sa[x].get("ttt") is None for x in common),
                any(sb[x].get("ttt") is None for x in common), common)
    tgt = []
    for s, label in sides:
        if not s.startswith("asha"):
            continue
        lines = []
        accs = []
        for other, need, what in (("optuna", 4, "Optuna + PyTorch"),
                                  ("noprune", 2, "hpsearch without pruning")):
            pr = paired(s, other)
            if not pr:
                continue
            ta, to, aa, ao, ma, mo, common = pr
            if ta and to:
                r = to / ta
                bound = (" (both missed the target in some seeds, counted at the cap: "
                         "neither bound)" if ma and mo else
                         " (%s missed the target in some seeds: a lower bound)" % what if mo else
                         " (this side missed the target in some seeds: an upper bound)" if ma
                         else "")
                lines.append("  - at least %d× faster than %s: %.2f× on seeds %s%s: %s"
                             % (need, what, r, span(common), bound, ok(r >= need)))
            if aa is not None and ao is not None:
                accs.append((what, 100 * (aa - ao)))
        if accs:
            lines.append("  - final test accuracy within 0.3 points: %s: %s" % (
                ", ".join("%+.2f vs %s" % (d, w) for w, d in accs),
                ok(all(abs(d) <= 0.3 for _, d in accs))))
        misses = [r["seed"] for r in by[s] if r.get("ttt") is None]
        if misses:
            lines.append("  - did not reach the target in seeds %s" % span(misses))
        if lines:
            tgt += ["- %s:" % label] + lines

    day = time.strftime("%Y-%m-%d")
    text = [BEGIN, "## Early stopping on the real task (issue 13)", "",
            "`/usr/bin/python3 tests/bench/pruning_real_bench.py%s`, measured %s on the shared "
            "2-core machine, %s. Tune the MLP on Fashion-MNIST "
            "(full training set, 10%% held out for validation) with 2 workers of one core each: "
            "lr log [1e-4, 1e-2], hidden [64, 512] step 32, dropout [0, 0.5], weight_decay log "
            "[1e-6, 1e-2], batch_size {64, 128, 256}; relu, Adam; %d epochs per trial; seeds "
            "%s. hpsearch: `hpsearch run --workers 2`, `search: {algorithm: bayes, "
            "parallelism: 2}`, with `pruning: {rule: asha, metric: val_error, min_resource: 1, "
            "max_resource: %d, reduction_factor: %d}`, the same with `min_rank_correlation: %g` "
            "(rank-checked), each also with `pruned_value: worst` (bayes models a pruned trial "
            "no better than the worst completed one, instead of at its projection to the end), "
            "or without pruning. Optuna %s: TPESampler + "
            "HyperbandPruner(1, %d, %d), two processes on one SQLite file, each training the "
            "same MLP (same init, L2 in Adam's gradient, dropout after the hidden layer) with "
            "PyTorch %s on one thread, its data loaded once per process."
            % (command_line(), day,
               ("load average %.1f at the start (%.0f min%s)"
                % (load0, total / 60, " for the seeds run here" if merged else " in all"))
               if seeds else "the table made again from the merged files (`--seeds 0`)",
               cfg["epochs"], seed_text(all_seeds, merged_seeds),
               cfg["epochs"], cfg["eta"], opt.rank_check, optuna.__version__, cfg["epochs"],
               cfg["eta"],
               torch.__version__), "",
            "Time to target: from the start of the study (hpsearch: `studies.created`, before "
            "its workers start; Optuna: its first trial's `datetime_start`, after the processes "
            "imported torch and loaded the data — in Optuna's favour) to the first validation "
            "report at or above %.1f%% (hpsearch: `metrics.time`; Optuna: the time its loop "
            "recorded at that report). A study stops once a trial that reached the target has "
            "ended, or after %s; a side that never reached it counts at that time, marked "
            ">. Final test accuracy: the best completed trial's (by validation) when it stopped."
            % (100 * cfg["target"], "%d min" % (cfg["cap"] // 60) if cfg["cap"] % 60 == 0 else
               "%d s" % cfg["cap"]), ""] + table + [""] + tgt
    if problems:
        text += ["", "Problems seen during the run:", ""] + ["- " + p for p in problems]
    text += ["", END]
    block = "\n".join(text)
    print(block)
    if opt.write:
        write_section(block, BEGIN, END)


if __name__ == "__main__":
    main()
