use std::time::{Duration, Instant};

use bench_core::{Attempt, Completion, FinishReason, ResultSink, SamplingOptions, Task, Timings};

use crate::backend::ms;
use crate::{Backend, Reply, Request, Residency, RunError};

/// The id under which the warm-up request is recorded.
pub const WARMUP_TASK_ID: &str = "__warmup__";

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The model name as the server knows it.
    pub model: String,
    /// Sent unchanged with every request.
    pub options: SamplingOptions,
    /// Per-request limit.
    pub timeout: Duration,
    /// Attempts per task for retryable errors (at least 1).
    pub attempts: u32,
    /// Run even when the model is only partly in VRAM.
    pub allow_partial_offload: bool,
    /// A task whose tokens/s falls below this share of the best seen at a
    /// comparable prompt length (the warm-up's included) is flagged.
    pub collapse_ratio: f64,
    /// Consecutive tasks that could not reach the server before the run stops.
    pub max_consecutive_failures: u32,
}

impl RunConfig {
    /// The defaults: 300 s per request, 3 attempts, nothing allowed that corrupts the numbers.
    pub fn new(model: &str, options: SamplingOptions) -> Self {
        Self {
            model: model.into(),
            options,
            timeout: Duration::from_secs(300),
            attempts: 3,
            allow_partial_offload: false,
            collapse_ratio: 0.5,
            max_consecutive_failures: 3,
        }
    }
}

/// One step of progress, for a progress bar or a log line.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Tasks done so far in this invocation.
    pub done: usize,
    /// Tasks this invocation runs.
    pub total: usize,
    /// The task just done.
    pub task_id: String,
    /// Its generation speed.
    pub tokens_per_second: Option<f64>,
    /// Why its generation stopped.
    pub finish_reason: String,
    /// Since the run started.
    pub elapsed: Duration,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Tasks the sink already had.
    pub skipped_already_done: usize,
    /// Tasks answered.
    pub completed: usize,
    /// Tasks recorded with an error.
    pub failed: usize,
    /// The warm-up's generation speed, the reference for collapse.
    pub warmup_tokens_per_second: Option<f64>,
    /// The model's residency after the warm-up.
    pub residency: Option<Residency>,
    /// Tasks whose throughput collapsed relative to earlier requests with
    /// prompts of comparable length.
    pub collapsed: Vec<String>,
}

/// The reference for throughput collapse. Generation slows as the context
/// grows (on a CPU a 2,000-token prompt halves it), so a task is compared only
/// with earlier requests whose prompts fall in the same power-of-two length
/// band; a model spilling out of VRAM mid-run still shows as a fall within a band.
#[derive(Debug, Default)]
struct Throughput {
    best: std::collections::BTreeMap<Option<u32>, f64>,
}

impl Throughput {
    fn band(prompt_tokens: Option<u64>) -> Option<u32> {
        prompt_tokens.map(|p| u64::BITS - p.leading_zeros())
    }

    /// Records a request's rate; true when it fell below `ratio` of the best
    /// earlier rate in its band.
    fn collapsed(&mut self, prompt_tokens: Option<u64>, tokens_per_second: f64, ratio: f64) -> bool {
        let best = self.best.entry(Self::band(prompt_tokens)).or_insert(tokens_per_second);
        let fell = tokens_per_second < *best * ratio;
        *best = best.max(tokens_per_second);
        fell
    }
}

