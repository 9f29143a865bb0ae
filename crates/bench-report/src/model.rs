//! The report model: everything a reader needs about the runs in a store,
//! built once and rendered as Markdown, HTML or JSON.

use std::collections::BTreeMap;

use bench_core::{Category, RunManifest, Tier};
use result_store::{wilson, PassRate, Store};
use serde::Serialize;

use crate::time::seconds_between;
use crate::ReportError;

/// Everything the report shows, built from a store by [`build`].
#[derive(Debug, Serialize)]
pub struct Report {
    /// The version of the tool that built the report.
    pub tool_version: String,
    /// One section per run.
    pub runs: Vec<RunReport>,
    /// Conditions that differ between runs of the same task set.
    pub comparison: Vec<Comparison>,
    /// Difficulty and discrimination per scoring unit, across the valid runs
    /// of each task set that two or more runs share.
    pub items: Vec<crate::items::Item>,
    /// Whether each such task set's tiers are ordered by measured difficulty.
    pub tier_order: Vec<crate::items::TierOrder>,
    /// Every two valid runs of one task set, compared unit by unit.
    pub comparisons: Vec<PairedComparison>,
}

/// Two valid runs of one task set compared over the scoring units both
/// graded (decision 0023).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedComparison {
    /// The task set.
    pub task_set_id: String,
    /// The first run.
    pub a: i64,
    /// The second run.
    pub b: i64,
    /// Their models.
    pub model_a: String,
    /// The second run's model.
    pub model_b: String,
    /// Whether they ran under the same conditions.
    pub comparable: bool,
    /// Units both graded.
    pub units: u64,
    /// The 2x2 table over them.
    pub table: crate::paired::Table,
    /// The first run's headline rate minus the second's, over those units.
    pub difference: f64,
    /// Newcombe's 95% interval of the difference.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// The exact McNemar p-value.
    pub p_value: f64,
    /// Units the runs disagree on.
    pub discordant: u64,
    /// The smallest difference these units detect at 80% power (two-sided 5%).
    pub detectable_difference: f64,
    /// What it means, in one sentence.
    pub finding: String,
}

impl PairedComparison {
    fn of(
        task_set_id: &str,
        a: (&RunReport, &BTreeMap<String, bool>),
        b: (&RunReport, &BTreeMap<String, bool>),
        comparable: bool,
    ) -> Self {
        let mut t = crate::paired::Table { both: 0, only_a: 0, only_b: 0, neither: 0 };
        for (unit, pa) in a.1 {
            let Some(pb) = b.1.get(unit) else { continue };
            match (pa, pb) {
                (true, true) => t.both += 1,
                (true, false) => t.only_a += 1,
                (false, true) => t.only_b += 1,
                (false, false) => t.neither += 1,
            }
        }
        let (low, high) = crate::paired::newcombe_interval(&t);
        let p_value = crate::paired::mcnemar_exact(t.only_a, t.only_b);
        let n = t.n();
        let share = if n == 0 { 0.0 } else { t.discordant() as f64 / n as f64 };
        let detectable = crate::paired::detectable_difference(n, share);
        let (ra, rb) = (a.0, b.0);
        let pts = |x: f64| format!("{:+.0}", x * 100.0);
        let verdict = if p_value < 0.05 && (low > 0.0 || high < 0.0) {
            let better = if t.only_a > t.only_b { &ra.model } else { &rb.model };
            format!("{better} scores higher")
        } else {
            "the runs cannot be told apart".to_string()
        };
        let finding = format!(
            "run {} ({}) vs run {} ({}): {verdict}: difference {} points (95% CI {} to {}), exact McNemar p = {:.3} over {n} units \
             ({} discordant); {n} units detect a difference of {:.0} points at 80% power{}",
            ra.run_id,
            ra.model,
            rb.run_id,
            rb.model,
            pts(t.difference()),
            pts(low),
            pts(high),
            p_value,
            t.discordant(),
            detectable * 100.0,
            if comparable { "" } else { "; their conditions differ, see above" }
        );
        Self {
            task_set_id: task_set_id.to_string(),
            a: ra.run_id,
            b: rb.run_id,
            model_a: ra.model.clone(),
            model_b: rb.model.clone(),
            comparable,
            units: n,
            table: t,
            difference: t.difference(),
            low,
            high,
            p_value,
            discordant: t.discordant(),
            detectable_difference: detectable,
            finding,
        }
    }
}

/// Whether the runs of one task set were measured under the same conditions.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The task set.
    pub task_set_id: String,
    /// Its runs.
    pub runs: Vec<i64>,
    /// Whether their conditions match.
    pub comparable: bool,
    /// What differs, one line each.
    pub differences: Vec<String>,
    /// Runs left out of the comparison because their numbers cannot be
    /// trusted (a plan that did not fit, a partial offload, a collapse), each
    /// with why.
    #[serde(default)]
    pub invalid: Vec<(i64, String)>,
}

