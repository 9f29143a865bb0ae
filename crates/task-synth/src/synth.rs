use bench_core::{canonical_json, content_id, Category, Expected, Prompt, Task, TaskSet, Tier};
use py_ast_meta::{Extraction, SourceFile};
use serde::Serialize;

use crate::context::Context;
use crate::rules::per_tier;
use crate::select::select;
use crate::{audit, codegen, understanding, Rules, SynthError};

/// A task before its id is computed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Draft {
    pub category: Category,
    pub tier: Tier,
    pub tier_rule: String,
    pub file: String,
    pub symbol: String,
    pub span: [u32; 2],
    pub prompt: Prompt,
    pub expected: Expected,
}

impl Draft {
    fn seal(self) -> Task {
        let id = content_id(&canonical_json(&self))[..16].to_string();
        Task {
            id,
            category: self.category,
            tier: self.tier,
            tier_rule: self.tier_rule,
            file: self.file,
            symbol: self.symbol,
            span: self.span,
            prompt: self.prompt,
            expected: self.expected,
        }
    }
}

/// Synthesises the task set: a pure function of the files, their extraction,
/// the rules and the tool version. `count` overrides the rules' total.
pub fn synthesize(files: &[SourceFile], extraction: &Extraction, rules: &Rules, count: Option<usize>) -> TaskSet {
    let cx = Context::new(files, extraction, rules);
    let mut quota = rules.category_quota(count);
    // Audit tasks come in pairs; an odd share leaves one task to the others.
    if let Some(i) = quota.iter().position(|(c, _)| *c == Category::SecurityAudit) {
        if quota[i].1 % 2 == 1 {
            quota[i].1 -= 1;
            if let Some(other) = quota.iter_mut().find(|(c, n)| *c != Category::SecurityAudit && *n > 0) {
                other.1 += 1;
            }
        }
    }
    let mut drafts: Vec<Draft> = Vec::new();
    for (category, n) in quota {
        match category {
            Category::CodeGeneration => {
                drafts.extend(select(codegen::candidates(&cx), per_tier(n)).into_iter().map(|c| c.item));
            }
            Category::CodeUnderstanding => {
                drafts.extend(select(understanding::candidates(&cx), per_tier(n)).into_iter().map(|c| c.item));
            }
            Category::SecurityAudit => {
                let pairs = select(audit::candidates(&cx), per_tier(n / 2));
                drafts.extend(pairs.into_iter().flat_map(|c| c.item));
            }
        }
    }
    // Stable order: category, tier, then the order selection produced.
    drafts.sort_by_key(|d| (d.category, d.tier));
    let tasks: Vec<Task> = drafts.into_iter().map(Draft::seal).collect();
    let mut set = TaskSet {
        taskset_id: String::new(),
        snapshot_id: extraction.snapshot_id.clone(),
        rules_hash: cx.rules_hash.clone(),
        tool_version: bench_core::TOOL_VERSION.to_string(),
        requested: count.unwrap_or(rules.quota.total),
        tasks,
    };
    set.taskset_id = content_id(&canonical_json(&set));
    set
}

/// The task set as written to disk: pretty, canonical JSON.
pub fn write_task_set(set: &TaskSet) -> String {
    serde_json::to_string_pretty(&bench_core::sorted_value(set)).expect("a JSON value serialises") + "\n"
}

/// Reads a task set and checks its id against its content.
pub fn read_task_set(text: &str, origin: &str) -> Result<TaskSet, SynthError> {
    let set: TaskSet = serde_json::from_str(text)
        .map_err(|e| SynthError::TaskSet { path: origin.to_string(), reason: e.to_string() })?;
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
