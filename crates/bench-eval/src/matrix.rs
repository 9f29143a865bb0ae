//! An evaluation matrix: sources × models, one cell each, every cell a
//! `bench-cli eval` against one shared store. The matrix runs on an existing
//! scheduler, never one of ours: it becomes a Slurm job array (one array task
//! per cell, one GPU each) or a Kubernetes Indexed Job.

use std::path::{Path, PathBuf};

use ollama_runner::plan::Plan;
use result_store::Store;
use serde::{Deserialize, Serialize};

use crate::args::EvalArgs;
use crate::error::BoxError;
use crate::EvalError;

/// A matrix file (YAML).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// The shared store every cell writes to (`postgres://…`, or a SQLite
    /// path on a filesystem every node sees).
    pub store: String,
    /// Where each cell's task set and reports go (`OUT_DIR/cell-N`).
    pub out_dir: PathBuf,
    /// Tasks per source.
    #[serde(default = "default_count")]
    pub count: usize,
    /// The repositories, each at a revision.
    pub sources: Vec<MatrixSource>,
    /// The models, each with its backend, endpoint and VRAM budget.
    pub models: Vec<MatrixModel>,
    /// Arguments every cell's `eval` gets (sampling options, `--python`, …).
    #[serde(default)]
    pub eval_args: Vec<String>,
    /// Scheduler settings.
    #[serde(default)]
    pub slurm: SlurmSettings,
}

fn default_count() -> usize {
    60
}

/// One repository of the matrix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSource {
    /// A directory, git repository, archive or `github:` reference.
    pub source: String,
    /// A git revision.
    #[serde(default)]
    pub rev: Option<String>,
}

/// One model of the matrix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixModel {
    /// The model name as its server knows it.
    pub name: String,
    /// `ollama` or `openai`.
    pub backend: String,
    /// The server root; `{hostname}` becomes the node the cell runs on.
    pub endpoint: String,
    /// The VRAM budget (`32GiB`).
    #[serde(default)]
    pub vram: Option<String>,
    /// The GGUF file, for servers that cannot describe the model.
    #[serde(default)]
    pub gguf: Option<PathBuf>,
    /// Further `eval` arguments for this model (`--kv-cache q8_0`, `--runtime …`);
    /// they win over the matrix's `eval_args`.
    #[serde(default)]
    pub args: Vec<String>,
}

/// How the Slurm array asks for resources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    /// The generic resource per array task (`gpu:1`; empty for none).
    #[serde(default = "default_gres")]
    pub gres: String,
    /// The partition, when not the default.
    #[serde(default)]
    pub partition: Option<String>,
    /// The wall-clock limit per cell (`02:00:00`).
    #[serde(default)]
    pub time: Option<String>,
}

impl Default for SlurmSettings {
    fn default() -> Self {
        Self { gres: default_gres(), partition: None, time: None }
    }
}

fn default_gres() -> String {
    "gpu:1".into()
}

/// One cell: a source and a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Its index (the array task id).
    pub index: usize,
    /// The source.
    pub source: String,
    /// Its revision.
    pub rev: Option<String>,
    /// The model.
    pub model: String,
    /// `bench-cli eval` arguments (without the program name).
    pub args: Vec<String>,
}

impl Cell {
    /// The cell's `eval` line, parsed as `eval` parses it.
    pub fn eval_args(&self) -> Result<EvalArgs, String> {
        EvalArgs::parse_line(&self.args)
    }

    /// The `eval` arguments as shell words, `{cell}` replaced by the index
    /// and `{hostname}` by the shell expansion `host` (`$host`).
    fn shell_args(&self, host: &str) -> String {
        let host = format!("'\"{host}\"'");
        let index = self.index.to_string();
        let words: Vec<String> =
            self.args.iter().map(|a| quote(a).replace("{hostname}", &host).replace("{cell}", &index)).collect();
        words.join(" ")
    }
}

/// Where a cell stands in the shared store.
#[derive(Debug, Clone, Serialize)]
pub struct CellStatus {
    /// The cell's index.
    pub cell: usize,
    /// Its source.
    pub source: String,
    /// Its model.
    pub model: String,
    /// Its run, once started.
    pub run: Option<i64>,
    /// `not started`, `running or stopped`, `finished`, or why its source
    /// cannot be read here.
    pub state: String,
    /// Results stored.
    pub results: i64,
    /// Tasks in the run's task set.
    pub tasks: i64,
}

impl std::fmt::Display for CellStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let run = self.run.map(|id| format!(", run {id}")).unwrap_or_default();
        let (c, s, m) = (self.cell, &self.source, &self.model);
        write!(f, "cell {c}: {s} x {m}: {} ({}/{} results{run})", self.state, self.results, self.tasks)
    }
}