/// Why a run's numbers cannot stand beside others': its plan did not fit,
/// the model was only partly in VRAM, or its throughput collapsed.
pub fn invalid_reason(m: &RunManifest) -> Option<String> {
    let plan_fits = m.vram_plan.as_ref().and_then(|p| p["fits"].as_bool());
    if plan_fits == Some(false) {
        return Some("its VRAM plan did not fit (run with the overcommit allowance)".into());
    }
    if let Some(r) = &m.residency {
        let (size, vram) = (r["size"].as_u64(), r["size_vram"].as_u64());
        if let (Some(size), Some(vram)) = (size, vram) {
            if vram < size {
                return Some(format!("the model was only partly in VRAM ({vram} of {size} bytes)"));
            }
        }
    }
    m.warnings.iter().find(|w| w.contains("spilling")).map(|w| format!("throughput collapsed: {w}"))
}

/// The plan settings that change what a run measures: runtime, its memory
/// policies and the KV cache type.
fn conditions(m: &RunManifest) -> Option<String> {
    let p: vram_plan::PlanRequest = serde_json::from_value(m.vram_plan.as_ref()?["request"].clone()).ok()?;
    Some(format!(
        "{} (flash attention {}, micro-batch {}, {} SWA cache), KV cache {:?}",
        p.runtime.as_str(),
        if p.flash_attn() { "on" } else { "off" },
        p.ubatch(),
        if p.swa_full() { "full-size" } else { "windowed" },
        p.kv_type
    ))
}

/// One run's section.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// The run.
    pub run_id: i64,
    /// Its model.
    pub model: String,
    /// Its manifest.
    pub manifest: RunManifest,
    /// Tasks in its task set.
    pub tasks_total: usize,
    /// Tasks graded.
    pub graded: usize,
    /// The headline: scoring units (an audit pair, a mutant with its paired
    /// no-bug control, an execution-verified generation task), each counted
    /// only when all its tasks pass.
    pub overall: PassRate,
    /// Units per category x tier, beside each stratum's gaming floor.
    pub headline: task_synth::Headline,
    /// What answerers without understanding score on this task set, when
    /// `calibrate` (or `eval`) recorded it.
    pub calibration: Option<task_synth::Calibration>,
    /// Every task on its own (halves of pairs counted separately): a diagnostic.
    pub per_task: PassRate,
    /// The same answers judged by structure alone (execution components left
    /// out), beside the execution-graded figure.
    pub structural: PassRate,
    /// How the task set's ground truth was settled.
    pub ground_truth: GroundTruth,
    /// Per-task pass rates per category and tier.
    pub rates: Vec<PassRate>,
    /// What a reader should know, each said once.
    pub findings: Vec<String>,
    /// Pairs whose both halves passed.
    pub pairs_passed: usize,
    /// Pairs graded.
    pub pairs_total: usize,
    /// One row per task.
    pub rows: Vec<Row>,
    /// Invented modules, attributes and keywords in generation answers.
    pub hallucination: crate::Hallucination,
    /// Answers that tampered with the grader, with what each did: they fail,
    /// and a model that tries is itself a finding.
    pub tampering: Vec<Tampered>,
    /// How much of the generation score is recall of the original.
    pub recall: Recall,
    /// Tasks whose answer hit the output budget.
    pub truncated: Vec<String>,
    /// Generation speed.
    pub throughput: Throughput,
}

impl RunReport {
    /// The section's title: the run, its model, and whether it is a remote
    /// baseline rather than a local measurement.
    pub fn title(&self) -> String {
        match &self.manifest.batch {
            Some(b) => format!(
                "Run {}: {} (remote baseline via {}{})",
                self.run_id,
                self.model,
                self.manifest.backend_kind,
                b.provider_model.as_deref().map(|m| format!(", answered by {m}")).unwrap_or_default()
            ),
            None => format!("Run {}: {}", self.run_id, self.model),
        }
    }

    /// What left the network, in one line, when anything did.
    pub fn egress_line(&self) -> Option<String> {
        self.manifest.egress.as_ref().map(|e| {
            format!(
                "Egress to {} ({}): {} requests, {} bytes sent, {} bytes received; task set {} sent (payload blake3 {}).",
                e.provider,
                e.host,
                e.requests,
                e.bytes_sent,
                e.bytes_received,
                e.taskset_id,
                e.payload_blake3.as_deref().unwrap_or("-")
            )
        })
    }

