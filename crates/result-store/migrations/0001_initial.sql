-- The result store. Documented in docs/result-store.md.
CREATE TABLE task_sets (
    id            TEXT PRIMARY KEY,
    snapshot_id   TEXT NOT NULL,
    rules_hash    TEXT NOT NULL,
    tool_version  TEXT NOT NULL,
    requested     INTEGER NOT NULL,
    task_count    INTEGER NOT NULL
);

CREATE TABLE tasks (
    task_set_id   TEXT NOT NULL REFERENCES task_sets(id),
    id            TEXT NOT NULL,
    position      INTEGER NOT NULL,
    category      TEXT NOT NULL,
    tier          TEXT NOT NULL,
    tier_rule     TEXT NOT NULL,
    file          TEXT NOT NULL,
    symbol        TEXT NOT NULL,
    span_start    INTEGER NOT NULL,
    span_end      INTEGER NOT NULL,
    prompt_system TEXT NOT NULL,
    prompt_user   TEXT NOT NULL,
    expected      TEXT NOT NULL, -- JSON
    PRIMARY KEY (task_set_id, id)
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    task_set_id   TEXT NOT NULL REFERENCES task_sets(id),
    identity      TEXT NOT NULL, -- hash of what must match for a resume
    model         TEXT NOT NULL,
    backend_kind  TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    driver        TEXT NOT NULL,
    manifest      TEXT NOT NULL, -- JSON RunManifest
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX runs_identity ON runs(identity);

CREATE TABLE results (
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    task_id           TEXT NOT NULL,
    warmup            INTEGER NOT NULL DEFAULT 0,
    text              TEXT NOT NULL,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    finish_reason     TEXT NOT NULL,
    wall_ms           REAL NOT NULL,
    ttft_ms           REAL,
    total_ms          REAL,
    load_ms           REAL,
    prompt_eval_ms    REAL,
    eval_ms           REAL,
    attempts          TEXT NOT NULL, -- JSON array of {number, wall_ms, error}
    error             TEXT,
    recorded_at       TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);

CREATE TABLE grades (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    task_id    TEXT NOT NULL,
    pass       INTEGER NOT NULL,
    reason     TEXT,
    invented   TEXT NOT NULL, -- JSON array of invented imports and APIs
    PRIMARY KEY (run_id, task_id)
);

CREATE TABLE grade_components (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    task_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    pass       INTEGER NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, name)
);
