-- Migration 7: constraints (the spec's `constraints:` list).
--
--  * trials.infeasible: for a completed trial that breaks a constraint,
--    why (e.g. 'memory_mb = 2500 is above max 2000'); NULL for a feasible
--    trial and for every trial of a study without constraints. An
--    infeasible trial is never the study's best:
--      SELECT number, value FROM trials
--      WHERE state = 'completed' AND infeasible IS NULL ORDER BY value LIMIT 1;
--
-- Existing trials are feasible (their studies had no constraints).

ALTER TABLE trials ADD COLUMN infeasible TEXT;
