/* The later architectures' layers (layer_arch.h): each against PyTorch
 * (fixtures/torch_arch.txt, made by make_fixtures_arch.py) and each
 * gradient-checked by finite differences. */
#include "layer_arch.h"

#include "gemm.h"
#include "gradcheck.h"

#include "torch_fixtures.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the fixtures (torch_fixtures.h), read once */
static void load(void)
{
    hp_nn_set_threads(1);
    fixtures_load("torch_arch.txt");
}

#define get fixture_get
#define copy fixture_copy
#define zeros fixture_zeros

#define check fixture_check

#define TOL 1e-5, 1e-4

/* ---- against PyTorch ---- */

START_TEST(test_convs_vs_torch)
{
    hp_nn_convs_dims_t d = {2, 3, 7, 6, 4, 3, 2, 1, 0, 0};
    hp_nn_convs_dims(&d);
    ck_assert_int_eq(d.Ho, 4);
    ck_assert_int_eq(d.Wo, 3);
    float *x = copy("convs.x"), *w = copy("convs.w"), *R = copy("convs.R");
    float *y = zeros(get("convs.out")->n), *dx = zeros(get("convs.x")->n),
          *dw = zeros(get("convs.w")->n), *s = zeros(hp_nn_convs_scratch_size(&d));
    hp_nn_convs_forward(y, x, w, s, &d);
    check("convs.out", y, TOL);
    hp_nn_convs_backward(dx, dw, R, x, w, s, &d);
    check("convs.dx", dx, TOL);
    check("convs.dw", dw, TOL);
    free(x), free(w), free(R), free(y), free(dx), free(dw), free(s);
}
END_TEST

static void resblock_vs_torch(const char *tag, int B, int C, int H, int W, int K, int stride)
{
    hp_nn_resblock_dims_t d = {B, C, H, W, K, stride, 0, 0, 0};
    hp_nn_resblock_dims(&d);
    char nm[64];
#define T_(suffix) (snprintf(nm, sizeof nm, "%s.%s", tag, suffix), nm)
    ck_assert_uint_eq(hp_nn_resblock_nparams(&d), get(T_("p"))->n);
    float *x = copy(T_("x")), *p = copy(T_("p")), *R = copy(T_("R"));
    size_t nb = hp_nn_resblock_nbufs(&d);
    float *bufs = zeros(nb), *tmp = zeros(hp_nn_resblock_nparams(&d));
    hp_rng_t r;
    hp_rng_init(&r, 1, 1);
    hp_nn_resblock_init(tmp, bufs, &r, &d); /* running mean 0, var 1, as PyTorch's */
    float *y = zeros(get(T_("out"))->n), *dx = zeros(get(T_("x"))->n),
          *dp = zeros(get(T_("p"))->n), *cache = zeros(hp_nn_resblock_cache_size(&d)),
          *s = zeros(hp_nn_resblock_scratch_size(&d));
    hp_nn_resblock_forward(y, cache, s, bufs, x, p, 1, &d);
    check(T_("out"), y, TOL);
    check(T_("bufs"), bufs, TOL);
    hp_nn_resblock_backward(dx, dp, R, x, y, cache, s, p, &d);
    check(T_("dx"), dx, 1e-4, 1e-4);
    check(T_("dp"), dp, 1e-4, 1e-4);
#undef T_
    free(x), free(p), free(R), free(bufs), free(tmp), free(y), free(dx), free(dp), free(cache),
        free(s);
}

START_TEST(test_resblock_vs_torch)
{
    resblock_vs_torch("res_id", 3, 3, 5, 5, 3, 1);
    resblock_vs_torch("res_proj", 3, 2, 7, 6, 4, 2);
    resblock_vs_torch("res_big", 2, 3, 20, 20, 3, 1); /* a larger plane */
}
END_TEST

START_TEST(test_tcn_vs_torch)
{
    hp_nn_tcn_dims_t d = {2, 7, 3, 3, 2};
    ck_assert_uint_eq(hp_nn_tcn_nparams(&d), get("tcn.p")->n);
    float *x = copy("tcn.x"), *p = copy("tcn.p"), *R = copy("tcn.R");
    float *y = zeros(get("tcn.out")->n), *dx = zeros(get("tcn.x")->n),
          *dp = zeros(get("tcn.p")->n), *cache = zeros(hp_nn_tcn_cache_size(&d)),
          *s = zeros(hp_nn_tcn_scratch_size(&d));
    hp_nn_tcn_forward(y, cache, s, x, p, &d);
    check("tcn.out", y, TOL);
    hp_nn_tcn_backward(dx, dp, R, x, cache, s, p, &d);
    check("tcn.dx", dx, TOL);
    check("tcn.dp", dp, TOL);
    free(x), free(p), free(R), free(y), free(dx), free(dp), free(cache), free(s);
}
END_TEST

