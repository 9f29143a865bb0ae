//! The evaluation report as a library: [`build`] reads a result store into a
//! [`Report`] (manifest, scoring-unit headline beside the gaming floors,
//! pass rates with Wilson intervals, findings, throughput, per-task rows with
//! prompt, answer and grade components, item statistics across runs), and
//! [`markdown`] and [`html`] render it; the model is `Serialize` for JSON.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = result_store::Store::open_existing(std::path::Path::new("results.sqlite")).await?;
//! let report = bench_report::build(&store).await?;
//! std::fs::write("report.md", bench_report::markdown(&report))?;
//! std::fs::write("report.html", bench_report::html(&report))?;
//! std::fs::write("report.json", serde_json::to_string_pretty(&report)?)?;
//! # Ok(()) }
//! ```

mod format;
mod hallucination;
mod html;
pub mod items;
mod markdown;
mod model;
pub mod paired;
mod time;

pub use format::{summary, Format};
pub use hallucination::{Frequent, Hallucination, KindRate};
pub use html::html;
pub use markdown::markdown;
pub use model::{
    build, invalid_reason, Comparison, GroundTruth, PairedComparison, ProbeRecall, Recall, Report, Row, RunReport,
    Tampered, Throughput, NEAR_VERBATIM,
};

/// Errors while building a report, each naming the store.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] result_store::StoreError),
    #[error("{path}: the stored calibration of task set {task_set} does not decode: {source}")]
    Calibration {
        path: String,
        task_set: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode the report as JSON")]
    Encode(#[source] serde_json::Error),
    #[error("{path}: cannot write")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0:?}: expected md, html or json")]
    Format(String),
}
