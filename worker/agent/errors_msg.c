/* A trial's error analysis as the RESULT's ErrorAnalysis message. */
#include "agent_int.h"

#include "error_analysis.h"

#include <stdlib.h>
#include <string.h>

/* one allocation: the message, its worst-example messages and pointers,
 * and the confusion counts; the pixels point into ea */
typedef struct errors_block {
    Hpsearch__ErrorAnalysis m;
    Hpsearch__WorstExample w[HP_EA_WORST];
    Hpsearch__WorstExample *wp[HP_EA_WORST];
    uint64_t confusion[];
} errors_block_t;

Hpsearch__ErrorAnalysis *hp_agent_errors_msg(const hp_ea_t *ea)
{
    if (!ea || ea->nclasses < 1)
        return NULL;
    size_t cells = (size_t)ea->nclasses * (size_t)ea->nclasses;
    errors_block_t *b = calloc(1, sizeof *b + cells * sizeof b->confusion[0]);
    if (!b)
        return NULL; /* the result goes without it */
    hpsearch__error_analysis__init(&b->m);
    b->m.classes = (uint32_t)ea->nclasses;
    memcpy(b->confusion, ea->confusion, cells * sizeof b->confusion[0]);
    b->m.n_confusion = cells;
    b->m.confusion = b->confusion;
    size_t px = hp_ea_pixel_bytes(ea);
    if (px) {
        b->m.image_c = (uint32_t)ea->c;
        b->m.image_h = (uint32_t)ea->h;
        b->m.image_w = (uint32_t)ea->w;
    }
    for (size_t i = 0; i < ea->nworst; i++) {
        Hpsearch__WorstExample *w = &b->w[i];
        hpsearch__worst_example__init(w);
        w->index = ea->worst[i].index;
        w->label = (uint32_t)ea->worst[i].label;
        w->predicted = (uint32_t)ea->worst[i].predicted;
        w->loss = ea->worst[i].loss;
        if (px)
            w->pixels = (ProtobufCBinaryData){px, hp_ea_pixels(ea, i)};
        b->wp[i] = w;
    }
    b->m.n_worst = ea->nworst;
    b->m.worst = b->wp;
    return &b->m;
}

void hp_agent_errors_msg_free(Hpsearch__ErrorAnalysis *m)
{
    free(m); /* the block starts with the message */
}
