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

/* Does a /proc/self/cgroup line's controller list ("cpu,cpuacct") name
 * the cpu controller? */
static int has_cpu_controller(const char *list, size_t n)
{
    for (const char *p = list, *e = list + n; p < e;) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        size_t len = c ? (size_t)(c - p) : (size_t)(e - p);
        if (len == 3 && !strncmp(p, "cpu", 3))
            return 1;
        p += len + 1;
    }
    return 0;
}

/* This process's cgroup path ("/a/b"): cgroup v2's "0::/a/b" line, or
 * with v1 the line of the cpu controller ("4:cpu,cpuacct:/a/b"). */
static int self_cgroup_path(const char *file, int v1, char *out, size_t outlen)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[PATH_MAX + 64];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        int match = v1 ? has_cpu_controller(c1 + 1, (size_t)(c2 - c1 - 1))
                       : !strncmp(line, "0::", 3);
        if (match && snprintf(out, outlen, "%s", c2 + 1) < (int)outlen)
            found = 0;
    }
    fclose(f);
    return found;
}

/* the first line of DIR/NAME, without its newline; 0 when unreadable */
static int read_line(const char *dir, const char *name, char *buf, size_t len)
{
    char path[3 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* QUOTA / PERIOD as whole CPUs (at least 1); 0 for no quota ("max", -1) */
static long whole_cpus(const char *quota_s, const char *period_s)
{
    char *end;
    errno = 0;
    long long quota = strtoll(quota_s, &end, 10);
    if (end == quota_s || errno || quota <= 0)
        return 0;
    long long period = strtoll(period_s, &end, 10);
    if (end == period_s || errno || period <= 0)
        return 0;
    long long n = quota / period;
    return n < 1 ? 1 : n > CPUS_MAX ? CPUS_MAX : (long)n;
}

/* The quota set in DIR as whole CPUs, 0 for none: v2's cpu.max
 * ("QUOTA PERIOD"), v1's cpu.cfs_quota_us and cpu.cfs_period_us. */
static long quota_at(const char *dir, int v1, char *text, size_t textlen)
{
    char q[128], per[128];
    if (!v1) {
        if (!read_line(dir, "cpu.max", q, sizeof q))
            return 0;
        const char *sp = strchr(q, ' ');
        long n = sp ? whole_cpus(q, sp + 1) : 0;
        if (n)
            snprintf(text, textlen, "cpu.max '%s'", q);
        return n;
    }
    if (!read_line(dir, "cpu.cfs_quota_us", q, sizeof q) ||
        !read_line(dir, "cpu.cfs_period_us", per, sizeof per))
        return 0;
    long n = whole_cpus(q, per);
    if (n)
        snprintf(text, textlen, "cpu.cfs_quota_us %s / cpu.cfs_period_us %s", q, per);
    return n;
}

/* The smallest quota from ROOT/REL up to ROOT; 0: none. where names the
 * cgroup that set it. (A v1 container sees its own cgroup at ROOT while
 * REL is the host's path: the walk up reaches it.) */
static long walk_up(const char *root, const char *rel, int v1, char *where, size_t wherelen)
{
    char dir[2 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s%s", root, strcmp(rel, "/") ? rel : "");
    size_t root_len = strlen(root);
    long best = 0;
    for (;;) {
        char text[300];
        long n = quota_at(dir, v1, text, sizeof text);
        if (n > 0 && (best == 0 || n < best)) {
            best = n;
            snprintf(where, wherelen, "cgroup%s %s in %s", v1 ? " v1" : "", text,
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

/* The cgroup CPU quota: v2 first, else v1's cpu controller (mounted as
 * cpu,cpuacct or cpu). */
static long cgroup_quota(const hp_cpu_probe_t *p, char *where, size_t wherelen)
{
    if (!p->cgroup_root || !p->self_cgroup)
        return 0;
    char rel[PATH_MAX];
    if (self_cgroup_path(p->self_cgroup, 0, rel, sizeof rel) == 0) {
        long n = walk_up(p->cgroup_root, rel, 0, where, wherelen);
        if (n)
            return n;
    }
    if (self_cgroup_path(p->self_cgroup, 1, rel, sizeof rel) < 0)
        return 0;
    static const char *const mounts[] = {"cpu,cpuacct", "cpu"};
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        char root[PATH_MAX + 32];
        snprintf(root, sizeof root, "%s/%s", p->cgroup_root, mounts[i]);
        long n = walk_up(root, rel, 1, where, wherelen);
        if (n)
            return n;
    }
    return 0;
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
    char where[2 * PATH_MAX + 400] = "";
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
