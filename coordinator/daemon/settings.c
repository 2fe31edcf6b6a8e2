#include "settings.h"

#include "err.h"
#include "lockfile.h"
#include "token.h"
#include "log.h"
#include "tls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { SET_STRING, SET_INT } set_type_t;

typedef struct setting {
    const char *name;
    set_type_t type;
    const char *def;
    size_t offset;
    size_t size;  /* strings: buffer size */
    int64_t min, max;
    const char *help;
} setting_t;

#define STR(n, field, def, help) \
    {n, SET_STRING, def, offsetof(hp_coord_config_t, field), sizeof(((hp_coord_config_t *)0)->field), 0, 0, help}
#define INT(n, field, def, lo, hi, help) \
    {n, SET_INT, def, offsetof(hp_coord_config_t, field), 0, lo, hi, help}

static const setting_t settings[] = {
    STR("db", db, "hpsearch.db", "SQLite database file (created if missing)"),
    STR("listen", listen, "tcp://127.0.0.1:7521", "URL workers connect to"),
    STR("control", control, "tcp://127.0.0.1:7522", "URL the hpsearch CLI connects to"),
    STR("http", http, "",
        "serve the web dashboard here, e.g. http://127.0.0.1:7523, or https://HOST:PORT with "
        "--tls-cert/--tls-key (off by default; off loopback it asks for the token, and for "
        "https:// when the sockets use TLS)"),
    STR("token-file", token_file, "",
        "file holding the shared secret (default: DB.token beside the database, created 0600 "
        "if missing)"),
    STR("tls-ca", tls_ca, "", "tls+tcp://: the CA certificate that signs every client's (hpsearch certs)"),
    STR("tls-cert", tls_cert, "", "tls+tcp://: this daemon's certificate, naming the host clients dial"),
    STR("tls-key", tls_key, "", "tls+tcp://: the key of --tls-cert"),
    STR("log-level", log_level, "info", "error | warn | info | debug"),
    STR("synchronous", synchronous, "full", "full (survives power loss) | normal (survives crashes)"),
    INT("heartbeat-ms", heartbeat_ms, "2000", 10, 600000, "how often workers heartbeat"),
    INT("lease-ms", lease_ms, "10000", 50, 3600000, "a trial lease not renewed within this expires"),
    INT("worker-contexts", worker_contexts, "1024", 4, 65536, "concurrent worker requests (idle workers hold one each)"),
    INT("control-contexts", control_contexts, "16", 1, 1024, "concurrent CLI requests"),
    INT("query-max-rows", query_max_rows, "100000", 1, 100000000, "row limit for QUERY replies"),
    INT("checkpoint-s", checkpoint_s, "30", 1, 86400, "WAL checkpoint period"),
    INT("query-timeout-s", query_timeout_s, "5", 1, 3600,
        "a QUERY (hpsearch sql) running longer is stopped (queries run off the loop; this "
        "bounds how long one holds a thread and keeps the WAL from restarting)"),
    INT("query-concurrency", query_concurrency, "2", 1, 16,
        "QUERYs run at once, each on its own thread and read-only connection; one more is "
        "refused as busy"),
    INT("max-workers", max_workers, "4096", 1, 1000000,
        "live worker registrations in all; a HELLO beyond them is refused (EBUSY)"),
    INT("max-workers-per-peer", max_workers_per_peer, "1024", 1, 1000000,
        "live worker registrations from one peer (IP address, or uid on ipc://)"),
    INT("auth-fail-limit", auth_fail_limit, "10", 1, 1000000,
        "failed authentications one peer may make per minute; further requests from it are "
        "refused unchecked until the minute ends"),
    STR("lock-owner", lock_owner, "",
        "who the database's lock file names as its holder, PROGRAM:PID:SINCE (hpsearch run "
        "sets it; default: this hpsearchd)"),
};

static const setting_t *find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

int hp_settings_set(hp_coord_config_t *cfg, const char *name, const char *value, char *err,
                    size_t errlen)
{
    const setting_t *s = find(name);
    if (!s)
        return hp_errf(err, errlen, HP_EINVAL, "unknown setting '%s' (try --help)", name);
    char *p = (char *)cfg + s->offset;
    if (s->type == SET_STRING) {
        if (strlen(value) >= s->size)
            return hp_errf(err, errlen, HP_EINVAL, "%s: value longer than %zu bytes", name,
                           s->size - 1);
        if (strcmp(name, "log-level") == 0 && hp_log_level_parse(value) < 0)
            return hp_errf(err, errlen, HP_EINVAL,
                           "log-level: expected error, warn, info or debug (got '%s')", value);
        if (strcmp(name, "synchronous") == 0 && strcasecmp(value, "full") != 0 &&
            strcasecmp(value, "normal") != 0)
            return hp_errf(err, errlen, HP_EINVAL,
                           "synchronous: expected full or normal (got '%s')", value);
        hp_lock_owner_t o;
        if (strcmp(name, "lock-owner") == 0 && *value &&
            hp_lock_owner_parse(&o, value, err, errlen) < 0)
            return HP_EINVAL;
        memcpy(p, value, strlen(value) + 1);
        return 0;
    }
    errno = 0;
    char *end;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end)
        return hp_errf(err, errlen, HP_EINVAL, "%s: expected a whole number (got '%s')", name,
                       value);
    if (v < s->min || v > s->max)
        return hp_errf(err, errlen, HP_EINVAL, "%s: must be in %lld..%lld (got %lld)", name,
                       (long long)s->min, (long long)s->max, v);
    *(int64_t *)p = v;
    return 0;
}

