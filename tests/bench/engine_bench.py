#!/usr/bin/python3
"""Training-engine benchmark: hpworker's engine vs PyTorch on one core.

    /usr/bin/python3 tests/bench/engine_bench.py [BUILD_DIR] [--quick] [--write]
                                                 [--models=mlp,lenet,lstm] [--seeds=1,2,3]
                                                 [--precision=bf16]

Issue 3's protocol, with issue 19's targets: same architectures,
Fashion-MNIST, batch 128, Adam 3e-4, one thread each, both measured in the
same run on the same data, the sides alternating run by run.
- samples/s: median over all training epochs (full epochs, 54000 samples)
  of all seeds (throughput of forward + backward + update, evaluation
  excluded), for MLP 784-256-10, LeNet and LSTM (128 hidden, 28 steps);
  also per CPU second of each process, which a shared machine's load
  does not skew, and the load average at the start and the end;
- the OpenBLAS core (openblas_get_corename) of the sgemm-peak probe and of
  every hpworker run (they must agree); OPENBLAS_CORETYPE is never set
  here, and noted if the caller set it;
- MLP GEMM GFLOP/s against this machine's single-core sgemm peak;
- test accuracy after 5 epochs, median of 3 seeds, every model;
- peak RSS of a full Fashion-MNIST MLP run (each run is its own process;
  ru_maxrss from wait4).
--precision=bf16: hpworker with `precision: bf16` against PyTorch fp32 and
PyTorch with bf16 autocast (three sides, its own section after the fp32 one).
--quick: one epoch, one seed. --models: a subset; --seeds: other seeds
(an LSTM-only run of one seed takes about 3 minutes on an idle core, so a
loaded machine may want the seeds as separate runs). With --write the results replace the
engine section of docs/benchmarks.md (all models) or the subset's own
block after it.

    /usr/bin/python3 tests/bench/engine_bench.py [BUILD_DIR] --arch [--quick] [--write]
                                                 [--precision=bf16]

measures only the later architectures (issue 18: resnet, tcn, attention)
the same way, one epoch on a training subset per run, ours and PyTorch
alternating, and writes its own sub-table (engine-arch-bench markers).
Needs /usr/bin/python3 with torch (python3-torch), not a pyenv python.
"""
import os
import statistics
import subprocess
import sys
import time
from benchdoc import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BEGIN = "<!-- engine-bench:begin -->"
END = "<!-- engine-bench:end -->"


