-- Gaming floors of a task set (JSON of task_synth::Calibration): what
-- answerers without understanding score on it, per stratum.
CREATE TABLE calibrations (
    task_set_id TEXT PRIMARY KEY REFERENCES task_sets(id),
    calibration TEXT NOT NULL
);
