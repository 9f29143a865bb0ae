use std::collections::BTreeSet;
use std::path::Path;

use bench_core::{
    canonical_json, content_id, Category, Completion, Expected, FinishReason, Grade, Prompt, ResultSink, RunManifest,
    SinkError, Task, TaskSet, Tier, Timings,
};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use sqlx::Row;

use crate::StoreError;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// Which database holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (WAL, full sync, foreign keys on): one machine.
    Sqlite,
    /// A PostgreSQL database: many writers, one shared store.
    Postgres,
}

/// A handle on one result store: a SQLite file or a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    path: String,
    backend: Backend,
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
    /// Opens the store at `path`, creating it if it does not exist. A path
    /// that starts with `postgres://` or `postgresql://` is a PostgreSQL
    /// database (which must exist; its tables are created); `sqlite://` or
    /// any other path is a SQLite file.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::connect(path, true).await
    }

    /// Opens an existing store; a missing file is an error.
    pub async fn open_existing(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if Self::backend_of(&shown) == Backend::Sqlite && !Path::new(shown.trim_start_matches("sqlite://")).exists() {
            return Err(StoreError::Missing { path: shown });
        }
        Self::connect(path, false).await
    }

    fn backend_of(location: &str) -> Backend {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Which database holds the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let location = path.display().to_string();
        let backend = Self::backend_of(&location);
        // A password in a URL is never shown.
        let shown = match redact(&location) {
            Some(r) => r,
            None => location.clone(),
        };
        let not_store = |reason: String| StoreError::NotAStore { path: shown.clone(), reason };
        let (url, migrator, pool) = match backend {
            Backend::Sqlite => {
                let file = location.trim_start_matches("sqlite://");
                let mode = if create { "rwc" } else { "rw" };
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(sqlx::AssertSqlSafe(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;",
                            ))
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    });
                (format!("sqlite://{file}?mode={mode}"), &SQLITE, pool)
            }
            Backend::Postgres => (location.clone(), &POSTGRES, AnyPoolOptions::new().max_connections(4)),
        };
        let pool = pool.connect(&url).await.map_err(|source| StoreError::Open { path: shown.clone(), source })?;
        let store = Store { pool, path: shown.clone(), backend };
        // Check what is there before writing anything.
        let tables_sql = match backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let tables: Vec<String> = sqlx::query_scalar(tables_sql)
            .fetch_all(&store.pool)
            .await
            .map_err(|source| StoreError::Open { path: shown.clone(), source })?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
            return Err(not_store(format!("it holds other tables ({})", tables.join(", "))));
        }
        if tables.iter().any(|t| t == "_sqlx_migrations") {
            let found: i64 =
                sqlx::query_scalar("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM _sqlx_migrations")
                    .fetch_one(&store.pool)
                    .await
                    .map_err(|e| store.db(e))?;
            let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
            if found > known {
                return Err(StoreError::NewerSchema { path: shown, found, known });
            }
        }
        // Concurrent writers may race to create the schema; the loser's
        // error is retried once the winner has finished.
        let mut tries = 0;
        loop {
            match migrator.run(&store.pool).await {
                Ok(()) => break,
                Err(_) if backend == Backend::Postgres && tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200 * tries)).await;
                }
                Err(source) => return Err(StoreError::Migrate { path: shown, source }),
            }
        }
        Ok(store)
    }

    /// SQLite's own consistency check: `ok` when the file is sound
    /// (PostgreSQL keeps its own consistency: always `ok`).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.pool).await.map_err(|e| self.db(e))
            }
            Backend::Postgres => Ok("ok".into()),
        }
    }

    /// The store's file, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Db { path: self.path.clone(), source }
    }

    /// Stores a task set and its tasks; storing it again is a no-op.
    pub async fn put_task_set(&self, set: &TaskSet) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        // Content-addressed: a set already there is the same set. Writers that
        // race here wait on the first, then insert nothing.
        let inserted = sqlx::query("INSERT INTO task_sets (id, snapshot_id, rules_hash, tool_version, requested, task_count, execution, novelty) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING")
            .bind(&set.taskset_id)
            .bind(&set.snapshot_id)
            .bind(&set.rules_hash)
            .bind(&set.tool_version)
            .bind(set.requested as i64)
            .bind(set.tasks.len() as i64)
            .bind(set.execution.as_ref().map(|e| serde_json::to_string(e).expect("plain data serialises")))
            .bind(set.novelty.as_ref().map(|n| serde_json::to_string(n).expect("plain data serialises")))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?
            .rows_affected();
        if inserted == 0 {
            return Ok(());
        }
        for (i, t) in set.tasks.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tasks (task_set_id, id, position, category, tier, tier_rule, file, symbol, span_start, span_end, prompt_system, prompt_user, expected, evidence)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&set.taskset_id)
            .bind(&t.id)
            .bind(i as i64)
            .bind(t.category.as_str())
            .bind(t.tier.to_string())
            .bind(&t.tier_rule)
            .bind(&t.file)
            .bind(&t.symbol)
            .bind(i64::from(t.span[0]))
            .bind(i64::from(t.span[1]))
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
        sqlx::query(
            "INSERT INTO calibrations (task_set_id, calibration) VALUES ($1, $2)
             ON CONFLICT (task_set_id) DO UPDATE SET calibration = excluded.calibration",
        )
        .bind(task_set_id)
        .bind(calibration.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// A task set's calibration, if one was stored.
    pub async fn calibration(&self, task_set_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT calibration FROM calibrations WHERE task_set_id = $1")
            .bind(task_set_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        text.map(|t: String| self.parse(&t, || format!("task set {task_set_id}: cannot decode its calibration")))
            .transpose()
    }

    /// Reads a task set back, tasks in their original order.
    pub async fn task_set(&self, id: &str) -> Result<TaskSet, StoreError> {
        let head = sqlx::query(
            "SELECT snapshot_id, rules_hash, tool_version, requested, execution, novelty FROM task_sets WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NoTaskSet { path: self.path.clone(), id: id.into() })?;
        let rows = sqlx::query("SELECT * FROM tasks WHERE task_set_id = $1 ORDER BY position")
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
                span: [r.get::<i64, _>("span_start") as u32, r.get::<i64, _>("span_end") as u32],
                prompt: Prompt { system: r.get("prompt_system"), user: r.get("prompt_user") },
                expected,
                evidence,
            });
        }
        let execution = match head.get::<Option<&str>, _>("execution") {
            None => None,
            Some(text) => Some(self.parse(text, || format!("task set {id}: cannot decode its execution record"))?),
        };
        let novelty = match head.get::<Option<&str>, _>("novelty") {
            None => None,
            Some(text) => Some(self.parse(text, || format!("task set {id}: cannot decode its novelty record"))?),
        };
        Ok(TaskSet {
            taskset_id: id.to_string(),
            snapshot_id: head.get("snapshot_id"),
            rules_hash: head.get("rules_hash"),
            tool_version: head.get("tool_version"),
            requested: head.get::<i64, _>("requested") as usize,
            execution,
            novelty,
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
        let snapshot: Option<String> = sqlx::query_scalar("SELECT snapshot_id FROM task_sets WHERE id = $1")
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
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (task_set_id, identity, model, backend_kind, endpoint, driver, manifest, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&m.taskset_id)
        .bind(Self::identity(m))
        .bind(&m.model)
        .bind(&m.backend_kind)
        .bind(&m.endpoint)
        .bind(&m.driver)
        .bind(self.encode("run manifest", m)?)
        .bind(&m.started_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(id)
    }

    /// JSON for a column; a value that cannot be encoded is an error, never "".
    fn encode<T: serde::Serialize>(&self, what: &str, value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value).map_err(|e| StoreError::Json {
            path: self.path.clone(),
            what: format!("cannot encode {what}"),
            source: e,
        })
    }

    /// A JSON column of a task's row (`id_column` names the task); unreadable
    /// data is reported, not defaulted.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        row: &AnyRow,
        id_column: &str,
        column: &str,
    ) -> Result<T, StoreError> {
        self.parse(row.get::<&str, _>(column), || {
            format!("cannot decode `{column}` of task {}", row.get::<String, _>(id_column))
        })
    }

    /// JSON read back from a column; `what` names it only when it is unreadable.
    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        text: &str,
        what: impl FnOnce() -> String,
    ) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|source| StoreError::Json { path: self.path.clone(), what: what(), source })
    }

    /// The latest run with the same identity, if any (for resuming).
    pub async fn find_run(&self, m: &RunManifest) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT id FROM runs WHERE identity = $1 ORDER BY id DESC LIMIT 1")
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
        sqlx::query("UPDATE runs SET manifest = $1 WHERE id = $2")
            .bind(self.encode("run manifest", m)?)
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Updates a run's manifest (residency observed, plan) and marks it finished.
    pub async fn finish_run(&self, run: i64, m: &RunManifest) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET manifest = $1, finished_at = $2 WHERE id = $3")
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
                let manifest: RunManifest = self.parse(r.get::<&str, _>("manifest"), || "run manifest".into())?;
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
            "INSERT INTO results (run_id, task_id, warmup, text, prompt_tokens, completion_tokens, finish_reason,
                wall_ms, ttft_ms, total_ms, load_ms, prompt_eval_ms, eval_ms, attempts, error, prompt_tokens_from, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (run_id, task_id) DO UPDATE SET warmup = excluded.warmup, text = excluded.text,
                prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                finish_reason = excluded.finish_reason, wall_ms = excluded.wall_ms, ttft_ms = excluded.ttft_ms,
                total_ms = excluded.total_ms, load_ms = excluded.load_ms, prompt_eval_ms = excluded.prompt_eval_ms,
                eval_ms = excluded.eval_ms, attempts = excluded.attempts, error = excluded.error,
                prompt_tokens_from = excluded.prompt_tokens_from, recorded_at = excluded.recorded_at, source = NULL",
        )
        .bind(run)
        .bind(&c.task_id)
        .bind(i64::from(warmup))
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
        .bind(bench_core::now_rfc3339())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        tx.commit().await.map_err(|e| self.db(e))
    }

    /// Tasks of `run` with a successful, non-warm-up result.
    pub async fn done(&self, run: i64) -> Result<BTreeSet<String>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT task_id FROM results WHERE run_id = $1 AND warmup = 0 AND error IS NULL")
                .bind(run)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        Ok(ids.into_iter().collect())
    }

    /// Seconds from the start of the run's first task request to the end of
    /// its last, from the commit times (warm-up excluded).
    pub async fn task_window(&self, run: i64) -> Result<Option<f64>, StoreError> {
        let rows: Vec<(String, f64)> = sqlx::query_as(
            "SELECT recorded_at, wall_ms FROM results WHERE run_id = $1 AND warmup = 0 ORDER BY recorded_at",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let at = |s: &str| s.parse::<jiff::Timestamp>().ok();
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Ok(None) };
        let span = match (at(&first.0), at(&last.0)) {
            (Some(a), Some(b)) => (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0,
            _ => 0.0,
        };
        Ok(Some(span + first.1 / 1000.0))
    }

    /// The completions of a run (warm-up excluded), in task order.
    pub async fn completions(&self, run: i64) -> Result<Vec<Completion>, StoreError> {
        let rows = sqlx::query(
            "SELECT x.* FROM results x JOIN runs r ON r.id = x.run_id
             LEFT JOIN tasks t ON t.task_set_id = r.task_set_id AND t.id = x.task_id
             WHERE x.run_id = $1 AND x.warmup = 0 ORDER BY t.position",
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
        for sql in ["DELETE FROM grade_components WHERE run_id = $1", "DELETE FROM grades WHERE run_id = $1"] {
            sqlx::query(sql).bind(run).execute(&mut *tx).await.map_err(|e| self.db(e))?;
        }
        for g in grades {
            sqlx::query(
                "INSERT INTO grades (run_id, task_id, pass, reason, invented, api, similarity)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(run)
            .bind(&g.task_id)
            .bind(i64::from(g.pass))
            .bind(&g.reason)
            .bind(self.encode("invented names", &g.invented)?)
            .bind(self.encode("API check", &g.api)?)
            .bind(g.similarity)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
            for c in &g.components {
                sqlx::query(
                    "INSERT INTO grade_components (run_id, task_id, name, pass, detail) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (run_id, task_id, name) DO UPDATE SET pass = excluded.pass, detail = excluded.detail",
                )
                .bind(run)
                .bind(&g.task_id)
                .bind(&c.name)
                .bind(i64::from(c.pass))
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
        let rows = sqlx::query("SELECT * FROM grades WHERE run_id = $1 ORDER BY task_id")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let order = match self.backend {
            Backend::Sqlite => "SELECT * FROM grade_components WHERE run_id = $1 ORDER BY task_id, rowid",
            Backend::Postgres => "SELECT * FROM grade_components WHERE run_id = $1 ORDER BY task_id, seq",
        };
        let comps = sqlx::query(order).bind(run).fetch_all(&self.pool).await.map_err(|e| self.db(e))?;
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
                            pass: c.get::<i64, _>("pass") != 0,
                            detail: c.get("detail"),
                        })
                        .collect(),
                    task_id: id,
                    pass: r.get::<i64, _>("pass") != 0,
                    reason: r.get("reason"),
                    invented,
                    api,
                    similarity: r.get("similarity"),
                })
            })
            .collect()
    }

    /// Records a recall probe's continuation for one generation task of a
    /// run (replacing an earlier one).
    pub async fn put_probe(&self, run: i64, probe: &Probe) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO probes (run_id, task_id, text, similarity, error, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (run_id, task_id) DO UPDATE SET text = excluded.text, similarity = excluded.similarity,
             error = excluded.error, recorded_at = excluded.recorded_at",
        )
        .bind(run)
        .bind(&probe.task_id)
        .bind(&probe.text)
        .bind(probe.similarity)
        .bind(&probe.error)
        .bind(bench_core::now_rfc3339())
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// The recall probes of a run, by task.
    pub async fn probes(&self, run: i64) -> Result<Vec<Probe>, StoreError> {
        let rows = sqlx::query("SELECT * FROM probes WHERE run_id = $1 ORDER BY task_id")
            .bind(run)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|r| Probe {
                task_id: r.get("task_id"),
                text: r.get("text"),
                similarity: r.get("similarity"),
                error: r.get("error"),
            })
            .collect())
    }
}

/// One recall probe: what a model continued a file with, given only the
/// lines before a generation target, and how close that came to the
/// original function.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Probe {
    /// The generation task probed.
    pub task_id: String,
    /// The model's continuation.
    pub text: String,
    /// Its token similarity to the original function; `None` when nothing in
    /// it parsed as the function.
    pub similarity: Option<f64>,
    /// Set when the request failed.
    pub error: Option<String>,
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
        self.store.done(self.run).await.map_err(SinkError::new)
    }

    async fn record(&mut self, completion: &Completion, warmup: bool) -> Result<(), SinkError> {
        self.store.record(self.run, completion, warmup).await.map_err(SinkError::new)
    }
}

/// `postgres://user:secret@host/db` with the password hidden, for messages.
fn redact(location: &str) -> Option<String> {
    let (scheme, rest) = location.split_once("://")?;
    let (auth, host) = rest.split_once('@')?;
    let user = auth.split_once(':').map_or(auth, |(u, _)| u);
    Some(format!("{scheme}://{user}:***@{host}"))
}
