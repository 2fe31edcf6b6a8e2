/*
 * Study spec parsing with libfyaml: the document and its top-level
 * sections (name, objective, search); space and trial are in their own
 * files, the walking helpers in spec_yaml.c.
 *
 * libfyaml builds the document tree (never resolving aliases, depth capped
 * by its default limit, its messages collected instead of printed); the
 * walk then follows the spec's schema, which is at most four levels deep,
 * so it never recurses on user input.
 */
#include "spec_int.h"

#include "err.h"
#include "vec.h"
#include "yaml_quotes.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- name, objective ---------------------------------------------------- */

/* name_problem writes why s (n bytes) is no valid study name into why
 * and returns 1, or returns 0 when it is one. */
static int name_problem(const char *s, size_t n, char *why, size_t cap)
{
    int ok = n < HP_SPEC_NAME_MAX, digits = 1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        digits &= ch >= '0' && ch <= '9';
        if (!alnum && !(i > 0 && (ch == '-' || ch == '_' || ch == '.')))
            ok = 0;
    }
    char b[64];
    if (!ok)
        snprintf(why, cap,
                 "'%s' is not a valid study name (letters, digits, '-', '_', '.'; "
                 "starting with a letter or digit; at most %d characters)",
                 spec_show(b, sizeof b, s, n), HP_SPEC_NAME_MAX - 1);
    else if (digits)
        snprintf(why, cap, "'%s' is all digits; study names must differ from study ids", s);
    return !ok || digits;
}

static void parse_name(ctx_t *c, map_t *root)
{
    entry_t *e = spec_map_get(root, "name");
    if (!e) {
        spec_missing(c, root, "name", "(the study's name, e.g. name: lr-sweep)");
        return;
    }
    char p[300];
    val_t v = spec_entry_val(c, root, e, p, sizeof p);
    char *s = NULL;
    if (spec_get_string(c, &v, p, &s) < 0)
        return;
    size_t n = strlen(s);
    char why[300];
    if (name_problem(s, n, why, sizeof why))
        spec_err(c, v.line, p, "%s", why);
    else
        memcpy(c->spec->name, s, n + 1);
    free(s);
}

/* Sets lines[i] to the line of objective i's metric when it parsed (the
 * list form is spec_objective.c's). */
static void parse_objective(ctx_t *c, map_t *root, int *lines)
{
    entry_t *e = spec_map_get(root, "objective");
    if (!e) {
        spec_missing(c, root, "objective", "(objective: {metric: NAME, goal: minimize|maximize})");
        return;
    }
    if (spec_classify(c, e->val, "objective", e->line).kind == K_SEQ) {
        spec_parse_objective_list(c, e, lines);
        return;
    }
    map_t m;
    if (spec_map_open(c, e->val, "objective", e->line, &m) == 0) {
        char p[300];
        entry_t *f;
        if ((f = spec_map_get(&m, "metric")) != NULL) {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            char *s = NULL;
            if (spec_get_metric(c, &v, p, &s) == 0) {
                c->spec->objective.metric = s;
                lines[0] = v.line;
            }
        } else {
            spec_missing(c, &m, "metric", "(the metric to optimize, e.g. val_error)");
        }
        if ((f = spec_map_get(&m, "goal")) != NULL) {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            int g;
            if (spec_get_enum(c, &v, p, "goal", hp_spec_goal_names, 2, &g) == 0)
                c->spec->objective.goal = (hp_goal_t)g;
        }
        if ((f = spec_map_get(&m, "human_error")) != NULL) {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            if (spec_get_number(c, &v, p, 0, INFINITY, ">= 0", &c->spec->objective.human_error) ==
                0)
                c->spec->objective.has_human_error = 1;
        }
        if ((f = spec_map_get(&m, "target")) != NULL) {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            if (spec_get_number(c, &v, p, -INFINITY, INFINITY, "a finite number",
                                &c->spec->objective.target) == 0)
                c->spec->objective.has_target = 1;
        }
        static const char *const known[] = {"metric", "goal", "human_error", "target"};
        spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    }
    spec_map_fini(&m);
}

/* ---- search ------------------------------------------------------------- */

