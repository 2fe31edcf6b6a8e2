#!/usr/bin/python3
"""CPU time per training step, hpworker's engine against PyTorch, one thread.

    /usr/bin/python3 tests/bench/engine_step_bench.py [BUILD_DIR] [--model lstm] [--reps 3]
    /usr/bin/python3 tests/bench/engine_step_bench.py [BUILD_DIR] --model all [--reps 3] [--write]

A quick, load-robust companion of engine_bench.py: both sides train the
same architecture on one fixed random batch of 128 and time each step in
CPU seconds of the training thread (engine_step_bench.c; here,
time.thread_time), which a busy shared machine changes far less than the
wall clock. The sides alternate rep by rep; the ratio is of the medians of
the per-rep minimum step times. It measures the step, not a recipe: no
data loading, no evaluation, no accuracy (engine_bench.py has those).

It also says how far either side could go. engine_torch.train_flops
counts the FLOPs of the step's matrix products and convolutions (forward,
weight gradients, input gradients where needed: what both engines must
multiply, the elementwise work left out), and engine_sgemm_peak.c times
this core's single-thread sgemm on a large square product, the rate of
its FMA units. Work / peak is a lower bound on any fp32 step with these
layers; PyTorch's time over it is the ceiling on the ratio any engine
can reach against this PyTorch on this CPU ("ceiling" below; a
convolution with fewer multiplies, Winograd or FFT, is not bounded by
it). --model all runs the six models; --write puts the table into
docs/benchmarks.md between the engine-roofline markers.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from benchdoc import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TORCH = r'''
import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, %r)
from engine_torch import build, train_flops
torch.set_num_threads(1)
torch.manual_seed(1)
net = build(%r, 256 if %r == "mlp" else 128)
opt = torch.optim.Adam(net.parameters(), lr=3e-4)
x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
flops = train_flops(net, x)
ms = []
for s in range(%d):
    c0 = time.thread_time()
    z = net(x)
    loss = F.cross_entropy(z, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if s >= 5:
        ms.append((time.thread_time() - c0) * 1e3)
print("cpu_ms_min=%%.2f cpu_ms_median=%%.2f flops=%%d" %% (min(ms), sorted(ms)[len(ms) // 2], flops))
'''


def kv(line):
    return dict(x.split("=", 1) for x in line.split() if "=" in x)


MODELS = ("mlp", "lenet", "lstm", "resnet", "tcn", "attention")
BEGIN = "<!-- engine-roofline:begin -->"
END = "<!-- engine-roofline:end -->"


def one(exe, model, reps, env):
    """the model's alternating reps: medians of the per-rep minima, the
    step's FLOPs, the BLAS core"""
    steps = 40 if model != "resnet" else 12
    ours, theirs, flops, core = [], [], 0, ""
    for rep in range(reps):
        o = kv(subprocess.check_output([exe, "--model", model, "--steps", str(steps)], text=True))
        ours.append(float(o["cpu_ms_min"]))
        core = o["blas_core"]
        t = kv(subprocess.check_output(
            ["/usr/bin/python3", "-c", TORCH % (HERE, model, model, steps)], text=True, env=env))
        theirs.append(float(t["cpu_ms_min"]))
        flops = int(t["flops"])
        print("  %s rep %d: hpworker %.2f ms (OpenBLAS %s), PyTorch %.2f ms per step, load %.2f"
              % (model, rep + 1, ours[-1], core, theirs[-1], os.getloadavg()[0]), flush=True)
    return statistics.median(ours), statistics.median(theirs), flops, core


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default="lstm", choices=MODELS + ("all",))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    if a.write and a.model != "all":
        ap.error("--write needs --model all (the table has every model)")
    models = MODELS if a.model == "all" else (a.model,)
    build = os.path.abspath(a.build)
    subprocess.check_call(["cmake", "--build", build, "-j1", "--target", "engine_step_bench"],
                          stdout=subprocess.DEVNULL)
    exe = os.path.join(build, "bin", "engine_step_bench")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    sys.path.insert(0, HERE)
    from engine_bench import sgemm_peak
    load0 = os.getloadavg()[0]
    print("load average %.2f" % load0, flush=True)
    peak, peak_core = sgemm_peak(build)
    print("sgemm peak %.1f GFLOP/s (OpenBLAS %s)" % (peak, peak_core), flush=True)
    rows = []
    for model in models:
        mo, mt, flops, core = one(exe, model, a.reps, env)
        if core != peak_core:
            sys.exit("the sgemm probe ran OpenBLAS %s, hpworker %s" % (peak_core, core))
        floor_ms = flops / (peak * 1e9) * 1e3
        line = ("model=%s hpworker_ms=%.2f torch_ms=%.2f ratio=%.2f reps=%d gflop=%.3f "
                "hpworker_peak=%.0f%% torch_peak=%.0f%% ceiling=%.2f date=%s"
                % (model, mo, mt, mt / mo, a.reps, flops * 1e-9, floor_ms / mo * 100,
                   floor_ms / mt * 100, mt / floor_ms, time.strftime("%Y-%m-%d")))
        print(line, flush=True)
        rows.append((model, mo, mt, flops, floor_ms))
    print("load average %.2f" % os.getloadavg()[0])
    if a.write:
        write(rows, peak, peak_core, a.reps, load0, os.getloadavg()[0])


def write(rows, peak, core, reps, load0, load1):
    names = {"mlp": "MLP 784-256-10", "lenet": "LeNet-5", "lstm": "LSTM 128, 28 steps",
             "resnet": "ResNet 16-32-64", "tcn": "TCN 64 ch, 4 blocks", "attention":
             "attention 64 wide, 2 layers"}
    out = [BEGIN, "### How far each model can go: the step against the FMA peak", "",
           "Measured %s by `tests/bench/engine_step_bench.py --model all --reps %d --write`: "
           "CPU time of one training step on a fixed batch of 128, one thread, median of the "
           "per-rep fastest steps, the sides alternating; OpenBLAS core **%s**, single-thread "
           "sgemm peak %.1f GFLOP/s (1536³, `engine_sgemm_peak.c`); load average %.1f–%.1f. "
           "GFLOP is the step's matrix products and convolutions (forward, weight and needed "
           "input gradients; `engine_torch.train_flops`), the floor that work at the peak, "
           "the ceiling PyTorch's step over the floor: the most any fp32 engine with these "
           "layers and direct convolutions can beat this PyTorch by on this CPU."
           % (time.strftime("%Y-%m-%d"), reps, core, peak, min(load0, load1), max(load0, load1)),
           "", "| model | GFLOP per step | floor ms | hpworker ms | % of peak | PyTorch ms | "
           "% of peak | ratio | ceiling |", "|---|---|---|---|---|---|---|---|---|"]
    for model, mo, mt, flops, floor_ms in rows:
        out.append("| %s | %.3f | %.2f | %.2f | %.0f%% | %.2f | %.0f%% | **%.2f×** | %.2f× |"
                   % (names[model], flops * 1e-9, floor_ms, mo, floor_ms / mo * 100, mt,
                      floor_ms / mt * 100, mt / mo, mt / floor_ms))
    out.append(END)
    write_section("\n".join(out), BEGIN, END, after="<!-- engine-arch-bench:end -->")


if __name__ == "__main__":
    main()
