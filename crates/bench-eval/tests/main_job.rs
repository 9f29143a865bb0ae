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
    assert!(d.env.is_none() && bench_eval::text::derivation(&d)[0].contains("structural only"));
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
            budget: Default::default(),
        },
        baseline: Default::default(),
        stats: Default::default(),
    });
    let err = bench_eval::grading_env(&set, None, None).unwrap_err();
    assert!(matches!(err, EvalError::NeedsTests { .. }), "{err}");
    assert!(err.to_string().contains(&set.taskset_id) && !err.to_string().contains("--"), "{err}");
}

/// The whole job after synthesis, as `eval` runs it, parsed from an `eval`
/// line: floors first, each model in turn (the first unloaded before the
/// second), each graded, every step reported; rerun, it resumes and sends
/// nothing.
#[tokio::test]
async fn evaluate_runs_each_model_in_turn_from_an_eval_line() {
    use bench_eval::args::EvalArgs;
    use bench_eval::Event;
    use std::sync::atomic::Ordering;

    let server = FakeOllama::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite");
    let fixture = workspace_root().join("tests/fixtures/tinyvalidator");
    let line: Vec<String> = ["eval", fixture.to_str().unwrap(), "--model", "qwen-a", "--model", "qwen-b"]
        .into_iter()
        .chain(["--db", db.to_str().unwrap(), "--count", "4", "--backend", "ollama", "--endpoint", &server.url()])
        .chain(["--num-ctx", "2048", "--num-ctx", "1024"])
        .map(String::from)
        .collect();
    let args = EvalArgs::parse_line(&line).unwrap();
    assert_eq!(args.run.sampling.num_ctx, 1024, "the last value of a setting wins");
    let derived = args.derive.derive(Some(args.count)).unwrap();
    let set = derived.set;
    let generation = set.tasks.iter().filter(|t| t.category == bench_core::Category::CodeGeneration).count();
    let store = Store::open(&db).await.unwrap();
    let specs: Vec<_> = args.models.iter().map(|m| args.run.spec(m, &[])).collect();
    let mut driver = args.run.driver(&[]).unwrap();
    let mut seen = Vec::new();
    bench_eval::evaluate(&mut driver, &set, &specs, &store, None, Some(&derived.files), |e| {
        seen.push(match e {
            Event::Calibrated(_) => "floors".to_string(),
            Event::Started(m) => format!("start {m}"),
            Event::Step(_) => "step".into(),
            Event::Ran(r) => format!("ran {}", r.id),
            Event::Probed(m, p) => format!("probed {m}: {}", p.len()),
            Event::Graded(m, run, grades) => format!("graded {m} run {run}: {}", grades.len()),
        });
    })
    .await
    .unwrap();
    let steps = ["step", "step", "step", "step"];
    let (probed_a, probed_b) = (format!("probed qwen-a: {generation}"), format!("probed qwen-b: {generation}"));
    let want: Vec<&str> = ["floors", "start qwen-a"]
        .into_iter()
        .chain(steps)
        .chain(["ran 1", &probed_a, "graded qwen-a run 1: 4", "start qwen-b"])
        .chain(steps)
        .chain(["ran 2", &probed_b, "graded qwen-b run 2: 4"])
        .collect();
    assert!(generation > 0, "the fixture's set probes something");
    for run in [1, 2] {
        let probes = store.probes(run).await.unwrap();
        assert_eq!(probes.len(), generation);
        assert!(probes.iter().all(|p| p.similarity.is_some_and(|s| (0.0..=1.0).contains(&s))), "{probes:?}");
    }
    assert_eq!(seen, want);
    assert_eq!(server.state.unloads.load(Ordering::SeqCst), 1, "one model resident at a time");
    assert_eq!(server.state.options.lock().unwrap()[0]["num_ctx"], 1024);

    let sent = server.state.chat_requests.load(Ordering::SeqCst);
    bench_eval::evaluate(&mut driver, &set, &specs, &store, None, Some(&derived.files), |_| {}).await.unwrap();
    assert_eq!(server.state.chat_requests.load(Ordering::SeqCst), sent, "a rerun resumes and sends nothing");
    assert_eq!(store.runs().await.unwrap().len(), 2);
}
