/* torch_fixtures.h — the PyTorch reference tensors the worker suites
 * compare against: a text file of "NAME COUNT v1 v2 ..." records (lines
 * starting with # are comments), made by make_fixtures*.py. One table per
 * test program; fixtures_load reads it once.
 *
 *     fixtures_load("torch_ref.txt");
 *     const fixture_t *w = fixture_get("dense.w");
 *     float *p = fixture_copy("dense.w");   (the caller frees it) */
#ifndef HP_TEST_TORCH_FIXTURES_H
#define HP_TEST_TORCH_FIXTURES_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES_MAX 256

typedef struct fixture {
    char name[48];
    size_t n;
    float *v;
} fixture_t;

static fixture_t fixtures_[FIXTURES_MAX];
static int nfixtures_;

/* file is under $HP_SOURCE_DIR/tests/worker/fixtures/ */
static inline void fixtures_load(const char *file)
{
    if (nfixtures_)
        return;
    const char *src = getenv("HP_SOURCE_DIR");
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/worker/fixtures/%s", src ? src : ".", file);
    FILE *f = fopen(p, "r");
    ck_assert_msg(f != NULL, "cannot open %s", p);
    char name[48];
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        ungetc(c, f);
        size_t n;
        if (fscanf(f, "%47s %zu", name, &n) != 2)
            break;
        ck_assert_int_lt(nfixtures_, FIXTURES_MAX);
        fixture_t *t = &fixtures_[nfixtures_++];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->n = n;
        t->v = malloc(sizeof(float) * n);
        ck_assert(t->v != NULL);
        for (size_t i = 0; i < n; i++) {
            double d;
            ck_assert(fscanf(f, "%lf", &d) == 1);
            t->v[i] = (float)d;
        }
    }
    fclose(f);
}

/* frees the table (at the end of main, for leak checkers) */
static inline void fixtures_free(void)
{
    for (int i = 0; i < nfixtures_; i++)
        free(fixtures_[i].v);
    nfixtures_ = 0;
}

static inline const fixture_t *fixture_get(const char *name)
{
    for (int i = 0; i < nfixtures_; i++)
        if (!strcmp(fixtures_[i].name, name))
            return &fixtures_[i];
    ck_abort_msg("fixture %s missing", name);
    return NULL;
}

static inline float *fixture_copy(const char *name)
{
    const fixture_t *t = fixture_get(name);
    float *p = malloc(sizeof(float) * t->n);
    ck_assert(p != NULL);
    memcpy(p, t->v, sizeof(float) * t->n);
    return p;
}

static inline float *fixture_zeros(size_t n)
{
    return calloc(n ? n : 1, sizeof(float));
}

/* llm.c's check_tensor: every entry of got within atol + rtol |ref| of
 * the fixture's, the first few misses printed */
static inline void fixture_check(const char *name, const float *got, double atol, double rtol)
{
    const fixture_t *t = fixture_get(name);
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < t->n; i++) {
        double d = fabs((double)got[i] - t->v[i]);
        worst = d > worst ? d : worst;
        if (!(d <= atol + rtol * fabs(t->v[i])) && bad++ < 3)
            fprintf(stderr, "%s[%zu]: got %.7g, torch %.7g\n", name, i, got[i], t->v[i]);
    }
    ck_assert_msg(bad == 0, "%s: %zu of %zu entries off (max diff %g)", name, bad, t->n, worst);
}

#endif
