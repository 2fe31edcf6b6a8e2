/* engine_kernel_bench: the training engine in-process, without PyTorch and
 * without process start-up, for profiling the kernels and measuring how
 * slots scale. Built by `cmake --build build --target engine_kernel_bench`
 * (not part of the default build); engine_slots_bench.py runs it.
 *
 *   engine_kernel_bench conv [REPS]
 *       LeNet's conv layers (and two larger shapes) at batch 128: forward
 *       and backward ms per batch for each algorithm, best of REPS, and
 *       which one hp_nn_conv2d_pick takes.
 *   engine_kernel_bench step MODEL [SECONDS]
 *       hp_trainer_step on random data (batch 128, Adam), samples/s.
 *   engine_kernel_bench adam [REPS]
 *       One Adam step with the gradients zeroed (hp_opt_step_zero) over
 *       the MLP 784-256-10's 203,530 parameters: its parameters, moments
 *       and gradients (3.3 MB) from wherever the last step left them, and
 *       as 50 steps over one 4,096-parameter block that stays in L1/L2, both
 *       in us per 203,530 parameters, and the first's bytes per second
 *       (8 floats a parameter: p, g, m, v read, p, m, v written, g zeroed):
 *       how much of the MLP step's update is the memory's and how much the
 *       arithmetic's.
 *   engine_kernel_bench slots N MODEL [TRAIN_SIZE] [EPOCHS]
 *       N hp_train_run calls at once on N threads with one BLAS thread
 *       each and one shared data cache: what hpworker --slots N does. One
 *       line per slot with its median epoch samples/s, then the sum.
 */
#include "cache.h"
#include "clock.h"
#include "gemm.h"
#include "layer.h"
#include "optim.h"
#include "train.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static float *falloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return p;
}

static void conv_shape(const char *name, int B, int C, int H, int W, int K, int k, int pad,
                       int reps)
{
    hp_nn_conv2d_dims_t d = {B, C, H, W, K, k, k, pad, 0, 0};
    hp_nn_conv2d_dims(&d);
    size_t ni = (size_t)B * C * H * W, no = (size_t)B * K * d.Ho * d.Wo, nw = (size_t)K * C * k * k;
    float *in = falloc(ni), *out = falloc(no), *w = falloc(nw), *b = falloc((size_t)K);
    float *din = falloc(ni), *dw = falloc(nw), *db = falloc((size_t)K), *dout = falloc(no);
    float *s = falloc(hp_nn_conv2d_scratch_size(&d));
    printf("%-8s C=%-3d K=%-3d %dx%d k=%d pad=%d  pick=%s\n", name, C, K, H, W, k, pad,
           hp_nn_conv2d_pick(&d) == HP_NN_CONV_DIRECT ? "direct" : "gemm");
    for (int a = HP_NN_CONV_GEMM; a <= HP_NN_CONV_DIRECT; a++) {
        double bf = 1e9, bb = 1e9, bw = 1e9;
        for (int r = 0; r < reps; r++) {
            double t0 = hp_clock_now();
            hp_nn_conv2d_forward_algo((hp_nn_conv_algo_t)a, out, in, w, b, s, &d);
            double t1 = hp_clock_now();
            hp_nn_conv2d_backward_algo((hp_nn_conv_algo_t)a, din, dw, db, dout, in, w, s, &d);
            double t2 = hp_clock_now();
            hp_nn_conv2d_backward_algo((hp_nn_conv_algo_t)a, NULL, dw, db, dout, in, w, s, &d);
            double t3 = hp_clock_now();
            bf = t1 - t0 < bf ? t1 - t0 : bf;
            bb = t2 - t1 < bb ? t2 - t1 : bb;
            bw = t3 - t2 < bw ? t3 - t2 : bw;
        }
        double macs = (double)no * C * k * k;
        printf("  %-6s forward %7.3f ms (%5.1f GFLOP/s)  backward %7.3f ms  backward w/o din %7.3f ms\n",
               a == HP_NN_CONV_GEMM ? "gemm" : "direct", bf * 1e3, 2 * macs / bf * 1e-9, bb * 1e3,
               bw * 1e3);
    }
    free(in), free(out), free(w), free(b), free(din), free(dw), free(db), free(dout), free(s);
}

