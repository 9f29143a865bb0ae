-- Execution-verified ground truth: how a task set's ground truth was settled
-- (JSON of bench_core::ExecutionRecord, NULL for a structural set) and what
-- decides each task (JSON of bench_core::Evidence).
ALTER TABLE task_sets ADD COLUMN execution TEXT;
ALTER TABLE tasks ADD COLUMN evidence TEXT NOT NULL DEFAULT '{"kind":"structural"}';
