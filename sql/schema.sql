-- hpsearch database schema, version 10 (PRAGMA user_version).
--
-- This is the whole current schema, for reading. Databases are built and
-- upgraded by the numbered files in sql/migrations/; a test checks that
-- applying them yields exactly this schema. `sqlite3 new.db < schema.sql`
-- also creates a valid database. docs/sql.md explains every column.
--
-- Times are unix seconds (UTC) as REAL, e.g. 1764229801.125;
-- read them with datetime(created, 'unixepoch') and subtract them for
-- durations (ended - started).
--
-- Columns written as `, name ...` at the end of a table were added by a
-- later migration (ALTER TABLE ADD COLUMN); sqlite_master shows them the
-- same way.

-- A study: one search, named by its spec's `name`.
CREATE TABLE studies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,                                -- the spec as submitted (YAML or JSON)
    spec_json   TEXT NOT NULL CHECK (json_valid(spec_json)),  -- the parsed spec as JSON
    metric      TEXT NOT NULL,                                -- objective metric name
    goal        TEXT NOT NULL CHECK (goal IN ('minimize', 'maximize')),
    max_trials  INTEGER NOT NULL DEFAULT 0 CHECK (max_trials >= 0),  -- 0: no limit
    state       TEXT NOT NULL DEFAULT 'running'
                CHECK (state IN ('running', 'completed', 'cancelled', 'failed', 'stopped')),
    created     REAL NOT NULL,
    ended       REAL                                          -- NULL while running
, reason TEXT                                                 -- why it ended, NULL if it just finished
, dataset_key TEXT                                            -- what its trials train and test on; NULL: none
, parent INTEGER REFERENCES studies (id)                      -- the study this autopilot round came from; NULL: none
);
CREATE INDEX studies_by_dataset_key ON studies (dataset_key);
CREATE INDEX studies_by_parent ON studies (parent);

-- A trial: one configuration of a study, numbered 0, 1, ... per study.
-- pending -> running -> completed | failed | pruned; running -> pending when
-- its lease is lost; pending | running -> cancelled.
CREATE TABLE trials (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies (id),
    number      INTEGER NOT NULL CHECK (number >= 0),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'completed', 'failed', 'pruned', 'cancelled')),
    params      TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object'),
    value       REAL CHECK (state <> 'completed' OR value IS NOT NULL),  -- the objective
    error       TEXT,                                         -- why it failed / was pruned or cancelled
    created     REAL NOT NULL,
    started     REAL,                                         -- start of the latest attempt
    ended       REAL                                          -- when it reached its final state
, attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)   -- attempts started so far
, diagnosis TEXT                                              -- learning-curve verdict, e.g. 'plateaus'
, diagnosis_detail TEXT                                       -- its likely causes, for people
, origin TEXT NOT NULL DEFAULT 'sampler'                     -- who chose its params: 'sampler',
    CHECK (origin IN ('sampler', 'enqueued', 'ask'))         -- 'enqueued' (hpsearch enqueue), 'ask'
, pruned_step INTEGER CHECK (pruned_step IS NULL OR pruned_step >= 0)  -- where pruning stopped it
, infeasible TEXT                                             -- why it breaks a constraint; NULL: feasible
, objectives TEXT                                             -- every objective's value, JSON by metric
    CHECK (objectives IS NULL OR json_valid(objectives))
);
CREATE UNIQUE INDEX trials_by_number ON trials (study_id, number);
CREATE INDEX trials_by_value ON trials (study_id, state, value);
CREATE INDEX trials_pending ON trials (study_id, number) WHERE state = 'pending';

