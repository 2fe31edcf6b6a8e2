-- Migration 2: what the coordinator needs to survive dead workers and its
-- own restarts, and the troubleshooting verdicts.
--
--  * trial_attempts: every attempt of a trial under a lease (worker, lease id
--    and expiry, start/end, outcome). A result is accepted only for the
--    trial's current attempt, so each attempt is recorded exactly once.
--  * trials.attempts counts started attempts; metrics.attempt says which
--    attempt reported a value (a re-run trial reports its curve again).
--  * trials.diagnosis / diagnosis_detail: the learning-curve verdict.
--  * studies.reason: why a study ended (e.g. the sanity check failed).
--  * events: an append-only log of what the coordinator did.
--
-- Rows written at version 1 are carried over: a trial that had started gets
-- one attempt (worker unknown, lease id -trial id so it can never collide
-- with a lease the coordinator issues, which are positive) whose outcome
-- follows the trial's state; its metrics belong to that attempt 1.

ALTER TABLE studies ADD COLUMN reason TEXT;

ALTER TABLE trials ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE trials ADD COLUMN diagnosis TEXT;
ALTER TABLE trials ADD COLUMN diagnosis_detail TEXT;

ALTER TABLE metrics ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1);
DROP INDEX metrics_by_trial;
CREATE UNIQUE INDEX metrics_by_trial ON metrics (trial_id, name, step, attempt);

CREATE TABLE trial_attempts (
    id            INTEGER PRIMARY KEY,
    trial_id      INTEGER NOT NULL REFERENCES trials (id),
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),
    worker_id     TEXT REFERENCES workers (id),
    lease_id      INTEGER NOT NULL,
    lease_expires REAL,
    started       REAL NOT NULL,
    ended         REAL,
    outcome       TEXT NOT NULL DEFAULT 'running'
                  CHECK (outcome IN ('running', 'completed', 'failed', 'lost', 'pruned', 'cancelled')),
    error         TEXT
);
CREATE UNIQUE INDEX trial_attempts_by_trial ON trial_attempts (trial_id, attempt);
CREATE UNIQUE INDEX trial_attempts_by_lease ON trial_attempts (lease_id);
CREATE INDEX trial_attempts_by_worker ON trial_attempts (worker_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    time        REAL NOT NULL,
    kind        TEXT NOT NULL,
    study_id    INTEGER,
    trial_id    INTEGER,
    worker_id   TEXT,
    message     TEXT
);
CREATE INDEX events_by_study ON events (study_id, time);

INSERT INTO trial_attempts (trial_id, attempt, worker_id, lease_id, lease_expires,
                            started, ended, outcome, error)
SELECT id, 1, NULL, -id, NULL, started,
       CASE WHEN state = 'running' THEN NULL ELSE COALESCE(ended, started) END,
       CASE state WHEN 'pending' THEN 'lost' ELSE state END,
       CASE WHEN state = 'failed' THEN error END
FROM trials
WHERE started IS NOT NULL;

UPDATE trials SET attempts = 1 WHERE started IS NOT NULL;
