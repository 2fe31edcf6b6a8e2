/*
 * netns.h — a small network of Linux network namespaces for the partition
 * tests, built with iproute2 (`ip netns`, `ip link`, veth pairs, a bridge):
 *
 *     coordinator namespace   bridge hpbr 10.77.0.1/24
 *        |  veth TAGc1 ... TAGcN   (the coordinator's ends: down = cut)
 *     worker namespaces 1..N  TAGw1 10.77.0.11/24, TAGw2 10.77.0.12/24, ...
 *
 * Every namespace and interface name carries the test process's pid, so
 * suites run in parallel, and namespaces a killed test left behind are
 * swept away by the next build.
 *
 *     char why[256];
 *     if (hp_net_usable(why, sizeof why) != 0) { puts(why); return 77; }
 *     hp_net_t n;
 *     hp_net_build(&n, 3, h.dir);                         // fails the test on error
 *     hp_harness_spawn_wrapped(&h, hp_net_exec(&n, 1), "hpworker", ...);
 *     hp_net_link(&n, 1, 0);                              // cut worker 1 off
 *     hp_net_destroy(&n);
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN). Not thread-safe.
 */
#ifndef HP_TEST_NETNS_H
#define HP_TEST_NETNS_H

#include <stddef.h>

#define HP_NET_MAX_WORKERS 8
#define HP_NET_COORD_ADDR "10.77.0.1"

typedef struct hp_net {
    char coord[32];                       /* the coordinator's namespace */
    char worker[HP_NET_MAX_WORKERS][32];  /* worker i's namespace is worker[i - 1] */
    char cveth[HP_NET_MAX_WORKERS][16];   /* the coordinator's end of worker i's link */
    char wveth[HP_NET_MAX_WORKERS][16];   /* the worker's end */
    int nworkers;
    char log[600];                        /* what the commands printed */
    const char *exec[HP_NET_MAX_WORKERS + 1][5]; /* `ip netns exec NS`, per node */
} hp_net_t;

/* hp_net_ip is the path of iproute2's ip, or NULL when it is not installed. */
const char *hp_net_ip(void);

/* hp_net_usable returns 0 when this process can build namespaces (root,
 * ip installed, `ip netns add` works), else -1 with why filled in. */
int hp_net_usable(char *why, size_t cap);

/* hp_net_build makes the coordinator namespace and nworkers worker
 * namespaces joined to it, with addresses and loopback up; the commands'
 * output goes to dir/netns.log. A failed command fails the test naming it.
 * Registers the namespaces for hp_net_teardown (and an atexit). */
void hp_net_build(hp_net_t *n, int nworkers, const char *dir);

/* hp_net_destroy deletes n's namespaces (their links go with them); safe
 * on a destroyed net. */
void hp_net_destroy(hp_net_t *n);

/* hp_net_teardown deletes every namespace this process built and did not
 * destroy: the checked teardown of a suite whose test failed midway. */
void hp_net_teardown(void);

/* hp_net_exec is the argv prefix that runs a program in node's namespace
 * (0: the coordinator's, 1..nworkers: a worker's), for
 * hp_harness_spawn_wrapped. */
const char *const *hp_net_exec(hp_net_t *n, int node);

/* hp_net_link sets the coordinator's end of worker's link down (up = 0:
 * the worker is cut off; nothing it sends arrives, nothing reaches it) or
 * up again. Fails the test when ip does. */
void hp_net_link(hp_net_t *n, int worker, int up);

/* hp_net_run runs argv (argv[0] a full path) to its end with its output
 * appended to n's log; returns its exit code. */
int hp_net_run(hp_net_t *n, const char *const *argv);

/* hp_net_netem_usable returns 0 when tc's netem qdisc can be added here
 * (probed on loopback in a scratch namespace), else -1 with why filled in
 * (this kernel lacks CONFIG_NET_SCH_NETEM, tc is missing, ...). */
int hp_net_netem_usable(char *why, size_t cap);

#endif
