/* The architectures the troubleshooting guide names for later, by name:
 * a ResNet-like CNN for images, and for sequences ((1, T, F) data: a
 * sequence CSV's steps or an image's rows, as the LSTM reads them) a
 * WaveNet-like temporal convolution network and a small
 * self-attention encoder. docs/engine.md lists their layers and settings. */
#include "models_int.h"

#include "err.h"

#include <string.h>

static int or_default(int v, int def)
{
    return v > 0 ? v : def;
}

static void resnet(hp_nn_model_t *m, const hp_train_config_t *cfg)
{
    int ch = or_default(cfg->channels, 16), nb = or_default(cfg->blocks, 2);
    /* stem: conv 3x3 + batch norm + relu, at full resolution */
    hp_nn_add_conv2d(m, ch, 3, 1, HP_NN_INIT_HE);
    hp_nn_add_batchnorm(m);
    hp_nn_add_act(m, HP_NN_RELU);
    for (int s = 0; s < cfg->stages; s++) {
        for (int b = 0; b < nb; b++)
            hp_nn_add_resblock(m, ch << s, s > 0 && b == 0 ? 2 : 1);
    }
    hp_nn_add_gap(m);
}

static void tcn(hp_nn_model_t *m, const hp_train_config_t *cfg)
{
    int ch = or_default(cfg->channels, 64), nb = or_default(cfg->blocks, 4);
    hp_nn_add_step_dense(m, ch, HP_NN_INIT_GLOROT);
    for (int b = 0; b < nb; b++)
        hp_nn_add_tcn(m, cfg->kernel, 1 << b);
    /* causal: the last step is the one that has seen the whole sequence */
    hp_nn_add_seqpool(m, 1);
}

static void attention(hp_nn_model_t *m, const hp_train_config_t *cfg)
{
    int ch = or_default(cfg->channels, 64), nb = or_default(cfg->blocks, 2);
    int ffn = cfg->nhidden ? cfg->hidden[0] : 2 * ch;
    hp_nn_add_step_dense(m, ch, HP_NN_INIT_GLOROT);
    hp_nn_add_posenc(m);
    for (int b = 0; b < nb; b++)
        hp_nn_add_attention(m, cfg->heads, ffn);
    hp_nn_add_seqpool(m, 0);
}

int hp_train_build_arch(hp_nn_model_t *m, const hp_train_config_t *cfg)
{
    if (strcmp(cfg->model, "resnet") == 0)
        resnet(m, cfg);
    else if (strcmp(cfg->model, "tcn") == 0)
        tcn(m, cfg);
    else if (strcmp(cfg->model, "attention") == 0)
        attention(m, cfg);
    else
        return HP_ENOENT;
    if (cfg->dropout > 0)
        hp_nn_add_dropout(m, (float)cfg->dropout);
    return 0;
}