    /// Beside the headline, as diagnostics: every task on its own, and the
    /// same answers judged by structure alone.
    pub fn diagnostics(&self) -> [String; 2] {
        let (pt, st) = (&self.per_task, &self.structural);
        [
            format!(
                "Per task (halves of pairs counted alone, a diagnostic): {}/{} ({:.1}%).",
                pt.passed,
                pt.n,
                pt.rate * 100.0
            ),
            format!(
                "By structure alone (execution components left out): {}/{} ({:.1}%).",
                st.passed,
                st.n,
                st.rate * 100.0
            ),
        ]
    }

    /// The first line of every report: the headline beside its gaming floor.
    pub fn headline_line(&self) -> String {
        let o = &self.overall;
        format!(
            "Headline: {}/{} scoring units passed ({:.1}%, 95% CI {:.1}–{:.1}%){}",
            o.passed,
            o.n,
            o.rate * 100.0,
            o.low * 100.0,
            o.high * 100.0,
            self.calibration.as_ref().map_or(String::new(), |c| format!(
                ", gaming floor {:.1}% ({})",
                c.headline_floor * 100.0,
                c.headline_floor_by
            ))
        )
    }
}

/// How the task set's ground truth was settled.
#[derive(Debug, Serialize)]
pub struct GroundTruth {
    /// Whether the repository's tests settled it.
    pub execution_verified: bool,
    /// The environment, baseline and counts, when they did.
    pub execution: Option<bench_core::ExecutionRecord>,
    /// Of the candidate mutants run, the share no covering test killed
    /// (discarded as equivalent).
    pub equivalent_mutant_share: Option<f64>,
}

impl GroundTruth {
    fn of(set: &bench_core::TaskSet) -> Self {
        let share = set
            .execution
            .as_ref()
            .map(|x| &x.stats)
            .filter(|s| s.mutants_tested > 0)
            .map(|s| s.mutants_survived as f64 / s.mutants_tested as f64);
        Self {
            execution_verified: set.execution.is_some(),
            execution: set.execution.clone(),
            equivalent_mutant_share: share,
        }
    }

    /// One paragraph for people.
    pub fn summary(&self) -> String {
        let Some(x) = &self.execution else {
            return "Ground truth: structural only. No test environment was given, so generation answers are judged \
                    on structure and mutants were not checked against the repository's tests."
                .into();
        };
        let (b, st) = (&x.baseline, &x.stats);
        format!(
            "Ground truth: execution-verified by the repository's own tests (`{}`, environment {}). Baseline: {} of {} \
             tests passed in both runs, {} flaky dropped. Candidate mutants: {} run, {} killed, {} survived and were \
             discarded as equivalent ({}), {} inconclusive. Generation targets: {} whose stub body passed every \
             covering test were discarded. Audit pairs: {} run with payloads, {} confirmed by an exploit and a failed \
             one, {} discarded because the vulnerable half could not be exploited, {} because the clean twin could.",
            x.environment.test_cmd.join(" "),
            &x.environment.fingerprint[..16.min(x.environment.fingerprint.len())],
            b.passed,
            b.tests,
            b.flaky.len(),
            st.mutants_tested,
            st.mutants_killed,
            st.mutants_survived,
            self.equivalent_mutant_share.map_or("-".into(), |s| format!("{:.1}%", s * 100.0)),
            st.mutants_inconclusive,
            st.generation_stub_passed,
            st.audit_tested,
            st.audit_confirmed,
            st.audit_not_exploitable,
            st.audit_twin_exploitable
        )
    }
}

/// A generation answer this close to the original (token similarity,
/// docstrings and comments left out) is a near-verbatim copy.
pub const NEAR_VERBATIM: f64 = 0.9;

/// Recall of the original functions in one run (decision 0022).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recall {
    /// The similarity at or above which an answer is a near-verbatim copy.
    pub threshold: f64,
    /// Generation answers whose similarity was measured (they parsed, with
    /// the source at hand).
    pub answers: usize,
    /// Of those, near-verbatim copies.
    pub near_verbatim: usize,
    /// `near_verbatim / answers`.
    pub share: f64,
    /// Measured answers that passed.
    pub passed: usize,
    /// Passing answers that are near-verbatim copies.
    pub passed_near_verbatim: usize,
    /// Pass rate of the near-verbatim answers.
    pub pass_rate_near_verbatim: Option<f64>,
    /// Pass rate of the others.
    pub pass_rate_other: Option<f64>,
    /// The recall probe, when the run asked for one.
    pub probe: Option<ProbeRecall>,
}

/// The recall probe of one run: the model given only a target's file path
/// and the lines before it, asked to continue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRecall {
    /// Targets probed with an answer.
    pub probes: usize,
    /// Continuations that reproduce the function near-verbatim.
    pub memorised: usize,
    /// `memorised / probes`: the memorised share of this repository.
    pub share: f64,
    /// Its 95% Wilson interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Mean similarity of the continuations.
    pub mean_similarity: f64,
}

