//! The task set as a file: canonical JSON whose id is checked against its
//! content when read.

use bench_core::{canonical_json, content_id, TaskSet};

use crate::SynthError;

/// The task set as written to disk: pretty, canonical JSON.
pub fn write_task_set(set: &TaskSet) -> String {
    serde_json::to_string_pretty(&bench_core::sorted_value(set)).expect("a JSON value serialises") + "\n"
}

/// Reads the task set file at `path`, checking its id against its content.
pub fn load_task_set(path: &std::path::Path) -> Result<TaskSet, SynthError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Io {
        path: shown.clone(),
        action: "read",
        source,
    })?;
    read_task_set(&text, &shown)
}

/// Writes `set` to `path` as [`write_task_set`] does, creating its directory.
pub fn save_task_set(path: &std::path::Path, set: &TaskSet) -> Result<(), SynthError> {
    let io = |action, source| SynthError::Io { path: path.display().to_string(), action, source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io("create its directory", e))?;
    }
    std::fs::write(path, write_task_set(set)).map_err(|e| io("write", e))
}

/// Reads a task set and checks its id against its content.
pub fn read_task_set(text: &str, origin: &str) -> Result<TaskSet, SynthError> {
    let set: TaskSet =
        serde_json::from_str(text).map_err(|source| SynthError::TaskSetJson { path: origin.to_string(), source })?;
    let mut unsealed = set.clone();
    unsealed.taskset_id = String::new();
    let id = content_id(&canonical_json(&unsealed));
    if id != set.taskset_id {
        return Err(SynthError::TaskSet {
            path: origin.to_string(),
            reason: format!(
                "taskset_id {} does not match its content (expected {id}); the file was edited",
                set.taskset_id
            ),
        });
    }
    Ok(set)
}

/// The first difference between two task sets, for `verify`.
pub fn first_difference(expected: &TaskSet, actual: &TaskSet) -> Option<String> {
    for (field, a, b) in [
        ("snapshot_id", &expected.snapshot_id, &actual.snapshot_id),
        ("rules_hash", &expected.rules_hash, &actual.rules_hash),
        ("tool_version", &expected.tool_version, &actual.tool_version),
    ] {
        if a != b {
            return Some(format!("{field}: file has {a}, re-derived {b}"));
        }
    }
    for (i, (a, b)) in expected.tasks.iter().zip(&actual.tasks).enumerate() {
        if a != b {
            let (ja, jb) = (serde_json::to_value(a).ok(), serde_json::to_value(b).ok());
            let field = match (ja, jb) {
                (Some(serde_json::Value::Object(ma)), Some(serde_json::Value::Object(mb))) => {
                    ma.iter().find(|(k, v)| mb.get(*k) != Some(v)).map(|(k, _)| k.clone()).unwrap_or_default()
                }
                _ => String::new(),
            };
            return Some(format!("task {i} ({}): field `{field}` differs (re-derived id {})", a.id, b.id));
        }
    }
    if expected.tasks.len() != actual.tasks.len() {
        return Some(format!("file has {} tasks, re-derived {}", expected.tasks.len(), actual.tasks.len()));
    }
    (expected.taskset_id != actual.taskset_id)
        .then(|| format!("taskset_id: file has {}, re-derived {}", expected.taskset_id, actual.taskset_id))
}
