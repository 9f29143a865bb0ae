//! The store that keeps every task set, run manifest, result and grade: one
//! SQLite file (WAL, foreign keys on) on one machine, or a PostgreSQL
//! database shared by many writers (`postgres://…`), through sqlx's `Any`
//! driver with one set of queries and a migration set per database, version
//! for version. Each result is committed the moment it arrives, so a killed
//! run resumes where it stopped and loses nothing.
//!
//! The schema is documented in `docs/result-store.md`; anyone can query it
//! with the `sqlite3` shell or `psql`.
//!
//! ```no_run
//! # async fn demo(set: &bench_core::TaskSet, manifest: &bench_core::RunManifest) -> Result<(), result_store::StoreError> {
//! let store = result_store::Store::open(std::path::Path::new("results.sqlite")).await?;
//! store.put_task_set(set).await?;
//! let run = store.create_run(manifest).await?;
//! let mut sink = store.sink(run); // implements bench_core::ResultSink
//! # Ok(()) }
//! ```

mod error;
mod merge;
mod report;
mod store;

pub use error::StoreError;
pub use merge::Merged;
pub use report::{wilson, ItemStat, PassRate};
pub use store::{Backend, Begun, Probe, RunRow, RunSink, Store};