impl Recall {
    fn of(set: &bench_core::TaskSet, grades: &[bench_core::Grade], probes: &[result_store::Probe]) -> Self {
        let measured: Vec<(&bench_core::Grade, f64)> = grades
            .iter()
            .filter(|g| set.task(&g.task_id).is_some_and(|t| t.category == Category::CodeGeneration))
            .filter_map(|g| g.similarity.map(|s| (g, s)))
            .collect();
        let near: Vec<&(&bench_core::Grade, f64)> = measured.iter().filter(|(_, s)| *s >= NEAR_VERBATIM).collect();
        let other = measured.len() - near.len();
        let passed = measured.iter().filter(|(g, _)| g.pass).count();
        let passed_near = near.iter().filter(|(g, _)| g.pass).count();
        let rate = |p: usize, n: usize| (n > 0).then(|| p as f64 / n as f64);
        let scored: Vec<f64> =
            probes.iter().filter(|p| p.error.is_none()).map(|p| p.similarity.unwrap_or(0.0)).collect();
        let probe = (!scored.is_empty()).then(|| {
            let memorised = scored.iter().filter(|s| **s >= NEAR_VERBATIM).count();
            let (low, high) = wilson(memorised as u64, scored.len() as u64);
            ProbeRecall {
                probes: scored.len(),
                memorised,
                share: memorised as f64 / scored.len() as f64,
                low,
                high,
                mean_similarity: scored.iter().sum::<f64>() / scored.len() as f64,
            }
        });
        Recall {
            threshold: NEAR_VERBATIM,
            answers: measured.len(),
            near_verbatim: near.len(),
            share: rate(near.len(), measured.len()).unwrap_or(0.0),
            passed,
            passed_near_verbatim: passed_near,
            pass_rate_near_verbatim: rate(passed_near, near.len()),
            pass_rate_other: rate(passed - passed_near, other),
            probe,
        }
    }

    /// One line each, for people.
    pub fn lines(&self) -> Vec<String> {
        let pct = |r: Option<f64>| r.map_or("-".into(), |r| format!("{:.0}%", r * 100.0));
        let mut v = Vec::new();
        if self.answers > 0 {
            v.push(format!(
                "{} of {} generation answers are near-verbatim copies of the original function (token similarity >= {}): {:.0}%",
                self.near_verbatim,
                self.answers,
                self.threshold,
                self.share * 100.0
            ));
            v.push(format!(
                "pass rate of the copies {}, of the other answers {}; {} of {} passing answers are copies",
                pct(self.pass_rate_near_verbatim),
                pct(self.pass_rate_other),
                self.passed_near_verbatim,
                self.passed
            ));
        }
        if let Some(p) = &self.probe {
            v.push(format!(
                "recall probe: given only the lines before each target, the model reproduced {} of {} near-verbatim: \
                 memorised share of this repository {:.0}% (95% CI {:.0}–{:.0}%), mean similarity {:.2}",
                p.memorised,
                p.probes,
                p.share * 100.0,
                p.low * 100.0,
                p.high * 100.0,
                p.mean_similarity
            ));
        }
        v
    }

    /// The finding, when recall is what the score measures.
    fn finding(&self) -> Option<String> {
        let dominated = self.passed >= 2 && self.passed_near_verbatim * 2 >= self.passed;
        let probed = self.probe.as_ref().filter(|p| p.memorised * 2 >= p.probes && p.probes >= 2);
        match (dominated, probed) {
            (true, _) => Some(format!(
                "{} of {} passing generation answers are near-verbatim copies of the original: this measures recall of a \
                 public repository, not the ability to write the code (synthesise with `--novelty rename` for tasks recall cannot solve)",
                self.passed_near_verbatim, self.passed
            )),
            (false, Some(p)) => Some(format!(
                "the recall probe reproduced {} of {} target functions from the lines before them alone: this repository is in \
                 the model's memory",
                p.memorised, p.probes
            )),
            _ => None,
        }
    }
}

/// One answer that tampered with the grader.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tampered {
    /// The task answered.
    pub task_id: String,
    /// What the answer did (`line 4: uses the module table (sys.modules)`).
    pub detail: String,
}

/// One task's result.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The task.
    pub task_id: String,
    /// Its category.
    pub category: String,
    /// Its tier.
    pub tier: String,
    /// The function it is about.
    pub symbol: String,
    /// Whether every grade component passed.
    pub pass: bool,
    /// The first failing component's detail.
    pub reason: Option<String>,
    /// The request's wall time.
    pub wall_ms: f64,
    /// Time to the first token, when known.
    pub ttft_ms: Option<f64>,
    /// Prompt tokens.
    pub prompt_tokens: Option<u64>,
    /// Generated tokens.
    pub completion_tokens: Option<u64>,
    /// Why generation stopped.
    pub finish_reason: String,
    /// The tests that decide the task (empty for structural ground truth).
    pub decided_by: Vec<String>,
    /// What settled the ground truth, in words (an exploit's payload and
    /// effect, the payloads a clean twin withstood, the deciding tests).
    pub evidence: String,
    /// What a reader needs to check the verdict: the prompt as sent, the
    /// answer as received, the ground truth and every grade component.
    pub prompt: bench_core::Prompt,
    /// The answer as received.
    pub answer: String,
    /// The ground truth.
    pub expected: bench_core::Expected,
    /// Every grade component.
    pub components: Vec<bench_core::Component>,
}

