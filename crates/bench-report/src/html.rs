//! The self-contained HTML report: inline CSS and SVG charts, no scripts, no
//! network, so it opens offline in any browser.

use std::fmt::Write as _;

use bench_core::{Category, Tier};

use crate::model::{dash, headline_table, plain, plan_rows, sorted, Report, RunReport};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Red (0) to green (1).
fn color(rate: f64) -> String {
    let r = (220.0 * (1.0 - rate) + 30.0) as u8;
    let g = (180.0 * rate + 40.0) as u8;
    format!("rgb({r},{g},70)")
}

fn heatmap(run: &RunReport) -> String {
    let (cw, ch, left, top) = (110.0, 44.0, 170.0, 30.0);
    let mut s = format!("<svg id=\"heatmap-{}\" class=\"chart heatmap\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"pass rate by category and tier\">", run.run_id, left + cw * 5.0 + 10.0, top + ch * 3.0 + 30.0);
    let _ = write!(
        s,
        "<text class=\"x-label\" x=\"{left}\" y=\"{}\">columns: tier; rows: category; cells: passed/graded; colour: pass rate 0–100%</text>",
        top + ch * 3.0 + 20.0
    );
    for (j, t) in Tier::ALL.iter().enumerate() {
        let _ = write!(s, "<text x=\"{}\" y=\"20\" text-anchor=\"middle\">{t}</text>", left + cw * j as f64 + cw / 2.0);
    }
    for (i, c) in Category::ALL.iter().enumerate() {
        let y = top + ch * i as f64;
        let _ = write!(s, "<text x=\"5\" y=\"{}\">{c}</text>", y + ch / 2.0 + 5.0);
        for (j, t) in Tier::ALL.iter().enumerate() {
            let x = left + cw * j as f64;
            match run.rates.iter().find(|p| p.category == c.as_str() && p.tier == t.to_string()) {
                Some(p) => {
                    let _ = write!(
                        s,
                        "<rect class=\"cell\" x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{c} {t}: {}/{} (95% CI {:.0}–{:.0}%)</title></rect><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#fff\">{}/{}</text>",
                        cw - 4.0, ch - 4.0, color(p.rate), p.passed, p.n, p.low * 100.0, p.high * 100.0, x + cw / 2.0, y + ch / 2.0 + 4.0, p.passed, p.n
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        "<rect class=\"cell empty\" x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"#ddd\"/>",
                        cw - 4.0,
                        ch - 4.0
                    );
                }
            }
        }
    }
    s + "</svg>"
}

/// A bar chart with both axes drawn and labelled: `unit` on the y axis
/// (0 and the maximum marked), `x_label` under the x axis.
fn bars(id: &str, label: &str, values: &[(String, f64)], unit: &str, x_label: &str) -> String {
    let (w, h, pad, left) = (640.0, 180.0, 30.0, 56.0);
    let max = values.iter().map(|v| v.1).fold(0.0, f64::max).max(1e-9);
    let bw = (w - left - pad) / values.len().max(1) as f64;
    let mut s = format!(
        "<svg id=\"{id}\" class=\"chart bars\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        h + 36.0,
        esc(label)
    );
    // Axes, ticks and labels.
    let _ =
        write!(s, "<line class=\"x-axis\" x1=\"{left}\" y1=\"{h}\" x2=\"{}\" y2=\"{h}\" stroke=\"#333\"/>", w - pad);
    let _ = write!(s, "<line class=\"y-axis\" x1=\"{left}\" y1=\"{pad}\" x2=\"{left}\" y2=\"{h}\" stroke=\"#333\"/>");
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>", left - 4.0, h + 4.0);
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max:.0}</text>", left - 4.0, pad + 4.0);
    let _ = write!(
        s,
        "<text class=\"y-label\" transform=\"translate(12,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (h + pad) / 2.0,
        esc(unit)
    );
    let _ = write!(
        s,
        "<text class=\"x-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (left + w - pad) / 2.0,
        h + 28.0,
        esc(x_label)
    );
    for (i, (name, v)) in values.iter().enumerate() {
        let bh = (h - pad) * v / max;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a7bd0\"><title>{}: {v:.0} {unit}</title></rect>",
            left + bw * i as f64 + 1.0, h - bh, (bw - 2.0).max(1.0), esc(name)
        );
    }
    s + "</svg>"
}

