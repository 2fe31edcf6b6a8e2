/* Splitting an input into an image and features, and fusing the features
 * back in (fuse.h). */
#include "fuse.h"

#include "layer.h"
#include "simd_int.h"

#include <string.h>

void hp_nn_split_forward(float *out, float *feat, const float *in, int B, int Di, int F)
{
    size_t D = (size_t)Di + (size_t)F;
    for (int b = 0; b < B; b++) {
        const float *r = in + (size_t)b * D;
        memcpy(out + (size_t)b * (size_t)Di, r, sizeof(float) * (size_t)Di);
        memcpy(feat + (size_t)b * (size_t)F, r + Di, sizeof(float) * (size_t)F);
    }
}

HP_NN_SIMD_CLONES
void hp_nn_fuse_forward(float *out, float *h, const float *in, const float *feat, const float *w,
                        const float *b, const hp_nn_fuse_dims_t *d)
{
    hp_nn_dense_dims_t dd = {d->B, d->F, d->Hf};
    hp_nn_dense_forward(h, feat, w, b, &dd);
    size_t n = (size_t)d->B * (size_t)d->Hf, O = (size_t)d->K + (size_t)d->Hf;
    hp_nn_relu_forward(h, h, n);
    for (int r = 0; r < d->B; r++) {
        memcpy(out + (size_t)r * O, in + (size_t)r * (size_t)d->K, sizeof(float) * (size_t)d->K);
        memcpy(out + (size_t)r * O + d->K, h + (size_t)r * (size_t)d->Hf,
               sizeof(float) * (size_t)d->Hf);
    }
}

HP_NN_SIMD_CLONES
void hp_nn_fuse_backward(float *din, float *dw, float *db, float *dh, const float *dout,
                         const float *feat, const float *h, const float *w,
                         const hp_nn_fuse_dims_t *d)
{
    size_t O = (size_t)d->K + (size_t)d->Hf;
    for (int r = 0; r < d->B; r++) {
        const float *g = dout + (size_t)r * O;
        if (din)
            memcpy(din + (size_t)r * (size_t)d->K, g, sizeof(float) * (size_t)d->K);
        memcpy(dh + (size_t)r * (size_t)d->Hf, g + d->K, sizeof(float) * (size_t)d->Hf);
    }
    size_t n = (size_t)d->B * (size_t)d->Hf;
    hp_nn_relu_backward(dh, dh, h, n);
    hp_nn_dense_dims_t dd = {d->B, d->F, d->Hf};
    hp_nn_dense_backward(NULL, dw, db, dh, feat, w, &dd);
}
