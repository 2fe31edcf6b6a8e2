/* make_seeds DIR: writes the envelope seed corpus — one message of every
 * type the protocol knows, its body at its defaults, plus filled-in worker
 * messages — as DIR/TYPE.bin. Messages a decoder refuses as they are
 * (a required lease missing) are seeds too: they lead the fuzzer to the
 * checks. Rerun after the protocol changes:
 *     build/bin/fuzz_make_seeds tests/fuzz/corpus/envelope */
#include "codec.h"

#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_seed(const char *dir, const char *name, Hpsearch__Envelope *env)
{
    hp_buf_t b = {0};
    if (hp_proto_encode(env, &b) != 0) {
        fprintf(stderr, "%s: does not encode\n", name);
        return 0;
    }
    char p[1024], lower[64];
    size_t i = 0;
    for (; name[i] && i < sizeof lower - 1; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = 0;
    snprintf(p, sizeof p, "%s/%s.bin", dir, lower);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(b.data ? b.data : "", 1, b.len, f) != b.len || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
    hp_buf_fini(&b);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
        return 2;
    }
    int n = 0;
    for (int type = 1; type < 64; type++) {
        int fc = hp_proto_body_case(type);
        if (!fc)
            continue;
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(&hpsearch__envelope__descriptor, (unsigned)fc);
        const ProtobufCMessageDescriptor *md = fd->descriptor;
        void *body = calloc(1, md->sizeof_message);
        protobuf_c_message_init(md, body);
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        hp_proto_set_body(&env, type, body);
        n += write_seed(argv[1], hp_proto_type_name(type), &env);
        free(body);
    }
    /* a worker's life, filled in */
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Hello hello = HPSEARCH__HELLO__INIT;
    hello.hostname = "node-1";
    hello.slots = 4;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO, &hello);
    n += write_seed(argv[1], "hello_filled", &env);

    Hpsearch__LeaseRef lease = HPSEARCH__LEASE_REF__INIT;
    lease.trial_id = 7;
    lease.lease_id = 42;
    Hpsearch__Metric m1 = HPSEARCH__METRIC__INIT, m2 = HPSEARCH__METRIC__INIT;
    m1.name = "val_loss";
    m1.value = 0.25;
    m2.name = "train_loss";
    m2.value = 0.5;
    Hpsearch__Metric *ms[2] = {&m1, &m2};
    Hpsearch__Progress pr = HPSEARCH__PROGRESS__INIT;
    pr.lease = &lease;
    pr.step = 3;
    pr.n_metrics = 2;
    pr.metrics = ms;
    /* a registered worker's message: its id, a token and its session */
    static uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    Hpsearch__Envelope e2 = HPSEARCH__ENVELOPE__INIT;
    e2.worker_id = 3;
    e2.seq = 9;
    e2.auth_token.data = (uint8_t *)"0123456789abcdef0123456789abcdef";
    e2.auth_token.len = 32;
    e2.session.data = secret;
    e2.session.len = sizeof secret;
    hp_proto_set_body(&e2, HPSEARCH__MSG_TYPE__PROGRESS, &pr);
    n += write_seed(argv[1], "progress_filled", &e2);

    Hpsearch__Result res = HPSEARCH__RESULT__INIT;
    res.lease = &lease;
    res.outcome = HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    res.value = 0.25;
    res.n_metrics = 2;
    res.metrics = ms;
    Hpsearch__Envelope e3 = HPSEARCH__ENVELOPE__INIT;
    hp_proto_set_body(&e3, HPSEARCH__MSG_TYPE__RESULT, &res);
    n += write_seed(argv[1], "result_filled", &e3);

    /* a classifier's result with its error analysis (issue 18) */
    uint64_t conf[4] = {40, 2, 3, 55};
    uint8_t px[4] = {0, 80, 160, 255};
    Hpsearch__WorstExample we = HPSEARCH__WORST_EXAMPLE__INIT;
    Hpsearch__WorstExample *wep[1] = {&we};
    we.index = 17;
    we.label = 1;
    we.predicted = 0;
    we.loss = 4.5;
    we.pixels = (ProtobufCBinaryData){4, px};
    Hpsearch__ErrorAnalysis ea = HPSEARCH__ERROR_ANALYSIS__INIT;
    ea.classes = 2;
    ea.n_confusion = 4;
    ea.confusion = conf;
    ea.n_worst = 1;
    ea.worst = wep;
    ea.image_c = 1;
    ea.image_h = ea.image_w = 2;
    res.errors = &ea;
    Hpsearch__Envelope e5 = HPSEARCH__ENVELOPE__INIT;
    hp_proto_set_body(&e5, HPSEARCH__MSG_TYPE__RESULT, &res);
    n += write_seed(argv[1], "result_errors", &e5);
    res.errors = NULL;

    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = "name: s\nobjective: {metric: loss, goal: minimize}\n";
    Hpsearch__Envelope e4 = HPSEARCH__ENVELOPE__INIT;
    hp_proto_set_body(&e4, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    n += write_seed(argv[1], "submit_filled", &e4);
    printf("%d seeds written to %s\n", n, argv[1]);
    return n ? 0 : 1;
}
