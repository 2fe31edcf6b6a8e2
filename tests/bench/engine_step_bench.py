#!/usr/bin/python3
"""CPU time per training step, hpworker's engine against PyTorch, one thread.

    /usr/bin/python3 tests/bench/engine_step_bench.py [BUILD_DIR] [--model lstm] [--reps 3]

A quick, load-robust companion of engine_bench.py: both sides train the
same architecture on one fixed random batch of 128 and time each step in
CPU seconds of the training thread (engine_step_bench.c; here,
time.thread_time), which a busy shared machine changes far less than the
wall clock. The sides alternate rep by rep; the ratio is of the medians of
the per-rep minimum step times. It measures the step, not a recipe: no
data loading, no evaluation, no accuracy (engine_bench.py has those).
"""
import argparse
import os
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TORCH = r'''
import sys, time, torch, torch.nn.functional as F
sys.path.insert(0, %r)
from engine_torch import build
torch.set_num_threads(1)
torch.manual_seed(1)
net = build(%r, 256 if %r == "mlp" else 128)
opt = torch.optim.Adam(net.parameters(), lr=3e-4)
x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
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
print("cpu_ms_min=%%.2f cpu_ms_median=%%.2f" %% (min(ms), sorted(ms)[len(ms) // 2]))
'''


def kv(line):
    return dict(x.split("=", 1) for x in line.split() if "=" in x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default="lstm", choices=("mlp", "lenet", "lstm"))
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    model, reps, steps, build = a.model, a.reps, 40, os.path.abspath(a.build)
    subprocess.check_call(["cmake", "--build", build, "-j1", "--target", "engine_step_bench"],
                          stdout=subprocess.DEVNULL)
    exe = os.path.join(build, "bin", "engine_step_bench")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    ours, theirs = [], []
    print("load average %.2f" % os.getloadavg()[0], flush=True)
    for rep in range(reps):
        o = kv(subprocess.check_output([exe, "--model", model, "--steps", str(steps)], text=True))
        ours.append(float(o["cpu_ms_min"]))
        t = kv(subprocess.check_output(
            ["/usr/bin/python3", "-c", TORCH % (HERE, model, model, steps)], text=True, env=env))
        theirs.append(float(t["cpu_ms_min"]))
        print("  rep %d: hpworker %.2f ms (OpenBLAS %s), PyTorch %.2f ms per step, load %.2f"
              % (rep + 1, ours[-1], o["blas_core"], theirs[-1], os.getloadavg()[0]), flush=True)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print("model=%s hpworker_ms=%.2f torch_ms=%.2f ratio=%.2f reps=%d date=%s"
          % (model, mo, mt, mt / mo, reps, time.strftime("%Y-%m-%d")))


if __name__ == "__main__":
    main()
