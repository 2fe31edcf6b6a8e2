-- Migration 3: simple baselines, computed once per dataset and stored.
--
--  * studies.dataset_key: a canonical text naming what a built-in model's
--    trials train and test on (the spec's dataset section, search.seed and
--    the fixed settings that change the splits or inputs; see
--    hp_spec_dataset_key in common/spec.h). NULL when the study has none: not
--    a built-in model, or its search space varies one of those settings.
--  * baselines: per dataset key, the test error of each simple baseline
--    (majority class, linear model) and which study and trial computed it.
--    Studies on the same key share the rows:
--      SELECT s.name, b.name, b.error FROM studies s JOIN baselines b USING (dataset_key);
--
-- Existing studies keep a NULL key: their trials carry their own baseline
-- metrics, which is where `hpsearch report` looks for them.

ALTER TABLE studies ADD COLUMN dataset_key TEXT;

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY,
    dataset_key TEXT NOT NULL CHECK (length(dataset_key) > 0),
    name        TEXT NOT NULL CHECK (length(name) > 0),
    error       REAL NOT NULL CHECK (error >= 0),
    study_id    INTEGER NOT NULL REFERENCES studies (id),
    trial_id    INTEGER NOT NULL REFERENCES trials (id),
    created     REAL NOT NULL
);
CREATE UNIQUE INDEX baselines_by_key ON baselines (dataset_key, name);
CREATE INDEX studies_by_dataset_key ON studies (dataset_key);
