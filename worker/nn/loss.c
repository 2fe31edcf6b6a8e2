#include "layer.h"
#include "simd_int.h"

#include <math.h>

HP_NN_SIMD_CLONES
float hp_nn_xent_forward(float *probs, const float *logits, const int32_t *labels, int B, int C,
                         int *ncorrect)
{
    double total = 0.0;
    int correct = 0;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * C;
        float *p = probs + (size_t)i * C;
        int best = 0;
        float mx = z[0];
        for (int j = 1; j < C; j++)
            if (z[j] > mx) {
                mx = z[j];
                best = j;
            }
        double sum = 0.0;
        for (int j = 0; j < C; j++) {
            p[j] = expf(z[j] - mx);
            sum += p[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < C; j++)
            p[j] *= inv;
        /* -log softmax(z)_y = logsumexp(z) - z_y, never log of a probability */
        total += (double)mx + log(sum) - (double)z[labels[i]];
        correct += best == labels[i];
    }
    if (ncorrect)
        *ncorrect = correct;
    return (float)(total / B);
}

HP_NN_SIMD_CLONES
void hp_nn_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int B, int C)
{
    float inv = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        const float *p = probs + (size_t)i * C;
        float *g = dlogits + (size_t)i * C;
        for (int j = 0; j < C; j++)
            g[j] = p[j] * inv;
        g[labels[i]] -= inv;
    }
}

float hp_nn_mse_forward(const float *pred, const float *target, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)pred[i] - target[i];
        s += e * e;
    }
    return (float)(s / (double)n);
}

void hp_nn_mse_backward(float *dpred, const float *pred, const float *target, size_t n)
{
    float k = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++)
        dpred[i] = k * (pred[i] - target[i]);
}
