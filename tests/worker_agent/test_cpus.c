/* Slots sized from the CPUs granted (worker/agent/cpus.c), against fake
 * SLURM_CPUS_ON_NODE values and a fake cgroup tree in a temp dir: the
 * cgroup root and /proc/self/cgroup are the probe's to replace. */
#include "cpus.h"
#include "hp_check.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX], self[PATH_MAX + 16];

static void put(const char *rel, const char *text)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    /* make the parent directories */
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/hp_test_cpus_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(self, sizeof self, "%s/self_cgroup", root);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

static hp_cpu_probe_t probe(const char *slurm, int affinity)
{
    return (hp_cpu_probe_t){.slurm_cpus_on_node = slurm, .cgroup_root = root,
                            .self_cgroup = self, .affinity = affinity};
}

START_TEST(test_slurm_wins)
{
    put("self_cgroup", "0::/job\n");
    put("job/cpu.max", "100000 100000\n");
    hp_cpu_probe_t p = probe("6", 16);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 6);
    ck_assert_str_eq(why, "SLURM_CPUS_ON_NODE=6");
}
END_TEST

START_TEST(test_bad_slurm_value_is_ignored_and_said)
{
    put("self_cgroup", "0::/\n");
    hp_cpu_probe_t p = probe("four", 3);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 3);
    ck_assert_msg(strstr(why, "3 CPUs in the affinity mask") &&
                      strstr(why, "SLURM_CPUS_ON_NODE='four' is not a CPU count: ignored"),
                  "%s", why);
    p = probe("0", 3);
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 3);
}
END_TEST

START_TEST(test_cgroup_quota_rounds_down)
{
    /* a v1 line before the v2 one, as on a hybrid system */
    put("self_cgroup", "3:cpu:/ignored\n0::/kubepods/pod1/ctr\n");
    put("kubepods/pod1/ctr/cpu.max", "250000 100000\n");
    hp_cpu_probe_t p = probe(NULL, 8);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 2);
    ck_assert_msg(strstr(why, "cgroup cpu.max '250000 100000' in /kubepods/pod1/ctr"), "%s", why);
    /* half a CPU is still one slot */
    put("kubepods/pod1/ctr/cpu.max", "50000 100000\n");
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 1);
}
END_TEST

START_TEST(test_cgroup_smallest_ancestor_wins)
{
    put("self_cgroup", "0::/a/b/c\n");
    put("a/cpu.max", "300000 100000\n");
    put("a/b/cpu.max", "max 100000\n");
    put("a/b/c/cpu.max", "800000 100000\n");
    hp_cpu_probe_t p = probe(NULL, 64);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 3);
    ck_assert_str_eq(why, "cgroup cpu.max '300000 100000' in /a");
}
END_TEST

START_TEST(test_container_root_cgroup)
{
    /* inside a cgroup namespace the container is "/" and its cpu.max sits
     * at the mount's top */
    put("self_cgroup", "0::/\n");
    put("cpu.max", "400000 100000\n");
    hp_cpu_probe_t p = probe(NULL, 32);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 4);
    ck_assert_msg(strstr(why, "in /"), "%s", why);
}
END_TEST

START_TEST(test_affinity_caps_quota)
{
    put("self_cgroup", "0::/x\n");
    put("x/cpu.max", "1600000 100000\n");
    hp_cpu_probe_t p = probe(NULL, 2);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 2);
    ck_assert_msg(strstr(why, "2 CPUs in the affinity mask"), "%s", why);
}
END_TEST

START_TEST(test_no_cgroup_uses_affinity)
{
    /* no cgroup file at all (cgroup v1 only, or /proc not mounted) */
    hp_cpu_probe_t p = probe(NULL, 5);
    char why[512];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 5);
    put("self_cgroup", "0::/y\n");
    put("y/cpu.max", "max 100000\n");
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 5);
    put("y/cpu.max", "garbage\n");
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 5);
    p.affinity = 0;
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 1);
    ck_assert_msg(strstr(why, "no CPU count found"), "%s", why);
    /* more CPUs than a worker has slots for */
    p = probe("5000", 0);
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 1024);
}
END_TEST

START_TEST(test_cgroup_v1_quota)
{
    /* cgroup v1 (older Docker and Kubernetes nodes): the cpu controller's
     * line and its cfs files; -1 means no quota */
    put("self_cgroup", "5:memory:/m\n4:cpu,cpuacct:/kubepods/pod2/ctr\n1:name=systemd:/s\n");
    put("cpu,cpuacct/kubepods/pod2/ctr/cpu.cfs_quota_us", "300000\n");
    put("cpu,cpuacct/kubepods/pod2/ctr/cpu.cfs_period_us", "100000\n");
    put("cpu,cpuacct/kubepods/cpu.cfs_quota_us", "-1\n");
    put("cpu,cpuacct/kubepods/cpu.cfs_period_us", "100000\n");
    hp_cpu_probe_t p = probe(NULL, 16);
    char why[1024];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 3);
    ck_assert_str_eq(why, "cgroup v1 cpu.cfs_quota_us 300000 / cpu.cfs_period_us 100000 in "
                          "/kubepods/pod2/ctr");
}
END_TEST

START_TEST(test_cgroup_v1_container_sees_its_own_cgroup_at_the_mount)
{
    /* a v1 container without a cgroup namespace: /proc/self/cgroup names
     * the host's path, the mount shows the container's own cgroup */
    put("self_cgroup", "3:cpu:/docker/0123abcd\n");
    put("cpu/cpu.cfs_quota_us", "150000\n");
    put("cpu/cpu.cfs_period_us", "50000\n");
    hp_cpu_probe_t p = probe(NULL, 8);
    char why[1024];
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 3);
    ck_assert_msg(strstr(why, "cgroup v1 ") && strstr(why, " in /"), "%s", why);
    /* v2 wins where both are there */
    put("self_cgroup", "3:cpu:/docker/0123abcd\n0::/v2\n");
    put("v2/cpu.max", "100000 100000\n");
    ck_assert_int_eq(hp_cpus_granted(&p, why, sizeof why), 1);
}
END_TEST

START_TEST(test_default_probe_is_sane)
{
    hp_cpu_probe_t p;
    hp_cpu_probe_default(&p);
    ck_assert_int_ge(p.affinity, 1);
    char why[512];
    int n = hp_cpus_granted(&p, why, sizeof why);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, 1024);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cpus");
    TCase *tc = tcase_create("cpus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_slurm_wins);
    tcase_add_test(tc, test_bad_slurm_value_is_ignored_and_said);
    tcase_add_test(tc, test_cgroup_quota_rounds_down);
    tcase_add_test(tc, test_cgroup_smallest_ancestor_wins);
    tcase_add_test(tc, test_container_root_cgroup);
    tcase_add_test(tc, test_affinity_caps_quota);
    tcase_add_test(tc, test_no_cgroup_uses_affinity);
    tcase_add_test(tc, test_cgroup_v1_quota);
    tcase_add_test(tc, test_cgroup_v1_container_sees_its_own_cgroup_at_the_mount);
    tcase_add_test(tc, test_default_probe_is_sane);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
