//! The main job through the library alone: a fixture repository into a task
//! set, one model run into a real SQLite store against the protocol-faithful
//! Ollama server, resumed, graded and calibrated.

#![allow(clippy::unwrap_used)] // tests fail loudly

use bench_core::SamplingOptions;
use bench_eval::{EvalError, Source};
use ollama_runner::{AnyBackend, BackendKind, RunSpec};
use result_store::Store;
use test_support::ollama_server::FakeOllama;
use test_support::tools::workspace_root;

fn fixture() -> Source {
    Source::local(workspace_root().join("tests/fixtures/tinyvalidator"), None)
}

#[tokio::test]
async fn a_source_becomes_a_graded_calibrated_run() {
    let d = bench_eval::derive(&fixture(), &task_synth::Rules::default(), Some(6), None).unwrap();
    assert!(d.env.is_none() && d.notes[0].contains("structural only"), "{:?}", d.notes);
    assert_eq!(d.set.tasks.len(), 6);

    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("r.sqlite")).await.unwrap();
    let backend = AnyBackend::new(BackendKind::Ollama, &server.url()).unwrap();
    let spec = RunSpec::new("qwen-test", SamplingOptions::default());
    let mut steps = 0;
    let run = bench_eval::run_model(&backend, &d.set, &spec, &store, true, |_| steps += 1).await.unwrap();
    assert_eq!((run.finished.summary.completed, steps, run.resumed_with), (6, 6, None));
    assert_eq!(store.run(run.id).await.unwrap().manifest.finished_at, run.finished.manifest.finished_at);

    // Resuming the finished run sends nothing and keeps its record.
    let again = bench_eval::run_model(&backend, &d.set, &spec, &store, true, |_| {}).await.unwrap();
    assert_eq!((again.id, again.resumed_with, again.finished.did_work()), (run.id, Some(6), false));

    let grades = bench_eval::grade_run(&store, run.id, None).await.unwrap();
    assert_eq!(grades.len(), 6);
    let c = bench_eval::calibrate_set(&d.set, None, Some(&store)).await.unwrap();
    assert!(bench_eval::text::calibration(&c).contains("headline floor"));
}

#[test]
fn an_execution_verified_set_is_not_graded_without_its_tests() {
    let mut set = bench_eval::derive(&fixture(), &task_synth::Rules::default(), Some(2), None).unwrap().set;
    set.execution = Some(bench_core::ExecutionRecord {
        environment: bench_core::TestEnvironment {
            fingerprint: "f".into(),
            python: "p".into(),
            packages: vec![],
            test_cmd: vec!["pytest".into()],
            harness: "h".into(),
        },
        baseline: Default::default(),
        stats: Default::default(),
    });
    let err = bench_eval::grading_env(&set, None, None).unwrap_err();
    assert!(matches!(err, EvalError::NeedsTests { .. }), "{err}");
    assert!(err.to_string().contains(&set.taskset_id) && !err.to_string().contains("--"), "{err}");
}
