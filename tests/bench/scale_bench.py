#!/usr/bin/python3
"""Scale benchmark (issue 15): 1,000 worker slots on one hpsearchd.

    /usr/bin/python3 tests/bench/scale_bench.py [BUILD_DIR] [--workers 250] [--slots 4]
                                                 [--trials 50000] [--idle-s 20]
                                                 [--worker-contexts N] [--write]

250 hpworker processes of 4 slots each connect to one daemon over
tcp://127.0.0.1. Measured, on the daemon:

- idle: every slot holds a GET_TRIAL and only heartbeats flow — the
  heartbeat load (request messages/s into the daemon), its CPU (from
  /proc/PID/stat) and resident memory;
- dispatch: a study of trivial trials (the built-in Branin function,
  random search, parallelism = every slot) from `hpsearch submit` to its
  end — trials/s, request messages/s, CPU and memory.

Messages are counted on the wire with nftables counters on the daemon's
port (TCP segments that carry data: each request and reply here fits one),
so the bench needs root and nft; without them it still measures everything
else and says so. With --write the results replace the scale section of
docs/benchmarks.md. Not part of ctest: a capacity figure, not a test.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from benchdoc import write_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BEGIN = "<!-- scale-bench:begin -->"
END = "<!-- scale-bench:end -->"
PORT = 7591
CLK = os.sysconf("SC_CLK_TCK")

SPEC = """name: scale
objective: {{metric: value}}
search: {{algorithm: random, max_trials: {n}, parallelism: {par}, seed: 1}}
space:
  x1: {{type: float, low: -5, high: 10}}
  x2: {{type: float, low: 0, high: 15}}
trial: {{function: branin}}
"""


def opt(name, default):
    if name in sys.argv:
        return type(default)(sys.argv[sys.argv.index(name) + 1])
    return default


class Wire:
    """nftables counters on the daemon's port: data segments in and out"""

    def __init__(self, port):
        self.ok = False
        self.why = ""
        nft = shutil.which("nft") or "/usr/sbin/nft"
        if os.geteuid() != 0 or not os.path.exists(nft):
            self.why = "needs root and nftables' nft"
            return
        self.nft = nft
        self.table = "hpscale%d" % os.getpid()  # two runs at once keep their own
        rules = """table inet %s {
  chain in {
    type filter hook input priority 0; policy accept;
    tcp dport %d tcp flags & psh == psh counter
    tcp sport %d tcp flags & psh == psh counter
  }
}
""" % (self.table, port, port)
        r = subprocess.run([nft, "-f", "-"], input=rules, text=True, capture_output=True)
        if r.returncode != 0:
            self.why = "nft refused the counters: " + r.stderr.strip()
            return
        self.ok = True

    def read(self):
        """(request segments into the daemon, reply segments out of it)"""
        if not self.ok:
            return (0, 0)
        out = subprocess.run([self.nft, "list", "table", "inet", self.table], text=True,
                             capture_output=True, check=True).stdout
        vals = [int(w.split()[0]) for w in out.split("packets")[1:]]
        return (vals[0], vals[1])

    def close(self):
        if self.ok:
            subprocess.run([self.nft, "delete", "table", "inet", self.table])


def proc_cpu_s(pid, tid=None):
    """user + system CPU seconds of a process (or of one of its threads)"""
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def proc_mem_kib(pid):
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                vals[k] = int(v.split()[0])
    return vals


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    return "%d cores (%s), %d MiB RAM, Linux %s" % (os.cpu_count(), model, mem,
                                                     os.uname().release)


