#!/bin/bash
# test_slurm.sh SOURCE_DIR BIN_DIR: workers launched by a real Slurm.
#
# Installs Debian's slurm-wlm and munge (deploy/install-deps.sh --slurm),
# starts a private single-node Slurm — munged, slurmctld, slurmd, with a
# config, key, spool and state of its own under a temp dir, ports on
# loopback — and a real hpsearchd with a study, submits
# deploy/slurm/hpworker.sbatch as a user would, and checks that the study
# completes through the Slurm-launched worker and that the job then ends
# by itself (the worker's --exit-when-idle). Every daemon it started is
# stopped on the way out, pass or fail.
#
# Slurm's daemons and the package install need root: as another user the
# test says so and exits 77, which ctest shows as skipped (CI runs as
# root, so it runs there).
set -euo pipefail

SRC="${1:?usage: test_slurm.sh SOURCE_DIR BIN_DIR}"
BIN="${2:?usage: test_slurm.sh SOURCE_DIR BIN_DIR}"
SRC="$(cd "$SRC" && pwd)"
BIN="$(cd "$BIN" && pwd)"
GUARD_S=90 # a bound on each wait for a condition, never a timing

say() { echo "test_slurm: $*"; }
fail() {
    echo "test_slurm: FAIL: $*" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    echo "test_slurm: SKIPPED: not root (uid $(id -u)). This test installs slurm-wlm and munge" \
         "and runs munged, slurmctld and slurmd, which needs root; CI runs it as root." >&2
    exit 77
fi
# munged and slurmd run as their own users: they need a / that other users
# can search. A chroot made with mktemp -d (mode 0700) is not one, and
# munge's own package scripts fail there.
root_mode=$(stat -c %a /)
case "$root_mode" in
*[1357]) ;;
*)
    echo "test_slurm: SKIPPED: / has mode $root_mode here, so the munge and slurm users cannot" \
         "reach any file (munge's package scripts fail). Nothing was tested." >&2
    exit 77
    ;;
esac

say "installing Slurm and munge if missing (deploy/install-deps.sh --slurm)"
"$SRC/deploy/install-deps.sh" --slurm || fail "deploy/install-deps.sh --slurm failed"
for p in munged slurmctld slurmd sbatch scontrol sinfo sqlite3; do
    command -v "$p" >/dev/null || fail "$p not found after deploy/install-deps.sh --slurm"
done

T="$(mktemp -d /tmp/hp-slurm-XXXXXX)"
chmod 0700 "$T"
PIDS=()
JOB=""
cleanup() {
    local rc=$?
    set +e
    if [ -n "$JOB" ] && [ -e "$T/slurm.conf" ]; then
        SLURM_CONF="$T/slurm.conf" scancel "$JOB" 2>/dev/null
    fi
    # newest first: hpsearchd, slurmd, slurmctld, munged
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[$i]}" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # a slurmstepd of this test's job, if slurmd went before it (found by
    # this test's config path in its environment, never by name alone)
    for pid in $(pgrep -x slurmstepd 2>/dev/null); do
        grep -qs "$T/slurm.conf" "/proc/$pid/environ" && kill -9 "$pid"
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$T"/*.log "$T"/job-*.out; do
            [ -e "$f" ] || continue
            echo "---- $f (last 40 lines)" >&2
            tail -n 40 "$f" >&2
        done
    fi
    [ -n "${HP_KEEP_TEST_DIRS:-}" ] || rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# waits until "$@" succeeds, at most GUARD_S seconds
wait_for() {
    local what="$1"
    shift
    local end=$((SECONDS + GUARD_S))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || fail "$what: not within $GUARD_S s"
        sleep 0.2
    done
}


# a free port P whose P + 1 is free too (hpsearchd.sbatch listens on both),
# below the kernel's ephemeral range (ip_local_port_range), so no other
# test's outgoing connection takes one of them before the job binds
free_port_pair() {
    python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(500):
    p = random.randrange(10000, lo - 1)
    try:
        a = socket.socket(); a.bind(("127.0.0.1", p))
        b = socket.socket(); b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p)
    break
else:
    raise SystemExit("no free pair of ports below %d" % lo)
'
}
free_port() { free_port_pair; }

# ---- munge: its own key, socket and files ---------------------------------
head -c 1024 /dev/urandom > "$T/munge.key"
chmod 0400 "$T/munge.key"
mkdir -m 0700 "$T/munge"
munged --foreground --force --key-file="$T/munge.key" --socket="$T/munge/munge.sock" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge/seed" \
    --num-threads=2 > "$T/munged.stdout.log" 2>&1 &