impl Row {
    /// The deciding tests, shortened for a table cell.
    pub fn decided_by_short(&self) -> String {
        match self.decided_by.as_slice() {
            [] if self.evidence.starts_with("exploited") => "an exploit".into(),
            [] if self.evidence.starts_with("withstood") => "payloads withstood".into(),
            [] => "structure".into(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
        }
    }
}

/// Generation speed over a run.
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Sum of server-side (or client-timed after the first token) generation time.
    pub generation_ms: f64,
    /// `completion_tokens / generation_ms`.
    pub tokens_per_second: Option<f64>,
    /// Sum of every request's wall time.
    pub request_wall_ms: f64,
    /// From the run's start (after the model was described) to its end,
    /// warm-up included; spans the pause when a run was resumed.
    pub run_wall_s: Option<f64>,
    /// From the first task request's start to the last one's end.
    pub task_window_s: Option<f64>,
    /// Share of the task window spent outside requests (store writes,
    /// bookkeeping, progress): the orchestration overhead.
    pub orchestration_overhead: Option<f64>,
}

impl Throughput {
    /// Two lines for people: tokens and speed; time and overhead.
    pub fn summary(&self) -> [String; 2] {
        let secs = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |w| format!("{w:.1} s"));
        [
            format!(
                "completion tokens: {}; generation time {:.1} s; {}",
                self.completion_tokens,
                self.generation_ms / 1000.0,
                self.tokens_per_second.map_or_else(|| "-".to_string(), |x| format!("{x:.1} tokens/s"))
            ),
            format!(
                "time in requests {:.1} s; task window {}; orchestration overhead {}; run wall time (warm-up included) {}",
                self.request_wall_ms / 1000.0,
                secs(self.task_window_s),
                self.orchestration_overhead.map_or_else(|| "-".to_string(), |o| format!("{:.2}%", o * 100.0)),
                secs(self.run_wall_s)
            ),
        ]
    }
}

/// The units that tell the runs apart least: no discrimination first (every
/// run agrees), then the lowest correlation.
pub fn least_discriminating(items: &[crate::items::Item]) -> Vec<&crate::items::Item> {
    let mut v: Vec<&crate::items::Item> = items.iter().collect();
    v.sort_by(|a, b| {
        let key = |i: &crate::items::Item| i.discrimination.unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b)).then_with(|| a.tasks.cmp(&b.tasks))
    });
    v.truncate(crate::items::LEAST);
    v
}