fn histogram(run: &RunReport) -> String {
    let lat: Vec<f64> = run.rows.iter().map(|r| r.wall_ms).collect();
    let (lo, hi) = (lat.iter().copied().fold(f64::INFINITY, f64::min), lat.iter().copied().fold(0.0, f64::max));
    let bins = 10usize;
    let width = ((hi - lo) / bins as f64).max(1.0);
    let mut counts = vec![0.0; bins];
    for l in &lat {
        counts[(((l - lo) / width) as usize).min(bins - 1)] += 1.0;
    }
    let values: Vec<(String, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("{:.0}–{:.0} ms", lo + width * i as f64, lo + width * (i + 1) as f64), *c))
        .collect();
    let x = format!("wall-clock latency per task (ms), {bins} bins from {lo:.0} to {:.0} ms", lo + width * bins as f64);
    bars(&format!("latency-{}", run.run_id), "latency distribution", &values, "tasks", &x)
}

/// A Markdown table (`| a | b |` rows, a `|---|` rule under the header) as an
/// HTML table; lines that are not rows become paragraphs.
fn table_html(markdown: &str, class: &str) -> String {
    let cells = |l: &str| -> Vec<String> { l.trim().trim_matches('|').split('|').map(|c| esc(c.trim())).collect() };
    let mut s = format!("<table class=\"{class}\">");
    let mut header = true;
    for line in markdown.lines().filter(|l| !l.trim().is_empty()) {
        if !line.trim_start().starts_with('|') {
            let _ = write!(s, "</table><p>{}</p><table class=\"{class}\">", esc(line));
        } else if line.contains("---") {
            header = false;
        } else {
            let tag = if header { "th" } else { "td" };
            s.push_str("<tr>");
            for c in cells(line) {
                let _ = write!(s, "<{tag}>{c}</{tag}>");
            }
            s.push_str("</tr>");
        }
    }
    s.push_str("</table>");
    s.replace(&format!("<table class=\"{class}\"></table>"), "")
}