START_TEST(test_layernorm_vs_torch)
{
    float *x = copy("ln.x"), *g = copy("ln.gamma"), *b = copy("ln.beta"), *R = copy("ln.R");
    float *y = zeros(30), *xh = zeros(30), *rs = zeros(5), *dx = zeros(30), *dg = zeros(6),
          *db = zeros(6);
    hp_nn_layernorm_forward(y, xh, rs, x, g, b, 5, 6);
    check("ln.out", y, TOL);
    hp_nn_layernorm_backward(dx, dg, db, R, xh, rs, g, 5, 6);
    check("ln.dx", dx, TOL);
    check("ln.dgamma", dg, TOL);
    check("ln.dbeta", db, TOL);
    free(x), free(g), free(b), free(R), free(y), free(xh), free(rs), free(dx), free(dg), free(db);
}
END_TEST

static void attention_vs_torch(const char *tag, hp_nn_attn_dims_t d)
{
    char nm[64];
#define T_(suffix) (snprintf(nm, sizeof nm, "%s.%s", tag, suffix), nm)
    ck_assert_uint_eq(hp_nn_attn_nparams(&d), get(T_("p"))->n);
    float *x = copy(T_("x")), *p = copy(T_("p")), *R = copy(T_("R"));
    float *y = zeros(get(T_("out"))->n), *dx = zeros(get(T_("x"))->n),
          *dp = zeros(get(T_("p"))->n), *cache = zeros(hp_nn_attn_cache_size(&d)),
          *s = zeros(hp_nn_attn_scratch_size(&d));
    hp_nn_attn_forward(y, cache, s, x, p, &d);
    check(T_("out"), y, TOL);
    hp_nn_attn_backward(dx, dp, R, x, cache, s, p, &d);
    check(T_("dx"), dx, 1e-4, 1e-4);
    check(T_("dp"), dp, 1e-4, 1e-4);
#undef T_
    free(x), free(p), free(R), free(y), free(dx), free(dp), free(cache), free(s);
}

START_TEST(test_attention_vs_torch)
{
    attention_vs_torch("attn", (hp_nn_attn_dims_t){2, 5, 8, 2, 12});
    attention_vs_torch("attn16", (hp_nn_attn_dims_t){2, 11, 32, 2, 12}); /* heads of 16 */
}
END_TEST

/* ---- finite differences: loss = sum(out * R) ---- */

typedef struct gctx {
    int kind; /* 0 convs, 1 resblock, 2 tcn, 3 layernorm, 4 attention, 5 gap, 6 seqpool, 7 posenc */
    hp_nn_convs_dims_t cd;
    hp_nn_resblock_dims_t rd;
    hp_nn_tcn_dims_t td;
    hp_nn_attn_dims_t ad;
    int N, D, last;
    float *x, *p, *p2, *out, *cache, *s, *bufs, *R, *x2;
    size_t nout;
} gctx_t;

static void run_fwd(gctx_t *c)
{
    switch (c->kind) {
    case 0: hp_nn_convs_forward(c->out, c->x, c->p, c->s, &c->cd); break;
    case 1: hp_nn_resblock_forward(c->out, c->cache, c->s, c->bufs, c->x, c->p, 1, &c->rd); break;
    case 2: hp_nn_tcn_forward(c->out, c->cache, c->s, c->x, c->p, &c->td); break;
    case 3: hp_nn_layernorm_forward(c->out, c->cache, c->s, c->x, c->p, c->p2, c->N, c->D); break;
    case 4: hp_nn_attn_forward(c->out, c->cache, c->s, c->x, c->p, &c->ad); break;
    case 5: hp_nn_gap_forward(c->out, c->x, c->N, c->D, c->last); break;
    case 6: hp_nn_seqpool_forward(c->out, c->x, c->N, c->D, 3, c->last); break;
    case 7:
        memcpy(c->out, c->x, sizeof(float) * c->nout);
        hp_nn_posenc_forward(c->out, c->p, c->N, c->D, 4);
        break;
    }
}

static double probe(void *p)
{
    gctx_t *c = p;
    run_fwd(c);
    return gc_dot(c->out, c->R, c->nout);
}

static float *rnd(hp_rng_t *r, size_t n, double scale)
{
    float *p = zeros(n);
    gc_fill(r, p, n, scale);
    return p;
}

