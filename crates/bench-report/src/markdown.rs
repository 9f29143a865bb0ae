//! The Markdown rendering.

use std::fmt::Write as _;

use bench_core::{Category, Tier};

use crate::model::{dash, headline_table, plain, plan_rows, Report};

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut s = String::from("# Evaluation report\n\n");
    if r.runs.is_empty() {
        s.push_str("No graded runs in this store.\n");
    }
    for run in &r.runs {
        let m = &run.manifest;
        let _ = writeln!(s, "## {}\n", run.title());
        let _ = writeln!(s, "**{}**; {} of {} tasks graded.\n", run.headline_line(), run.graded, run.tasks_total);
        if let Some(e) = run.egress_line() {
            let _ = writeln!(s, "{e}\n");
        }
        let _ = writeln!(s, "| manifest | |\n|---|---|");
        for (k, v) in [
            ("task set", m.taskset_id.clone()),
            ("snapshot", m.snapshot_id.clone()),
            ("rules hash", m.rules_hash.clone()),
            ("tool version", m.tool_version.clone()),
            ("driver", m.driver.clone()),
            ("backend", format!("{} {}", m.backend_kind, m.backend_version.clone().unwrap_or_default())),
            ("endpoint", format!("{} ({:?})", m.endpoint, m.endpoint_scope)),
            ("model digest", m.model_digest.clone().unwrap_or_else(|| "-".into())),
            ("quantisation", m.quantization.clone().unwrap_or_else(|| "-".into())),
            ("options", plain(&serde_json::to_value(&m.options).unwrap_or_default())),
            (
                "residency",
                m.residency.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "not reported by this backend".into()),
            ),
            ("host", m.host.clone()),
            (
                "started / finished",
                format!("{} / {}", m.started_at, m.finished_at.clone().unwrap_or_else(|| "unfinished".into())),
            ),
        ] {
            let _ = writeln!(s, "| {k} | {} |", v.replace('|', "\\|"));
        }
        let plan = plan_rows(m.vram_plan.as_ref());
        if !plan.is_empty() {
            let _ = writeln!(s, "\n### VRAM plan\n\n| | |\n|---|---|");
            for (k, v) in plan {
                let _ = writeln!(s, "| {k} | {v} |");
            }
        }
        let _ = writeln!(s, "\n{}\n", headline_table(run));
        for line in run.diagnostics() {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s, "\n{}\n", run.ground_truth.summary());
        let _ = writeln!(s, "### Pass rate per category × tier (Wilson 95% interval)\n");
        let _ = writeln!(
            s,
            "| category | {} | all |\n|---|{}---|",
            Tier::ALL.map(|t| t.to_string()).join(" | "),
            "---|".repeat(5)
        );
        for c in Category::ALL {
            let cell = |tier: &str| {
                run.rates.iter().find(|p| p.category == c.as_str() && p.tier == tier).map_or("–".to_string(), |p| {
                    format!("{}/{} ({:.0}–{:.0}%)", p.passed, p.n, p.low * 100.0, p.high * 100.0)
                })
            };
            let cells: Vec<String> = Tier::ALL.iter().map(|t| cell(&t.to_string())).collect();
            let _ = writeln!(s, "| {} | {} | {} |", c, cells.join(" | "), cell("all"));
        }
        if !run.findings.is_empty() {
            let _ = writeln!(s, "\n### Findings\n");
            for f in &run.findings {
                let _ = writeln!(s, "- {f}");
            }
        }
        let _ = writeln!(s, "\n### Throughput\n");
        for line in run.throughput.summary() {
            let _ = writeln!(s, "- {line}");
        }
        if !run.truncated.is_empty() {
            let _ = writeln!(s, "\n### Truncated answers (finish_reason length)\n\n{}", run.truncated.join(", "));
        }
        let h = &run.hallucination;
        if h.generation_tasks > 0 {
            let _ = writeln!(s, "\n### Invented APIs\n");
            for line in h.lines() {
                let _ = writeln!(s, "- {line}");
            }
            if !h.top.is_empty() {
                let _ = writeln!(s, "\n| kind | invented name | answers | first task |\n|---|---|---|---|");
                for f in &h.top {
                    let _ = writeln!(s, "| {} | `{}` | {} | {} |", f.kind.as_str(), f.name, f.answers, f.first_task);
                }
            }
        }
        let recall = run.recall.lines();
        if !recall.is_empty() {
            let _ = writeln!(s, "\n### Recall\n");
            for line in recall {
                let _ = writeln!(s, "- {line}");
            }
        }
        if !run.tampering.is_empty() {
            let _ = writeln!(s, "\n### Tampering\n\n| task | what the answer did |\n|---|---|");
            for t in &run.tampering {
                let _ = writeln!(s, "| {} | {} |", t.task_id, t.detail.replace('|', "\\|"));
            }
        }
        let _ = writeln!(s, "\n### Tasks\n\n| task | category | tier | symbol | pass | why | decided by | latency ms | tokens in/out | finish |\n|---|---|---|---|---|---|---|---|---|---|");
        for row in &run.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | `{}` | {} | {} | {} | {:.0} | {}/{} | {} |",
                row.task_id,
                row.category,
                row.tier,
                row.symbol,
                if row.pass { "✅" } else { "❌" },
                row.reason.clone().unwrap_or_default().replace('|', "\\|").chars().take(120).collect::<String>(),
                row.decided_by_short().replace('|', "\\|"),
                row.wall_ms,
                dash(row.prompt_tokens),
                dash(row.completion_tokens),
                row.finish_reason
            );
        }
        s.push('\n');
    }
    for c in &r.comparison {
        let _ = writeln!(s, "## Comparison on task set {}\n", c.task_set_id);
        if c.comparable {
            let _ = writeln!(s, "Runs {:?} ran under identical conditions and can be compared.\n", c.runs);
        } else {
            let _ = writeln!(s, "Runs {:?} differ in their conditions; compare with care:\n", c.runs);
            for d in &c.differences {
                let _ = writeln!(s, "- {d}");
            }
        }
        for (run, why) in &c.invalid {
            let _ = writeln!(s, "- run {run} is invalid and left out of every comparison: {why}");
        }
    }
    if !r.comparisons.is_empty() {
        let _ = writeln!(s, "## Paired comparisons\n\n| runs | models | units | difference | 95% CI | McNemar p | discordant | detectable at 80% power |\n|---|---|---|---|---|---|---|---|");
        for c in &r.comparisons {
            let _ = writeln!(
                s,
                "| {} vs {} | {} vs {} | {} | {:+.1} pts | {:+.1} to {:+.1} | {:.3} | {} | {:.1} pts |",
                c.a,
                c.b,
                c.model_a,
                c.model_b,
                c.units,
                c.difference * 100.0,
                c.low * 100.0,
                c.high * 100.0,
                c.p_value,
                c.discordant,
                c.detectable_difference * 100.0
            );
        }
        s.push('\n');
        for c in &r.comparisons {
            let _ = writeln!(s, "- {}", c.finding);
        }
        s.push('\n');
    }
    if !r.items.is_empty() {
        let _ = writeln!(s, "## Items: difficulty and discrimination over scoring units\n");
        for o in &r.tier_order {
            let rates: Vec<String> =
                o.rates.iter().map(|t| format!("{} {}/{} ({:.0}%)", t.tier, t.passed, t.n, t.rate * 100.0)).collect();
            let _ = writeln!(s, "- task set {}: {}", &o.task_set_id[..16.min(o.task_set_id.len())], rates.join(", "));
            if let Some(f) = o.finding() {
                let _ = writeln!(s, "- finding: {f}");
            }
        }
        let flagged = r.items.iter().filter(|i| i.flag.is_some()).count();
        let _ = writeln!(
            s,
            "- {flagged} of {} units are passed or failed by every run: they tell these runs nothing\n",
            r.items.len()
        );
        let _ = writeln!(s, "Least discriminating units:\n\n| unit | category | tier | runs | share passing | point-biserial | flag |\n|---|---|---|---|---|---|---|");
        for i in crate::model::least_discriminating(&r.items) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} | {} | {} |",
                i.tasks.join(" + "),
                i.category,
                i.tier,
                i.runs,
                i.difficulty,
                i.discrimination.map_or("-".into(), |d| format!("{d:.2}")),
                i.flag.as_deref().unwrap_or("")
            );
        }
    }
    s
}
