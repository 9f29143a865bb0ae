use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use bench_core::{
    canonical_json, content_id, Category, Completion, Expected, FinishReason, Grade, Prompt, ResultSink, RunManifest,
    SinkError, Task, TaskSet, Tier, Timings,
};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on one result-store file.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: String,
}

/// One run, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// The run's id.
    pub id: i64,
    /// The task set it ran.
    pub task_set_id: String,
    /// The model.
    pub model: String,
    /// `ollama` or `openai`.
    pub backend_kind: String,
    /// The server root.
    pub endpoint: String,
    /// `native` or `promptfoo VERSION`.
    pub driver: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC; `None` while unfinished.
    pub finished_at: Option<String>,
    /// Results recorded, the warm-up left out.
    pub results: i64,
    /// The full manifest.
    pub manifest: RunManifest,
}

/// A run opened for writing by [`Store::begin_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begun {
    /// The run's id.
    pub id: i64,
    /// For a resumed run: its first start and the results it already has.
    pub resumed: Option<(String, i64)>,
    /// Whether the resumed run had already finished.
    pub finished: bool,
}

impl Store {
    /// Opens the store at `path`, creating it if it does not exist.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::connect(path, true).await
    }

    /// Opens an existing store; a missing file is an error.
    pub async fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing { path: path.display().to_string() });
        }
        Self::connect(path, false).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let not_store = |reason: String| StoreError::NotAStore { path: shown.clone(), reason };
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| not_store(e.to_string()))?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| not_store(e.to_string()))?;
        let store = Store { pool, path: shown.clone() };
        // Check what is there before writing anything.
        let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&store.pool)
            .await
            .map_err(|e| not_store(e.to_string()))?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
            return Err(not_store(format!("it holds other tables ({})", tables.join(", "))));
        }
        if tables.iter().any(|t| t == "_sqlx_migrations") {
            let found: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
                .fetch_one(&store.pool)
                .await
                .map_err(|e| store.db(e))?;
            let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
            if found > known {
                return Err(StoreError::NewerSchema { path: shown, found, known });
            }
        }
        MIGRATOR.run(&store.pool).await.map_err(|e| not_store(e.to_string()))?;
        Ok(store)
    }

    /// SQLite's own consistency check: `ok` when the file is sound.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.pool).await.map_err(|e| self.db(e))
    }

    /// The store's file, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Db { path: self.path.clone(), source }
    }

    /// Stores a task set and its tasks; storing it again is a no-op.
    pub async fn put_task_set(&self, set: &TaskSet) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM task_sets WHERE id = ?")
            .bind(&set.taskset_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        if exists.is_some() {
            return Ok(());
        }
        sqlx::query("INSERT INTO task_sets (id, snapshot_id, rules_hash, tool_version, requested, task_count, execution) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&set.taskset_id)
            .bind(&set.snapshot_id)
            .bind(&set.rules_hash)
            .bind(&set.tool_version)
            .bind(set.requested as i64)
            .bind(set.tasks.len() as i64)
            .bind(set.execution.as_ref().map(|e| serde_json::to_string(e).expect("plain data serialises")))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        for (i, t) in set.tasks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tasks (task_set_id, id, position, category, tier, tier_rule, file, symbol, span_start, span_end, prompt_system, prompt_user, expected, evidence)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&set.taskset_id)
            .bind(&t.id)
            .bind(i as i64)
            .bind(t.category.as_str())
            .bind(t.tier.to_string())
            .bind(&t.tier_rule)
            .bind(&t.file)
            .bind(&t.symbol)
            .bind(t.span[0])
            .bind(t.span[1])
            .bind(&t.prompt.system)
            .bind(&t.prompt.user)
            .bind(serde_json::to_string(&t.expected).expect("plain data serialises"))
            .bind(serde_json::to_string(&t.evidence).expect("plain data serialises"))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        }
        tx.commit().await.map_err(|e| self.db(e))
    }

    /// Stores (or replaces) a task set's calibration, as JSON.
    pub async fn put_calibration(&self, task_set_id: &str, calibration: &serde_json::Value) -> Result<(), StoreError> {
        sqlx::query("INSERT OR REPLACE INTO calibrations (task_set_id, calibration) VALUES (?, ?)")
            .bind(task_set_id)
            .bind(calibration.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// A task set's calibration, if one was stored.
    pub async fn calibration(&self, task_set_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT calibration FROM calibrations WHERE task_set_id = ?")
            .bind(task_set_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Mismatch {
                path: self.path.clone(),
                reason: format!("task set {task_set_id}: cannot decode its calibration: {e}"),
            })
        })
        .transpose()
    }

    /// Reads a task set back, tasks in their original order.
    pub async fn task_set(&self, id: &str) -> Result<TaskSet, StoreError> {
        let head = sqlx::query(
            "SELECT snapshot_id, rules_hash, tool_version, requested, execution FROM task_sets WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NoTaskSet { path: self.path.clone(), id: id.into() })?;
        let rows = sqlx::query("SELECT * FROM tasks WHERE task_set_id = ? ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let mut tasks = Vec::with_capacity(rows.len());
        for r in rows {
            let expected: Expected = self.decode(&r, "id", "expected")?;
            let evidence = self.decode(&r, "id", "evidence")?;
            let unknown = |column: &str| StoreError::Mismatch {
                path: self.path.clone(),
                reason: format!(
                    "task {}: unknown `{column}` {:?}",
                    r.get::<String, _>("id"),
                    r.get::<String, _>(column)
                ),
            };
            tasks.push(Task {
                id: r.get("id"),
                category: Category::parse(r.get("category")).ok_or_else(|| unknown("category"))?,
                tier: Tier::parse(r.get("tier")).ok_or_else(|| unknown("tier"))?,
                tier_rule: r.get("tier_rule"),
                file: r.get("file"),
                symbol: r.get("symbol"),
                span: [r.get("span_start"), r.get("span_end")],
                prompt: Prompt { system: r.get("prompt_system"), user: r.get("prompt_user") },
                expected,
                evidence,
            });
        }
        let execution = match head.get::<Option<&str>, _>("execution") {
            None => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|e| StoreError::Mismatch {
                path: self.path.clone(),
                reason: format!("task set {id}: cannot decode its execution record: {e}"),
            })?),
        };
        Ok(TaskSet {
            taskset_id: id.to_string(),
            snapshot_id: head.get("snapshot_id"),
            rules_hash: head.get("rules_hash"),
            tool_version: head.get("tool_version"),
            requested: head.get::<i64, _>("requested") as usize,
            execution,
            tasks,
        })
    }

    /// What must match for a run to be resumed: task set, driver, backend,
    /// endpoint, model and every sampling option.
    pub fn identity(m: &RunManifest) -> String {
        content_id(&canonical_json(&(&m.taskset_id, &m.driver, &m.backend_kind, &m.endpoint, &m.model, &m.options)))
    }

    /// Starts a new run. Its task set must already be stored and match.
    pub async fn create_run(&self, m: &RunManifest) -> Result<i64, StoreError> {
        let snapshot: Option<String> = sqlx::query_scalar("SELECT snapshot_id FROM task_sets WHERE id = ?")
            .bind(&m.taskset_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        match snapshot {
            None => return Err(StoreError::NoTaskSet { path: self.path.clone(), id: m.taskset_id.clone() }),
            Some(s) if s != m.snapshot_id => {
                return Err(StoreError::Mismatch {
                    path: self.path.clone(),
                    reason: format!(
                        "run names snapshot {} but task set {} was built from {s}",
                        m.snapshot_id, m.taskset_id
                    ),
                })
            }
            Some(_) => {}
        }
        let id = sqlx::query(
            "INSERT INTO runs (task_set_id, identity, model, backend_kind, endpoint, driver, manifest, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.taskset_id)
        .bind(Self::identity(m))
        .bind(&m.model)
        .bind(&m.backend_kind)
        .bind(&m.endpoint)
        .bind(&m.driver)
        .bind(self.encode("run manifest", m)?)
        .bind(&m.started_at)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .last_insert_rowid();
        Ok(id)
    }

    /// JSON for a column; a value that cannot be encoded is an error, never "".
    fn encode<T: serde::Serialize>(&self, what: &str, value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value)
            .map_err(|e| StoreError::Mismatch { path: self.path.clone(), reason: format!("cannot encode {what}: {e}") })
    }

    /// A JSON column of a task's row (`id_column` names the task); unreadable
    /// data is reported, not defaulted.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        row: &sqlx::sqlite::SqliteRow,
        id_column: &str,
        column: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(row.get::<&str, _>(column)).map_err(|e| StoreError::Mismatch {
            path: self.path.clone(),
            reason: format!("cannot decode `{column}` of task {}: {e}", row.get::<String, _>(id_column)),
        })
    }

    /// The latest run with the same identity, if any (for resuming).
    pub async fn find_run(&self, m: &RunManifest) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT id FROM runs WHERE identity = ? ORDER BY id DESC LIMIT 1")
            .bind(Self::identity(m))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))
    }

    /// The run to write into: with `resume`, the latest run with the same
    /// identity (task set, model, endpoint, options), else a new one.
    pub async fn begin_run(&self, m: &RunManifest, resume: bool) -> Result<Begun, StoreError> {
        if resume {
            if let Some(id) = self.find_run(m).await? {
                let row = self.run(id).await?;
                let finished = row.finished_at.is_some();
                return Ok(Begun { id, resumed: Some((row.manifest.started_at, row.results)), finished });
            }
        }
        Ok(Begun { id: self.create_run(m).await?, resumed: None, finished: false })
    }

    /// Updates an unfinished run's manifest durably (a batch's id the moment
    /// the provider answers, egress as it grows).
    pub async fn save_manifest(&self, run: i64, m: &RunManifest) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET manifest = ? WHERE id = ?")
            .bind(self.encode("run manifest", m)?)
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Updates a run's manifest (residency observed, plan) and marks it finished.
    pub async fn finish_run(&self, run: i64, m: &RunManifest) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET manifest = ?, finished_at = ? WHERE id = ?")
            .bind(self.encode("run manifest", m)?)
            .bind(&m.finished_at)
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// The run with id `run`.
    pub async fn run(&self, run: i64) -> Result<RunRow, StoreError> {
        self.runs()
            .await?
            .into_iter()
            .find(|r| r.id == run)
            .ok_or_else(|| StoreError::NoRun { path: self.path.clone(), run })
    }

    /// Every run, oldest first.
    pub async fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.*, (SELECT COUNT(*) FROM results x WHERE x.run_id = r.id AND x.warmup = 0) AS n FROM runs r ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        rows.into_iter()
            .map(|r| {
                let manifest: RunManifest = serde_json::from_str(r.get::<&str, _>("manifest")).map_err(|e| {
                    StoreError::Mismatch { path: self.path.clone(), reason: format!("run manifest: {e}") }
                })?;
                Ok(RunRow {
                    id: r.get("id"),
                    task_set_id: r.get("task_set_id"),
                    model: r.get("model"),
                    backend_kind: r.get("backend_kind"),
                    endpoint: r.get("endpoint"),
                    driver: r.get("driver"),
                    started_at: r.get("started_at"),
                    finished_at: r.get("finished_at"),
                    results: r.get("n"),
                    manifest,
                })
            })
            .collect()
    }

    /// A sink that writes into `run`.
    pub fn sink(&self, run: i64) -> RunSink {
        RunSink { store: self.clone(), run }
    }

    /// Records one completion in its own transaction (replacing an earlier
    /// attempt at the same task in the same run).
    pub async fn record(&self, run: i64, c: &Completion, warmup: bool) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        sqlx::query(
            "INSERT OR REPLACE INTO results (run_id, task_id, warmup, text, prompt_tokens, completion_tokens, finish_reason,
                wall_ms, ttft_ms, total_ms, load_ms, prompt_eval_ms, eval_ms, attempts, error, prompt_tokens_from, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(run)
        .bind(&c.task_id)
        .bind(warmup)
        .bind(&c.text)
        .bind(c.prompt_tokens.map(|n| n as i64))
        .bind(c.completion_tokens.map(|n| n as i64))
        .bind(c.finish_reason.as_str())
        .bind(c.timings.wall_ms)
        .bind(c.timings.ttft_ms)
        .bind(c.timings.total_ms)
        .bind(c.timings.load_ms)
        .bind(c.timings.prompt_eval_ms)
        .bind(c.timings.eval_ms)
        .bind(self.encode("attempts", &c.attempts)?)
        .bind(&c.error)
        .bind(&c.prompt_tokens_from)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        tx.commit().await.map_err(|e| self.db(e))
    }

    /// Tasks of `run` with a successful, non-warm-up result.
    pub async fn done(&self, run: i64) -> Result<BTreeSet<String>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT task_id FROM results WHERE run_id = ? AND warmup = 0 AND error IS NULL")
                .bind(run)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        Ok(ids.into_iter().collect())
    }

    /// Seconds from the start of the run's first task request to the end of
    /// its last, from the commit times (warm-up excluded).
    pub async fn task_window(&self, run: i64) -> Result<Option<f64>, StoreError> {
        let row = sqlx::query(
            "SELECT (julianday(MAX(recorded_at)) - julianday(MIN(recorded_at))) * 86400.0 AS span,
                    (SELECT wall_ms FROM results WHERE run_id = ?1 AND warmup = 0 ORDER BY recorded_at LIMIT 1) AS first_wall,
                    COUNT(*) AS n
             FROM results WHERE run_id = ?1 AND warmup = 0",
        )
        .bind(run)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let n: i64 = row.get("n");
        Ok((n > 0).then(|| {
            row.get::<Option<f64>, _>("span").unwrap_or(0.0)
                + row.get::<Option<f64>, _>("first_wall").unwrap_or(0.0) / 1000.0
        }))
    }

    /// The completions of a run (warm-up excluded), in task order.
    pub async fn completions(&self, run: i64) -> Result<Vec<Completion>, StoreError> {
        let rows = sqlx::query(
            "SELECT x.* FROM results x JOIN runs r ON r.id = x.run_id
             LEFT JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = x.task_id
             WHERE x.run_id = ? AND x.warmup = 0 ORDER BY t.position",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        rows.into_iter()
            .map(|r| {
                let attempts = self.decode(&r, "task_id", "attempts")?;
                Ok(Completion {
                    task_id: r.get("task_id"),
                    text: r.get("text"),
                    prompt_tokens: r.get::<Option<i64>, _>("prompt_tokens").map(|n| n as u64),
                    prompt_tokens_from: r.get("prompt_tokens_from"),
                    completion_tokens: r.get::<Option<i64>, _>("completion_tokens").map(|n| n as u64),
                    finish_reason: match r.get::<&str, _>("finish_reason") {
                        "error" => FinishReason::Error,
                        other => FinishReason::from_server(Some(other)),
                    },
                    timings: Timings {
                        wall_ms: r.get("wall_ms"),
                        ttft_ms: r.get("ttft_ms"),
                        total_ms: r.get("total_ms"),
                        load_ms: r.get("load_ms"),
                        prompt_eval_ms: r.get("prompt_eval_ms"),
                        eval_ms: r.get("eval_ms"),
                    },
                    attempts,
                    error: r.get("error"),
                })
            })
            .collect()
    }

    /// Replaces the grades of a run (grading is idempotent).
    pub async fn put_grades(&self, run: i64, grades: &[Grade]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        for sql in ["DELETE FROM grade_components WHERE run_id = ?", "DELETE FROM grades WHERE run_id = ?"] {
            sqlx::query(sql).bind(run).execute(&mut *tx).await.map_err(|e| self.db(e))?;
        }
        for g in grades {
            sqlx::query("INSERT INTO grades (run_id, task_id, pass, reason, invented, api) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(run)
                .bind(&g.task_id)
                .bind(g.pass)
                .bind(&g.reason)
                .bind(self.encode("invented names", &g.invented)?)
                .bind(self.encode("API check", &g.api)?)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
            for c in &g.components {
                sqlx::query("INSERT OR REPLACE INTO grade_components (run_id, task_id, name, pass, detail) VALUES (?, ?, ?, ?, ?)")
                    .bind(run)
                    .bind(&g.task_id)
                    .bind(&c.name)
                    .bind(c.pass)
                    .bind(&c.detail)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(e))?;
            }
        }
        tx.commit().await.map_err(|e| self.db(e))
    }

    /// The grades of a run.
    pub async fn grades(&self, run: i64) -> Result<Vec<Grade>, StoreError> {
        let rows = sqlx::query("SELECT * FROM grades WHERE run_id = ? ORDER BY task_id")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let comps = sqlx::query("SELECT * FROM grade_components WHERE run_id = ? ORDER BY task_id, rowid")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        rows.into_iter()
            .map(|r| {
                let id: String = r.get("task_id");
                let invented = self.decode(&r, "task_id", "invented")?;
                let api = self.decode(&r, "task_id", "api")?;
                Ok(Grade {
                    components: comps
                        .iter()
                        .filter(|c| c.get::<&str, _>("task_id") == id)
                        .map(|c| bench_core::Component {
                            name: c.get("name"),
                            pass: c.get("pass"),
                            detail: c.get("detail"),
                        })
                        .collect(),
                    task_id: id,
                    pass: r.get("pass"),
                    reason: r.get("reason"),
                    invented,
                    api,
                })
            })
            .collect()
    }
}

/// The store's [`ResultSink`] for one run.
#[derive(Debug, Clone)]
pub struct RunSink {
    store: Store,
    run: i64,
}

impl RunSink {
    /// The run this sink writes to.
    pub fn run_id(&self) -> i64 {
        self.run
    }
}

impl ResultSink for RunSink {
    async fn already_done(&mut self) -> Result<BTreeSet<String>, SinkError> {
        self.store.done(self.run).await.map_err(|e| SinkError(e.to_string()))
    }

    async fn record(&mut self, completion: &Completion, warmup: bool) -> Result<(), SinkError> {
        self.store.record(self.run, completion, warmup).await.map_err(|e| SinkError(e.to_string()))
    }
}