PIDS+=($!)
wait_for "munged's socket" test -S "$T/munge/munge.sock"
say "munged up ($T/munge/munge.sock)"

# ---- Slurm: one node, this host, loopback ports ---------------------------
CTLD_PORT="$(free_port)"
SLURMD_PORT="$(free_port)"
[ "$CTLD_PORT" != "$SLURMD_PORT" ] || SLURMD_PORT="$(free_port)"
HOST="$(hostname -s)"
CPUS="$(nproc)"
mkdir -p "$T/state" "$T/spool"
cat > "$T/slurm.conf" <<CONF
ClusterName=hptest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=10
NodeName=hpnode NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=hptest Nodes=hpnode Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" > "$T/slurmctld.stdout.log" 2>&1 &
PIDS+=($!)
wait_for "slurmctld answering" scontrol ping
slurmd -D -N hpnode -f "$SLURM_CONF" > "$T/slurmd.stdout.log" 2>&1 &
PIDS+=($!)
node_idle() { [ "$(sinfo -h -n hpnode -o %t)" = "idle" ]; }
wait_for "node hpnode idle" node_idle
say "Slurm up: slurmctld on 127.0.0.1:$CTLD_PORT, slurmd hpnode ($CPUS CPUs)"

# ---- the coordinator and a study ----------------------------------------
WORKER_PORT="$(free_port)"
COORD="tcp://127.0.0.1:$WORKER_PORT"
CONTROL="ipc://$T/control.sock"
"$BIN/hpsearchd" --db "$T/studies.db" --listen "$COORD" --control "$CONTROL" \
    --heartbeat-ms 500 > "$T/hpsearchd.log" 2>&1 &
PIDS+=($!)
hp() { "$BIN/hpsearch" --coordinator "$CONTROL" "$@"; }
wait_for "hpsearchd answering" hp status
cat > "$T/study.yaml" <<SPEC
name: slurm
objective: {metric: value}
search: {algorithm: random, max_trials: 20, parallelism: $CPUS, seed: 11}
space:
  x1: {type: float, low: -5, high: 10}
  x2: {type: float, low: 0, high: 15}
trial: {function: branin}
SPEC
hp submit "$T/study.yaml" > /dev/null
say "hpsearchd up, study 'slurm' submitted (20 trials)"

# ---- the project's sbatch script, as a user submits it ------------------
# hpworker from PATH (the build's), a short idle time so the test is quick
cd "$T"
JOB="$(PATH="$BIN:$PATH" HPSEARCH_EXIT_WHEN_IDLE=5 \
    sbatch --parsable --output="$T/job-%j.out" \
    --export=ALL,HPSEARCH_COORDINATOR="$COORD" "$SRC/deploy/slurm/hpworker.sbatch")"
JOB="${JOB%%;*}"
say "submitted job $JOB"

job_state() { scontrol show job "$JOB" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
study_done() { hp wait --timeout 1 --quiet slurm; }
wait_for "the study to complete through the Slurm-launched worker" study_done
say "study completed; job $JOB is $(job_state)"
job_ended() { case "$(job_state)" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) return 0 ;; *) return 1 ;; esac; }
wait_for "job $JOB to end by itself after the study" job_ended

# ---- what happened ------------------------------------------------------
state="$(job_state)"
exitc="$(scontrol show job "$JOB" | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p')"
[ "$state" = "COMPLETED" ] || fail "job $JOB ended $state (exit $exitc), not COMPLETED"
[ "$exitc" = "0:0" ] || fail "job $JOB exit code $exitc"
out="$T/job-$JOB.out"
grep -q "hpworker.sbatch: job $JOB on 1 node(s)" "$out" || fail "the sbatch script's banner is missing from $out"
grep -q "$CPUS slot.*the CPUs granted (SLURM_CPUS_ON_NODE=$CPUS)" "$out" ||
    fail "the worker did not size its slots from SLURM_CPUS_ON_NODE=$CPUS (see $out)"
grep -q "no trial for 5 s (--exit-when-idle): leaving" "$out" ||
    fail "the worker did not leave by --exit-when-idle (see $out)"
db() { sqlite3 -readonly "$T/studies.db" "$1"; }
[ "$(db "SELECT count(*) FROM trials WHERE state = 'completed'")" = 20 ] ||
    fail "not every trial completed"
