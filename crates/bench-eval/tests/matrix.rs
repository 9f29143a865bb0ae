//! The matrix file: its cells, the Slurm array script and the Kubernetes
//! Indexed Job it becomes, and one-line errors for a bad file.

#![allow(clippy::unwrap_used)] // tests fail loudly

use bench_eval::matrix::Matrix;
use bench_eval::EvalError;

const FILE: &str = "\
store: postgres://bench@db.internal/bench
out_dir: /shared/out
count: 30
eval_args: [--num-ctx, '8192']
sources:
  - source: /srv/repos/api
    rev: v2.3.0
  - source: github:pallets/click@8.1.7
models:
  - name: qwen3.6:35b-a3b
    backend: ollama
    endpoint: http://{hostname}:11434
    vram: 32GiB
    args: [--kv-cache, q8_0]
  - name: gemma4:31b
    backend: ollama
    endpoint: http://{hostname}:11434
    vram: 32GiB
slurm:
  partition: gpu
  time: '04:00:00'
";

fn load(text: &str) -> Result<Matrix, EvalError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("matrix.yaml");
    std::fs::write(&path, text).unwrap();
    Matrix::load(&path)
}

#[test]
fn cells_scripts_and_jobs() {
    let m = load(FILE).unwrap();
    let cells = m.cells();
    assert_eq!(cells.len(), 4);
    assert_eq!((cells[1].source.as_str(), cells[1].model.as_str()), ("/srv/repos/api", "gemma4:31b"));
    assert_eq!(cells[0].args[..4], ["eval", "/srv/repos/api", "--rev", "v2.3.0"]);
    assert!(cells[0].args.windows(2).any(|w| w == ["--kv-cache", "q8_0"]));
    assert!(!cells[1].args.iter().any(|a| a == "--kv-cache"), "model arguments stay with their model");
    insta::assert_snapshot!("sbatch", m.sbatch(std::path::Path::new("/opt/bench/bench-cli")));
    insta::assert_snapshot!("kubernetes", m.kubernetes("registry.internal/bench:0.2"));
}

#[test]
fn a_bad_matrix_is_a_one_line_error_naming_the_file() {
    for (text, want) in [
        ("store: x\nout_dir: o\nsources: []\nmodels: []\n", "at least one source and one model"),
        (&FILE.replace("backend: ollama", "backend: vllm"), "backend \"vllm\" is not ollama or openai"),
        (&FILE.replace("count: 30", "cont: 30"), "unknown field `cont`"),
    ] {
        let e = load(text).unwrap_err().to_string();
        assert!(e.contains("matrix.yaml: ") && e.contains(want) && !e.contains('\n'), "{e}");
    }
}
