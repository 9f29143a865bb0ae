//! The report's renderings by name, and the lines a terminal shows after a run.

use std::fmt::Write as _;

use crate::{Report, ReportError};

/// A rendering of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown.
    Md,
    /// One self-contained HTML page with per-task drill-down.
    Html,
    /// The report model as JSON.
    Json,
}

impl Format {
    /// Every format, in the order `eval` writes them.
    pub const ALL: [Format; 3] = [Format::Md, Format::Html, Format::Json];

    /// `md`, `html` or `json`: the file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    /// Writes the report in this format to `path`.
    pub fn write(self, report: &Report, path: &std::path::Path) -> Result<(), ReportError> {
        std::fs::write(path, self.render(report)?)
            .map_err(|source| ReportError::Io { path: path.display().to_string(), source })
    }

    /// Writes `report.{md,html,json}` under `dir`.
    pub fn write_all(report: &Report, dir: &std::path::Path) -> Result<(), ReportError> {
        Format::ALL.iter().try_for_each(|f| f.write(report, &dir.join(format!("report.{}", f.extension()))))
    }

    /// The report in this format.
    pub fn render(self, report: &Report) -> Result<String, ReportError> {
        Ok(match self {
            Format::Md => crate::markdown(report),
            Format::Html => crate::html(report),
            Format::Json => serde_json::to_string_pretty(report).map_err(ReportError::Encode)? + "\n",
        })
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, ReportError> {
        Format::ALL.into_iter().find(|f| f.extension() == s).ok_or_else(|| ReportError::Format(s.into()))
    }
}

/// Each run's headline with its interval, and its findings, one per line.
pub fn summary(report: &Report) -> String {
    let mut s = String::new();
    for run in &report.runs {
        let o = &run.overall;
        let (rate, low, high) = (o.rate * 100.0, o.low * 100.0, o.high * 100.0);
        let _ = writeln!(
            s,
            "run {} {}: {}/{} scoring units passed ({rate:.1}%, 95% CI {low:.1}–{high:.1}%)",
            run.run_id, run.model, o.passed, o.n
        );
        for f in &run.findings {
            let _ = writeln!(s, "  finding: {f}");
        }
    }
    for c in &report.comparisons {
        let _ = writeln!(s, "comparison: {}", c.finding);
    }
    for f in report.tier_order.iter().filter_map(|o| o.finding()) {
        let _ = writeln!(s, "finding: {f}");
    }
    s
}
