/* models_int.h — private to worker/train: building a named model. */
#ifndef HP_TRAIN_MODELS_INT_H
#define HP_TRAIN_MODELS_INT_H

#include "train.h"

/* hp_train_build_model adds cfg->model's layers to m for (c, h, w)
 * samples and nout outputs; does not allocate (hp_nn_model_alloc does). */
int hp_train_build_model(hp_nn_model_t *m, const hp_train_config_t *cfg, int c, int h, int w,
                         int nout, char *err, size_t errlen);

#endif