/// Runs `tasks` in order, one request at a time, writing each completion
/// through `sink` before the next request starts. Tasks the sink already has
/// are skipped, so a killed run resumes where it stopped.
pub async fn run<B: Backend + Sync, S: ResultSink + Send>(
    backend: &B,
    tasks: &[Task],
    sink: &mut S,
    cfg: &RunConfig,
    mut progress: impl FnMut(&Progress) + Send,
) -> Result<RunSummary, RunError> {
    let mut summary = RunSummary::default();
    let done = sink.already_done().await?;
    let todo: Vec<&Task> = tasks.iter().filter(|t| !done.contains(&t.id)).collect();
    summary.skipped_already_done = tasks.len() - todo.len();
    if todo.is_empty() {
        return Ok(summary);
    }

    // Warm-up: loads the model; recorded, excluded from statistics.
    let warm = Request::new(
        &cfg.model,
        "You are a helpful assistant.",
        "Reply with the word ready.",
        &SamplingOptions { num_predict: 16, ..cfg.options.clone() },
    );
    let warm_completion = attempt_all(backend, WARMUP_TASK_ID, &warm, cfg).await;
    sink.record(&warm_completion, true).await?;
    if let Some(e) = &warm_completion.error {
        return Err(RunError::WarmUp { endpoint: backend.endpoint().to_string(), recorded: e.clone() });
    }
    summary.warmup_tokens_per_second = warm_completion.tokens_per_second();
    let mut throughput = Throughput::default();
    if let Some(t) = summary.warmup_tokens_per_second {
        throughput.collapsed(warm_completion.prompt_tokens, t, cfg.collapse_ratio);
    }

    summary.residency = backend.residency(&cfg.model).await?;
    if let Some(r) = &summary.residency {
        if !r.fully_resident() && !cfg.allow_partial_offload {
            return Err(RunError::PartialOffload {
                endpoint: backend.endpoint().to_string(),
                model: cfg.model.clone(),
                size: r.size,
                size_vram: r.size_vram,
            });
        }
    }

    let start = Instant::now();
    let mut consecutive = 0;
    for (i, task) in todo.iter().enumerate() {
        let req = Request::new(&cfg.model, &task.prompt.system, &task.prompt.user, &cfg.options);
        let completion = attempt_all(backend, &task.id, &req, cfg).await;
        sink.record(&completion, false).await?;
        if completion.error.is_some() {
            summary.failed += 1;
            consecutive += 1;
            if consecutive >= cfg.max_consecutive_failures {
                return Err(RunError::ServerDown {
                    endpoint: backend.endpoint().to_string(),
                    count: consecutive,
                    last: completion.error.unwrap_or_default(),
                });
            }
        } else {
            summary.completed += 1;
            consecutive = 0;
        }
        let tps = completion.tokens_per_second();
        // Short answers time poorly; judge only those with some length.
        if let Some(t) = tps.filter(|_| completion.completion_tokens.unwrap_or(0) >= 16) {
            if throughput.collapsed(completion.prompt_tokens, t, cfg.collapse_ratio) {
                summary.collapsed.push(task.id.clone());
            }
        }
        progress(&Progress {
            done: summary.skipped_already_done + i + 1,
            total: tasks.len(),
            task_id: task.id.clone(),
            tokens_per_second: tps,
            finish_reason: completion.finish_reason.as_str().to_string(),
            elapsed: start.elapsed(),
        });
    }
    Ok(summary)
}

/// Tries a request up to `cfg.attempts` times while the error is retryable;
/// every attempt is kept. Never fails: a request that never succeeds becomes a
/// completion with `finish_reason: error`.
async fn attempt_all<B: Backend + Sync>(backend: &B, task_id: &str, req: &Request, cfg: &RunConfig) -> Completion {
    let mut attempts = Vec::new();
    let mut last_err = None;
    for number in 1..=cfg.attempts.max(1) {
        let t0 = Instant::now();
        match backend.complete(req, cfg.timeout).await {
            Ok(reply) => {
                attempts.push(Attempt { number, wall_ms: ms(t0.elapsed()), error: None });
                return completion(task_id, reply, attempts);
            }
            Err(e) => {
                attempts.push(Attempt { number, wall_ms: ms(t0.elapsed()), error: Some(e.chain()) });
                let retry = e.retryable();
                last_err = Some(e.chain());
                if !retry {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250 * u64::from(number))).await;
            }
        }
    }
    let wall = attempts.iter().map(|a| a.wall_ms).sum();
    Completion {
        task_id: task_id.to_string(),
        text: String::new(),
        prompt_tokens: None,
        prompt_tokens_from: None,
        completion_tokens: None,
        finish_reason: FinishReason::Error,
        timings: Timings { wall_ms: wall, ..Default::default() },
        attempts,
        error: last_err,
    }
}

fn completion(task_id: &str, r: Reply, attempts: Vec<Attempt>) -> Completion {
    Completion {
        task_id: task_id.to_string(),
        text: r.text,
        prompt_tokens: r.prompt_tokens,
        prompt_tokens_from: r.prompt_tokens_from,
        completion_tokens: r.completion_tokens,
        finish_reason: r.finish_reason,
        timings: r.timings,
        attempts,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::Throughput;

    #[test]
    fn a_long_prompt_is_compared_with_long_prompts_and_a_real_fall_is_flagged() {
        // SmolLM2 135M on two CPU cores: a 14-token warm-up at 56 tok/s, then
        // prompts near 1,700 tokens at 24–33 tok/s. None of those is a collapse.
        let mut t = Throughput::default();
        assert!(!t.collapsed(Some(27), 56.0, 0.5));
        for (prompt, rate) in [(1642, 32.9), (1691, 25.9), (421, 45.9), (1981, 24.4), (1672, 26.0)] {
            assert!(!t.collapsed(Some(prompt), rate, 0.5), "{prompt} tokens at {rate} tok/s");
        }
        // The same length band at a third of its best is one.
        assert!(t.collapsed(Some(1700), 11.0, 0.5));
        assert!(t.collapsed(Some(20), 20.0, 0.5));
        // Unknown prompt sizes form their own band.
        assert!(!t.collapsed(None, 5.0, 0.5));
    }
}