-- Every attempt of a trial: given to a worker under a lease; the lease
-- (lease_id) is the only one whose result is accepted while it is current.
-- 'interrupted': its worker was stopped (SIGTERM, Ctrl-C of hpsearch run);
-- the trial went back to pending, and the attempt does not count against
-- trial.retries. (Rebuilt by migration 4, which renamed it into place.)
CREATE TABLE "trial_attempts" (
    id            INTEGER PRIMARY KEY,
    trial_id      INTEGER NOT NULL REFERENCES trials (id),
    attempt       INTEGER NOT NULL CHECK (attempt >= 1),      -- 1, 2, ... per trial
    worker_id     TEXT REFERENCES workers (id),               -- NULL for schema-1 and asked attempts
    lease_id      INTEGER NOT NULL,
    lease_expires REAL,
    started       REAL NOT NULL,
    ended         REAL,                                       -- NULL while running
    outcome       TEXT NOT NULL DEFAULT 'running'
                  CHECK (outcome IN ('running', 'completed', 'failed', 'lost', 'pruned',
                                     'cancelled', 'interrupted')),
    error         TEXT,
    stdout        TEXT,                                       -- an external program's output,
    stderr        TEXT                                        -- whole up to a size cap
);
CREATE UNIQUE INDEX trial_attempts_by_trial ON trial_attempts (trial_id, attempt);
CREATE UNIQUE INDEX trial_attempts_by_lease ON trial_attempts (lease_id);
CREATE INDEX trial_attempts_by_worker ON trial_attempts (worker_id);

-- Metrics reported by a trial attempt: learning curves (per step) and final values.
CREATE TABLE metrics (
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    step        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       REAL,                                         -- NULL means NaN
    time        REAL NOT NULL
, attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1)
);
CREATE UNIQUE INDEX metrics_by_trial ON metrics (trial_id, name, step, attempt);

-- Workers that said HELLO; state follows their heartbeats.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    cores        INTEGER NOT NULL DEFAULT 0 CHECK (cores >= 0),
    slots        INTEGER NOT NULL DEFAULT 1 CHECK (slots >= 0),
    capabilities TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(capabilities)),
    first_seen   REAL NOT NULL,
    last_seen    REAL NOT NULL,
    state        TEXT NOT NULL DEFAULT 'alive' CHECK (state IN ('alive', 'lost', 'gone'))
);

-- What the coordinator did and why, oldest first.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    time        REAL NOT NULL,
    kind        TEXT NOT NULL,
    study_id    INTEGER,
    trial_id    INTEGER,
    worker_id   TEXT,
    message     TEXT
, detail TEXT CHECK (detail IS NULL OR json_valid(detail))    -- evidence as JSON; NULL: none
);
CREATE INDEX events_by_study ON events (study_id, time);

-- Simple baselines (majority class, linear model), computed once per
-- dataset key by one trial and shared by every study with that key.
CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY,
    dataset_key TEXT NOT NULL CHECK (length(dataset_key) > 0),  -- studies.dataset_key
    name        TEXT NOT NULL CHECK (length(name) > 0),         -- 'majority_class', 'linear_model'
    error       REAL NOT NULL CHECK (error >= 0),               -- its test error
    study_id    INTEGER NOT NULL REFERENCES studies (id),       -- who computed it
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    created     REAL NOT NULL
);
CREATE UNIQUE INDEX baselines_by_key ON baselines (dataset_key, name);

-- Worker sessions (docs/security.md): hashes only, never a secret. A
-- restarted coordinator reloads them, so sessions survive it.
CREATE TABLE worker_sessions (
    worker_id     TEXT PRIMARY KEY REFERENCES workers (id),
    secret_sha256 BLOB NOT NULL CHECK (length(secret_sha256) = 32),  -- of HELLO_REPLY's secret
    nonce_sha256  BLOB CHECK (nonce_sha256 IS NULL OR length(nonce_sha256) = 32),  -- of HELLO's nonce
    hello_seq     INTEGER NOT NULL DEFAULT 0,   -- the HELLO that began it (a resend is the same)
    updated       REAL NOT NULL
);

-- Error analysis: a classifier trial's test confusion matrix and worst
-- examples (migration 10 explains the columns).
CREATE TABLE trial_errors (
    trial_id    INTEGER PRIMARY KEY REFERENCES trials (id),
    attempt     INTEGER NOT NULL,
    classes     INTEGER NOT NULL CHECK (classes >= 1),
    examples    INTEGER NOT NULL CHECK (examples >= 0),  -- test examples counted
    confusion   TEXT NOT NULL CHECK (json_valid(confusion)),
    image_c     INTEGER NOT NULL DEFAULT 0,
    image_h     INTEGER NOT NULL DEFAULT 0,
    image_w     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE trial_worst (
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    rank        INTEGER NOT NULL CHECK (rank >= 1),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    label       INTEGER NOT NULL,
    predicted   INTEGER NOT NULL,
    loss        REAL,
    pixels      BLOB,
    PRIMARY KEY (trial_id, rank)
);

PRAGMA user_version = 10;
