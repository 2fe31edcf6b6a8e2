/* netns.c — the partition tests' namespaces: built with iproute2 run as a
 * child process (the way an operator would), torn down even when a test
 * fails, and swept up after a test that was killed. */
#define _DEFAULT_SOURCE
#include "netns.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAG "hpit"

/* Namespaces this process made and has not deleted, by name: copies, so
 * the teardown never reads a test's stack frame that a failed assertion
 * left. */
static char live[(HP_NET_MAX_WORKERS + 1) * 4][32];

/* the path of an iproute2 program, or NULL */
static const char *find_exe(const char *name, char *path, size_t cap)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, cap, "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

const char *hp_net_ip(void)
{
    static char ip[64];
    return ip[0] || find_exe("ip", ip, sizeof ip) ? ip : NULL;
}

/* runs argv, its output to log (NULL: discarded); its exit code */
static int run(const char *log, const char *const *argv)
{
    hp_spawn_opts_t o = {.in = "/dev/null", .out = log ? log : "/dev/null",
                         .err = log ? log : "/dev/null", .append = 1, .mode = 0644,
                         .die_with_parent = 1};
    return hp_spawn_wait(hp_spawn(argv[0], argv + 1, &o));
}

/* writes the command line into n's log, then runs it there */
static int logged(hp_net_t *n, const char *const *argv)
{
    FILE *f = fopen(n->log, "a");
    if (f) {
        fputs("+", f);
        for (int i = 0; argv[i]; i++)
            fprintf(f, " %s", argv[i]);
        fputs("\n", f);
        fclose(f);
    }
    return run(n->log, argv);
}

/* runs argv, failing the test with the command and its output if it fails */
static void must(hp_net_t *n, const char *const *argv)
{
    int code = logged(n, argv);
    if (code == 0)
        return;
    char cmd[512] = "";
    for (int i = 0; argv[i]; i++)
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
    char *text = hp_check_slurp(n->log, 1);
    size_t len = strlen(text);
    ck_abort_msg("'%s' failed (exit %d); the end of %s:\n%s", cmd, code, n->log,
                 text + (len > 1500 ? len - 1500 : 0));
}

#define IP(n, ...) must((n), (const char *[]){hp_net_ip(), __VA_ARGS__, NULL})

static void live_add(const char *name)
{
    static int registered;
    if (!registered) {
        atexit(hp_net_teardown);
        registered = 1;
    }
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (!live[i][0]) {
            snprintf(live[i], sizeof live[i], "%s", name);
            return;
        }
    ck_abort_msg("more than %zu live namespaces", sizeof live / sizeof live[0]);
}

static void ns_delete(const char *name)
{
    if (!name[0] || !hp_net_ip())
        return;
    run(NULL, (const char *[]){hp_net_ip(), "netns", "delete", name, NULL});
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (strcmp(live[i], name) == 0)
            live[i][0] = '\0';
}

void hp_net_teardown(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i][0]) {
            char name[sizeof live[0]];
            memcpy(name, live[i], sizeof name);
            ns_delete(name);
        }
}

/* Deletes namespaces named for a test process that no longer runs (one
 * killed by ctest's timeout never ran its teardown). */