def db_one(db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


class Phase:
    """CPU, wire and wall deltas of the daemon over one phase"""

    def __init__(self, pid, wire):
        self.pid, self.wire = pid, wire
        # the main thread runs the libuv loop that owns all state; nng's
        # I/O threads are the rest of the process
        self.t0, self.c0, self.l0 = time.time(), proc_cpu_s(pid), proc_cpu_s(pid, pid)
        self.w0 = wire.read()

    def end(self):
        dt = time.time() - self.t0
        cpu = proc_cpu_s(self.pid) - self.c0
        loop = proc_cpu_s(self.pid, self.pid) - self.l0
        w = self.wire.read()
        return {"s": dt, "cpu": cpu / dt, "loop": loop / dt, "req": (w[0] - self.w0[0]) / dt,
                "rep": (w[1] - self.w0[1]) / dt}


def main():
    args, argv = [], sys.argv[1:]
    while argv:
        a = argv.pop(0)
        if a in ("--workers", "--slots", "--trials", "--idle-s", "--worker-contexts"):
            argv.pop(0)
        elif not a.startswith("--"):
            args.append(a)
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    nworkers = opt("--workers", 250)
    slots = opt("--slots", 4)
    trials = opt("--trials", 50000)
    idle_s = opt("--idle-s", 20.0)
    heartbeat_ms = 2000  # the daemon's default
    nslots = nworkers * slots
    contexts = opt("--worker-contexts", max(1024, 2 * nslots))
    bin_ = os.path.join(build, "bin")
    tmp = tempfile.mkdtemp(prefix="hp-scale-")
    db = os.path.join(tmp, "scale.db")
    ctl = "ipc://" + os.path.join(tmp, "c.sock")
    url = "tcp://127.0.0.1:%d" % PORT
    wire = Wire(PORT)
    if not wire.ok:
        print("scale: message counts unavailable:", wire.why)
    log = open(os.path.join(tmp, "daemon.log"), "w")
    daemon = subprocess.Popen(
        [os.path.join(bin_, "hpsearchd"), "--db", db, "--listen", url, "--control", ctl,
         "--log-level", "warn", "--worker-contexts", str(contexts)], stdout=log, stderr=log)
    workers = []
    try:
        def cli(*a, check=True):
            return subprocess.run([os.path.join(bin_, "hpsearch"), "--coordinator", ctl] +
                                  list(a), capture_output=True, text=True, check=check)

        for _ in range(300):
            if cli("status", check=False).returncode == 0:
                break
            time.sleep(0.1)
        rss_empty = proc_mem_kib(daemon.pid)["VmRSS"]
        t0 = time.time()
        wlog = open(os.path.join(tmp, "workers.log"), "w")
        for _ in range(nworkers):
            workers.append(subprocess.Popen(
                [os.path.join(bin_, "hpworker"), "--connect", url, "--slots", str(slots),
                 "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=wlog))
        while db_one(db, "SELECT count(*) FROM workers WHERE state = 'alive'") < nworkers:
            if time.time() - t0 > 600:
                sys.exit("scale: only %d of %d workers joined in 600 s" % (
                    db_one(db, "SELECT count(*) FROM workers WHERE state = 'alive'"), nworkers))
            time.sleep(0.2)
        join_s = time.time() - t0
        print("scale: %d workers x %d slots joined in %.1f s" % (nworkers, slots, join_s))
        time.sleep(3)  # every slot's first GET_TRIAL is in and held
        ph = Phase(daemon.pid, wire)
        time.sleep(idle_s)
        idle = ph.end()
        idle["rss"] = proc_mem_kib(daemon.pid)["VmRSS"]
        lost = db_one(db, "SELECT count(*) FROM workers WHERE state <> 'alive'")
        if lost:
            print("scale idle: %d of %d workers were marked lost while idle" % (lost, nworkers))
        print("scale idle: %.0f requests/s in (%.0f replies/s out), daemon CPU %.1f%% "
              "(loop thread %.1f%%), RSS %.1f MiB" % (idle["req"], idle["rep"],
                                                     idle["cpu"] * 100, idle["loop"] * 100,
                                                     idle["rss"] / 1024))

        spec = os.path.join(tmp, "scale.yaml")
        with open(spec, "w") as f:
            f.write(SPEC.format(n=trials, par=nslots))
        ph = Phase(daemon.pid, wire)
        cli("submit", spec)
        cli("wait", "--interval", "0.1", "--quiet", "scale", check=False)
        run = ph.end()
        done = db_one(db, "SELECT count(*) FROM trials WHERE state = 'completed'")
        mem = proc_mem_kib(daemon.pid)
        run.update(done=done, rate=done / run["s"], rss=mem["VmRSS"], hwm=mem["VmHWM"])
        print("scale dispatch: %d trials in %.1f s = %.0f trials/s; %.0f requests/s in, "
              "daemon CPU %.1f%% (loop thread %.1f%%), RSS %.1f MiB (peak %.1f MiB)" % (
                  done, run["s"], run["rate"], run["req"], run["cpu"] * 100,
                  run["loop"] * 100, run["rss"] / 1024, run["hwm"] / 1024))
        sysload = os.getloadavg()[0]
        wrss = []
        for p in workers[:10]:
            try:
                wrss.append(proc_mem_kib(p.pid)["VmRSS"])
            except OSError:
                pass
        w_rss = sum(wrss) / max(1, len(wrss))
    finally:
        for p in workers:
            p.terminate()
        daemon.terminate()
        for p in workers + [daemon]:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        wire.close()
        shutil.rmtree(tmp, ignore_errors=True)

    msgs = wire.ok
    text = [BEGIN, "## Scale: 1,000 worker slots on one daemon (issue 15)", "",
            "`tests/bench/scale_bench.py`, measured %s on %s — the same machine runs the "
            "daemon, all %d worker processes and the client, so the workers' own CPU is "
            "taken from the daemon's. %d hpworker processes × %d slots = %d slots on "
            "tcp://127.0.0.1, heartbeats every %d ms (the default), `--worker-contexts %d` "
            "(every idle slot holds one context, and heartbeats and results need free ones: "
            "the default 1024 leaves 24 for 1,000 slots, and the daemon holds at most 7/8 of "
            "its contexts, see [daemon.md](daemon.md#settings)). Messages are request messages into the daemon, counted "
            "on the wire (nftables counters on TCP segments carrying data); CPU is the "
            "daemon's user + system time over the phase's wall time (100%% = one core), and "
            "of that the loop thread's (the one thread that owns all state; nng's I/O "
            "threads are the rest). The 1-minute load average after the dispatch phase was "
            "%.1f on 2 cores: the workers, not the daemon, filled the machine." %
            (time.strftime("%Y-%m-%d"), machine(), nworkers, nworkers, slots, nslots,
             heartbeat_ms, contexts, sysload), "",
            "| phase | seconds | trials/s | requests/s in | daemon CPU (loop thread) | "
            "daemon RSS |",
            "|---|---|---|---|---|---|",
            "| %d workers connect (HELLO, first GET_TRIALs) | %.1f | | | | |" % (nworkers,
                                                                               join_s),
            "| idle: every slot waiting, heartbeats only | %.0f | | %s | %.1f%% (%.1f%%) | "
            "%.1f MiB |" % (idle["s"], "%.0f" % idle["req"] if msgs else "n/a",
                            idle["cpu"] * 100, idle["loop"] * 100, idle["rss"] / 1024),
            "| dispatch: %d Branin trials, parallelism %d | %.1f | **%.0f** | %s | "
            "%.1f%% (%.1f%%) | %.1f MiB (peak %.1f) |" % (
                run["done"], nslots, run["s"], run["rate"],
                "%.0f" % run["req"] if msgs else "n/a", run["cpu"] * 100, run["loop"] * 100,
                run["rss"] / 1024, run["hwm"] / 1024),
            "",
            "The daemon with no worker: %.1f MiB resident; so about %.1f KiB per worker "
            "process at rest (its slots' held requests, its pipe, its row). A worker process "
            "of 4 idle slots is %.1f MiB resident. What these figures mean for 100,000 slots "
            "is in [daemon.md](daemon.md#how-far-one-daemon-goes)." %
            (rss_empty / 1024, (idle["rss"] - rss_empty) / nworkers, w_rss / 1024),
            END]
    print("\n".join(text))
    if "--write" in sys.argv:
        write_section("\n".join(text), BEGIN, END)


if __name__ == "__main__":
    main()
