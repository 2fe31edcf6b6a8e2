-- Migration 9: worker sessions survive a coordinator restart.
--
--  * worker_sessions: for each worker id, the SHA-256 of the session secret
--    its last HELLO_REPLY gave and of the nonce its process sends in every
--    HELLO, never the secrets themselves. A restarted coordinator reloads
--    them, so a worker that ran on goes on under its session, and a HELLO
--    naming a worker id is that worker's only if it proves one of the two.
--    hello_seq is the envelope sequence of the HELLO that began the
--    session: a resend of it is that same registration.

CREATE TABLE worker_sessions (
    worker_id     TEXT PRIMARY KEY REFERENCES workers (id),
    secret_sha256 BLOB NOT NULL CHECK (length(secret_sha256) = 32),
    nonce_sha256  BLOB CHECK (nonce_sha256 IS NULL OR length(nonce_sha256) = 32),
    hello_seq     INTEGER NOT NULL DEFAULT 0,
    updated       REAL NOT NULL
);
