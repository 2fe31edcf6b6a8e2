-- Migration 8: several objectives (the spec's `objective:` as a list).
--
--  * trials.objectives: a completed trial's value of every objective, as a
--    JSON object keyed by metric in the spec's order, e.g.
--    {"val_error":0.12,"latency_ms":8.5}; NULL for trials that did not
--    complete. trials.value stays the first objective's value. A study's
--    Pareto front (docs/sql.md) reads them with json_extract:
--      SELECT number, json_extract(objectives, '$.latency_ms') FROM trials
--      WHERE study_id = 1 AND state = 'completed' AND infeasible IS NULL;
--
-- Existing trials have NULL (their studies had one objective: trials.value).

ALTER TABLE trials ADD COLUMN objectives TEXT
    CHECK (objectives IS NULL OR json_valid(objectives));
