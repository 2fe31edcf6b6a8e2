/*
 * fuse.h — two input modalities in one layer chain: split the input into
 * an image and a feature vector, then fuse the features (through a dense
 * layer and relu) back in beside what the image branch made of the image.
 *
 *   split:  in (B, D_img + F) -> out (B, C, H, W) = the image part;
 *           feat (B, F) = the rest, kept for fuse
 *   fuse:   in (B, K), feat (B, F) -> out (B, K + Hf) = [in | relu(feat w^T + b)]
 *           w (Hf, F), b (Hf); h (B, Hf) keeps the relu output for backward
 *
 * The model (model.c) chains them: split, the image layers, fuse, the
 * head. Split is the first layer, so no gradient flows into the input.
 * Neither kernel allocates.
 */
#ifndef HP_NN_FUSE_H
#define HP_NN_FUSE_H

#include <stddef.h>

typedef struct hp_nn_fuse_dims {
    int B, K, F, Hf;
} hp_nn_fuse_dims_t;

/* hp_nn_split_forward copies each row's first Di values to out (B, Di)
 * and the F after them to feat (B, F). */
void hp_nn_split_forward(float *out, float *feat, const float *in, int B, int Di, int F);

/* hp_nn_fuse_forward: out (B, K + Hf), h (B, Hf) = relu(feat w^T + b). */
void hp_nn_fuse_forward(float *out, float *h, const float *in, const float *feat, const float *w,
                        const float *b, const hp_nn_fuse_dims_t *d);
/* hp_nn_fuse_backward: din (B, K) = dout[:, :K] (din may be NULL);
 * dw (Hf, F) += dh^T feat, db (Hf) += colsum(dh) with dh = dout[:, K:]
 * masked by h > 0; dh (B, Hf) is scratch. */
void hp_nn_fuse_backward(float *din, float *dw, float *db, float *dh, const float *dout,
                         const float *feat, const float *h, const float *w,
                         const hp_nn_fuse_dims_t *d);

#endif