/// Builds the report over every graded run in `store`.
pub async fn build(store: &Store) -> Result<Report, ReportError> {
    let runs = store.runs().await?;
    let rates = store.pass_rates().await?;
    let mut reports = Vec::new();
    // Each run's scoring units (keyed by their first task) and whether each passed.
    let mut unit_verdicts: BTreeMap<i64, BTreeMap<String, bool>> = BTreeMap::new();
    for r in &runs {
        let set = store.task_set(&r.task_set_id).await?;
        let grades = store.grades(r.id).await?;
        if grades.is_empty() {
            continue;
        }
        let completions = store.completions(r.id).await?;
        let by_task: BTreeMap<&str, &bench_core::Completion> =
            completions.iter().map(|c| (c.task_id.as_str(), c)).collect();
        let grade_of: BTreeMap<&str, &bench_core::Grade> = grades.iter().map(|g| (g.task_id.as_str(), g)).collect();
        let mut rows = Vec::new();
        for t in &set.tasks {
            let (Some(c), Some(g)) = (by_task.get(t.id.as_str()), grade_of.get(t.id.as_str())) else { continue };
            rows.push(Row {
                task_id: t.id.clone(),
                category: t.category.to_string(),
                tier: t.tier.to_string(),
                symbol: t.symbol.clone(),
                pass: g.pass,
                reason: g.reason.clone(),
                wall_ms: c.timings.wall_ms,
                ttft_ms: c.timings.ttft_ms,
                prompt_tokens: c.prompt_tokens,
                completion_tokens: c.completion_tokens,
                finish_reason: c.finish_reason.as_str().to_string(),
                decided_by: t.evidence.tests().to_vec(),
                evidence: t.evidence.describe(),
                prompt: t.prompt.clone(),
                answer: c.error.clone().map_or_else(|| c.text.clone(), |e| format!("(no answer: {e})")),
                expected: t.expected.clone(),
                components: g.components.clone(),
            });
        }
        let mine: Vec<PassRate> = rates.iter().filter(|p| p.run_id == r.id).cloned().collect();
        let rate = |passed: u64, n: u64| {
            let (low, high) = wilson(passed, n);
            PassRate {
                run_id: r.id,
                model: r.model.clone(),
                category: "all".into(),
                tier: "all".into(),
                n,
                passed,
                rate: if n == 0 { 0.0 } else { passed as f64 / n as f64 },
                low,
                high,
            }
        };
        let n = grades.len() as u64;
        let per_task = rate(grades.iter().filter(|g| g.pass).count() as u64, n);
        let headline = task_synth::headline(&set, &grades);
        let passed: BTreeMap<&str, bool> = grades.iter().map(|g| (g.task_id.as_str(), g.pass)).collect();
        let verdicts: BTreeMap<String, bool> = task_synth::units(&set)
            .into_iter()
            .filter_map(|u| {
                let all: Option<Vec<bool>> = u.tasks.iter().map(|t| passed.get(t.as_str()).copied()).collect();
                Some((u.tasks[0].clone(), all?.into_iter().all(|p| p)))
            })
            .collect();
        unit_verdicts.insert(r.id, verdicts);
        let overall = rate(headline.passed as u64, headline.n as u64);
        let calibration: Option<task_synth::Calibration> = match store.calibration(&set.taskset_id).await? {
            Some(v) => Some(serde_json::from_value(v).map_err(|source| ReportError::Calibration {
                path: store.path().to_string(),
                task_set: set.taskset_id.clone(),
                source,
            })?),
            None => None,
        };
        // Structure alone: every component but the execution one and the recorded-only kind.
        let structural_passed = grades
            .iter()
            .filter(|g| {
                !g.components.is_empty() && g.components.iter().all(|c| c.pass || c.name == "kind" || c.name == "tests")
            })
            .count() as u64;
        let structural = rate(structural_passed, n);
        let ground_truth = GroundTruth::of(&set);
        let pairs = task_synth::pair_scores(&set.tasks, &grades);
        let truncated: Vec<String> =
            rows.iter().filter(|x| x.finish_reason == "length").map(|x| x.task_id.clone()).collect();
        let hallucination = crate::Hallucination::of(&set, &grades);
        let recall = Recall::of(&set, &grades, &store.probes(r.id).await?);
        let tampering: Vec<Tampered> = grades
            .iter()
            .flat_map(|g| {
                g.components
                    .iter()
                    .filter(|c| c.name == "tampering" && !c.pass)
                    .map(|c| Tampered { task_id: g.task_id.clone(), detail: c.detail.clone() })
            })
            .collect();
        let completion_tokens: u64 = completions.iter().filter_map(|c| c.completion_tokens).sum();
        let generation_ms: f64 = completions.iter().filter_map(|c| c.timings.eval_ms).sum();
        let request_wall_ms: f64 = completions.iter().map(|c| c.timings.wall_ms).sum();
        let run_wall_s = r.manifest.finished_at.as_deref().and_then(|f| seconds_between(&r.manifest.started_at, f));
        let task_window_s = store.task_window(r.id).await?;
        let mut findings =
            findings(&mine, rows.len(), truncated.len(), pairs.iter().filter(|p| p.pass).count(), pairs.len());
        findings.extend(r.manifest.warnings.iter().map(|w| format!("warning recorded by the run: {w}")));
        findings.extend(recall.finding());
        if !tampering.is_empty() {
            findings.push(format!(
                "{} answers tampered with the grader (each fails; listed under Tampering): a model that attacks its grader is a finding in itself",
                tampering.len()
            ));
        }
        if !ground_truth.execution_verified {
            findings.push("ground truth is structural only: no test environment (an interpreter with the repository's test dependencies) was given".into());
        } else if structural.passed != per_task.passed {
            findings.push(format!(
                "execution changes the verdict: {} tasks passed when graded by the repository's tests, {} by structure alone",
                per_task.passed, structural.passed
            ));
        }
        match &calibration {
            None => {
                findings.push("no gaming floors recorded for this task set (run `bench-cli calibrate --db`)".into())
            }
            Some(c) if !c.broken.is_empty() => findings.push(format!(
                "broken strata: answerers without understanding score above 10% in {}; scores there are not evidence",
                c.broken.join(", ")
            )),
            Some(_) => {}
        }
        reports.push(RunReport {
            run_id: r.id,
            model: r.model.clone(),
            manifest: r.manifest.clone(),
            tasks_total: set.tasks.len(),
            graded: grades.len(),
            overall,
            headline,
            calibration,
            per_task,
            structural,
            ground_truth,
            rates: mine,
            findings,
            pairs_passed: pairs.iter().filter(|p| p.pass).count(),
            pairs_total: pairs.len(),
            rows,
            hallucination,
            tampering,
            recall,
            truncated,
            throughput: Throughput {
                completion_tokens,
                generation_ms,
                tokens_per_second: (generation_ms > 0.0).then(|| completion_tokens as f64 / (generation_ms / 1000.0)),
                request_wall_ms,
                run_wall_s,
                task_window_s,
                orchestration_overhead: task_window_s
                    .filter(|w| *w > 0.0)
                    .map(|w| (1.0 - request_wall_ms / 1000.0 / w).max(0.0)),
            },
        });
    }
    // Runs of one task set are compared only when their conditions match.
    let mut by_set: BTreeMap<&str, Vec<&RunReport>> = BTreeMap::new();
    for r in &reports {
        by_set.entry(r.manifest.taskset_id.as_str()).or_default().push(r);
    }
    let mut comparison = Vec::new();
    let mut comparisons = Vec::new();
    let mut items = Vec::new();
    let mut tier_order = Vec::new();
    for (set_id, rs) in by_set {
        if rs.len() < 2 {
            continue;
        }
        let (valid, bad): (Vec<&RunReport>, Vec<&RunReport>) =
            rs.iter().partition(|r| invalid_reason(&r.manifest).is_none());
        let invalid: Vec<(i64, String)> =
            bad.iter().filter_map(|r| invalid_reason(&r.manifest).map(|why| (r.run_id, why))).collect();
        let rs = valid;
        let mut differences = Vec::new();
        let Some(first) = rs.first() else {
            comparison.push(Comparison {
                task_set_id: set_id.to_string(),
                runs: Vec::new(),
                comparable: false,
                differences,
                invalid,
            });
            continue;
        };
        let base = &first.manifest;
        for r in &rs[1..] {
            let m = &r.manifest;
            if conditions(m) != conditions(base) {
                differences.push(format!(
                    "run {} ran under {}, run {} under {}",
                    r.run_id,
                    conditions(m).unwrap_or_else(|| "no recorded plan".into()),
                    rs[0].run_id,
                    conditions(base).unwrap_or_else(|| "no recorded plan".into())
                ));
            }
            if m.residency.is_some() != base.residency.is_some() {
                differences.push(format!(
                    "run {} has {} residency report, run {} {}",
                    r.run_id,
                    if m.residency.is_some() { "a" } else { "no" },
                    rs[0].run_id,
                    if base.residency.is_some() { "has one" } else { "has none" }
                ));
            }
            if m.options != base.options {
                differences.push(format!(
                    "run {} sampling options {:?} differ from run {}'s {:?}",
                    r.run_id, m.options, rs[0].run_id, base.options
                ));
            }
            if m.backend_kind != base.backend_kind || m.endpoint != base.endpoint {
                differences.push(format!(
                    "run {} used {} at {}, run {} used {} at {}",
                    r.run_id, m.backend_kind, m.endpoint, rs[0].run_id, base.backend_kind, base.endpoint
                ));
            }
            if let (Some(q), Some(qb)) = (&m.quantization, &base.quantization) {
                if q != qb {
                    differences.push(format!("run {} is quantised {q}, run {} {qb}", r.run_id, rs[0].run_id));
                }
            }
            if m.driver != base.driver {
                differences.push(format!(
                    "run {} was driven by {}, run {} by {}",
                    r.run_id, m.driver, rs[0].run_id, base.driver
                ));
            }
        }
        let none = BTreeMap::new();
        for (i, ra) in rs.iter().enumerate() {
            for rb in &rs[i + 1..] {
                let same = conditions(&ra.manifest) == conditions(&rb.manifest)
                    && ra.manifest.options == rb.manifest.options
                    && ra.manifest.backend_kind == rb.manifest.backend_kind
                    && ra.manifest.driver == rb.manifest.driver;
                let (va, vb) =
                    (unit_verdicts.get(&ra.run_id).unwrap_or(&none), unit_verdicts.get(&rb.run_id).unwrap_or(&none));
                let c = PairedComparison::of(set_id, (ra, va), (rb, vb), same);
                // Runs that share no graded unit have nothing to compare.
                if c.units > 0 {
                    comparisons.push(c);
                }
            }
        }
        let excluded: Vec<i64> = invalid.iter().map(|(run, _)| *run).collect();
        comparison.push(Comparison {
            task_set_id: set_id.to_string(),
            runs: rs.iter().map(|r| r.run_id).collect(),
            comparable: differences.is_empty(),
            differences,
            invalid,
        });
        let _ = excluded;
        let set = store.task_set(set_id).await?;
        let none = BTreeMap::new();
        let verdicts: Vec<&BTreeMap<String, bool>> =
            rs.iter().map(|r| unit_verdicts.get(&r.run_id).unwrap_or(&none)).collect();
        let (its, order) = crate::items::analyse(set_id, &task_synth::units(&set), &verdicts);
        if !its.is_empty() {
            items.extend(its);
            tier_order.push(order);
        }
    }
    Ok(Report {
        tool_version: bench_core::TOOL_VERSION.into(),
        runs: reports,
        comparison,
        items,
        tier_order,
        comparisons,
    })
}

