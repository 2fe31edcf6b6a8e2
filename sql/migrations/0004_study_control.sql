-- Migration 4: study control.
--
--  * trial_attempts.outcome may be 'interrupted': the attempt's worker
--    stopped it because the worker itself was stopped (SIGTERM, Ctrl-C of
--    hpsearch run, a scheduler's time limit). The trial went back to
--    pending and runs again; an interrupted attempt does not count against
--    trial.retries. Only a user's `hpsearch cancel` cancels.
--  * trial_attempts.stdout / stderr: what an external program wrote,
--    kept whole up to a size cap (`hpsearch logs`).
--  * trials.origin: who chose the trial's parameters: 'sampler' (the
--    study's search), 'enqueued' (hpsearch enqueue) or 'ask' (hpsearch ask,
--    run by the user's own loop).
--
-- SQLite cannot change a CHECK constraint in place, so trial_attempts is
-- rebuilt with its rows and indexes; nothing references it.

CREATE TABLE trial_attempts_v4 (
    id            INTEGER PRIMARY KEY,
    trial_id      INTEGER NOT NULL REFERENCES trials (id),
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    worker_id     TEXT REFERENCES workers (id),
    lease_id      INTEGER NOT NULL,
    lease_expires REAL,
    started       REAL NOT NULL,
    ended         REAL,
    outcome       TEXT NOT NULL DEFAULT 'running'
                  CHECK (outcome IN ('running', 'completed', 'failed', 'lost', 'pruned',
                                     'cancelled', 'interrupted')),
    error         TEXT,
    stdout        TEXT,
    stderr        TEXT
);
INSERT INTO trial_attempts_v4 (id, trial_id, attempt, worker_id, lease_id, lease_expires,
                               started, ended, outcome, error)
SELECT id, trial_id, attempt, worker_id, lease_id, lease_expires, started, ended, outcome, error
FROM trial_attempts;
DROP TABLE trial_attempts;
ALTER TABLE trial_attempts_v4 RENAME TO trial_attempts;
CREATE UNIQUE INDEX trial_attempts_by_trial ON trial_attempts (trial_id, attempt);
CREATE UNIQUE INDEX trial_attempts_by_lease ON trial_attempts (lease_id);
CREATE INDEX trial_attempts_by_worker ON trial_attempts (worker_id);

ALTER TABLE trials ADD COLUMN origin TEXT NOT NULL DEFAULT 'sampler'
    CHECK (origin IN ('sampler', 'enqueued', 'ask'));
