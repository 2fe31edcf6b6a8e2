/*
 * cpus.h — how many CPUs the scheduler granted this process: what
 * `hpworker --connect` sizes its slots from when no slot count is given.
 *
 * In order, the first that says something wins:
 *   1. SLURM_CPUS_ON_NODE (Slurm: the CPUs of this job on this node);
 *   2. the cgroup CPU quota: v2's cpu.max ("QUOTA PERIOD"), else v1's
 *      cpu.cfs_quota_us / cpu.cfs_period_us, the smallest along the path
 *      from this process's cgroup up to the root, rounded down to whole
 *      CPUs (at least 1) and never more than (3);
 *   3. the CPUs sched_getaffinity allows (taskset, cpusets, Kubernetes'
 *      static CPU manager).
 * The files are read under a root that tests replace with a directory of
 * fake ones:
 *
 *     hp_cpu_probe_t p;
 *     hp_cpu_probe_default(&p);            // the real environment
 *     char why[256];
 *     int n = hp_cpus_granted(&p, why, sizeof why);  // n >= 1
 *     // why: "SLURM_CPUS_ON_NODE=8", "cgroup cpu.max '200000 100000' in /x", ...
 */
#ifndef HP_CPUS_H
#define HP_CPUS_H

#include <stddef.h>

typedef struct hp_cpu_probe {
    const char *slurm_cpus_on_node; /* the variable's value, or NULL when unset */
    const char *cgroup_root;        /* the cgroup v2 mount, "/sys/fs/cgroup" */
    const char *self_cgroup;        /* this process's cgroup file, "/proc/self/cgroup" */
    int affinity;                   /* CPUs sched_getaffinity allows; 0: unknown */
} hp_cpu_probe_t;

/* hp_cpu_probe_default fills p from this process's environment: getenv,
 * the real cgroup paths and sched_getaffinity. Any thread. */
void hp_cpu_probe_default(hp_cpu_probe_t *p);

/* hp_cpus_granted returns the CPUs granted (1..1024) and says in why which
 * source decided and, when one was ignored (a SLURM_CPUS_ON_NODE that is
 * not a number), why. Reads only; any thread. */
int hp_cpus_granted(const hp_cpu_probe_t *p, char *why, size_t whylen);

#endif