/// The report as one self-contained HTML page (inline CSS and SVG, no scripts).
pub fn html(r: &Report) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation report</title><style>\
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}td{word-break:break-word}th{white-space:nowrap}th{background:#f2f2f2}.pass{color:#1a7f37}.fail{color:#b3261e}\
.chart{display:block;margin:1em 0;font-size:12px}pre{white-space:pre-wrap;background:#f7f7f7;padding:6px;font-size:12px;max-height:30em;overflow:auto}.finding{background:#fff4d6;padding:4px 8px;margin:3px 0}</style></head><body>\
<h1>Evaluation report</h1>",
    );
    let _ = write!(s, "<p>bench-cli {}</p>", esc(&r.tool_version));
    if r.runs.is_empty() {
        s.push_str("<p>No graded runs in this store.</p>");
    }
    for run in &r.runs {
        let m = &run.manifest;
        let _ = write!(s, "<section class=\"run\" id=\"run-{}\"><h2>{}</h2>", run.run_id, esc(&run.title()));
        let _ = write!(s, "<p><b>{}</b></p>", esc(&run.headline_line()));
        if let Some(e) = run.egress_line() {
            let _ = write!(s, "<p class=\"egress\">{}</p>", esc(&e));
        }
        s.push_str(&table_html(&headline_table(run), "units"));
        for line in run.diagnostics() {
            let _ = write!(s, "<p>{}</p>", esc(&line));
        }
        let _ = write!(s, "<p class=\"ground-truth\">{}</p>", esc(&run.ground_truth.summary()));
        s.push_str("<table class=\"manifest\">");
        let manifest = serde_json::to_value(m).unwrap_or_default();
        if let Some(obj) = manifest.as_object() {
            for (k, v) in sorted(obj).filter(|(k, _)| k.as_str() != "vram_plan") {
                let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&plain(v)));
            }
        }
        s.push_str("</table>");
        let plan = plan_rows(m.vram_plan.as_ref());
        if !plan.is_empty() {
            s.push_str("<h3>VRAM plan</h3><table class=\"plan\">");
            for (k, v) in plan {
                let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
            }
            s.push_str("</table>");
        }
        s.push_str("<h3>Pass rate by category × tier</h3>");
        s.push_str(&heatmap(run));
        for f in &run.findings {
            let _ = write!(s, "<div class=\"finding\">{}</div>", esc(f));
        }
        s.push_str("<h3>Latency distribution</h3>");
        s.push_str(&histogram(run));
        s.push_str("<h3>Completion tokens per task</h3>");
        let tokens: Vec<(String, f64)> =
            run.rows.iter().map(|x| (x.task_id.clone(), x.completion_tokens.unwrap_or(0) as f64)).collect();
        s.push_str(&bars(
            &format!("tokens-{}", run.run_id),
            "completion tokens per task",
            &tokens,
            "completion tokens",
            "tasks, in task-set order",
        ));
        for line in run.throughput.summary() {
            let _ = write!(s, "<p>{}</p>", esc(&line));
        }
        let h = &run.hallucination;
        if h.generation_tasks > 0 {
            s.push_str("<h3>Invented APIs</h3><ul>");
            for line in h.lines() {
                let _ = write!(s, "<li>{}</li>", esc(&line));
            }
            s.push_str("</ul>");
            if !h.top.is_empty() {
                s.push_str("<table><tr><th>kind</th><th>invented name</th><th>answers</th><th>first task</th></tr>");
                for f in &h.top {
                    let _ = write!(
                        s,
                        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        f.kind.as_str(),
                        esc(&f.name),
                        f.answers,
                        esc(&f.first_task)
                    );
                }
                s.push_str("</table>");
            }
        }
        let recall = run.recall.lines();
        if !recall.is_empty() {
            s.push_str("<h3>Recall</h3><ul>");
            for line in recall {
                let _ = write!(s, "<li>{}</li>", esc(&line));
            }
            s.push_str("</ul>");
        }
        if !run.tampering.is_empty() {
            s.push_str("<h3>Tampering</h3><table><tr><th>task</th><th>what the answer did</th></tr>");
            for t in &run.tampering {
                let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(&t.task_id), esc(&t.detail));
            }
            s.push_str("</table>");
        }
        s.push_str("<h3>Tasks</h3><table class=\"tasks\"><tr><th>task</th><th>category</th><th>tier</th><th>symbol</th><th>result</th><th>why</th><th>decided by</th><th>latency ms</th><th>tokens in/out</th><th>finish</th></tr>");
        for row in &run.rows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td><td title=\"{}\">{}</td><td>{:.0}</td><td>{}/{}</td><td>{}</td></tr>",
                esc(&row.task_id), esc(&row.category), esc(&row.tier), esc(&row.symbol),
                if row.pass { "pass" } else { "fail" }, if row.pass { "pass" } else { "fail" },
                esc(&row.reason.clone().unwrap_or_default()),
                esc(&row.decided_by.join("\n")), esc(&row.decided_by_short()), row.wall_ms,
                dash(row.prompt_tokens), dash(row.completion_tokens),
                esc(&row.finish_reason)
            );
            // One click away: the prompt, the answer and how it was graded.
            let _ = write!(
                s,
                "<tr class=\"detail\"><td colspan=\"10\"><details><summary>prompt, answer and grade of {}</summary>\
<h4>Prompt (system)</h4><pre>{}</pre><h4>Prompt (user)</h4><pre>{}</pre><h4>Answer</h4><pre>{}</pre><h4>Ground truth</h4><pre>{}</pre><p class=\"evidence\">{}</p><h4>Grade components</h4><table class=\"components\"><tr><th>component</th><th>result</th><th>detail</th></tr>",
                esc(&row.task_id),
                esc(&row.prompt.system),
                esc(&row.prompt.user),
                esc(&row.answer),
                esc(&serde_json::to_string_pretty(&row.expected).unwrap_or_default()),
                esc(&row.evidence),
            );
            for c in &row.components {
                let class = if c.pass { "pass" } else { "fail" };
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"{class}\">{class}</td><td>{}</td></tr>",
                    esc(&c.name),
                    esc(&c.detail)
                );
            }
            s.push_str("</table></details></td></tr>");
        }
        s.push_str("</table></section>");
    }
    for c in &r.comparison {
        let _ = write!(s, "<h2>Comparison on task set {}</h2>", esc(&c.task_set_id));
        if c.comparable {
            let _ = write!(s, "<p>Runs {:?} ran under identical conditions.</p>", c.runs);
        } else {
            s.push_str("<ul>");
            for d in &c.differences {
                let _ = write!(s, "<li>{}</li>", esc(d));
            }
            s.push_str("</ul>");
        }
        for (run, why) in &c.invalid {
            let _ = write!(
                s,
                "<p class=\"invalid\">Run {run} is invalid and left out of every comparison: {}</p>",
                esc(why)
            );
        }
    }
    if !r.comparisons.is_empty() {
        s.push_str("<h2>Paired comparisons</h2><table><tr><th>runs</th><th>models</th><th>units</th><th>difference</th><th>95% CI</th><th>McNemar p</th><th>discordant</th><th>detectable at 80% power</th></tr>");
        for c in &r.comparisons {
            let _ = write!(
                s,
                "<tr><td>{} vs {}</td><td>{} vs {}</td><td>{}</td><td>{:+.1} pts</td><td>{:+.1} to {:+.1}</td><td>{:.3}</td><td>{}</td><td>{:.1} pts</td></tr>",
                c.a,
                c.b,
                esc(&c.model_a),
                esc(&c.model_b),
                c.units,
                c.difference * 100.0,
                c.low * 100.0,
                c.high * 100.0,
                c.p_value,
                c.discordant,
                c.detectable_difference * 100.0
            );
        }
        s.push_str("</table>");
        for c in &r.comparisons {
            let _ = write!(s, "<div class=\"finding\">{}</div>", esc(&c.finding));
        }
    }
    s + "</body></html>\n"
}