static int conv_mode(int reps)
{
    conv_shape("lenet1", 128, 1, 28, 28, 6, 5, 2, reps);
    conv_shape("lenet2", 128, 6, 14, 14, 16, 5, 0, reps);
    conv_shape("mid", 128, 16, 16, 16, 32, 3, 1, reps);
    conv_shape("wide", 32, 64, 16, 16, 64, 3, 1, reps);
    conv_shape("deep", 32, 128, 8, 8, 128, 3, 1, reps);
    conv_shape("big", 16, 32, 32, 32, 64, 3, 1, reps);
    return 0;
}

static void config(hp_train_config_t *cfg, const char *model)
{
    char err[256];
    hp_train_config_defaults(cfg);
    if (hp_train_config_set(cfg, "model", model, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(2);
    }
    cfg->threads = 1;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* samples/s by the wall clock over the whole run, by the best 20-step
 * window, and by this thread's CPU time (what the steps cost when they
 * run; the least disturbed by other processes on a shared machine) */
static int step_mode(const char *model, double seconds)
{
    hp_train_config_t cfg;
    config(&cfg, model);
    hp_nn_set_threads(1);
    hp_trainer_t t;
    char err[256];
    int c = 1, h = 28, w = 28;
    if (hp_trainer_init(&t, &cfg, c, h, w, 10, HP_TASK_CLASSIFY, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int B = cfg.batch_size;
    for (size_t i = 0; i < (size_t)B * 784; i++)
        t.model.input[i] = (float)((i * 2654435761u) % 1000) * 2e-3f - 1.0f;
    for (int i = 0; i < B; i++)
        t.labels[i] = i % 10;
    long steps = 0;
    double t0 = hp_clock_now(), c0 = cpu_now(), best = 0;
    double chunk0 = t0;
    long chunk_steps = 0;
    while (hp_clock_now() - t0 < seconds) {
        if (hp_trainer_step(&t, B, 1e-4f, NULL, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        steps++;
        if (++chunk_steps == 20) { /* best 20-step window: other load hits it least */
            double now = hp_clock_now(), sps = chunk_steps * (double)B / (now - chunk0);
            best = sps > best ? sps : best;
            chunk0 = now;
            chunk_steps = 0;
        }
    }
    double dt = hp_clock_now() - t0, dc = cpu_now() - c0;
    printf("model=%s samples_per_sec=%.0f best_window=%.0f cpu_samples_per_sec=%.0f steps=%ld "
           "params=%zu\n",
           model, steps * (double)B / dt, best, steps * (double)B / dc, steps, t.model.nparams);
    hp_trainer_fini(&t);
    return 0;
}

typedef struct slot {
    hp_train_config_t cfg;
    double sps[64], cpu_sps[64], cpu_last;
    int n, ncpu;
    double ntrain;
    int rc;
    char err[512];
} slot_t;

static int on_epoch(const hp_train_epoch_t *m, void *data)
{
    slot_t *s = data;
    if (s->n < 64)
        s->sps[s->n++] = m->samples_per_sec;
    /* CPU time from one epoch's end to the next: that epoch's training
     * and its (small) validation pass, counted only while this thread ran,
     * so it shows what other slots cost it (caches, memory, locks) apart
     * from the cores other processes take */
    double now = cpu_now();
    if (s->n > 1 && s->ncpu < 64)
        s->cpu_sps[s->ncpu++] = s->ntrain / (now - s->cpu_last);
    s->cpu_last = now;
    return 0;
}

static void *slot_main(void *p)
{
    slot_t *s = p;
    hp_train_result_t res;
    s->rc = hp_train_run(&s->cfg, on_epoch, s, &res, s->err, sizeof s->err);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int slots_mode(int n, const char *model, const char *train_size, const char *epochs)
{
    hp_data_cache_t *cache = hp_data_cache_new(0);
    slot_t *s = calloc((size_t)n, sizeof *s);
    pthread_t *thr = calloc((size_t)n, sizeof *thr);
    if (!cache || !s || !thr)
        return 1;
    char err[256];
    for (int i = 0; i < n; i++) {
        config(&s[i].cfg, model);
        s[i].ntrain = atof(train_size);
        s[i].cfg.cache = cache;
        s[i].cfg.stream = (uint64_t)i;
        if (hp_train_config_set(&s[i].cfg, "train_size", train_size, err, sizeof err) < 0 ||
            hp_train_config_set(&s[i].cfg, "epochs", epochs, err, sizeof err) < 0 ||
            hp_train_config_set(&s[i].cfg, "val_size", "1000", err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
    }
    /* what one slot allocates for its model: the trainer's blocks
     * (parameters, gradients, optimizer state, activations and their
     * gradients, loss buffers); the data set is shared through the cache */
    {
        hp_trainer_t t;
        if (hp_trainer_init(&t, &s[0].cfg, 1, 28, 28, 10, HP_TASK_CLASSIFY, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        size_t np = t.model.nparams;
        size_t bytes = (4 * np + t.model.nbufs) * sizeof(float) + t.model.act_bytes +
                       t.model.dact_bytes;
        printf("model=%s params=%zu model_bytes_per_slot=%zu (params+grads+adam %zu, "
               "activations %zu, their gradients %zu)\n",
               model, np, bytes, 4 * np * sizeof(float), t.model.act_bytes, t.model.dact_bytes);
        hp_trainer_fini(&t);
    }
    for (int i = 0; i < n; i++)
        pthread_create(&thr[i], NULL, slot_main, &s[i]);
    double total = 0, cpu_total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(thr[i], NULL);
        if (s[i].rc < 0) {
            fprintf(stderr, "slot %d: %s\n", i, s[i].err);
            return 1;
        }
        qsort(s[i].sps, (size_t)s[i].n, sizeof(double), cmp_d);
        double med = s[i].sps[s[i].n / 2], cmed = 0;
        if (s[i].ncpu) {
            qsort(s[i].cpu_sps, (size_t)s[i].ncpu, sizeof(double), cmp_d);
            cmed = s[i].cpu_sps[s[i].ncpu / 2];
        }
        printf("slot=%d samples_per_sec=%.0f cpu_samples_per_sec=%.0f\n", i, med, cmed);
        total += med;
        cpu_total += cmed;
    }
    printf("slots=%d model=%s total_samples_per_sec=%.0f cpu_samples_per_sec_per_slot=%.0f\n", n,
           model, total, cpu_total / n);
    hp_data_cache_free(cache);
    free(s);
    free(thr);
    return 0;
}

static int adam_mode(int reps)
{
    const size_t n = 203530, small = 4096;
    float *p = falloc(n), *g = falloc(n);
    hp_opt_config_t oc = {HP_OPT_ADAM, 0.0f, 0.9f, 0.999f, 1e-8f, 0.0f};
    hp_opt_t o;
    char err[128];
    if (hp_opt_init(&o, &oc, n, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    /* the gradients are refilled between steps, as a backward pass would */
    double whole = 1e9, part = 1e9;
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++)
            g[i] = 1e-3f * (float)(i % 17);
        double t0 = hp_clock_now();
        hp_opt_step_zero(&o, p, g, 3e-4f);
        double t = hp_clock_now() - t0;
        whole = t < whole ? t : whole;
        for (size_t i = 0; i < small; i++)
            g[i] = 1e-3f * (float)(i % 17);
        hp_opt_t os = o;
        os.n = small;
        t0 = hp_clock_now();
        for (int k = 0; k < 50; k++)
            hp_opt_step(&os, p, g, 3e-4f);
        t = (hp_clock_now() - t0) / 50;
        part = t < part ? t : part;
    }
    double us = whole * 1e6, us_small = part * 1e6 * (double)n / (double)small;
    printf("adam params=%zu us=%.1f us_in_cache=%.1f gbytes_per_sec=%.1f\n", n, us, us_small,
           (double)n * 8 * sizeof(float) / whole * 1e-9);
    hp_opt_fini(&o);
    free(p);
    free(g);
    return 0;
}

int main(int argc, char **argv)
{
    hp_nn_set_threads(1);
    if (argc >= 2 && !strcmp(argv[1], "conv"))
        return conv_mode(argc > 2 ? atoi(argv[2]) : 20);
    if (argc >= 3 && !strcmp(argv[1], "step")) {
        hp_nn_set_threads(1);
        return step_mode(argv[2], argc > 3 ? atof(argv[3]) : 5.0);
    }
    if (argc >= 2 && !strcmp(argv[1], "adam"))
        return adam_mode(argc > 2 ? atoi(argv[2]) : 50);
    if (argc >= 4 && !strcmp(argv[1], "slots"))
        return slots_mode(atoi(argv[2]), argv[3], argc > 4 ? argv[4] : "20000",
                          argc > 5 ? argv[5] : "3");
    fprintf(stderr, "usage: engine_kernel_bench conv [REPS] | step MODEL [SECONDS] | adam [REPS] |"
                    " slots N MODEL [TRAIN_SIZE] [EPOCHS]\n");
    return 2;
}
