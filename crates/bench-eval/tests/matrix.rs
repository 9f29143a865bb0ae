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
        let e = bench_core::error_chain(&load(text).unwrap_err());
        assert!(e.contains("matrix.yaml: ") && e.contains(want) && !e.contains('\n'), "{e}");
    }
}

#[test]
fn a_cell_that_eval_would_refuse_is_refused_when_the_matrix_is_loaded() {
    for (args, want) in
        [("[--kv-cache, q9_0]", "q9_0"), ("[--num-cxt, '2048']", "--num-cxt"), ("[--flash-attn, maybe]", "maybe")]
    {
        let e = load(&FILE.replace("[--kv-cache, q8_0]", args)).unwrap_err().to_string();
        assert!(e.contains("matrix.yaml: cell 0 (/srv/repos/api x qwen3.6:35b-a3b): "), "{e}");
        assert!(e.contains(want) && !e.contains('\n'), "{e}");
    }
}

#[test]
fn a_models_own_setting_wins_over_the_matrix_wide_one() {
    let m = load(&FILE.replace("[--kv-cache, q8_0]", "[--num-ctx, '2048']")).unwrap();
    let cells = m.cells();
    assert_eq!(cells[0].eval_args().unwrap().run.sampling.num_ctx, 2048);
    assert_eq!(cells[1].eval_args().unwrap().run.sampling.num_ctx, 8192);
}

/// The cell's plan is the plan its `eval` makes: every memory setting on
/// its line counts (before, only the context, KV type, runtime and slots did).
#[test]
fn a_cells_plan_reads_every_setting_on_its_line() {
    use ollama_runner::plan::{Device, KvType, PlanRequest, Policy, Runtime};
    let Some(gguf) = test_support::tools::tool("BENCH_GGUF") else { return };
    let settings = "[--flash-attn, 'off', --ubatch, '256', --device, cpu, --parallel, '2', --runtime, llama.cpp]";
    let text = FILE.replace("[--kv-cache, q8_0]", settings).replacen(
        "    vram: 32GiB\n",
        &format!("    vram: 32GiB\n    gguf: {}\n", gguf.display()),
        1,
    );
    let m = load(&text).unwrap();
    let plan = m.plan(&m.cells()[0]).unwrap().unwrap();
    let policy = Policy { ubatch: Some(256), flash_attn: Some(false), device: Some(Device::Cpu), ..Policy::default() };
    let request = PlanRequest::new(32 << 30, 8192, KvType::F16, Runtime::LlamaCpp).with(policy, Some(2));
    let shape = ollama_runner::gguf::shape(&gguf).unwrap();
    assert_eq!(plan, shape.plan(&request));
    let unset = PlanRequest::new(32 << 30, 8192, KvType::F16, Runtime::LlamaCpp);
    assert_ne!(plan.total, shape.plan(&unset).total, "the settings change the plan");
    // Ollama's cells plan with Ollama's runtime unless the line says otherwise.
    let text = FILE.replacen("    vram: 32GiB\n", &format!("    vram: 32GiB\n    gguf: {}\n", gguf.display()), 2);
    let m = load(&text).unwrap();
    assert_eq!(m.plan(&m.cells()[1]).unwrap().unwrap().request.runtime, Runtime::Ollama);
}

/// A cell whose source cannot be read here (a `github:` one neither cached
/// nor acknowledged as egress) is that cell's state; the others are listed.
#[tokio::test]
async fn status_lists_every_cell_even_one_whose_source_is_unreadable_here() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("r.sqlite");
    let fixture = test_support::tools::workspace_root().join("tests/fixtures/tinyvalidator");
    let text = format!(
        "store: {}\nout_dir: {}\nsources:\n  - source: {}\n  - source: github:pallets/click@8.1.7\n\
         models:\n  - name: m\n    backend: ollama\n    endpoint: http://127.0.0.1:1\n",
        store_path.display(),
        dir.path().join("out").display(),
        fixture.display()
    );
    let m = load(&text).unwrap();
    let store = result_store::Store::open(&store_path).await.unwrap();
    let rows = m.status(&store).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].state, "not started");
    assert!(rows[1].state.starts_with("source not readable here: github:pallets/click: "), "{}", rows[1].state);
    assert!(rows[1].to_string().starts_with("cell 1: github:pallets/click@8.1.7 x m: source not readable"));
}
