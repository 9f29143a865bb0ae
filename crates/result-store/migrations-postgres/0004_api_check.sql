-- The invented-API check of a generation answer (JSON of bench_core::ApiCheck,
-- `null` for other tasks and for grades written before the check existed).
ALTER TABLE grades ADD COLUMN api TEXT NOT NULL DEFAULT 'null';