static void sweep_stale(void)
{
    DIR *d = opendir("/run/netns");
    if (!d)
        return;
    struct dirent *e;
    char stale[64][256];
    int k = 0;
    while ((e = readdir(d)) != NULL && k < 64) {
        if (strncmp(e->d_name, TAG, strlen(TAG)) != 0)
            continue;
        long pid = strtol(e->d_name + strlen(TAG), NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
            snprintf(stale[k++], sizeof stale[0], "%s", e->d_name);
    }
    closedir(d);
    for (int i = 0; i < k; i++)
        run(NULL, (const char *[]){hp_net_ip(), "netns", "delete", stale[i], NULL});
}

int hp_net_usable(char *why, size_t cap)
{
    if (geteuid() != 0) {
        snprintf(why, cap, "needs root (CAP_NET_ADMIN) to create network namespaces; "
                           "running as uid %d",
                 (int)geteuid());
        return -1;
    }
    if (!hp_net_ip()) {
        snprintf(why, cap, "iproute2's ip is not installed (deploy/install-deps.sh installs it)");
        return -1;
    }
    char name[32];
    snprintf(name, sizeof name, TAG "%dprobe", (int)getpid());
    if (run(NULL, (const char *[]){hp_net_ip(), "netns", "add", name, NULL}) != 0) {
        snprintf(why, cap, "'ip netns add' fails here (no network namespaces in this kernel or "
                           "container?)");
        return -1;
    }
    /* entering one: `ip -n` remounts /sys inside it, which needs / to be a
     * mount point (it is not in a plain chroot: "mount --make-rslave /"
     * fails there) */
    int entered = run(NULL, (const char *[]){hp_net_ip(), "-n", name, "link", "set", "lo", "up",
                                             NULL}) == 0;
    run(NULL, (const char *[]){hp_net_ip(), "netns", "delete", name, NULL});
    if (!entered) {
        snprintf(why, cap, "'ip -n NS link set lo up' fails in a new namespace here (a chroot "
                           "whose / is not a mount point cannot enter one)");
        return -1;
    }
    return 0;
}

int hp_net_netem_usable(char *why, size_t cap)
{
    char tcpath[64];
    const char *tc = find_exe("tc", tcpath, sizeof tcpath);
    if (!tc) {
        snprintf(why, cap, "tc (iproute2) is not installed");
        return -1;
    }
    char name[32], log[64];
    snprintf(name, sizeof name, TAG "%dnetem", (int)getpid());
    snprintf(log, sizeof log, "/tmp/%s.log", name);
    unlink(log);
    if (run(NULL, (const char *[]){hp_net_ip(), "netns", "add", name, NULL}) != 0) {
        snprintf(why, cap, "'ip netns add' fails");
        return -1;
    }
    run(NULL, (const char *[]){hp_net_ip(), "-n", name, "link", "set", "lo", "up", NULL});
    int code = run(log, (const char *[]){tc, "-n", name, "qdisc", "add", "dev", "lo", "root",
                                         "netem", "delay", "1ms", NULL});
    run(NULL, (const char *[]){hp_net_ip(), "netns", "delete", name, NULL});
    if (code == 0) {
        unlink(log);
        return 0;
    }
    char *text = hp_check_slurp(log, 1);
    text[strcspn(text, "\n")] = '\0';
    snprintf(why, cap,
             "'tc qdisc add dev lo root netem delay 1ms' fails: %s (this kernel was built "
             "without CONFIG_NET_SCH_NETEM, or its sch_netem module cannot be loaded)",
             text);
    free(text);
    unlink(log);
    return -1;
}

void hp_net_build(hp_net_t *n, int nworkers, const char *dir)
{
    ck_assert_int_le(nworkers, HP_NET_MAX_WORKERS);
    memset(n, 0, sizeof *n);
    sweep_stale();
    int pid = (int)getpid();
    n->nworkers = nworkers;
    snprintf(n->log, sizeof n->log, "%s/netns.log", dir);
    snprintf(n->coord, sizeof n->coord, TAG "%dc", pid);
    IP(n, "netns", "add", n->coord);
    live_add(n->coord);
    IP(n, "-n", n->coord, "link", "set", "lo", "up");
    IP(n, "-n", n->coord, "link", "add", "hpbr", "type", "bridge");
    IP(n, "-n", n->coord, "addr", "add", HP_NET_COORD_ADDR "/24", "dev", "hpbr");
    IP(n, "-n", n->coord, "link", "set", "hpbr", "up");
    for (int i = 0; i < nworkers; i++) {
        char addr[32];
        snprintf(n->worker[i], sizeof n->worker[i], TAG "%dw%d", pid, i + 1);
        snprintf(n->cveth[i], sizeof n->cveth[i], "hp%dc%d", pid, i + 1);
        snprintf(n->wveth[i], sizeof n->wveth[i], "hp%dw%d", pid, i + 1);
        snprintf(addr, sizeof addr, "10.77.0.%d/24", 11 + i);
        IP(n, "netns", "add", n->worker[i]);
        live_add(n->worker[i]);
        IP(n, "-n", n->worker[i], "link", "set", "lo", "up");
        IP(n, "link", "add", n->cveth[i], "netns", n->coord, "type", "veth", "peer", "name",
           n->wveth[i], "netns", n->worker[i]);
        IP(n, "-n", n->coord, "link", "set", n->cveth[i], "master", "hpbr");
        IP(n, "-n", n->coord, "link", "set", n->cveth[i], "up");
        IP(n, "-n", n->worker[i], "addr", "add", addr, "dev", n->wveth[i]);
        IP(n, "-n", n->worker[i], "link", "set", n->wveth[i], "up");
    }
    for (int node = 0; node <= nworkers; node++) {
        n->exec[node][0] = hp_net_ip();
        n->exec[node][1] = "netns";
        n->exec[node][2] = "exec";
        n->exec[node][3] = node == 0 ? n->coord : n->worker[node - 1];
        n->exec[node][4] = NULL;
    }
}

void hp_net_destroy(hp_net_t *n)
{
    for (int i = 0; i < n->nworkers; i++)
        ns_delete(n->worker[i]);
    ns_delete(n->coord);
    n->nworkers = 0;
    n->coord[0] = '\0';
}

const char *const *hp_net_exec(hp_net_t *n, int node)
{
    ck_assert(node >= 0 && node <= n->nworkers);
    return n->exec[node];
}

void hp_net_link(hp_net_t *n, int worker, int up)
{
    ck_assert(worker >= 1 && worker <= n->nworkers);
    IP(n, "-n", n->coord, "link", "set", n->cveth[worker - 1], up ? "up" : "down");
}

int hp_net_run(hp_net_t *n, const char *const *argv)
{
    return logged(n, argv);
}