/* checks dx (and dp, dp2 when given) of c against finite differences */
static void gradcheck(const char *what, gctx_t *c, size_t nx, size_t np, size_t np2)
{
    hp_rng_t r;
    hp_rng_init(&r, 7, (uint64_t)c->kind);
    c->R = rnd(&r, c->nout, 1.0);
    float *dx = zeros(nx), *dp = zeros(np), *dp2 = zeros(np2);
    run_fwd(c);
    switch (c->kind) {
    case 0: hp_nn_convs_backward(dx, dp, c->R, c->x, c->p, c->s, &c->cd); break;
    case 1:
        hp_nn_resblock_backward(dx, dp, c->R, c->x, c->out, c->cache, c->s, c->p, &c->rd);
        break;
    case 2: hp_nn_tcn_backward(dx, dp, c->R, c->x, c->cache, c->s, c->p, &c->td); break;
    case 3:
        hp_nn_layernorm_backward(dx, dp, dp2, c->R, c->cache, c->s, c->p, c->N, c->D);
        break;
    case 4: hp_nn_attn_backward(dx, dp, c->R, c->x, c->cache, c->s, c->p, &c->ad); break;
    case 5: hp_nn_gap_backward(dx, c->R, c->N, c->D, c->last); break;
    case 6: hp_nn_seqpool_backward(dx, c->R, c->N, c->D, 3, c->last); break;
    case 7: memcpy(dx, c->R, sizeof(float) * nx); break; /* the identity */
    }
    char nm[96];
    snprintf(nm, sizeof nm, "%s dx", what);
    gc_check(nm, c->x, nx, dx, probe, c, 3e-3f, 2e-3, 1e-2, 60);
    if (np && c->kind != 7) {
        snprintf(nm, sizeof nm, "%s dp", what);
        gc_check(nm, c->p, np, dp, probe, c, 1e-3f, 2e-3, 1e-2, 120);
    }
    if (np2) {
        snprintf(nm, sizeof nm, "%s dp2", what);
        gc_check(nm, c->p2, np2, dp2, probe, c, 1e-3f, 2e-3, 1e-2, 60);
    }
    free(dx), free(dp), free(dp2), free(c->R);
}

static void gc_free(gctx_t *c)
{
    free(c->x), free(c->p), free(c->p2), free(c->out), free(c->cache), free(c->s), free(c->bufs);
}

START_TEST(test_convs_grad)
{
    hp_rng_t r;
    hp_rng_init(&r, 11, 0);
    gctx_t c = {.kind = 0, .cd = {3, 2, 7, 5, 3, 3, 2, 1, 0, 0}};
    hp_nn_convs_dims(&c.cd);
    size_t nx = 3 * 2 * 7 * 5, np = 3 * 2 * 9;
    c.nout = (size_t)3 * 3 * c.cd.Ho * c.cd.Wo;
    c.x = rnd(&r, nx, 1.0), c.p = rnd(&r, np, 0.5), c.out = zeros(c.nout);
    c.s = zeros(hp_nn_convs_scratch_size(&c.cd));
    gradcheck("convs stride 2", &c, nx, np, 0);
    gc_free(&c);
}
END_TEST

static void resblock_grad(int B, int C, int HW, int K, int stride)
{
    hp_rng_t r;
    hp_rng_init(&r, 12, (uint64_t)stride);
    /* small: float rounding over many outputs swamps a finite difference */
    gctx_t c = {.kind = 1, .rd = {B, C, HW, HW, K, stride, 0, 0, 0}};
    hp_nn_resblock_dims(&c.rd);
    size_t nx = (size_t)B * C * HW * HW, np = hp_nn_resblock_nparams(&c.rd);
    c.nout = (size_t)B * K * c.rd.Ho * c.rd.Wo;
    c.x = rnd(&r, nx, 1.0), c.p = zeros(np), c.out = zeros(c.nout);
    c.bufs = zeros(hp_nn_resblock_nbufs(&c.rd));
    hp_nn_resblock_init(c.p, c.bufs, &r, &c.rd);
    for (size_t i = 0; i < np; i++) /* gammas and betas away from 1 and 0 */
        c.p[i] += (float)(0.3 * hp_rng_normal(&r));
    /* betas > 0 keep most relu inputs away from the kink, where a finite
     * difference is wrong (with batch norm every input moves every output) */
    size_t b1 = (size_t)K * C * 9 + K, b2 = b1 + K + (size_t)K * K * 9 + K;
    for (int k = 0; k < K; k++)
        c.p[b1 + k] += 2.0f, c.p[b2 + k] += 2.0f;
    c.cache = zeros(hp_nn_resblock_cache_size(&c.rd));
    c.s = zeros(hp_nn_resblock_scratch_size(&c.rd));
    gradcheck(c.rd.proj ? "resblock projection" : "resblock identity", &c, nx, np, 0);
    gc_free(&c);
}

START_TEST(test_resblock_grad)
{
    resblock_grad(4, 3, 6, 3, 1);
    resblock_grad(4, 2, 6, 4, 2);
}
END_TEST

