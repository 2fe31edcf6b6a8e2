-- Migration 1: the core data model — studies, their trials, the metrics
-- trials report, and the workers that run them.
--
-- Times are unix seconds (UTC) as REAL: datetime(created, 'unixepoch').

CREATE TABLE studies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,
    spec_json   TEXT NOT NULL CHECK (json_valid(spec_json)),
    metric      TEXT NOT NULL,
    goal        TEXT NOT NULL CHECK (goal IN ('minimize', 'maximize')),
    max_trials  INTEGER NOT NULL DEFAULT 0 CHECK (max_trials >= 0),
    state       TEXT NOT NULL DEFAULT 'running'
                CHECK (state IN ('running', 'completed', 'cancelled', 'failed', 'stopped')),
    created     REAL NOT NULL,
    ended       REAL
);

CREATE TABLE trials (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies (id),
    number      INTEGER NOT NULL CHECK (number >= 0),
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'completed', 'failed', 'pruned', 'cancelled')),
    params      TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object'),
    value       REAL CHECK (state <> 'completed' OR value IS NOT NULL),
    error       TEXT,
    created     REAL NOT NULL,
    started     REAL,
    ended       REAL
);
CREATE UNIQUE INDEX trials_by_number ON trials (study_id, number);
CREATE INDEX trials_by_value ON trials (study_id, state, value);
CREATE INDEX trials_pending ON trials (study_id, number) WHERE state = 'pending';

CREATE TABLE metrics (
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    step        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       REAL,
    time        REAL NOT NULL
);
CREATE UNIQUE INDEX metrics_by_trial ON metrics (trial_id, name, step);

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