typedef struct search_seen {
    int line_max_trials, line_sanity, line_tpr, line_top_k, line_top_fraction, line_n_initial,
        line_kappa;
    int has_max_trials, has_sanity, has_rounds, has_tpr, has_top_k, has_top_fraction, has_shrink,
        has_n_initial, has_acquisition, has_kappa;
} search_seen_t;

/* Algorithm options: type-checked whatever the algorithm, then refused
 * if they belong to another one (when the algorithm itself read cleanly,
 * algo_ok). */
static void parse_algo_options(ctx_t *c, map_t *m, int algo_ok, search_seen_t *seen)
{
    hp_spec_t *s = c->spec;
    char p[300];
    struct opt {
        const char *key;
        hp_algo_t owner;
        entry_t *e;
    } opts[] = {
        {"rounds", HP_ALGO_COARSE_TO_FINE, NULL},
        {"trials_per_round", HP_ALGO_COARSE_TO_FINE, NULL},
        {"top_k", HP_ALGO_COARSE_TO_FINE, NULL},
        {"top_fraction", HP_ALGO_COARSE_TO_FINE, NULL},
        {"shrink", HP_ALGO_COARSE_TO_FINE, NULL},
        {"n_initial", HP_ALGO_BAYES, NULL},
        {"acquisition", HP_ALGO_BAYES, NULL},
        {"kappa", HP_ALGO_BAYES, NULL},
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(opts); i++) {
        opts[i].e = spec_map_get(m, opts[i].key);
        if (!opts[i].e)
            continue;
        val_t v = spec_entry_val(c, m, opts[i].e, p, sizeof p);
        if (algo_ok && s->search.algorithm != opts[i].owner) {
            spec_err(c, opts[i].e->line, p,
                     "only applies to algorithm %s (this study's algorithm is %s)",
                     hp_algo_name(opts[i].owner), hp_algo_name(s->search.algorithm));
            continue;
        }
        switch (i) {
        case 0:
            seen->has_rounds = spec_get_u32(c, &v, p, 1, 1000, &s->search.rounds) == 0;
            break;
        case 1:
            seen->line_tpr = v.line;
            seen->has_tpr =
                spec_get_uint(c, &v, p, 1, 1000000000, &s->search.trials_per_round) == 0;
            break;
        case 2:
            seen->line_top_k = v.line;
            seen->has_top_k = spec_get_u32(c, &v, p, 1, 1000000000, &s->search.top_k) == 0;
            break;
        case 3:
            seen->line_top_fraction = v.line;
            if (spec_get_number(c, &v, p, 0, 1, "in (0, 1]", &s->search.top_fraction) == 0) {
                if (s->search.top_fraction <= 0)
                    spec_err(c, v.line, p, "must be in (0, 1] (got %g)", s->search.top_fraction);
                else
                    seen->has_top_fraction = 1;
            }
            break;
        case 4:
            if (spec_get_number(c, &v, p, 0, 1, "in (0, 1)", &s->search.shrink) == 0) {
                if (s->search.shrink <= 0 || s->search.shrink >= 1)
                    spec_err(c, v.line, p, "must be in (0, 1) (got %g)", s->search.shrink);
                else
                    seen->has_shrink = 1;
            }
            break;
        case 5:
            seen->line_n_initial = v.line;
            seen->has_n_initial = spec_get_u32(c, &v, p, 1, 1000000000, &s->search.n_initial) == 0;
            break;
        case 6: {
            int a;
            if (spec_get_enum(c, &v, p, "acquisition", hp_spec_acquisition_names,
                              HP_ARRAY_LEN(hp_spec_acquisition_names), &a) == 0) {
                s->search.acquisition = (hp_acquisition_t)a;
                seen->has_acquisition = 1;
            }
            break;
        }
        case 7:
            seen->line_kappa = v.line;
            if (spec_get_number(c, &v, p, 0, 100, "> 0 and at most 100", &s->search.kappa) ==
                0) {
                if (s->search.kappa <= 0)
                    spec_err(c, v.line, p,
                             "must be > 0 (the bound's width in standard deviations; got %g)",
                             s->search.kappa);
                else
                    seen->has_kappa = 1;
            }
            break;
        }
    }
}

/* search.warm_start: a list of earlier studies' names (one name alone is
 * a list of one). Only the adaptive algorithms can learn from trials they
 * did not run; a study cannot start from itself. */