fn findings(rates: &[PassRate], rows: usize, truncated: usize, pairs_ok: usize, pairs: usize) -> Vec<String> {
    let mut out = Vec::new();
    let strata: Vec<&PassRate> = rates.iter().filter(|p| p.tier != "all").collect();
    let saturated: Vec<&&PassRate> = strata.iter().filter(|p| p.n >= 2 && (p.passed == 0 || p.passed == p.n)).collect();
    // One finding per side, naming its strata, not one line per stratum.
    for (side, at_side) in [("floor (none passed)", true), ("ceiling (all passed)", false)] {
        let strata: Vec<String> = saturated
            .iter()
            .filter(|p| (p.passed == 0) == at_side)
            .map(|p| format!("{} {} (n={})", p.category, p.tier, p.n))
            .collect();
        if !strata.is_empty() {
            out.push(format!(
                "at {side}: {}; these strata do not discriminate at this model's level",
                strata.join(", ")
            ));
        }
    }
    if !strata.is_empty() && saturated.len() == strata.len() {
        out.push("every stratum is at floor or ceiling: the task set is not discriminative at this model's level; that is the finding, not a score".into());
    }
    if rows > 0 && truncated * 4 > rows {
        out.push(format!("{truncated} of {rows} answers were cut off by the output budget (finish_reason length); consider a larger output budget (num_predict)"));
    }
    if pairs > 0 {
        out.push(format!(
            "security pairs: {pairs_ok} of {pairs} pairs had both halves right (a pair counts only then)"
        ));
    }
    out
}