[ "$(db "SELECT count(*) FROM trial_attempts WHERE outcome <> 'completed'")" = 0 ] ||
    fail "some attempt did not complete"
# every attempt was run by the one worker Slurm started
wpid="$(db "SELECT DISTINCT json_extract(w.capabilities, '$.pid') FROM trial_attempts a JOIN workers w ON w.id = a.worker_id")"
[ "$(echo "$wpid" | wc -l)" = 1 ] || fail "attempts by more than one worker: $wpid"
say "20 trials by the Slurm-launched worker; job $JOB COMPLETED (exit 0:0) by itself"

# ---- a job array: each task a worker; all end by themselves -----------------
sed 's/^name: slurm$/name: array/; s/max_trials: 20/max_trials: 10/' "$T/study.yaml" > "$T/array.yaml"
hp submit "$T/array.yaml" > /dev/null
ARRAY="$(PATH="$BIN:$PATH" HPSEARCH_EXIT_WHEN_IDLE=5 \
    sbatch --parsable --array 1-2 --output="$T/job-%A_%a.out" \
    --export=ALL,HPSEARCH_COORDINATOR="$COORD" "$SRC/deploy/slurm/hpworker.sbatch")"
ARRAY="${ARRAY%%;*}"
JOB="$ARRAY"
say "submitted job array $ARRAY (tasks 1-2)"
array_study_done() { hp wait --timeout 1 --quiet array; }
wait_for "the array study to complete" array_study_done
array_ended() {
    local states
    states="$(scontrol show job "$ARRAY" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)"
    [ "$(scontrol show job "$ARRAY" | grep -c 'JobState=COMPLETED')" = 2 ] && return 0
    ! grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING' <<< "$states" &&
        fail "array $ARRAY ended: $states"
    return 1
}
wait_for "both array tasks to end by themselves" array_ended
[ "$(db "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = 'array' AND t.state = 'completed'")" = 10 ] ||
    fail "the array study did not complete every trial"
for task in 1 2; do
    grep -q "no trial for 5 s (--exit-when-idle): leaving" "$T/job-${ARRAY}_$task.out" ||
        fail "array task $task did not leave by --exit-when-idle (see $T/job-${ARRAY}_$task.out)"
done

# ---- the coordinator as a job (deploy/slurm/hpsearchd.sbatch) --------------
# bound to loopback for the test; the CLI reaches it at 127.0.0.1 on the
# port the address file names (the host name may not resolve to loopback)
head -c 32 /dev/urandom | base64 > "$T/token"
DPORT="$(free_port_pair)"
DJOB="$(PATH="$BIN:$PATH" sbatch --parsable --output="$T/job-%j.out" \
    --export="ALL,HPSEARCH_DB=$T/job.db,HPSEARCH_TOKEN_FILE=$T/token,HPSEARCH_PORT=$DPORT,HPSEARCH_BIND=127.0.0.1" \
    "$SRC/deploy/slurm/hpsearchd.sbatch")"
DJOB="${DJOB%%;*}"
JOB="$DJOB"
say "submitted hpsearchd.sbatch as job $DJOB"
wait_for "the coordinator job's address file" test -s "$T/job.db.address"
grep -q "^HPSEARCH_WORKERS=tcp://.*:$DPORT\$" "$T/job.db.address" || fail "address file: $(cat "$T/job.db.address")"
grep -q "^HPSEARCH_CONTROL=tcp://.*:$((DPORT + 1))\$" "$T/job.db.address" || fail "address file: $(cat "$T/job.db.address")"
job_hp() { "$BIN/hpsearch" --coordinator "tcp://127.0.0.1:$((DPORT + 1))" --token-file "$T/token" "$@"; }
wait_for "the coordinator job answering" job_hp status
scancel "$DJOB"
djob_ended() { case "$(scontrol show job "$DJOB" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')" in PENDING | RUNNING | CONFIGURING | COMPLETING) return 1 ;; *) return 0 ;; esac; }
wait_for "the coordinator job to end after scancel" djob_ended
grep -q "hpsearchd INFO stopped" "$T/job-$DJOB.out" ||
    fail "hpsearchd did not stop cleanly on scancel's SIGTERM (see $T/job-$DJOB.out)"
say "hpsearchd.sbatch: served with its token on the port it wrote, stopped cleanly on scancel"
say "PASS: the job and the tasks of array $ARRAY ran the studies and ended COMPLETED by themselves; hpsearchd.sbatch served and stopped"
