/* "Compare to a known result": the simplest models a trial must beat,
 * computed on the run's own splits so the numbers are comparable.
 *
 * Cost on full Fashion-MNIST (54000 training images, 10000 test): the
 * majority class is one pass over the labels; the linear model is 5 epochs
 * (the 2000-step floor) of a 784x10 dense layer, Adam, batch 128: measured
 * 0.35 s on one core (a 1-epoch MLP run took 0.85 s). */
#include "models_int.h"
#include "train.h"

#include "err.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* at least 3 epochs and 2000 steps: 3 epochs is enough on full
 * Fashion-MNIST (1266 steps), a small CSV needs the step floor to get near
 * its least-squares fit with this learning rate */
#define LINEAR_EPOCHS 3
#define LINEAR_MIN_STEPS 2000
#define LINEAR_LR 1e-3
/* regression targets are not standardized: a coefficient of a few units
 * takes Adam 1e-3 longer than the step floor to reach */
#define LINEAR_LR_REGRESS 1e-2

static int majority(const hp_dataset_t *train, const uint32_t *tr, size_t ntr,
                    const hp_dataset_t *test, const uint32_t *te, size_t nte, double *out,
                    char *err, size_t errlen)
{
    *out = NAN;
    if (ntr == 0 || nte == 0)
        return 0;
    if (train->task == HP_TASK_REGRESS) {
        double mu = 0, se = 0;
        for (size_t i = 0; i < ntr; i++)
            mu += train->yt[tr[i]];
        mu /= (double)ntr;
        for (size_t i = 0; i < nte; i++) {
            double e = (double)test->yt[te[i]] - mu;
            se += e * e;
        }
        *out = sqrt(se / (double)nte);
        return 0;
    }
    long *count = calloc((size_t)train->nclasses, sizeof *count);
    if (!count)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    for (size_t i = 0; i < ntr; i++)
        count[train->y[tr[i]]]++;
    int best = 0;
    for (int k = 1; k < train->nclasses; k++)
        if (count[k] > count[best])
            best = k;
    free(count);
    size_t wrong = 0;
    for (size_t i = 0; i < nte; i++)
        wrong += test->y[te[i]] != best;
    *out = (double)wrong / (double)nte;
    return 0;
}

static int linear(const hp_train_config_t *cfg, const hp_dataset_t *train, const uint32_t *tr,
                  size_t ntr, const hp_dataset_t *test, const uint32_t *te, size_t nte,
                  const hp_norm_t *norm, double *out, char *err, size_t errlen)
{
    *out = NAN;
    if (ntr == 0 || nte == 0)
        return 0;
    hp_train_config_t lc;
    hp_train_config_defaults(&lc);
    memcpy(lc.model, "linear", sizeof "linear");
    lc.lr = train->task == HP_TASK_REGRESS ? LINEAR_LR_REGRESS : LINEAR_LR;
    lc.seed = cfg->seed;
    lc.stream = 0; /* the same model for every trial of a study */
    lc.threads = cfg->threads;
    hp_trainer_t t;
    int rc = hp_trainer_init(&t, &lc, train->c, train->h, train->w, train->nclasses, train->task,
                             err, errlen);
    if (rc < 0)
        return rc;
    uint32_t *order = malloc(sizeof *order * ntr);
    if (!order) {
        hp_trainer_fini(&t);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    memcpy(order, tr, sizeof *order * ntr);
    hp_rng_t shuf;
    hp_rng_init(&shuf, cfg->seed, 0xba5e);
    int B = lc.batch_size, finite = 1;
    long per_epoch = (long)((ntr + (size_t)B - 1) / (size_t)B);
    long epochs = (LINEAR_MIN_STEPS + per_epoch - 1) / per_epoch;
    epochs = epochs > LINEAR_EPOCHS ? epochs : LINEAR_EPOCHS;
    for (long ep = 0; ep < epochs && finite && rc == 0; ep++) {
        hp_rng_shuffle_u32(&shuf, order, (uint32_t)ntr);
        for (size_t i = 0; i < ntr; i += (size_t)B) {
            if (cfg->cancel && atomic_load_explicit(cfg->cancel, memory_order_relaxed)) {
                rc = hp_errf(err, errlen, HP_ECANCELED, "cancelled while training the baselines");
                break;
            }
            int b = ntr - i < (size_t)B ? (int)(ntr - i) : B;
            hp_data_gather(t.model.input, t.labels, t.targets, train, order + i, b, norm, NULL,
                           NULL);
            char e[256];
            if (hp_trainer_step(&t, b, (float)lc.lr, NULL, NULL, e, sizeof e) < 0) {
                finite = 0; /* a baseline that diverges is no known result */
                break;
            }
        }
    }
    if (rc == 0 && finite) {
        double loss;
        hp_trainer_evaluate(&t, B, test, te, nte, norm, &loss, out);
    }
    free(order);
    hp_trainer_fini(&t);
    return rc;
}

int hp_train_baselines(const hp_train_config_t *cfg, const hp_dataset_t *train, const uint32_t *tr,
                       size_t ntr, const hp_dataset_t *test, const uint32_t *te, size_t nte,
                       const hp_norm_t *norm, hp_train_result_t *res, char *err, size_t errlen)
{
    int rc = majority(train, tr, ntr, test, te, nte, &res->baseline_majority_error, err, errlen);
    if (rc == 0)
        rc = linear(cfg, train, tr, ntr, test, te, nte, norm, &res->baseline_linear_error, err,
                    errlen);
    return rc;
}