static void parse_warm_start(ctx_t *c, map_t *m, int algo_ok)
{
    hp_spec_t *s = c->spec;
    entry_t *e = spec_map_get(m, "warm_start");
    if (!e)
        return;
    char p[300], why[300];
    val_t v = spec_entry_val(c, m, e, p, sizeof p);
    if (algo_ok && s->search.algorithm != HP_ALGO_BAYES &&
        s->search.algorithm != HP_ALGO_COARSE_TO_FINE) {
        spec_err(c, e->line, p,
                 "only bayes and coarse-to-fine learn from earlier trials (this study's "
                 "algorithm is %s)",
                 hp_algo_name(s->search.algorithm));
        return;
    }
    struct fy_node *single = NULL;
    int count = 1;
    if (v.kind == K_STRING || v.kind == K_NUMBER) {
        single = e->val;
    } else if (v.kind == K_SEQ) {
        count = fy_node_sequence_item_count(e->val);
    } else {
        if (v.kind != K_BAD)
            spec_type_err(c, &v, p, "a list of study names (warm_start: [lr-coarse])");
        return;
    }
    if (count > MAX_WARM_START) {
        spec_err(c, v.line, p, "names %d studies (at most %d)", count, MAX_WARM_START);
        return;
    }
    s->search.warm_start = calloc(count ? (size_t)count : 1, sizeof *s->search.warm_start);
    HP_ASSERT(s->search.warm_start != NULL);
    void *it = NULL;
    struct fy_node *item;
    int idx = 0;
    while ((item = single ? single : fy_node_sequence_iterate(e->val, &it)) != NULL) {
        char ip[320];
        if (single)
            snprintf(ip, sizeof ip, "%s", p);
        else
            snprintf(ip, sizeof ip, "%s[%d]", p, idx);
        idx++;
        val_t iv = single ? v : spec_classify(c, item, ip, v.line);
        char *name = NULL;
        if (spec_get_string(c, &iv, ip, &name) < 0) {
            if (single)
                break;
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < s->search.n_warm_start; k++)
            dup |= strcmp(s->search.warm_start[k], name) == 0;
        if (name_problem(name, strlen(name), why, sizeof why))
            spec_err(c, iv.line, ip, "%s", why);
        else if (s->name[0] && strcmp(name, s->name) == 0)
            spec_err(c, iv.line, ip,
                     "'%s' is this study; warm_start names earlier studies whose trials it "
                     "starts from",
                     name);
        else if (dup)
            spec_err(c, iv.line, ip, "names '%s' twice", name);
        else {
            s->search.warm_start[s->search.n_warm_start++] = name;
            name = NULL;
        }
        free(name);
        if (single)
            break;
    }
}

