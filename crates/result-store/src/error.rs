/// Errors of the store, each naming the file (or run, or task set).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant is documented by its #[error] message
pub enum StoreError {
    #[error("{path}: not a result store: {reason}")]
    NotAStore { path: String, reason: String },
    #[error("{path}: written by a newer version of this tool (schema {found}, this tool knows up to {known})")]
    NewerSchema { path: String, found: i64, known: i64 },
    #[error("{path}: no such store")]
    Missing { path: String },
    #[error("{path}: {reason}")]
    Mismatch { path: String, reason: String },
    #[error("{path}: {what}")]
    Json {
        path: String,
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: run {run} does not exist")]
    NoRun { path: String, run: i64 },
    #[error("{path}: task set {id} is not in the store")]
    NoTaskSet { path: String, id: String },
    #[error("{from}: cannot be merged into {into}: {reason}")]
    Conflict { from: String, into: String, reason: String },
    #[error("{path}: database error")]
    Db {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{path}: not a result store (it cannot be opened and read as one)")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{path}: cannot migrate the store")]
    Migrate {
        path: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}
