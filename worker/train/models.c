/* The built-in architectures, by name, from a training configuration. */
#include "models_int.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

static void hidden_block(hp_nn_model_t *m, const hp_train_config_t *cfg, hp_nn_kind_t act)
{
    if (cfg->batchnorm)
        hp_nn_add_batchnorm(m);
    hp_nn_add_act(m, act);
    if (cfg->dropout > 0)
        hp_nn_add_dropout(m, (float)cfg->dropout);
}

/* n whole numbers 1..4096 separated by ',', ' ', 'x', in brackets or not */
static int parse_dims(const char *text, int want, int *dims)
{
    int n = 0;
    const char *p = text;
    while (*p && n <= want) {
        while (*p == '[' || *p == ']' || *p == ',' || *p == ' ' || *p == 'x')
            p++;
        if (!*p)
            break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096)
            return -1;
        if (n < want)
            dims[n] = (int)v;
        n++;
        p = end;
    }
    return n == want ? 0 : -1;
}

int hp_train_image_shape(const char *text, int dims[3]) { return parse_dims(text, 3, dims); }

int hp_train_sequence_shape(const char *text, int dims[2]) { return parse_dims(text, 2, dims); }

/* multimodal: the image (the first C*H*W inputs) through a small CNN, the
 * features (the rest; none for an image-only dataset) through a dense
 * layer and relu, the two concatenated, then a hidden layer and the
 * output. 3x3 convolutions keep the size; a 2x2 pool follows each while
 * the image is at least 2 wide. */
static int build_multimodal(hp_nn_model_t *m, const hp_train_config_t *cfg, int c, int h, int w,
                            char *err, size_t errlen)
{
    int img[3];
    if (hp_train_image_shape(cfg->image_shape, img) < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "model multimodal needs image_shape C,H,W (got '%s'): set "
                       "dataset.image_columns and dataset.image_shape",
                       cfg->image_shape);
    long in = (long)c * h * w, ni = (long)img[0] * img[1] * img[2];
    if (ni > in)
        return hp_errf(err, errlen, HP_EINVAL,
                       "model multimodal: image_shape %dx%dx%d needs %ld inputs, the data has %ld",
                       img[0], img[1], img[2], ni, in);
    int features = ni < in;
    if (features)
        hp_nn_add_split(m, img[0], img[1], img[2]);
    int H = img[1], W = img[2];
    int widths[2] = {cfg->conv1, cfg->conv2};
    for (int i = 0; i < 2; i++) {
        hp_nn_add_conv2d(m, widths[i], 3, 1, HP_NN_INIT_HE);
        if (cfg->batchnorm)
            hp_nn_add_batchnorm(m);
        if (H >= 2 && W >= 2) {
            hp_nn_add_maxpool(m, 2);
            H /= 2;
            W /= 2;
        }
        hp_nn_add_act(m, HP_NN_RELU);
    }
    hp_nn_add_dense(m, cfg->fc1, HP_NN_INIT_HE);
    hp_nn_add_act(m, HP_NN_RELU);
    if (features)
        hp_nn_add_fuse(m, cfg->nhidden ? cfg->hidden[0] : 32, HP_NN_INIT_HE);
    hp_nn_add_dense(m, cfg->fc2, HP_NN_INIT_HE);
    hidden_block(m, cfg, HP_NN_RELU);
    return 0;
}

int hp_train_build_model(hp_nn_model_t *m, const hp_train_config_t *cfg, int c, int h, int w,
                         int nout, char *err, size_t errlen)
{
    hp_nn_model_init(m, c, h, w);
    if (strcmp(cfg->model, "mlp") == 0) {
        int tanh_act = strcmp(cfg->activation, "tanh") == 0;
        hp_nn_kind_t act = tanh_act ? HP_NN_TANH : HP_NN_RELU;
        hp_nn_init_t init = tanh_act ? HP_NN_INIT_GLOROT : HP_NN_INIT_HE;
        int nh = cfg->nhidden ? cfg->nhidden : 1;
        for (int i = 0; i < nh; i++) {
            hp_nn_add_dense(m, cfg->nhidden ? cfg->hidden[i] : 256, init);
            hidden_block(m, cfg, act);
        }
    } else if (strcmp(cfg->model, "lenet") == 0) {
        /* conv 5x5 (padded to keep 28x28) -> relu -> pool 2 -> conv 5x5 ->
         * relu -> pool 2 -> fc -> fc -> out, as LeNet-5. relu is applied
         * after the pool: max commutes with a monotone function, so
         * pool(relu(x)) = relu(pool(x)) in value and gradient, and the relu
         * then touches a quarter of the data. */
        hp_nn_add_conv2d(m, cfg->conv1, 5, 2, HP_NN_INIT_HE);
        if (cfg->batchnorm)
            hp_nn_add_batchnorm(m);
        hp_nn_add_maxpool(m, 2);
        hp_nn_add_act(m, HP_NN_RELU);
        hp_nn_add_conv2d(m, cfg->conv2, 5, 0, HP_NN_INIT_HE);
        if (cfg->batchnorm)
            hp_nn_add_batchnorm(m);
        hp_nn_add_maxpool(m, 2);
        hp_nn_add_act(m, HP_NN_RELU);
        hp_nn_add_dense(m, cfg->fc1, HP_NN_INIT_HE);
        hidden_block(m, cfg, HP_NN_RELU);
        hp_nn_add_dense(m, cfg->fc2, HP_NN_INIT_HE);
        hidden_block(m, cfg, HP_NN_RELU);
    } else if (strcmp(cfg->model, "lstm") == 0) {
        int H = cfg->nhidden ? cfg->hidden[0] : 128;
        hp_nn_add_time_major(m);
        for (int l = 0; l < cfg->layers; l++) {
            hp_nn_add_lstm(m, cfg->nhidden > l ? cfg->hidden[l] : H);
            if (cfg->dropout > 0)
                hp_nn_add_dropout(m, (float)cfg->dropout);
        }
        hp_nn_add_seq_last(m);
    } else if (strcmp(cfg->model, "multimodal") == 0) {
        int rc = build_multimodal(m, cfg, c, h, w, err, errlen);
        if (rc < 0)
            return rc;
    } else if (hp_train_build_arch(m, cfg) == 0) {
        /* resnet, tcn, attention: models_arch.c */
    } else if (strcmp(cfg->model, "linear") != 0) { /* linear: the output layer alone */
        return hp_errf(err, errlen, HP_EINVAL,
                       "model: unknown model '%s' (choose mlp|lenet|lstm|resnet|tcn|attention|"
                       "linear|multimodal)",
                       cfg->model);
    }
    hp_nn_add_dense(m, nout, HP_NN_INIT_GLOROT);
    if (m->build_err[0])
        return hp_errf(err, errlen, HP_EINVAL, "model %s on %dx%dx%d inputs: %s", cfg->model, c, h,
                       w, m->build_err);
    return 0;
}
