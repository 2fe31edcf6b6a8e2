-- Migration 6: the guide's loop run by `hpsearch autopilot` (docs/autopilot.md).
--
--  * studies.parent: the study this one came from, when `hpsearch autopilot`
--    submitted it as its next round; NULL for a study a user submitted. A
--    chain of rounds reads back with a recursive query over parent.
--  * events.detail: structured evidence for an event, as JSON (NULL when
--    the event has none). An `autopilot_step` event's message is the
--    decision in words; its detail holds the numbers it was taken on.
--
-- Existing studies have no parent and existing events no detail.

ALTER TABLE studies ADD COLUMN parent INTEGER REFERENCES studies (id);
CREATE INDEX studies_by_parent ON studies (parent);

ALTER TABLE events ADD COLUMN detail TEXT CHECK (detail IS NULL OR json_valid(detail));
