/*
 * rundir.h — how local clients find a daemon's token by themselves (as
 * Jupyter's runtime files and Ray's /tmp/ray do): hpsearchd publishes, for
 * each URL it listens on, a small record naming its token file in a
 * private runtime directory; `hpsearch` and `hpworker` look the URL they
 * are given up there.
 *
 *     // hpsearchd, once its sockets listen:
 *     hp_rundir_publish("ipc:///tmp/x/control.sock", "/data/hp.db.token", err, n);
 *     ...
 *     hp_rundir_unpublish("ipc:///tmp/x/control.sock");
 *     // a client:
 *     hp_token_find(url, flag_file, tok, sizeof tok, &len, from, sizeof from, err, n);
 *
 * The runtime directory is $HPSEARCH_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR/hpsearch, else /tmp/hpsearch-UID; it is created mode
 * 0700 and refused unless it is a directory of ours that nobody else can
 * write. A record is RUNDIR/<64-bit hash of the URL, hex>.url holding
 * lines `url URL`, `token_file PATH`, `pid PID`; it names the token file,
 * never holds the token. A tcp URL on a wildcard host (0.0.0.0, *, [::],
 * none) or on 127.0.0.1 / localhost is published under its 127.0.0.1 and
 * localhost spellings too.
 * Any thread; files only.
 */
#ifndef HP_RUNDIR_H
#define HP_RUNDIR_H

#include <stddef.h>

/* hp_rundir_path writes the runtime directory's path into out, creating
 * it when create is set. HP_EAUTH when it exists but is not private (or
 * not ours), HP_EIO when it cannot be made, with err. */
int hp_rundir_path(char *out, size_t cap, int create, char *err, size_t errlen);

/* hp_rundir_publish records that url is served with the token in
 * token_file (made absolute here). Returns 0 or an hp_err with err; a
 * daemon that cannot publish still runs, and clients then need
 * --token-file. */
int hp_rundir_publish(const char *url, const char *token_file, char *err, size_t errlen);

/* hp_rundir_unpublish removes url's records if they are this process's. */
void hp_rundir_unpublish(const char *url);

/* hp_rundir_lookup finds the token file published for url (0), or
 * HP_ENOENT. */
int hp_rundir_lookup(const char *url, char *token_file, size_t cap);

/* hp_token_find finds the token a client of url sends, in this order:
 * explicit_file (a --token-file flag; NULL: none), $HPSEARCH_TOKEN_FILE,
 * the token file published for url. tok gets the token (cap at least
 * HP_TOKEN_MAX + 1) and *len its length; from (may be NULL) the file it
 * came from. Returns 0, HP_ENOENT when none of them gives one (*len 0, no
 * error: the caller sends none), or the error reading a file that was
 * named. */
int hp_token_find(const char *url, const char *explicit_file, char *tok, size_t cap, size_t *len,
                  char *from, size_t fromcap, char *err, size_t errlen);

#endif
