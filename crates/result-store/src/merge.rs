//! Merging stores for sites whose GPU boxes cannot reach a shared database:
//! each source is attached to the destination's connection and copied in
//! one transaction, so a source merges whole or not at all. A run is the
//! same run in both stores when its identity and its start agree; its rows
//! are then compared, never duplicated. Merging again is a no-op.

use sqlx::Row;

use crate::{Store, StoreError};

/// What one merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Merged {
    /// Runs new to the destination.
    pub runs_added: usize,
    /// Runs the destination already had.
    pub runs_matched: usize,
    /// Results copied (new, or replacing a failed attempt).
    pub results_added: u64,
    /// Results the destination already had, identical.
    pub results_same: u64,
}

/// Result columns that must agree for two copies of a result to be the same.
const SAME_RESULT: &str = "s.warmup IS d.warmup AND s.text IS d.text AND s.prompt_tokens IS d.prompt_tokens
    AND s.completion_tokens IS d.completion_tokens AND s.finish_reason IS d.finish_reason AND s.wall_ms IS d.wall_ms
    AND s.attempts IS d.attempts AND s.error IS d.error";

const RESULT_COLUMNS: &str = "task_id, warmup, text, prompt_tokens, completion_tokens, finish_reason, wall_ms, ttft_ms,
    total_ms, load_ms, prompt_eval_ms, eval_ms, attempts, error, recorded_at, prompt_tokens_from";