static void parse_search(ctx_t *c, map_t *root, search_seen_t *seen)
{
    hp_spec_t *s = c->spec;
    s->search.algorithm = HP_ALGO_RANDOM;
    s->search.parallelism = 1;
    s->search.max_failures = HP_SPEC_DEFAULT_MAX_FAILURES;
    entry_t *e = spec_map_get(root, "search");
    if (!e) {
        spec_missing(c, root, "search", "(search: {algorithm: random, max_trials: N})");
        return;
    }
    map_t m;
    if (spec_map_open(c, e->val, "search", e->line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[300];
    entry_t *f;
    int algo_ok = 1;
    if ((f = spec_map_get(&m, "algorithm")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        int a;
        if (spec_get_enum(c, &v, p, "algorithm", hp_spec_algo_names, 5, &a) == 0)
            s->search.algorithm = (hp_algo_t)a;
        else
            algo_ok = 0;
    }
    if ((f = spec_map_get(&m, "max_trials")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        seen->line_max_trials = v.line;
        if (spec_get_uint(c, &v, p, 1, 1000000000, &s->search.max_trials) == 0)
            seen->has_max_trials = 1;
    }
    if ((f = spec_map_get(&m, "parallelism")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        spec_get_u32(c, &v, p, 1, 100000, &s->search.parallelism);
    }
    if ((f = spec_map_get(&m, "seed")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        spec_get_uint(c, &v, p, 0, UINT64_MAX, &s->search.seed);
    }
    if ((f = spec_map_get(&m, "sanity_check")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        seen->line_sanity = v.line;
        if (spec_get_bool(c, &v, p, &s->search.sanity_check) == 0)
            seen->has_sanity = 1;
    }
    if ((f = spec_map_get(&m, "max_failures")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        spec_get_u32(c, &v, p, 0, 1000000000, &s->search.max_failures);
    }
    parse_algo_options(c, &m, algo_ok, seen);
    parse_warm_start(c, &m, algo_ok);
    static const char *const known[] = {
        "algorithm", "max_trials",       "parallelism", "seed",         "sanity_check",
        "rounds",    "trials_per_round", "top_k",       "top_fraction", "shrink",
        "n_initial", "max_failures",     "warm_start",  "acquisition",  "kappa"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    if (!seen->has_max_trials && !seen->line_max_trials && algo_ok &&
        s->search.algorithm != HP_ALGO_GRID)
        spec_missing(c, &m, "max_trials",
                     "(the number of trials to run; only grid search can omit it)");
    spec_map_fini(&m);
}

/* search_defaults fills the algorithm's defaults and checks options against
 * each other once max_trials is known. */
static void search_defaults(ctx_t *c, const search_seen_t *seen)
{
    hp_spec_t *s = c->spec;
    uint64_t mt = s->search.max_trials;
    if (s->search.algorithm == HP_ALGO_COARSE_TO_FINE) {
        if (!seen->has_rounds)
            s->search.rounds = HP_SPEC_DEFAULT_ROUNDS;
        if (!seen->has_shrink)
            s->search.shrink = HP_SPEC_DEFAULT_SHRINK;
        if (!seen->has_tpr && !seen->line_tpr)
            s->search.trials_per_round = mt ? (mt + s->search.rounds - 1) / s->search.rounds : 1;
        if (seen->has_tpr && mt && s->search.trials_per_round * s->search.rounds < mt)
            spec_err(c, seen->line_tpr, "search.trials_per_round",
                     "rounds x trials_per_round (%" PRIu64 ") is less than max_trials (%" PRIu64
                     ")",
                     s->search.trials_per_round * s->search.rounds, mt);
        if (seen->has_top_k && seen->has_top_fraction)
            spec_err(c,
                     seen->line_top_fraction > seen->line_top_k ? seen->line_top_fraction
                                                                : seen->line_top_k,
                     seen->line_top_fraction > seen->line_top_k ? "search.top_fraction"
                                                                : "search.top_k",
                     "use either top_k or top_fraction, not both");
        if (seen->has_top_k && s->search.trials_per_round &&
            s->search.top_k > s->search.trials_per_round)
            spec_err(c, seen->line_top_k, "search.top_k",
                     "must be <= trials_per_round (%" PRIu64 ") (got %" PRIu32 ")",
                     s->search.trials_per_round, s->search.top_k);
        if (seen->has_top_k)
            s->search.top_fraction = 0;
        else if (!seen->has_top_fraction)
            s->search.top_fraction = HP_SPEC_DEFAULT_TOP_FRACTION;
    } else if (s->search.algorithm == HP_ALGO_BAYES) {
        if (!seen->has_n_initial && !seen->line_n_initial)
            s->search.n_initial =
                mt && mt < HP_SPEC_DEFAULT_N_INITIAL ? (uint32_t)mt : HP_SPEC_DEFAULT_N_INITIAL;
        if (seen->has_n_initial && mt && s->search.n_initial > mt)
            spec_err(c, seen->line_n_initial, "search.n_initial",
                     "must be <= max_trials (%" PRIu64 ") (got %" PRIu32 ")", mt,
                     s->search.n_initial);
        /* kappa is the width of ucb's bound; logei has none to set (its
         * bound while trials run is fixed, docs/search.md) */
        if (seen->has_kappa && s->search.acquisition != HP_ACQ_UCB)
            spec_err(c, seen->line_kappa, "search.kappa",
                     "only applies to acquisition ucb (this study's acquisition is %s)",
                     hp_acquisition_name(s->search.acquisition));
        if (!seen->has_kappa && s->search.acquisition == HP_ACQ_UCB)
            s->search.kappa = HP_SPEC_DEFAULT_KAPPA;
        if (s->search.acquisition != HP_ACQ_UCB)
            s->search.kappa = 0;
    }
}

/* ---- the document ------------------------------------------------------- */

static void parse_root(ctx_t *c, struct fy_node *root)
{
    hp_spec_t *s = c->spec;
    s->version = HP_SPEC_VERSION;
    if (spec_classify(c, root, "", 1).kind == K_NULL) {
        spec_err(c, 1, "", "the spec is empty (it needs name, objective, search, space and trial)");
        return;
    }
    map_t m;
    if (spec_map_open(c, root, "", 1, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[300];
    entry_t *e;
    if ((e = spec_map_get(&m, "version")) != NULL) {
        val_t v = spec_entry_val(c, &m, e, p, sizeof p);
        uint64_t ver;
        if (spec_get_uint(c, &v, p, 0, UINT64_MAX, &ver) == 0 && ver != HP_SPEC_VERSION)
            spec_err(c, v.line, p,
                     "spec version %" PRIu64 " is not supported (this hpsearch reads version %d)",
                     ver, HP_SPEC_VERSION);
    }
    search_seen_t seen = {0};
    space_lines_t sl = {0};
    parse_name(c, &m);
    int metric_lines[HP_SPEC_MAX_OBJECTIVES] = {0};
    parse_objective(c, &m, metric_lines);
    parse_search(c, &m, &seen);
    int space_before = c->errors;
    spec_parse_space(c, &m, &sl);
    int space_ok = c->errors == space_before;
    int trial_before = c->errors;
    spec_parse_trial(c, &m, &sl);
    if (c->errors == trial_before && spec_map_get(&m, "trial"))
        for (size_t i = 0; i < hp_spec_n_objectives(s); i++)
            spec_check_objective(c, i, metric_lines[i]);
    spec_parse_pruning(c, &m);
    spec_parse_constraints(c, &m);
    static const char *const known[] = {"version", "name",  "objective", "search",
                                        "space",   "trial", "pruning",   "constraints"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));

    search_defaults(c, &seen);
    if (seen.has_sanity && s->search.sanity_check && s->trial.kind != HP_TRIAL_MODEL &&
        spec_map_get(&m, "trial"))
        spec_err(c, seen.line_sanity, "search.sanity_check",
                 "needs a built-in model (trial.model): only a model can overfit one batch");
    if (!seen.has_sanity && !seen.line_sanity)
        s->search.sanity_check = s->trial.kind == HP_TRIAL_MODEL;
    if (s->search.algorithm == HP_ALGO_GRID && sl.param)
        spec_check_grid(c, &sl);
    if (space_ok && sl.param && s->space.n)
        spec_space_check(c, &sl);
    for (size_t i = 0; space_ok && s->search.algorithm == HP_ALGO_COARSE_TO_FINE &&
                       i < s->space.n;
         i++)
        if (s->space.params[i].has_when) {
            char path[300];
            snprintf(path, sizeof path, "space.%s.when", s->space.params[i].name);
            spec_err(c, sl.when[i].line, path,
                     "coarse-to-fine does not take conditional parameters (it shrinks every "
                     "range around the best trials, and an inactive parameter has none); use "
                     "bayes, random, sobol or grid");
            break;
        }
    spec_check_several(c, spec_map_get(&m, "objective"));
    spec_space_lines_fini(&sl);
    spec_map_fini(&m);
}

/* collect_fy_errors turns libfyaml's collected messages into diagnostics. */
static int collect_fy_errors(ctx_t *c, struct fy_diag *fyd)
{
    int n = 0;
    void *it = NULL;
    struct fy_diag_error *e;
    while ((e = fy_diag_errors_iterate(fyd, &it)) != NULL) {
        if (e->type < FYET_ERROR)
            continue;
        char b[200];
        const char *msg = e->msg ? e->msg : "syntax error";
        spec_err(c, e->line > 0 ? e->line : 1, "", "YAML syntax error: %s (column %d)",
                 spec_show(b, sizeof b, msg, strlen(msg)), e->column);
        n++;
        break; /* the first error is the real one; later ones are fallout */
    }
    return n;
}

/* fy_diag output goes nowhere: errors are collected, not printed. */
static void fy_quiet(struct fy_diag *d, void *user, const char *buf, size_t len) {}

static int line_of_offset(const char *text, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

/* sort_by_line orders the diagnostics added since start by line, keeping
 * the order of those on one line: users read them top to bottom. */
static void sort_by_line(hp_diag_t *d, size_t start)
{
    for (size_t i = start + 1; i < d->n; i++) {
        hp_diag_item_t it = d->items[i];
        size_t j = i;
        while (j > start && d->items[j - 1].line > it.line) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = it;
    }
}

static int parse_text(hp_spec_t *spec, const char *text, size_t len, const char *file,
                      hp_diag_t *diag);

/* utf8_error returns the offset of the first byte that is not part of a
 * well-formed UTF-8 sequence (no overlongs, surrogates or values above
 * U+10FFFF), or len if there is none. YAML is Unicode text; besides, the
 * libfyaml we build against (0.7.12) loops forever on a directive line
 * holding a malformed sequence, so this check must come before it. */
static size_t utf8_error(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (i + n >= len) /* truncated sequence */
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

int hp_spec_parse(hp_spec_t *spec, const char *text, size_t len, const char *file, hp_diag_t *diag)
{
    size_t start = diag->n;
    int rc = parse_text(spec, text, len, file, diag);
    sort_by_line(diag, start);
    return rc;
}

/* check_text refuses what is no spec before YAML sees it: too large, a
 * NUL byte, bytes that are not UTF-8, nothing but white space. Returns 0
 * or HP_EINVAL with the diagnostic added. */
static int check_text(ctx_t *c, const char *text, size_t len)
{
    const char *nul = memchr(text, '\0', len);
    if (len > HP_SPEC_MAX_BYTES) {
        spec_err(c, 1, "", "the spec is too large (%zu bytes; the limit is %d)", len,
                 HP_SPEC_MAX_BYTES);
        return HP_EINVAL;
    }
    if (nul) {
        spec_err(c, line_of_offset(text, (size_t)(nul - text)), "",
                 "the file contains a NUL byte at offset %zu; a study spec is YAML or JSON text",
                 (size_t)(nul - text));
        return HP_EINVAL;
    }
    size_t bad = utf8_error((const unsigned char *)text, len);
    if (bad < len) {
        size_t line_start = bad;
        while (line_start > 0 && text[line_start - 1] != '\n')
            line_start--;
        spec_err(c, line_of_offset(text, bad), "",
                 "the file is not UTF-8 text: byte 0x%02x at column %zu (offset %zu) starts no "
                 "valid character",
                 (unsigned char)text[bad], bad - line_start + 1, bad);
        return HP_EINVAL;
    }
    size_t k = 0;
    while (k < len && strchr(" \t\r\n", text[k]))
        k++;
    if (k == len) {
        spec_err(c, 1, "",
                 "the spec is empty (it needs name, objective, search, space and trial)");
        return HP_EINVAL;
    }
    return 0;
}

/* parse_yaml reads text as one YAML (or, for a .json file, JSON)
 * document and walks its root; libfyaml's own errors become diagnostics. */
static void parse_yaml(ctx_t *c, const char *text, size_t len, const char *file)
{
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = fy_quiet;
    dcfg.user = NULL;
    dcfg.colorize = false;
    struct fy_diag *fyd = fy_diag_create(&dcfg);
    HP_ASSERT(fyd != NULL);
    fy_diag_set_collect_errors(fyd, true);

    /* Duplicate keys are reported by the walker (with the field path);
     * aliases are never resolved; the default depth limit stays on. */
    size_t fl = file ? strlen(file) : 0;
    int json = fl > 5 && strcmp(file + fl - 5, ".json") == 0;
    struct fy_parse_cfg pcfg = {
        .flags = FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS | FYPCF_DEFAULT_VERSION_1_2 |
                 (json ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE),
        .diag = fyd,
    };
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    HP_ASSERT(fyp != NULL);
    struct fy_document *doc = NULL;
    if (fy_parser_set_string(fyp, text, len) != 0) {
        spec_err(c, 1, "", "cannot read the spec text");
    } else {
        doc = fy_parse_load_document(fyp);
        if (!doc || fy_diag_got_error(fyd)) {
            if (!collect_fy_errors(c, fyd)) /* a stream with no document */
                spec_err(c, 1, "",
                         "the spec is empty (it needs name, objective, search, space and trial)");
        } else if (!fy_document_root(doc)) {
            spec_err(c, 1, "",
                     "the spec is empty (it needs name, objective, search, space and trial)");
        } else {
            struct fy_document *more = fy_parse_load_document(fyp);
            if (more || fy_diag_got_error(fyd)) {
                if (!collect_fy_errors(c, fyd)) {
                    struct fy_document_state *st =
                        more ? fy_document_get_document_state(more) : NULL;
                    const struct fy_mark *mk = st ? fy_document_state_start_mark(st) : NULL;
                    spec_err(c, mk ? mk->line + 1 : 1, "",
                             "the file holds more than one YAML document; a spec is one document");
                }
                if (more)
                    fy_parse_document_destroy(fyp, more);
            } else {
                int ql, qc;
                if (hp_yaml_misread_quote(fy_document_root(doc), text, len, &ql, &qc))
                    spec_err(c, ql, "", "%s (column %d)", HP_YAML_QUOTE_MSG, qc);
                else
                    parse_root(c, fy_document_root(doc));
            }
        }
    }
    if (doc)
        fy_parse_document_destroy(fyp, doc);
    fy_parser_destroy(fyp);
    fy_diag_destroy(fyd);
}

static int parse_text(hp_spec_t *spec, const char *text, size_t len, const char *file,
                      hp_diag_t *diag)
{
    hp_spec_init(spec);
    ctx_t c = {.file = file ? file : "", .diag = diag, .spec = spec};
    if (check_text(&c, text, len) < 0)
        return HP_EINVAL;
    parse_yaml(&c, text, len, file);
    if (c.errors) {
        /* a warning often explains an error (low: 1.0e-400 reads as 0,
         * which a log scale refuses): it goes with them, marked */
        for (size_t i = 0; i < spec->warnings.n; i++) {
            const hp_diag_item_t *w = &spec->warnings.items[i];
            hp_diag_add(diag, w->file, w->line, w->path, "warning: %s", w->message);
        }
        hp_spec_fini(spec);
        return HP_EINVAL;
    }
    spec->source = spec_strdup(file ? file : "");
    spec->raw = spec_strndup(text, len);
    spec->raw_len = len;
    return 0;
}

int hp_spec_load(hp_spec_t *spec, const char *path, hp_diag_t *diag)
{
    hp_spec_init(spec);
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        int e = errno;
        hp_diag_add(diag, name, 0, "", "cannot open: %s", strerror(e));
        return e == ENOENT ? HP_ENOENT : HP_EIO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            hp_diag_add(diag, name, 0, "", "is a directory, not a spec file");
            if (!is_stdin)
                fclose(f);
            return HP_EINVAL;
        }
        if (S_ISREG(st.st_mode) && st.st_size > HP_SPEC_MAX_BYTES) {
            hp_diag_add(diag, name, 0, "", "the spec is too large (%lld bytes; the limit is %d)",
                        (long long)st.st_size, HP_SPEC_MAX_BYTES);
            if (!is_stdin)
                fclose(f);
            return HP_EINVAL;
        }
    }
    /* Read at most one byte past the limit: pipes and growing files have no
     * trustworthy size. */
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    HP_ASSERT(buf != NULL);
    for (;;) {
        if (len == cap) {
            if (cap > HP_SPEC_MAX_BYTES)
                break;
            buf = hp_vec_grow(buf, &cap, cap + 1, 1, 0);
        }
        size_t want = cap - len;
        size_t got = fread(buf + len, 1, want, f);
        len += got;
        if (got < want)
            break;
    }
    int rerr = ferror(f);
    if (!is_stdin)
        fclose(f);
    if (rerr) {
        free(buf);
        hp_diag_add(diag, name, 0, "", "read error");
        return HP_EIO;
    }
    if (len > HP_SPEC_MAX_BYTES) {
        free(buf);
        hp_diag_add(diag, name, 0, "", "the spec is too large (more than %d bytes)",
                    HP_SPEC_MAX_BYTES);
        return HP_EINVAL;
    }
    int rc = hp_spec_parse(spec, buf, len, name, diag);
    free(buf);
    return rc;
}