void hp_settings_defaults(hp_coord_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++) {
        int rc = hp_settings_set(cfg, settings[i].name, settings[i].def, NULL, 0);
        HP_ASSERT(rc == 0);
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int hp_settings_load_file(hp_coord_config_t *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return hp_errf(err, errlen, HP_ENOENT, "cannot open config file %s: %s", path,
                       strerror(errno));
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *sep = s + strcspn(s, " \t=");
        char *value = sep;
        if (*sep) {
            *sep = '\0';
            value = sep + 1;
            value = trim(value);
            if (*value == '=')
                value = trim(value + 1);
        }
        char e[256];
        if (hp_settings_set(cfg, s, value, e, sizeof e) < 0) {
            rc = hp_errf(err, errlen, HP_EINVAL, "%s:%d: %s", path, lineno, e);
            break;
        }
    }
    fclose(f);
    return rc;
}

void hp_settings_usage(FILE *f)
{
    fputs("usage: hpsearchd [--config FILE] [--NAME VALUE ...]\n\nsettings (flag or config-file "
          "line `NAME VALUE`):\n",
          f);
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++)
        fprintf(f, "  --%-18s %s (default: %s)\n", settings[i].name, settings[i].help,
                *settings[i].def ? settings[i].def : "none");
}

int hp_settings_parse_args(hp_coord_config_t *cfg, int argc, char **argv, char *err,
                           size_t errlen)
{
    /* the config file first, so flags override it whatever their order */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            hp_settings_usage(stdout);
            return 1;
        }
        const char *file = NULL;
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return hp_errf(err, errlen, HP_EINVAL, "--config needs a file name");
            file = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        }
        if (file) {
            int rc = hp_settings_load_file(cfg, file, err, errlen);
            if (rc < 0)
                return rc;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            return hp_errf(err, errlen, HP_EINVAL, "unexpected argument '%s' (try --help)", a);
        char name[64];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc)
                return hp_errf(err, errlen, HP_EINVAL, "--%s needs a value", name);
            value = argv[++i];
        }
        if (strcmp(name, "config") == 0)
            continue;
        int rc = hp_settings_set(cfg, name, value, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hp_url_is_local(const char *url)
{
    if (strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0)
        return 1;
    const char *host = strstr(url, "://");
    if (!host)
        return 0;
    host += 3;
    if (strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
        strncmp(host, "[::1]:", 6) == 0)
        return 1;
    return 0;
}

int hp_settings_finish(hp_coord_config_t *cfg, char *err, size_t errlen)
{
    if (*cfg->token_file) {
        int rc = hp_token_read(cfg->token_file, cfg->token, sizeof cfg->token, &cfg->token_len,
                               err, errlen);
        if (rc < 0)
            return rc; /* err names the file */
        if (cfg->token_len < 16)
            return hp_errf(err, errlen, HP_EINVAL,
                           "token-file: %s holds %zu bytes; use at least 16 random bytes",
                           cfg->token_file, cfg->token_len);
        snprintf(cfg->token_path, sizeof cfg->token_path, "%s", cfg->token_file);
    } else {
        /* authentication by default: a token of our own beside the database */
        if (hp_token_path_for_db(cfg->db, cfg->token_path, sizeof cfg->token_path) < 0)
            return hp_errf(err, errlen, HP_ERANGE, "db: path too long for its token file");
        int created;
        char why[1200];
        int rc = hp_token_ensure(cfg->token_path, cfg->token, sizeof cfg->token, &cfg->token_len,
                                 &created, why, sizeof why);
        if (rc < 0)
            return hp_errf(err, errlen, rc, "token: %s", why);
        cfg->token_created = created;
    }
    /* The same files serve tls+tcp:// sockets and an https:// dashboard.
     * Every socket is authenticated: the token above is there whatever the
     * addresses. */
    const char *urls[3] = {cfg->listen, cfg->control,
                           hp_tls_url_is_https(cfg->http) ? cfg->http : NULL};
    hp_tls_files_t tls = {cfg->tls_ca, cfg->tls_cert, cfg->tls_key};
    int trc = hp_tls_check_flags(&tls, urls, 3, err, errlen);
    if (trc < 0)
        return trc;
    /* a dashboard that other hosts reach carries the token: in clear it
     * would hand it to anyone on the path, while the sockets hide theirs */
    if (*cfg->http && !hp_tls_url_is_https(cfg->http) && !hp_url_is_local(cfg->http) &&
        (hp_tls_url_is_tls(cfg->listen) || hp_tls_url_is_tls(cfg->control)))
        return hp_errf(err, errlen, HP_EINVAL,
                       "http: %s is plain HTTP off loopback while the sockets use TLS: serve "
                       "https://%s (the same --tls-cert/--tls-key)",
                       cfg->http, strstr(cfg->http, "://") ? strstr(cfg->http, "://") + 3 : "");
    if (cfg->heartbeat_ms * 2 > cfg->lease_ms)
        return hp_errf(err, errlen, HP_EINVAL,
                       "lease-ms (%lld) must be at least twice heartbeat-ms (%lld), or leases "
                       "expire between heartbeats",
                       (long long)cfg->lease_ms, (long long)cfg->heartbeat_ms);
    return 0;
}
