/* The CPUs a scheduler granted: SLURM_CPUS_ON_NODE, else the cgroup v2
 * quota capped by the affinity mask, else the affinity mask (cpus.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cpus.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CPUS_MAX 1024 /* the most slots a worker runs */

void hp_cpu_probe_default(hp_cpu_probe_t *p)
{
    memset(p, 0, sizeof *p);
    p->slurm_cpus_on_node = getenv("SLURM_CPUS_ON_NODE");
    p->cgroup_root = "/sys/fs/cgroup";
    p->self_cgroup = "/proc/self/cgroup";
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        p->affinity = CPU_COUNT(&set);
    if (p->affinity <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        p->affinity = n > 0 ? (int)n : 0;
    }
}

static int clamp(long n)
{
    return n < 1 ? 1 : n > CPUS_MAX ? CPUS_MAX : (int)n;
}

/* this process's cgroup v2 path ("/a/b") from the "0::/a/b" line */
static int self_cgroup_path(const char *file, char *out, size_t outlen)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[PATH_MAX + 64];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (snprintf(out, outlen, "%s", line + 3) < (int)outlen)
            found = 0;
        break;
    }
    fclose(f);
    return found;
}

/* DIR/cpu.max as whole CPUs: 0 when unlimited ("max ...") or unreadable */
static long cpu_max_at(const char *dir, char *text, size_t textlen)
{
    char path[3 * PATH_MAX];
    snprintf(path, sizeof path, "%s/cpu.max", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[128] = "";
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok)
        return 0;
    buf[strcspn(buf, "\n")] = '\0';
    char *end;
    errno = 0;
    long long quota = strtoll(buf, &end, 10);
    if (end == buf || errno || quota <= 0)
        return 0; /* "max": no quota here */
    long long period = strtoll(end, &end, 10);
    if (period <= 0 || errno)
        return 0;
    snprintf(text, textlen, "%s", buf);
    long long n = quota / period;
    return n < 1 ? 1 : n > CPUS_MAX ? CPUS_MAX : (long)n;
}

/* The smallest quota from the process's cgroup up to the root; 0: none.
 * where names the cgroup that set it. */
static long cgroup_quota(const hp_cpu_probe_t *p, char *where, size_t wherelen)
{
    if (!p->cgroup_root || !p->self_cgroup)
        return 0;
    char rel[PATH_MAX];
    if (self_cgroup_path(p->self_cgroup, rel, sizeof rel) < 0)
        return 0;
    char dir[2 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s%s", p->cgroup_root, strcmp(rel, "/") ? rel : "");
    size_t root_len = strlen(p->cgroup_root);
    long best = 0;
    for (;;) {
        char text[128];
        long n = cpu_max_at(dir, text, sizeof text);
        if (n > 0 && (best == 0 || n < best)) {
            best = n;
            snprintf(where, wherelen, "cgroup cpu.max '%s' in %s", text,
                     dir[root_len] ? dir + root_len : "/");
        }
        if (strlen(dir) <= root_len)
            break;
        char *slash = strrchr(dir + root_len, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    return best;
}

int hp_cpus_granted(const hp_cpu_probe_t *p, char *why, size_t whylen)
{
    char ignored[160] = "";
    const char *v = p->slurm_cpus_on_node;
    if (v && *v) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!errno && end != v && !*end && n >= 1) {
            snprintf(why, whylen, "SLURM_CPUS_ON_NODE=%s", v);
            return clamp(n);
        }
        snprintf(ignored, sizeof ignored, " (SLURM_CPUS_ON_NODE='%.64s' is not a CPU count: "
                 "ignored)", v);
    }
    char where[PATH_MAX + 200] = "";
    long quota = cgroup_quota(p, where, sizeof where);
    if (quota > 0 && (p->affinity <= 0 || quota <= p->affinity)) {
        snprintf(why, whylen, "%s%s", where, ignored);
        return clamp(quota);
    }
    if (p->affinity > 0) {
        snprintf(why, whylen, "%d CPU%s in the affinity mask%s", p->affinity,
                 p->affinity == 1 ? "" : "s", ignored);
        return clamp(p->affinity);
    }
    snprintf(why, whylen, "no CPU count found: 1%s", ignored);
    return 1;
}
