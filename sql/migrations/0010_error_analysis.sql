-- Migration 10: error analysis ("look at actual examples").
--
-- A built-in classification trial reports its test set's confusion matrix
-- and its worst examples (the highest cross-entropy) with its result; the
-- latest attempt's replaces an earlier one's.
--
--  * trial_errors: one row per trial. confusion is a JSON array of rows,
--    one per true class, each a count per predicted class:
--      SELECT json_extract(confusion, '$[6][0]') FROM trial_errors
--      WHERE trial_id = 12;    -- class 6 predicted as class 0
--    image_c/h/w is the shape of trial_worst.pixels, 0 for tabular data.
--  * trial_worst: the worst examples, rank 1 = the highest loss. idx is
--    the example's index in the test set's dataset file (docs/report.md);
--    pixels the image the model saw (uint8, row-major c, h, w), or NULL.

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
