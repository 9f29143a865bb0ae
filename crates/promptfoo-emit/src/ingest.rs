use bench_core::{Attempt, Completion, FinishReason, TaskSet, Timings};
use serde_json::Value;

use crate::EmitError;

/// A promptfoo results file read back as completions of one model.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The promptfoo version that wrote the results.
    pub promptfoo_version: Option<String>,
    /// The provider id (`openai:chat:gemma3`).
    pub provider: String,
    /// The provider label, or the model part of the id.
    pub model: String,
    /// The provider's base URL, where the config names one.
    pub endpoint: Option<String>,
    /// One completion per task, in task order.
    pub completions: Vec<Completion>,
}

/// Reads promptfoo's results JSON (`results.results[]`) for `set`. Nothing
/// is returned unless every row maps onto a task of the set.
pub fn ingest(text: &str, origin: &str, set: &TaskSet) -> Result<Ingested, EmitError> {
    let bad = |reason: String| EmitError::Malformed { path: origin.to_string(), reason };
    let v: Value = serde_json::from_str(text).map_err(|source| EmitError::Json { path: origin.to_string(), source })?;
    let rows = v
        .pointer("/results/results")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no results.results array".into()))?;
    // promptfoo redacts values that look like secrets (long hex ids among them).
    let known = |s: &&str| !s.contains("REDACTED");
    if let Some(found) = v.pointer("/config/metadata/taskset_id").and_then(Value::as_str).filter(known) {
        if found != set.taskset_id {
            return Err(EmitError::OtherTaskSet {
                path: origin.into(),
                found: found.into(),
                expected: set.taskset_id.clone(),
            });
        }
    }
    let provider = rows
        .first()
        .and_then(|r| r.pointer("/provider/id").and_then(Value::as_str))
        .or_else(|| v.pointer("/config/providers/0/id").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let model = rows
        .first()
        .and_then(|r| r.pointer("/provider/label").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| provider.splitn(3, ':').nth(2).unwrap_or(&provider).to_string());
    let endpoint = v
        .pointer("/config/providers/0/config/apiBaseUrl")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| v.pointer("/config/env/OLLAMA_BASE_URL").and_then(Value::as_str).map(str::to_string));
    let mut completions = Vec::with_capacity(rows.len());
    for (index, r) in rows.iter().enumerate() {
        let meta = r.pointer("/testCase/metadata").or_else(|| r.get("metadata"));
        let task_id = meta
            .and_then(|m| m.get("task_id"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("result {index} has no testCase.metadata.task_id")))?;
        if let Some(ts) = meta.and_then(|m| m.get("taskset_id")).and_then(Value::as_str).filter(known) {
            if ts != set.taskset_id {
                return Err(EmitError::OtherTaskSet {
                    path: origin.into(),
                    found: ts.into(),
                    expected: set.taskset_id.clone(),
                });
            }
        }
        if set.task(task_id).is_none() {
            return Err(EmitError::UnknownTask {
                path: origin.into(),
                index,
                task_id: task_id.into(),
                taskset_id: set.taskset_id.clone(),
            });
        }
        let response = r.get("response").cloned().unwrap_or(Value::Null);
        let error = r
            .get("error")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .or_else(|| response.get("error").and_then(Value::as_str).map(str::to_string));
        let text = match response.get("output") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let usage = response.get("tokenUsage");
        let latency = r.get("latencyMs").and_then(Value::as_f64).unwrap_or(0.0);
        let finish = response.get("finishReason").and_then(Value::as_str);
        // A response with an error and no output is a failed task, not an empty answer.
        let failed = error.is_some() && text.is_empty();
        completions.push(Completion {
            task_id: task_id.to_string(),
            text,
            prompt_tokens: usage.and_then(|u| u.get("prompt")).and_then(Value::as_u64),
            prompt_tokens_from: usage.and_then(|u| u.get("prompt")).and_then(Value::as_u64).map(|_| "promptfoo".into()),
            completion_tokens: usage.and_then(|u| u.get("completion")).and_then(Value::as_u64),
            finish_reason: if failed { FinishReason::Error } else { FinishReason::from_server(finish) },
            timings: Timings { wall_ms: latency, ..Default::default() },
            attempts: vec![Attempt { number: 1, wall_ms: latency, error: error.clone() }],
            error: if failed { error } else { None },
        });
    }
    Ok(Ingested {
        promptfoo_version: v
            .pointer("/metadata/promptfooVersion")
            .or_else(|| v.pointer("/results/version"))
            .map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string())),
        provider,
        model,
        endpoint,
        completions,
    })
}
