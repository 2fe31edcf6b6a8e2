-- Migration 5: early stopping (the spec's `pruning:` section).
--
--  * trials.pruned_step: the step at which the pruning rule (or the
--    divergence check) stopped the trial; NULL for a trial that was not
--    stopped. The reason, for people, stays in trials.error:
--      SELECT number, pruned_step, error FROM trials WHERE state = 'pruned';
--
-- Existing pruned trials keep a NULL step: their reason names it.

ALTER TABLE trials ADD COLUMN pruned_step INTEGER CHECK (pruned_step IS NULL OR pruned_step >= 0);
