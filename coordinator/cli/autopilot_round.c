/* A round of `hpsearch autopilot` as a study spec (see autopilot_round.h). */
#include "autopilot_round.h"

#include <math.h>
#include <stdio.h>

#define MAX_TRIALS_PER_WORKER 4
#define MAX_TRIALS 24
#define LR_MIN 1e-5
#define LR_MAX 3e-2

void hp_ap_round_size(hp_ap_round_t *r, double share_s, double est_trial_s, int epochs,
                      int workers)
{
    if (workers < 1)
        workers = 1;
    r->epochs = epochs < 1 ? 1 : epochs;
    if (r->search == HP_AP_SEARCH_SIMPLE) {
        r->max_trials = 1;
        return;
    }
    uint64_t cap = (uint64_t)workers * MAX_TRIALS_PER_WORKER;
    if (r->search == HP_AP_SEARCH_CONFIRM)
        cap = workers < 2 ? 2 : (uint64_t)workers;
    if (cap > MAX_TRIALS)
        cap = MAX_TRIALS;
    if (est_trial_s <= 0) {
        r->max_trials = workers < 2 ? 2 : (uint64_t)workers;
        if (r->max_trials > cap)
            r->max_trials = cap;
        return;
    }
    double fit = share_s * workers / est_trial_s; /* trials of `epochs` that fit */
    if (fit < workers && r->epochs > 1 && r->search != HP_AP_SEARCH_CONFIRM) {
        int e = (int)floor(r->epochs * fit / workers);
        r->epochs = e < 1 ? 1 : e;
        fit = share_s * workers / (est_trial_s * r->epochs / (epochs < 1 ? 1 : epochs));
    }
    /* whole waves of `workers` trials: a wave takes one trial's wall time
     * however many of its slots are filled, so a part wave would leave
     * workers idle for nothing (a 20-epoch trial alone, its twin not run) */
    double w = floor(fit / workers + 0.5);
    uint64_t n = (uint64_t)(w < 1 ? 1 : w) * (uint64_t)workers;
    r->max_trials = n > cap ? cap : n;
}

int hp_ap_round_plan(hp_ap_round_t *r, double left, double share, double est_trial_s, int epochs,
                     int workers, int first, int have_best)
{
    hp_ap_round_size(r, left * share, est_trial_s, epochs, workers);
    if (r->epochs < epochs)
        hp_ap_round_size(r, left, est_trial_s, epochs, workers);
    if (first)
        return 1;
    if (left <= 0)
        return 0;
    if (est_trial_s > 0 && epochs > 0 && left < est_trial_s * r->epochs / epochs)
        return 0;
    return !(have_best && r->epochs < epochs);
}

int hp_ap_affordable(hp_ap_action_t a, double trial_s, double left)
{
    return !(trial_s > 0) || trial_s <= left || left <= 0 || a == HP_AP_BAYES;
}

/* multiply-adds per training sample, forward, at the built-in models'
 * shapes on 28x28 images (a sequence: 28 steps of 28), divided by the
 * engine's relative speed on them: the MLP's large GEMMs run about 3x
 * more multiply-adds a second than the other models' smaller ones
 * (docs/benchmarks.md, engine bench), which are within 1.5x of each
 * other. Ratios across models are good to about 2x, within one model
 * better. */
static double work(const hp_ap_config_t *c)
{
    double w = c->width;
    switch (c->model) {
    case HP_MODEL_LENET: {
        /* the convolutions scale with fc1 as the round's overlay has them:
         * conv 5x5 to 28x28, pool, conv 5x5 to 10x10, pool, three dense */
        int k1, k2, f2;
        hp_ap_lenet_sizes(c, &k1, &k2, &f2);
        return 28 * 28 * 25 * k1 + 10 * 10 * 25 * k1 * k2 + 25 * k2 * w + w * f2 + f2 * 10;
    }
    /* 3 stages of 2 blocks of two 3x3 convolutions; each stage halves the
     * resolution and doubles the channels, so each costs the same */
    case HP_MODEL_RESNET: return 3 * 2 * 2 * 9 * 28 * 28 * w * w + 9 * 28 * 28 * w;
    case HP_MODEL_LSTM: return 28 * 4 * w * (w + 28);
    /* 4 blocks of two causal convolutions of kernel 3 */
    case HP_MODEL_TCN: return 28 * 4 * 2 * 3 * w * w;
    /* 2 layers: q, k, v, o and a feed-forward of 2w, and the scores */
    case HP_MODEL_ATTENTION: return 2 * 28 * (8 * w * w + 2 * 28 * w);
    default: {
        double in = c->images ? 784 : 32;
        return (in + (c->depth - 1) * w + 10) * w / 3;
    }
    }
}

/* work plus what a sample costs beside its multiply-adds (gathering,
 * the passes between layers, the loss), put at a quarter of the model's
 * default size's work: a LeNet step at batch 128 took 5.3 ms at fc1 120,
 * 17.0 at 243 and 67 at 473 (engine_step_bench --set, one core), a fixed
 * 0.5 ms and the rest in proportion to the multiply-adds. (An earlier
 * 1.5x came from trials of two workers that each ran two BLAS threads on
 * two cores, where contention, not arithmetic, set the time.) */
static double cost(const hp_ap_config_t *c)
{
    hp_ap_config_t d;
    hp_ap_config_default(&d, c->model, c->images);
    return work(c) + 0.25 * work(&d);
}

static double samples(const hp_ap_config_t *c)
{
    if (c->train_subset > 0)
        return (double)c->train_subset;
    return c->images ? 60000 * (1 - c->validation_fraction) : 0; /* Fashion-MNIST's */
}