START_TEST(test_tcn_grad)
{
    hp_rng_t r;
    hp_rng_init(&r, 13, 0);
    gctx_t c = {.kind = 2, .td = {2, 9, 4, 2, 4}};
    size_t nx = 2 * 9 * 4, np = hp_nn_tcn_nparams(&c.td);
    c.nout = nx;
    c.x = rnd(&r, nx, 1.0), c.p = rnd(&r, np, 0.5), c.out = zeros(nx);
    c.cache = zeros(hp_nn_tcn_cache_size(&c.td));
    c.s = zeros(hp_nn_tcn_scratch_size(&c.td));
    gradcheck("tcn", &c, nx, np, 0);
    gc_free(&c);
}
END_TEST

START_TEST(test_layernorm_grad)
{
    hp_rng_t r;
    hp_rng_init(&r, 14, 0);
    gctx_t c = {.kind = 3, .N = 4, .D = 7};
    c.nout = 28;
    c.x = rnd(&r, 28, 1.5), c.p = rnd(&r, 7, 1.0), c.p2 = rnd(&r, 7, 1.0), c.out = zeros(28);
    c.cache = zeros(28), c.s = zeros(4);
    gradcheck("layernorm", &c, 28, 7, 7);
    gc_free(&c);
}
END_TEST

START_TEST(test_attention_grad)
{
    hp_rng_t r;
    hp_rng_init(&r, 15, 0);
    gctx_t c = {.kind = 4, .ad = {2, 4, 6, 3, 5}};
    size_t nx = 2 * 4 * 6, np = hp_nn_attn_nparams(&c.ad);
    c.nout = nx;
    c.x = rnd(&r, nx, 1.0), c.p = zeros(np), c.out = zeros(nx);
    hp_nn_attn_init(c.p, &r, &c.ad);
    for (size_t i = 0; i < np; i++)
        c.p[i] += (float)(0.2 * hp_rng_normal(&r));
    c.cache = zeros(hp_nn_attn_cache_size(&c.ad));
    c.s = zeros(hp_nn_attn_scratch_size(&c.ad));
    gradcheck("attention", &c, nx, np, 0);
    gc_free(&c);
}
END_TEST

START_TEST(test_pool_and_posenc_grad)
{
    hp_rng_t r;
    hp_rng_init(&r, 16, 0);
    /* global average pool over (2, 3, 5) */
    gctx_t g = {.kind = 5, .N = 2, .D = 3, .last = 5, .nout = 6};
    g.x = rnd(&r, 30, 1.0), g.out = zeros(6);
    gradcheck("avgpool", &g, 30, 0, 0);
    gc_free(&g);
    /* mean and last step over (2, 3 steps, 4) */
    for (int last = 0; last < 2; last++) {
        gctx_t s = {.kind = 6, .N = 2, .D = 4, .last = last, .nout = 8};
        s.x = rnd(&r, 24, 1.0), s.out = zeros(8);
        gradcheck(last ? "seqpool last" : "seqpool mean", &s, 24, 0, 0);
        gc_free(&s);
    }
    /* positions: (2, 3 steps, 4); the table's first rows are sin 0 = 0, cos 0 = 1 */
    gctx_t p = {.kind = 7, .N = 2, .D = 3, .nout = 24};
    p.x = rnd(&r, 24, 1.0), p.out = zeros(24), p.p = zeros(12);
    hp_nn_posenc_table(p.p, 3, 4);
    ck_assert(p.p[0] == 0.0f && p.p[1] == 1.0f && p.p[2] == 0.0f && p.p[3] == 1.0f);
    ck_assert(fabsf(p.p[4] - sinf(1.0f)) < 1e-6f && fabsf(p.p[6] - sinf(0.01f)) < 1e-6f);
    gradcheck("posenc", &p, 24, 12, 0);
    gc_free(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nn_arch");
    TCase *tc = tcase_create("torch");
    tcase_add_checked_fixture(tc, load, NULL);
    tcase_add_test(tc, test_convs_vs_torch);
    tcase_add_test(tc, test_resblock_vs_torch);
    tcase_add_test(tc, test_tcn_vs_torch);
    tcase_add_test(tc, test_layernorm_vs_torch);
    tcase_add_test(tc, test_attention_vs_torch);
    suite_add_tcase(s, tc);
    TCase *g = tcase_create("gradcheck");
    tcase_add_checked_fixture(g, load, NULL);
    tcase_add_test(g, test_convs_grad);
    tcase_add_test(g, test_resblock_grad);
    tcase_add_test(g, test_tcn_grad);
    tcase_add_test(g, test_layernorm_grad);
    tcase_add_test(g, test_attention_grad);
    tcase_add_test(g, test_pool_and_posenc_grad);
    suite_add_tcase(s, g);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fixtures_free();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