impl Matrix {
    /// Reads a matrix file; a bad one is a one-line error naming it.
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let file = || path.display().to_string();
        let bad = |what: String| EvalError::Matrix { file: file(), what, source: None };
        let cause = |what: &str, e: BoxError| EvalError::Matrix { file: file(), what: what.into(), source: Some(e) };
        let text = std::fs::read_to_string(path).map_err(|e| cause("cannot read", e.into()))?;
        let m: Matrix = serde_yaml_ng::from_str(&text).map_err(|e| cause("not a matrix", e.into()))?;
        if m.sources.is_empty() || m.models.is_empty() {
            return Err(bad("a matrix needs at least one source and one model".into()));
        }
        if let Some(b) = m.models.iter().find(|m| !matches!(m.backend.as_str(), "ollama" | "openai")) {
            return Err(bad(format!("model {}: backend {:?} is not ollama or openai", b.name, b.backend)));
        }
        // Every cell's line as its `eval` will parse it, here rather than on a node hours later.
        for c in m.cells() {
            c.eval_args().map_err(|e| bad(format!("cell {} ({} x {}): {e}", c.index, c.source, c.model)))?;
        }
        Ok(m)
    }

    /// Every cell, sources outermost, in array-index order.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for s in &self.sources {
            for m in &self.models {
                let index = cells.len();
                let mut args = vec!["eval".to_string(), s.source.clone()];
                if let Some(rev) = &s.rev {
                    args.extend(["--rev".into(), rev.clone()]);
                }
                args.extend([
                    "--backend".into(),
                    m.backend.clone(),
                    "--endpoint".into(),
                    m.endpoint.clone(),
                    "--model".into(),
                    m.name.clone(),
                    "--db".into(),
                    self.store.clone(),
                    "--count".into(),
                    self.count.to_string(),
                    "--out-dir".into(),
                    self.out_dir.join(format!("cell-{index}")).display().to_string(),
                ]);
                if let Some(v) = &m.vram {
                    args.extend(["--vram".into(), v.clone()]);
                }
                if let Some(g) = &m.gguf {
                    args.extend(["--gguf".into(), g.display().to_string()]);
                }
                // The model's own arguments last: where both set one, the model's wins.
                args.extend(self.eval_args.iter().cloned());
                args.extend(m.args.iter().cloned());
                cells.push(Cell { index, source: s.source.clone(), rev: s.rev.clone(), model: m.name.clone(), args });
            }
        }
        cells
    }

    /// A cell's VRAM plan, where its `eval` line gives a budget and a GGUF
    /// file (else the server describes the model when the cell runs), under
    /// the settings that line gives, as its `eval` plans before asking the server.
    pub fn plan(&self, cell: &Cell) -> Result<Option<Plan>, EvalError> {
        let run = self.cell_args(cell)?.run;
        let (Some(vram), Some(gguf)) = (run.vram, run.gguf_for(&cell.model)) else { return Ok(None) };
        Ok(Some(ollama_runner::gguf::shape(&gguf)?.plan(&run.plan_request(vram))))
    }

    fn cell_args(&self, cell: &Cell) -> Result<EvalArgs, EvalError> {
        cell.eval_args().map_err(|what| EvalError::Matrix { file: format!("cell {}", cell.index), what, source: None })
    }

    /// Every cell with its plan, as [`Matrix::plan`] makes it.
    pub fn plans(&self) -> Result<Vec<(Cell, Option<Plan>)>, EvalError> {
        self.cells().into_iter().map(|c| self.plan(&c).map(|p| (c, p))).collect()
    }

    /// Each cell's progress in the shared store: its latest run of the same
    /// model over the same snapshot.
    pub async fn status(&self, store: &Store) -> Result<Vec<CellStatus>, EvalError> {
        let runs = store.runs().await?;
        let mut rows = Vec::new();
        for c in self.cells() {
            // The cell's source as its `eval` reads it (a `github:` one from
            // the cache); one that cannot be read here is that cell's state.
            let snap = self.cell_args(&c)?.derive.src.source().snapshot();
            let latest = |s: &repo_scan::Snapshot| {
                runs.iter().rev().find(|r| r.model == c.model && r.manifest.snapshot_id == s.snapshot_id)
            };
            let (state, results, tasks, run) = match snap.as_ref().map(latest) {
                Err(e) => (format!("source not readable here: {}", bench_core::error_chain(&e)), 0, 0, None),
                Ok(None) => ("not started".to_string(), 0, 0, None),
                Ok(Some(r)) => {
                    let tasks = store.task_set(&r.task_set_id).await?.tasks.len() as i64;
                    let state = if r.finished_at.is_some() { "finished" } else { "running or stopped" };
                    (state.to_string(), r.results, tasks, Some(r.id))
                }
            };
            rows.push(CellStatus { cell: c.index, source: c.source, model: c.model, run, state, results, tasks });
        }
        Ok(rows)
    }

    /// Writes the scheduler's job for every cell under `out_dir`: a Slurm
    /// array script running `bench_cli`, or a Kubernetes Indexed Job for `image`.
    pub fn write_job(&self, engine: Engine, bench_cli: &Path, image: &str) -> Result<PathBuf, EvalError> {
        let (path, text) = match engine {
            Engine::Slurm => (self.out_dir.join("matrix.sbatch"), self.sbatch(bench_cli)),
            Engine::Kubernetes => (self.out_dir.join("matrix-job.yaml"), self.kubernetes(image)),
        };
        let failed =
            |e| EvalError::Submit { job: path.display().to_string(), what: "cannot write".into(), source: Some(e) };
        std::fs::create_dir_all(&self.out_dir).map_err(failed)?;
        std::fs::write(&path, text).map_err(failed)?;
        Ok(path)
    }

    /// A Slurm batch script: a job array with one task per cell, each
    /// running its cell's `eval` with `bench_cli`, logs under `out_dir`.
    pub fn sbatch(&self, bench_cli: &Path) -> String {
        let cells = self.cells();
        let mut s = String::from("#!/bin/bash\n# Written by `bench-cli matrix submit`: one array task per cell.\n");
        s.push_str("#SBATCH --job-name=bench-matrix\n");
        s.push_str(&format!("#SBATCH --array=0-{}\n", cells.len().saturating_sub(1)));
        s.push_str("#SBATCH --ntasks=1\n");
        if !self.slurm.gres.is_empty() {
            s.push_str(&format!("#SBATCH --gres={}\n", self.slurm.gres));
        }
        if let Some(p) = &self.slurm.partition {
            s.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        if let Some(t) = &self.slurm.time {
            s.push_str(&format!("#SBATCH --time={t}\n"));
        }
        s.push_str(&format!("#SBATCH --output={}/cell-%a.log\n", self.out_dir.display()));
        s.push_str("set -euo pipefail\nhost=$(hostname)\ncase \"$SLURM_ARRAY_TASK_ID\" in\n");
        for c in &cells {
            let (i, exe, argv) = (c.index, quote(&bench_cli.display().to_string()), c.shell_args("$host"));
            s.push_str(&format!("  {i}) exec {exe} {argv} ;;\n"));
        }
        s.push_str("  *) echo \"no cell $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n");
        s
    }

    /// A Kubernetes Indexed Job for the same matrix (one pod per cell, one
    /// GPU each); `image` holds `bench-cli` and the sources.
    pub fn kubernetes(&self, image: &str) -> String {
        let cells = self.cells();
        let mut case = String::from("case \"$JOB_COMPLETION_INDEX\" in\n");
        for c in &cells {
            case.push_str(&format!("  {}) exec bench-cli {} ;;\n", c.index, c.shell_args("$(hostname)")));
        }
        case.push_str("  *) exit 2 ;;\nesac\n");
        // Built as a value and serialised: an image name or argument that
        // needs quoting in YAML is quoted by the library (decision 0002).
        let n = cells.len();
        let job = serde_json::json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "bench-matrix"},
            "spec": {
                "completionMode": "Indexed",
                "completions": n,
                "parallelism": n,
                "backoffLimitPerIndex": 2,
                "template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "cell",
                        "image": image,
                        "resources": {"limits": {"nvidia.com/gpu": 1}},
                        "command": ["/bin/bash", "-c"],
                        "args": [case],
                    }],
                }},
            },
        });
        let yaml = serde_yaml_ng::to_string(&job).expect("a JSON value serialises as YAML");
        format!("# Written by `bench-cli matrix submit --engine kubernetes`: apply with kubectl.\n{yaml}")
    }
}

/// The scheduler a matrix is submitted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// A Slurm job array, submitted with sbatch.
    Slurm,
    /// A Kubernetes Indexed Job manifest, written for kubectl (not submitted).
    Kubernetes,
}

/// Submits a Slurm array script with `sbatch`; returns the job id.
pub fn submit_slurm(script: &Path) -> Result<String, EvalError> {
    let failed = |what: String, source| EvalError::Submit { job: script.display().to_string(), what, source };
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| failed("cannot run sbatch (is Slurm installed here?)".into(), Some(e)))?;
    if !out.status.success() {
        return Err(failed(format!("sbatch: {}", String::from_utf8_lossy(&out.stderr).trim()), None));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A shell word, always single-quoted, so that `{hostname}` can be spliced
/// in as `'"$host"'`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