double hp_ap_cost_scale(const hp_ap_config_t *from, const hp_ap_config_t *to, double est_s)
{
    if (!(est_s > 0))
        return 0;
    double nf = samples(from), nt = samples(to);
    if (!(nf > 0) || !(nt > 0)) {
        if (from->train_subset != to->train_subset)
            return 0;
        nf = nt = 1;
    }
    return est_s * cost(to) / cost(from) * nt / nf;
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void space(const hp_ap_round_t *r, hp_buf_t *b)
{
    const hp_ap_config_t *c = &r->cfg;
    if (r->search == HP_AP_SEARCH_SIMPLE) {
        /* one point: lr is fixed (the sanity check trains on the fixed
         * settings alone), the space holds Adam's default beta1 */
        hp_buf_puts(b, "space: {beta1: {type: categorical, values: [0.9]}}");
        return;
    }
    /* a confirm round keeps the best config's size and moves lr a little
     * (the epochs' change can move its best value a little) */
    double f = r->search == HP_AP_SEARCH_C2F     ? 10
               : r->search == HP_AP_SEARCH_BAYES ? 3
                                                 : HP_AP_CONFIRM_LR;
    double lo = clampd(c->lr / f, LR_MIN, LR_MAX), hi = clampd(c->lr * f, LR_MIN, LR_MAX);
    hp_buf_printf(b, "space: {lr: {type: float, low: %.6g, high: %.6g, log: true}", lo, hi);
    const char *sp = r->search == HP_AP_SEARCH_CONFIRM ? NULL : hp_ap_size_param(c);
    if (sp) {
        double g = r->search == HP_AP_SEARCH_C2F ? 2 : 1.5;
        int slo = (int)floor(c->width / g), shi = (int)ceil(c->width * g);
        if (slo < 8)
            slo = 8;
        if (shi <= slo)
            shi = slo + 1;
        hp_buf_printf(b, ", %s: {type: int, low: %d, high: %d, log: true}", sp, slo, shi);
    }
    hp_buf_puts(b, "}");
}

void hp_ap_round_overlay(const hp_ap_round_t *r, const hp_spec_t *user, hp_buf_t *b)
{
    const hp_ap_config_t *c = &r->cfg;
    static const char *const algo[] = {"random", "coarse-to-fine", "bayes", "random"};
    hp_buf_printf(b, "{name: %s, search: {algorithm: %s, max_trials: %llu, parallelism: %u, "
                     "seed: %llu, sanity_check: %s",
                  r->name, algo[r->search], (unsigned long long)r->max_trials, r->parallelism,
                  (unsigned long long)user->search.seed,
                  r->search == HP_AP_SEARCH_SIMPLE ? "true" : "false");
    if (r->search == HP_AP_SEARCH_C2F)
        hp_buf_printf(b, ", rounds: %d", r->max_trials >= 4 ? 2 : 1);
    if (r->search == HP_AP_SEARCH_BAYES)
        hp_buf_printf(b, ", n_initial: %llu",
                      (unsigned long long)(r->max_trials < 4 ? r->max_trials : 4));
    hp_buf_puts(b, "}, ");
    space(r, b);
    hp_buf_printf(b, ", trial: {model: %s, epochs: %d, dataset: {", hp_model_name(c->model),
                  r->epochs);
    const hp_spec_dataset_t *d = &user->trial.dataset;
    hp_buf_printf(b, "%s: '%s'", d->is_path ? "path" : "name", d->source);
    if (d->label)
        hp_buf_printf(b, ", label: '%s'", d->label);
    if (d->is_path)
        hp_buf_printf(b, ", task: %s", hp_task_name(d->task));
    hp_buf_printf(b, ", train_subset: %llu, validation_fraction: %g, normalize: %s, shift: %s",
                  (unsigned long long)c->train_subset, c->validation_fraction,
                  hp_normalize_name(d->normalize), hp_shift_name(d->shift));
    if (!d->is_path)
        hp_buf_printf(b, ", augment: %s", c->augment ? "true" : "false");
    if (c->adapt)
        hp_buf_puts(b, ", adapt: coral");
    hp_buf_puts(b, "}, fixed: {optimizer: adam, baselines: true");
    if (r->search == HP_AP_SEARCH_SIMPLE)
        hp_buf_printf(b, ", lr: %g", c->lr);
    const char *sp = r->search == HP_AP_SEARCH_SIMPLE || r->search == HP_AP_SEARCH_CONFIRM
                         ? NULL
                         : hp_ap_size_param(c);
    if (c->model == HP_MODEL_LENET) {
        int k1, k2, f2;
        hp_ap_lenet_sizes(c, &k1, &k2, &f2);
        hp_buf_printf(b, ", conv1: %d, conv2: %d, fc2: %d", k1, k2, f2);
        hp_buf_printf(b, ", fc1: %s", sp ? "~" : "");
        if (!sp)
            hp_buf_printf(b, "%d", c->width);
    } else if (c->model == HP_MODEL_RESNET || c->model == HP_MODEL_TCN ||
               c->model == HP_MODEL_ATTENTION) {
        if (sp)
            hp_buf_printf(b, ", %s: ~", sp);
        else
            hp_buf_printf(b, ", channels: %d", c->width);
    } else if (!sp) {
        hp_buf_puts(b, ", hidden: [");
        for (int i = 0; i < c->depth; i++)
            hp_buf_printf(b, "%s%d", i ? ", " : "", c->width);
        hp_buf_puts(b, "]");
    } else {
        hp_buf_puts(b, ", hidden: ~"); /* searched: a fixed one of the user's goes */
    }
    hp_buf_printf(b, ", dropout: %g, weight_decay: %g, batchnorm: %s}}}", c->dropout,
                  c->weight_decay, c->batchnorm ? "true" : "false");
}
