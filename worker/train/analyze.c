/* Error analysis of a trained classifier: the confusion matrix and the
 * worst examples of one evaluated set (common/error_analysis.h). */
#include "models_int.h"

#include "error_analysis.h"

#include <math.h>
#include <string.h>

/* the image part of sample i as 8-bit pixels: an image dataset's bytes as
 * stored; float pixels (a CSV's image columns) scaled from their own
 * range to 0..255 */
static void sample_pixels(uint8_t *px, size_t npx, const hp_dataset_t *ds, size_t i)
{
    if (ds->x8) {
        memcpy(px, ds->x8 + i * ds->dim, npx);
        return;
    }
    const float *p = ds->xf + i * ds->dim;
    float lo = p[0], hi = p[0];
    for (size_t j = 1; j < npx; j++) {
        lo = p[j] < lo ? p[j] : lo;
        hi = p[j] > hi ? p[j] : hi;
    }
    float s = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    for (size_t j = 0; j < npx; j++)
        px[j] = (uint8_t)((p[j] - lo) * s + 0.5f);
}

void hp_train_analyze(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds, const uint32_t *idx,
                      size_t n, const hp_norm_t *norm, hp_ea_t *ea)
{
    hp_ea_reset(ea);
    int K = t->nout;
    size_t npx = hp_ea_pixel_bytes(ea);
    hp_nn_set_training(&t->model, 0);
    for (size_t i = 0; i < n; i += (size_t)Bmax) {
        int B = n - i < (size_t)Bmax ? (int)(n - i) : Bmax;
        hp_data_gather(t->model.input, t->labels, NULL, ds, idx + i, B, norm, NULL, NULL);
        const float *out = hp_nn_forward(&t->model, B);
        for (int b = 0; b < B; b++) {
            const float *z = out + (size_t)b * (size_t)K;
            int pred = 0;
            for (int k = 1; k < K; k++)
                if (z[k] > z[pred])
                    pred = k;
            double s = 0;
            for (int k = 0; k < K; k++)
                s += exp((double)(z[k] - z[pred]));
            int y = t->labels[b];
            /* cross-entropy from the logits: log-sum-exp minus the label's */
            float loss = (float)(log(s) + (double)(z[pred] - z[y < K && y >= 0 ? y : 0]));
            int at = hp_ea_add(ea, idx[i + (size_t)b], y, pred, loss);
            if (at >= 0 && npx)
                sample_pixels(hp_ea_pixels(ea, (size_t)at), npx, ds, idx[i + (size_t)b]);
        }
    }
}