/// Units passed per category x tier, each beside its gaming floor.
pub(crate) fn headline_table(run: &RunReport) -> String {
    let mut s =
        format!("| units (floor) | {} |\n|---|{}", Tier::ALL.map(|t| t.to_string()).join(" | "), "---|".repeat(5));
    for c in Category::ALL {
        let cells: Vec<String> = Tier::ALL
            .iter()
            .map(|t| {
                let stratum = run.headline.strata.iter().find(|x| x.category == c && x.tier == *t);
                let floor =
                    run.calibration.as_ref().and_then(|k| k.floors.iter().find(|f| f.category == c && f.tier == *t));
                match (stratum, floor) {
                    (None, _) => "–".to_string(),
                    (Some(x), None) => format!("{}/{}", x.passed, x.n),
                    (Some(x), Some(f)) => format!(
                        "{}/{} ({:.0}%{})",
                        x.passed,
                        x.n,
                        f.floor * 100.0,
                        if f.floor > task_synth::BROKEN_FLOOR { " BROKEN" } else { "" }
                    ),
                }
            })
            .collect();
        s.push_str(&format!("\n| {c} | {} |", cells.join(" | ")));
    }
    if run.headline.structural_diagnostics > 0 {
        s.push_str(&format!(
            "\n\n{} generation tasks have no execution evidence: structural diagnostics, not in the headline.",
            run.headline.structural_diagnostics
        ));
    }
    s
}

/// The VRAM plan as table rows in MiB and tokens; empty without a plan.
pub(crate) fn plan_rows(plan: Option<&serde_json::Value>) -> Vec<(&'static str, String)> {
    let Some(raw) = plan else { return Vec::new() };
    let Ok(p) = serde_json::from_value::<vram_plan::Plan>(raw.clone()) else {
        return vec![("plan", format!("unreadable: {raw}"))];
    };
    p.rows()
}

/// A value, or `-` when it is unknown.
pub(crate) fn dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// A manifest value as a reader wants it: no JSON punctuation, `–` for none.
pub(crate) fn plain(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "–".into(),
        Value::String(t) => t.clone(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join("; "),
        Value::Object(o) if o.is_empty() => "–".into(),
        Value::Object(o) => sorted(o).map(|(k, v)| format!("{k}: {}", plain(v))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// An object's fields by name: serde_json keeps insertion order only where
/// some crate in the build enables `preserve_order`, and a report must not
/// change with the build.
pub(crate) fn sorted(
    o: &serde_json::Map<String, serde_json::Value>,
) -> impl Iterator<Item = (&String, &serde_json::Value)> {
    let mut fields: Vec<_> = o.iter().collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    fields.into_iter()
}
