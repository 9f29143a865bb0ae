-- Recall and novelty (decisions 0023, 0024): a generation answer's token similarity to the
-- original function (NULL for other tasks, for answers that did not parse and
-- for grades written before it existed), and the recall probe: per run and
-- generation task, the model's continuation of the file from the lines before
-- the function, with its similarity to the original.
ALTER TABLE grades ADD COLUMN similarity REAL;

CREATE TABLE probes (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    task_id     TEXT NOT NULL,
    text        TEXT NOT NULL,
    similarity  REAL,
    error       TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);

-- How the repository was transformed before synthesis (JSON of
-- bench_core::Novelty), NULL when it was not.
ALTER TABLE task_sets ADD COLUMN novelty TEXT;