def run_rss(argv, env=None):
    """like run, but measures the child's peak RSS with wait4"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execvpe(argv[0], argv, env or os.environ)
    os.close(w)
    chunks = []
    with os.fdopen(r) as f:
        for line in f:
            chunks.append(line)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s failed" % " ".join(argv))
    return [c.rstrip("\n") for c in chunks], ru.ru_maxrss / 1024.0


def metrics(lines):
    epochs, final = [], {}
    for ln in lines:
        kv = dict(x.split("=", 1) for x in ln.split() if "=" in x)
        if "epoch" in kv:
            epochs.append(kv)
        elif "test_accuracy" in kv:
            final = kv
    return epochs, final


def ours(build, model, epochs, seed, extra=()):
    argv = [os.path.join(build, "bin", "hpworker"), "train", "--model", model, "--epochs",
            str(epochs), "--seed", str(seed), "--threads", "1"] + list(extra)
    lines, rss = run_rss(argv)
    return metrics(lines) + (rss,)


def torch(model, epochs, seed, extra=()):
    argv = ["/usr/bin/python3", os.path.join(HERE, "engine_torch.py"), "--model", model,
            "--epochs", str(epochs), "--seed", str(seed)] + list(extra)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    lines, rss = run_rss(argv, env)
    return metrics(lines) + (rss,)


def sgemm_peak(build):
    # the kernel hp_nn_gemm runs here (OpenBLAS's or the engine's own),
    # built into the build directory like engine_step_bench; a copied
    # bin/ directory (no CMakeCache) must already hold it
    exe = os.path.join(build, "bin", "engine_sgemm_peak")
    if os.path.exists(os.path.join(build, "CMakeCache.txt")):
        subprocess.check_call(["cmake", "--build", build, "-j1", "--target", "engine_sgemm_peak"],
                              stdout=subprocess.DEVNULL)
    out = subprocess.check_output([exe], text=True)
    kv = dict(x.split("=", 1) for x in out.split())
    MLP_BOUND[0] = max(MLP_BOUND[0], float(kv.get("mlp_gemm_gflops", 0)))
    GEMM[0] = kv.get("gemm", "openblas")
    return float(kv["sgemm_gflops"]), kv["core"]


ARCH_BEGIN = "<!-- engine-arch-bench:begin -->"
ARCH_END = "<!-- engine-arch-bench:end -->"
# training samples per epoch: the ResNet is ~10x a LeNet step
ARCH = (("resnet", 3000, "ResNet 16-32-64, 2 blocks/stage"),
        ("tcn", 10000, "TCN 64 ch, 4 blocks, kernel 3"),
        ("attention", 10000, "attention 64 wide, 4 heads, 2 layers"))


ARCH_BF16_BEGIN = "<!-- engine-arch-bench-bf16:begin -->"
ARCH_BF16_END = "<!-- engine-arch-bench-bf16:end -->"


def arch_main(build, quick, bf16=False):
    """ours vs torch for the later architectures, alternating run by run;
    bf16: ours with precision=bf16 against torch fp32 and bf16 autocast"""
    seeds = [1] if quick else [1, 2, 3]
    sides = ("ours", "torch", "torch_bf16") if bf16 else ("ours", "torch")
    rows = []
    for model, n, label in ARCH:
        sps = {side: [] for side in sides}
        loads, ratios, ratios_b = [], [], []
        for s in seeds:
            pair = {}
            for side in sides:
                loads.append(os.getloadavg()[0])
                if side == "ours":
                    e, _, _ = ours(build, model, 1, s, ["--set", "train_size=%d" % n] +
                                   (["--set", "precision=bf16"] if bf16 else []))
                else:
                    e, _, _ = torch(model, 1, s, ["--train-size", str(n)] +
                                    (["--bf16"] if side == "torch_bf16" else []))
                v = statistics.median(float(x["samples_per_sec"]) for x in e)
                sps[side].append(v)
                pair[side] = v
            ratios.append(pair["ours"] / pair["torch"])
            if bf16:
                ratios_b.append(pair["ours"] / pair["torch_bf16"])
            print("  %-9s seed %d: %s (%.2fx), load %.1f"
                  % (model, s, ", ".join("%s %.0f" % (k, v) for k, v in pair.items()),
                     ratios[-1], loads[-1]), flush=True)
        med = statistics.median(ratios)
        if bf16:
            medb = statistics.median(ratios_b)
            rows.append("| %s | %d | %.0f | %.0f | %.0f | **%.2f×** (%.2f–%.2f) | **%.2f×** "
                        "(%.2f–%.2f) | %.1f–%.1f | %s |" % (
                            label, n, statistics.median(sps["ours"]),
                            statistics.median(sps["torch"]), statistics.median(sps["torch_bf16"]),
                            med, min(ratios), max(ratios), medb, min(ratios_b), max(ratios_b),
                            min(loads), max(loads), "yes" if min(med, medb) >= 1.5 else "no"))
        else:
            rows.append("| %s | %d | %.0f | %.0f | **%.2f×** (%.2f–%.2f) | %.1f–%.1f | %s |" % (
                label, n, statistics.median(sps["ours"]), statistics.median(sps["torch"]),
                med, min(ratios), max(ratios), min(loads), max(loads),
                "yes" if med >= 1.5 else "no"))
    import torch as _t
    intro = (
        "Measured %s by `tests/bench/engine_bench.py --arch%s%s`: one thread each, one epoch "
        "of the first N training samples of Fashion-MNIST (rows as the sequence for tcn "
        "and attention), batch 128, Adam 3e-4, PyTorch %s with the same layers "
        "(tests/bench/engine_torch.py). The sides alternate run by run, seeds %s; a "
        "ratio is the median of the per-seed ratios (range in brackets), with the 1-minute "
        "load average seen at the runs on this shared 2-core machine."
        % (time.strftime("%Y-%m-%d"), " --quick" if quick else "",
           " --precision=bf16" if bf16 else "", _t.__version__, ", ".join(map(str, seeds))))
    if bf16:
        text = "\n".join([
            ARCH_BF16_BEGIN,
            "### The later architectures with `precision: bf16`",
            "",
            intro + " hpworker with `precision: bf16`; PyTorch as it trains by default (fp32) "
            "and with bf16 autocast.",
            "",
            "| model | N | hpworker bf16 samples/s | PyTorch fp32 | PyTorch bf16 autocast | "
            "vs fp32 | vs bf16 | load | ≥ 1.5× (both) |",
            "|---|---|---|---|---|---|---|---|---|",
        ] + rows + [ARCH_BF16_END])
        begin, end, after = ARCH_BF16_BEGIN, ARCH_BF16_END, ARCH_END
    else:
        text = "\n".join([
            ARCH_BEGIN,
            "### The later architectures (issue 18) vs PyTorch",
            "",
            intro,
            "",
            "| model | N | hpworker samples/s | PyTorch samples/s | ratio | load | ≥ 1.5× |",
            "|---|---|---|---|---|---|---|",
        ] + rows + [ARCH_END])
        begin, end, after = ARCH_BEGIN, ARCH_END, END
    print(text)
    if "--write" in sys.argv:
        write_section(text, begin, end, after=after)


# the best of the probe's timings of the MLP step's five GEMMs alone
MLP_BOUND = [0.0]
RAN = set()  # the precision hpworker's runs report they multiplied in
GEMM = ["openblas"]  # the fp32 kernel hp_nn_gemm runs (engine_sgemm_peak says)


NAMES = {"mlp": "MLP 784-256-10", "lenet": "LeNet-5 (6-16-120-84)", "lstm": "LSTM 128, 28 steps"}
# issue 19: >= 2x PyTorch on every model (the floor 1.5x)
TARGETS = {"mlp": 2.0, "lenet": 2.0, "lstm": 2.0}


def marker(models):
    """the doc block a run writes: the whole engine section for all models,
    its own block for a subset (so an LSTM-only run keeps the others)"""
    if list(models) == list(NAMES):
        return BEGIN, END
    tag = ",".join(models)
    return "<!-- engine-bench[%s]:begin -->" % tag, "<!-- engine-bench[%s]:end -->" % tag


KNOWN = ("--quick", "--write", "--arch")
BF16_BEGIN = "<!-- engine-bench-bf16:begin -->"
BF16_END = "<!-- engine-bench-bf16:end -->"


def bf16_report(res, models, seeds, ep, quick, core, forced, peak, load0, load1, torch_version):
    """--precision=bf16: its own section, after the fp32 one"""
    rows, acc_rows = [], []
    for m in models:
        o, t, tb = res[(m, "ours")], res[(m, "torch")], res[(m, "torch_bf16")]
        r32, rb = o["sps"] / t["sps"], o["sps"] / tb["sps"]
        rows.append("| %s | %.0f | %.0f | %.0f | **%.2f×** | **%.2f×** | %.2f× / %.2f× | "
                    "≥ %.2f× | %s |" % (
                        NAMES[m], o["sps"], t["sps"], tb["sps"], r32, rb, o["cps"] / t["cps"],
                        o["cps"] / tb["cps"], TARGETS[m],
                        "yes" if min(r32, rb) >= TARGETS[m] else "no"))
        a, b, c = o["acc"] * 100, t["acc"] * 100, tb["acc"] * 100
        acc_rows.append("| %s | %.2f | %.2f | %.2f | %+.2f | %s |" % (
            NAMES[m], a, b, c, a - b, "yes" if abs(a - b) <= 0.5 else "no"))
    text = [
        BF16_BEGIN,
        "### With `precision: bf16`",
        "",
        "Measured %s by `tests/bench/engine_bench.py --precision=bf16%s --models=%s`: hpworker "
        "with `precision: bf16` (products of bf16 inputs summed in fp32 by AVX512_BF16, "
        "weights and optimizer fp32; OpenBLAS core %s%s; the runs multiplied in %s%s) "
        "against PyTorch %s as it trains by "
        "default (fp32) and with bf16 autocast (`torch.autocast(\"cpu\", "
        "dtype=torch.bfloat16)` around the forward pass and the loss: the same kind of mixed "
        "precision), one thread each, the recipe above, %d full epoch%s, seeds %s, the three "
        "sides alternating run by run; load average %.1f at the start and %.1f at the end."
        % (time.strftime("%Y-%m-%d"), " --quick" if quick else "", ",".join(models), core,
           ", forced by %s" % forced if forced else "", " and ".join(sorted(RAN)) or "?",
           "" if RAN == {"bf16"} else
           " (this CPU's bf16 products are no faster than its fp32 ones, so the engine keeps "
           "fp32 and says so)", torch_version, ep,
           "" if ep == 1 else "s", ", ".join(map(str, seeds)), load0[0], load1[0]),
        "",
        "| model | hpworker bf16 | PyTorch fp32 | PyTorch bf16 autocast | vs fp32 | vs bf16 | "
        "CPU-time ratios | issue 19 target | met (both) |",
        "|---|---|---|---|---|---|---|---|---|",
    ] + rows
    if "mlp" in models and res[("mlp", "ours")]["gflops"]:
        gf = res[("mlp", "ours")]["gflops"]
        text += ["", "MLP achieved %.1f GFLOP/s (GEMM FLOPs over training time): %.0f%% of this "
                 "core's fp32 sgemm peak (%.1f GFLOP/s) and %.0f%% of twice it, the bf16 "
                 "instruction's rate." % (gf, 100 * gf / peak, peak, 50 * gf / peak)]
    text += [
        "",
        "Test accuracy after %d epoch%s (median of %d seed%s, %%; the issue's condition is "
        "against PyTorch as it trains by default):" % (
            ep, "" if ep == 1 else "s", len(seeds), "" if len(seeds) == 1 else "s"),
        "",
        "| model | hpworker bf16 | PyTorch fp32 | PyTorch bf16 autocast | difference to fp32 | "
        "within 0.5 points |",
        "|---|---|---|---|---|---|",
    ] + acc_rows
    text = "\n".join(text + [BF16_END])
    print(text)
    if "--write" in sys.argv:
        write_section(text, BF16_BEGIN, BF16_END, after=END)


def main():
    for a in sys.argv[1:]:
        if a in ("-h", "--help"):
            print(__doc__)
            return
        if a.startswith("-") and a not in KNOWN and not a.startswith(
                ("--models=", "--seeds=", "--precision=")):
            sys.exit("engine_bench.py: unknown option %s (try --help)" % a)
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--arch" in sys.argv:
        return arch_main(os.path.abspath(args[0] if args else os.path.join(ROOT, "build")),
                         "--quick" in sys.argv, "--precision=bf16" in sys.argv)
    quick = "--quick" in sys.argv
    models = list(NAMES)
    for a in sys.argv[1:]:
        if a.startswith("--models="):
            models = [m for m in a.split("=", 1)[1].split(",") if m]
            bad = [m for m in models if m not in NAMES]
            if bad:
                sys.exit("engine_bench.py: unknown model %s (choose from %s)"
                         % (", ".join(bad), ", ".join(NAMES)))
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    seeds = [1] if quick else [1, 2, 3]
    for a in sys.argv[1:]:
        if a.startswith("--seeds="):
            seeds = [int(x) for x in a.split("=", 1)[1].split(",") if x]
    ep = 1 if quick else 5
    precision = "fp32"
    for a in sys.argv[1:]:
        if a.startswith("--precision="):
            precision = a.split("=", 1)[1]
            if precision not in ("fp32", "bf16"):
                sys.exit("engine_bench.py: --precision=%s: want fp32 or bf16" % precision)
    bf16 = precision == "bf16"
    # bf16: ours with precision=bf16 against PyTorch as it is (fp32, the
    # issue's comparator) and with bf16 autocast (the like-for-like peer)
    sides = ("ours", "torch", "torch_bf16") if bf16 else ("ours", "torch")
    ours_extra = ["--set", "precision=bf16"] if bf16 else []
    res = {}
    load0 = os.getloadavg()
    forced = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    # the peak is measured at the start and again at the end and the best
    # kept: a busy neighbour during one short measurement must not make the
    # MLP look closer to peak than it is
    peak, core = sgemm_peak(build)
    print("sgemm peak (1 thread): %.1f GFLOP/s, %s kernel, OpenBLAS core %s%s; load average %.2f"
          % (peak, GEMM[0], core, " (forced by %s)" % forced if forced else "", load0[0]),
          flush=True)
    cores = set()
    # ours and torch alternate per seed, so load from other processes on a
    # shared machine hits both sides alike; each side also reports its
    # throughput per CPU second, which that load does not skew
    for model in models:
        runs = {side: dict(sps=[], cps=[], acc=[], rss=[], gf=[]) for side in sides}
        for s in seeds:
            for side in sides:
                a = runs[side]
                t = time.time()
                e, f, r = (ours(build, model, ep, s, ours_extra) if side == "ours"
                           else torch(model, ep, s, ["--bf16"] if side == "torch_bf16" else []))
                a["sps"] += [float(x["samples_per_sec"]) for x in e]
                a["cps"] += [float(x["cpu_samples_per_sec"]) for x in e]
                a["acc"].append(float(f["test_accuracy"]))
                a["rss"].append(r)
                if "gflops" in f:
                    a["gf"].append(float(f["gflops"]))
                if "blas_core" in f:
                    cores.add(f["blas_core"])
                if side == "ours" and "precision" in f:
                    RAN.add(f["precision"])
                print("  %-5s %-5s seed %d: %.0f samples/s (%.0f per CPU s), test acc %.4f, "
                      "peak RSS %.0f MB (%.0fs), load %.2f"
                      % (model, side, s, statistics.median(float(x["samples_per_sec"]) for x in e),
                         statistics.median(float(x["cpu_samples_per_sec"]) for x in e),
                         a["acc"][-1], r, time.time() - t, os.getloadavg()[0]), flush=True)
        for side, a in runs.items():
            res[(model, side)] = dict(sps=statistics.median(a["sps"]), cps=statistics.median(a["cps"]),
                                      acc=statistics.median(a["acc"]), rss=max(a["rss"]),
                                      gflops=statistics.median(a["gf"]) if a["gf"] else None)

    peak = max(peak, sgemm_peak(build)[0])
    load1 = os.getloadavg()
    print("sgemm peak, best of start and end: %.1f GFLOP/s" % peak, flush=True)
    # hpworker reports the core it ran on; it must be the one measured above
    if cores and cores != {core}:
        sys.exit("hpworker ran on OpenBLAS core(s) %s but the sgemm peak on %s"
                 % (", ".join(sorted(cores)), core))
    import torch as _t  # for the version line only
    if bf16:
        return bf16_report(res, models, seeds, ep, quick, core, forced, peak, load0, load1,
                           _t.__version__)
    rows = []
    for m in models:
        o, t = res[(m, "ours")], res[(m, "torch")]
        ratio, cratio = o["sps"] / t["sps"], o["cps"] / t["cps"]
        rows.append("| %s | %.0f | %.0f | **%.2f×** | %.2f× | ≥ %.2f× | %s |" % (
            NAMES[m], o["sps"], t["sps"], ratio, cratio, TARGETS[m],
            "yes" if ratio >= TARGETS[m] else "no"))
    acc_rows = []
    for m in models:
        o, t = res[(m, "ours")]["acc"] * 100, res[(m, "torch")]["acc"] * 100
        acc_rows.append("| %s | %.2f | %.2f | %+.2f | %s |" % (
            NAMES[m], o, t, o - t, "yes" if abs(o - t) <= 0.5 else "no"))
    begin, end = marker(models)
    text = [
        begin,
        "## Training engine vs PyTorch (one core)" if begin == BEGIN
        else "### Training engine vs PyTorch: %s" % ", ".join(NAMES[m] for m in models),
        "",
        "Measured %s by `tests/bench/engine_bench.py%s%s`: hpworker's engine "
        "(OpenBLAS core %s%s, as `openblas_get_corename()` reports it in every hpworker run; "
        "fp32 GEMM kernel: %s) "
        "and PyTorch %s, one thread each, same Fashion-MNIST "
        "files, same recipe (standardized inputs, 10%% validation split, batch 128, "
        "Adam 3e-4, He-normal init (Glorot normal for the LSTM and the output layer, "
        "forget-gate bias 1), %d full epoch%s of 54000 samples, seeds %s). "
        "The two sides alternate run by run on a shared machine: load average %.1f "
        "at the start and %.1f at the end (1-minute averages, %d cores)."
        % (time.strftime("%Y-%m-%d"), " --quick" if quick else "",
           "" if begin == BEGIN else " --models=" + ",".join(models), core,
           ", forced by %s" % forced if forced else "", GEMM[0], _t.__version__, ep,
           "" if ep == 1 else "s", ", ".join(map(str, seeds)), load0[0], load1[0],
           os.cpu_count()),
        "",
        "Training throughput (samples/s, median over epochs and seeds; evaluation excluded). "
        "The ratio is of wall-clock throughput; the CPU-time ratio divides by the CPU "
        "seconds each process used instead, which other processes' load does not change:",
        "",
        "| model | hpworker | PyTorch | ratio | CPU-time ratio | issue 19 target | met |",
        "|---|---|---|---|---|---|---|",
    ] + rows
    if "mlp" in models:
        mlp_gf = res[("mlp", "ours")]["gflops"]
        text += [
            "",
            "MLP achieved %.1f GFLOP/s (GEMM FLOPs over training time) = %.0f%% of this core's "
            "sgemm peak (%.1f GFLOP/s, 1536³, the %s kernel, OpenBLAS core %s; issue 19 target "
            "≥ 85%%), and %.0f%% "
            "of the sgemm bound of the MLP step itself: its five GEMMs at their own shapes, "
            "timed alone by `engine_sgemm_peak.c` (%.1f GFLOP/s). The rest of the step is the "
            "elementwise work (Adam, batch gathering, bias, relu) that no GEMM covers, and the "
            "GEMMs running on operands that Adam's pass has pushed out of the caches."
            % (mlp_gf, 100 * mlp_gf / peak, peak, GEMM[0], core,
               100 * mlp_gf / max(MLP_BOUND[0], 1e-9),
               MLP_BOUND[0])]
    text += [
        "",
        "Test accuracy after %d epoch%s (median of %d seed%s, %%):" % (
            ep, "" if ep == 1 else "s", len(seeds), "" if len(seeds) == 1 else "s"),
        "",
        "| model | hpworker | PyTorch | difference | within 0.5 points |",
        "|---|---|---|---|---|",
    ] + acc_rows
    if "mlp" in models:
        ro, rt = res[("mlp", "ours")]["rss"], res[("mlp", "torch")]["rss"]
        text += [
            "",
            "Peak RSS of a full Fashion-MNIST MLP run (whole process): hpworker "
            "%.0f MB, PyTorch %.0f MB (ratio %.2f; target ≤ 0.33). hpworker keeps "
            "the images as uint8 and converts one batch at a time; the PyTorch "
            "script holds normalized float tensors, the usual recipe." % (ro, rt, ro / rt)]
    text = "\n".join(text + [end])
    print(text)
    if "--write" in sys.argv:
        # a subset's block follows the all-models section
        write_section(text, begin, end, after=END if begin != BEGIN else None)


if __name__ == "__main__":
    main()
