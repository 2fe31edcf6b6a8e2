#!/usr/bin/python3
"""Suggestion speed of search.algorithm: bayes against the scikit-learn
GP-EI reference (gp_reference.py), on the same data in the same run.

    /usr/bin/python3 tests/bench/bench_gp_speed.py [--build build] [--ns 50,200,500,1000]

Builds the bench_gp_speed target, runs it (it dumps its data sets), times
one reference suggestion per n on the same points, and prints the ratios.
Both sides single-threaded (OPENBLAS/OMP threads = 1), as in the daemon.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gp_reference  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--ns", default="50,200,500,1000")
    ap.add_argument("--ref-reps", type=int, default=1)
    args = ap.parse_args()
    ns = [int(v) for v in args.ns.split(",")]
    subprocess.check_call(["cmake", "--build", args.build, "-j1", "--target", "bench_gp_speed"],
                          stdout=subprocess.DEVNULL)
    exe = os.path.join(args.build, "bin", "bench_gp_speed")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.check_output([exe, "--dump", tmp] + [str(n) for n in ns], text=True)
        ours = {r["n"]: r for r in (json.loads(line) for line in out.splitlines())}
        for n in ns:
            data = np.loadtxt(os.path.join(tmp, "gp_speed_%d.csv" % n), delimiter=",")
            X, y = data[:, :6], data[:, 6]
            times = []
            for rep in range(args.ref_reps):
                rng = np.random.default_rng(rep)
                t0 = time.perf_counter()
                gp_reference.suggest(X, y, rng)
                times.append(time.perf_counter() - t0)
            ref = float(np.median(times))
            o = ours[n]
            rows.append((n, o["cold_s"], o["warm_s"], ref))
            print(json.dumps({"n": n, "bayes_cold_s": o["cold_s"], "bayes_warm_s": o["warm_s"],
                              "sklearn_s": ref, "ratio_cold": ref / o["cold_s"],
                              "ratio_warm": ref / o["warm_s"]}), flush=True)
    print("\n| n | bayes, cold fit (s) | bayes, warm fit (s) | scikit-learn GP-EI (s) | speed-up (cold / warm) |")
    print("|---:|---:|---:|---:|---:|")
    for n, c, w, r in rows:
        print("| %d | %.3f | %.3f | %.2f | %.0fx / %.0fx |" % (n, c, w, r, r / c, r / w))


if __name__ == "__main__":
    main()