/// SQL built here from this module's own constants and table names, never
/// from data.
fn safe(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

impl Store {
    /// Copies every task set, calibration, run, result and grade of `src`
    /// into this store. Refuses, changing nothing, when a row differs from
    /// the destination's copy of the same run and task (a failed attempt is
    /// replaced by a successful one, as a resumed run would).
    pub async fn merge_from(&self, src: &Store) -> Result<Merged, StoreError> {
        let from = src.path().to_string();
        let conflict = |reason: String| StoreError::Conflict { from: from.clone(), into: self.path().into(), reason };
        if self.backend() != crate::Backend::Sqlite || src.backend() != crate::Backend::Sqlite {
            return Err(conflict("merging is implemented between SQLite files only".into()));
        }
        let mut conn = self.pool().acquire().await.map_err(|e| self.db(e))?;
        sqlx::query("ATTACH DATABASE ? AS src").bind(&from).execute(&mut *conn).await.map_err(|e| self.db(e))?;
        let merged = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(|e| self.db(e))?;
            // Content-addressed: the same id is the same content, unless a file was altered.
            for (table, key, same) in [
                ("task_sets", "id", "s.snapshot_id = d.snapshot_id AND s.rules_hash = d.rules_hash AND s.task_count = d.task_count"),
                ("tasks", "id", "s.expected = d.expected AND s.prompt_user = d.prompt_user AND s.task_set_id = d.task_set_id"),
                ("calibrations", "task_set_id", "s.calibration = d.calibration"),
            ] {
                let bad: Option<String> = sqlx::query_scalar(safe(format!(
                    "SELECT s.{key} FROM src.{table} s JOIN main.{table} d ON d.{key} = s.{key} {} WHERE NOT ({same}) LIMIT 1",
                    if table == "tasks" { "AND d.task_set_id = s.task_set_id" } else { "" }
                )))
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
                if let Some(id) = bad {
                    return Err(conflict(format!("{table} row {id} differs")));
                }
                sqlx::query(safe(format!("INSERT OR IGNORE INTO main.{table} SELECT * FROM src.{table}")))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(e))?;
            }
            let mut m = Merged::default();
            let runs = sqlx::query("SELECT * FROM src.runs ORDER BY id").fetch_all(&mut *tx).await.map_err(|e| self.db(e))?;
            for r in runs {
                let s_id: i64 = r.get("id");
                let (identity, started_at): (String, String) = (r.get("identity"), r.get("started_at"));
                let found: Option<(i64, Option<String>, String)> = sqlx::query_as(
                    "SELECT id, finished_at, manifest FROM main.runs WHERE identity = ? AND started_at = ?",
                )
                .bind(&identity)
                .bind(&started_at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
                let d_id = match found {
                    Some((d_id, d_finished, d_manifest)) => {
                        m.runs_matched += 1;
                        let s_finished: Option<String> = r.get("finished_at");
                        match (&s_finished, &d_finished) {
                            (Some(a), Some(b)) if a != b || r.get::<String, _>("manifest") != d_manifest => {
                                return Err(conflict(format!(
                                    "run {s_id} (started {started_at}) finished at {a} there and at {b} here, with different manifests"
                                )));
                            }
                            // The run went on in the source after this copy was taken.
                            (Some(_), None) => {
                                sqlx::query("UPDATE main.runs SET manifest = ?, finished_at = ? WHERE id = ?")
                                    .bind(r.get::<String, _>("manifest"))
                                    .bind(&s_finished)
                                    .bind(d_id)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(|e| self.db(e))?;
                            }
                            _ => {}
                        }
                        d_id
                    }
                    None => {
                        m.runs_added += 1;
                        sqlx::query_scalar::<_, i64>(
                            "INSERT INTO main.runs (task_set_id, identity, model, backend_kind, endpoint, driver, manifest, started_at, finished_at)
                             SELECT task_set_id, identity, model, backend_kind, endpoint, driver, manifest, started_at, finished_at FROM src.runs WHERE id = ? RETURNING id",
                        )
                        .bind(s_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| self.db(e))?
                    }
                };
                // Two successful answers to one task that differ: refuse, naming where ours came from.
                let clash: Option<(String, Option<String>)> = sqlx::query_as(safe(format!(
                    "SELECT s.task_id, d.source FROM src.results s JOIN main.results d ON d.run_id = ?1 AND d.task_id = s.task_id
                     WHERE s.run_id = ?2 AND s.error IS NULL AND d.error IS NULL AND NOT ({SAME_RESULT}) LIMIT 1"
                )))
                .bind(d_id)
                .bind(s_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
                if let Some((task, source)) = clash {
                    return Err(conflict(format!(
                        "run {s_id} ({} started {started_at}), task {task}: a different answer is already here (from {})",
                        r.get::<String, _>("model"),
                        source.unwrap_or_else(|| "this store's own run".into())
                    )));
                }
                m.results_same += sqlx::query_scalar::<_, i64>(safe(format!(
                    "SELECT COUNT(*) FROM src.results s JOIN main.results d ON d.run_id = ?1 AND d.task_id = s.task_id
                     WHERE s.run_id = ?2 AND {SAME_RESULT}"
                )))
                .bind(d_id)
                .bind(s_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.db(e))? as u64;
                // Tasks whose answer the source settles: new here, or failed here and answered there.
                let taken = "SELECT s.task_id FROM src.results s WHERE s.run_id = ?2 AND NOT EXISTS (
                        SELECT 1 FROM main.results d WHERE d.run_id = ?1 AND d.task_id = s.task_id
                        AND (d.error IS NULL OR s.error IS NOT NULL))";
                for table in ["grade_components", "grades", "results"] {
                    sqlx::query(safe(format!("DELETE FROM main.{table} WHERE run_id = ?1 AND task_id IN ({taken})")))
                        .bind(d_id)
                        .bind(s_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.db(e))?;
                }
                m.results_added += sqlx::query(safe(format!(
                    "INSERT OR IGNORE INTO main.results (run_id, {RESULT_COLUMNS}, source)
                     SELECT ?1, {RESULT_COLUMNS}, COALESCE(source, ?3) FROM src.results WHERE run_id = ?2"
                )))
                .bind(d_id)
                .bind(s_id)
                .bind(&from)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?
                .rows_affected();
                // Grades of the same answers must agree; missing ones are copied.
                let same = format!(
                    "SELECT s.task_id FROM src.results s JOIN main.results d ON d.run_id = ?1 AND d.task_id = s.task_id
                     WHERE s.run_id = ?2 AND {SAME_RESULT}"
                );
                let bad: Option<String> = sqlx::query_scalar(safe(format!(
                    "SELECT s.task_id FROM src.grades s JOIN main.grades d ON d.run_id = ?1 AND d.task_id = s.task_id
                     WHERE s.run_id = ?2 AND s.task_id IN ({same})
                     AND NOT (s.pass IS d.pass AND s.reason IS d.reason AND s.invented IS d.invented AND s.api IS d.api) LIMIT 1"
                )))
                .bind(d_id)
                .bind(s_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
                if let Some(task) = bad {
                    return Err(conflict(format!("run {s_id}, task {task}: graded differently here; re-grade one store first")));
                }
                for (table, cols) in [
                    ("grades", "task_id, pass, reason, invented, api, similarity"),
                    ("grade_components", "task_id, name, pass, detail"),
                ] {
                    sqlx::query(safe(format!(
                        "INSERT OR IGNORE INTO main.{table} (run_id, {cols}) SELECT ?1, {cols} FROM src.{table}
                         WHERE run_id = ?2 AND task_id IN ({same})"
                    )))
                    .bind(d_id)
                    .bind(s_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(e))?;
                }
                // Recall probes: one per task, whichever store had it first.
                sqlx::query(
                    "INSERT OR IGNORE INTO main.probes (run_id, task_id, text, similarity, error, recorded_at)
                     SELECT ?1, task_id, text, similarity, error, recorded_at FROM src.probes WHERE run_id = ?2",
                )
                .bind(d_id)
                .bind(s_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
            }
            tx.commit().await.map_err(|e| self.db(e))?;
            Ok(m)
        }
        .await;
        sqlx::query("DETACH DATABASE src").execute(&mut *conn).await.map_err(|e| self.db(e))?;
        merged
    }
}
