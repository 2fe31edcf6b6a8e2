/*
 * token.h — the shared secret that authenticates clients and workers to
 * hpsearchd, and the random bytes it and the worker sessions are made of.
 *
 * A token file holds the token on one line (a trailing newline is not part
 * of it). With no --token-file, hpsearchd uses DB.token beside its database,
 * creating it the first time (hp_token_ensure: 32 random bytes as 64 hex
 * digits, mode 0600, written whole or not at all):
 *
 *     char path[1100], tok[HP_TOKEN_MAX + 1];
 *     size_t len;
 *     int created;
 *     hp_token_path_for_db("/data/hp.db", path, sizeof path);   // /data/hp.db.token
 *     if (hp_token_ensure(path, tok, sizeof tok, &len, &created, err, sizeof err) < 0) ...
 *
 * Clients find a daemon's token file by themselves through rundir.h. Pure
 * functions over files; any thread.
 */
#ifndef HP_TOKEN_H
#define HP_TOKEN_H

#include <stddef.h>

/* What a daemon's own token file is called: its database's path and this. */
#define HP_TOKEN_SUFFIX ".token"
/* Random bytes in a created token (written as twice as many hex digits). */
#define HP_TOKEN_RANDOM_BYTES 32
/* The longest token accepted (the envelope's auth_token bound). */
#define HP_TOKEN_MAX 1024

/* hp_random_bytes fills buf with n bytes from the kernel's CSPRNG
 * (getrandom(2)), for tokens, session secrets and lease ids. Returns 0 or
 * HP_EIO with err. */
int hp_random_bytes(void *buf, size_t n, char *err, size_t errlen);

/* hp_token_path_for_db writes DB + ".token" into out. HP_ERANGE if it does
 * not fit. */
int hp_token_path_for_db(const char *db, char *out, size_t cap);

/* hp_token_read reads the token in path into tok (NUL-terminated; cap at
 * least HP_TOKEN_MAX + 1) and its length into *len, trailing CR/LF
 * trimmed. HP_ENOENT (no such file), HP_EIO, HP_EINVAL (empty, longer than
 * HP_TOKEN_MAX), with err naming the file. */
int hp_token_read(const char *path, char *tok, size_t cap, size_t *len, char *err,
                  size_t errlen);

/* hp_token_ensure reads path as hp_token_read does, or, when there is no
 * such file, creates it with a fresh random token, mode 0600, atomically
 * (written to a temporary file, then linked into place: a reader never
 * sees half a token, and of two daemons racing one token wins). *created
 * says which. A file that other users can read or that another user owns
 * is refused (HP_EAUTH), naming the chmod that fixes it. */
int hp_token_ensure(const char *path, char *tok, size_t cap, size_t *len, int *created,
                    char *err, size_t errlen);

/* hp_token_equal compares two byte strings in time that depends only on
 * their lengths, never on where they differ. 1 if equal. */
int hp_token_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
