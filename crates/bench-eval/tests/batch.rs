//! Remote batch baselines against the local protocol-faithful OpenAI and
//! Anthropic batch servers: partial failures, expiry and rate limits; a
//! creation whose answer was lost, found again through the paginated list;
//! egress counted to the byte the server saw; and no remote request without
//! an acknowledgement.

#![allow(clippy::unwrap_used)] // tests fail loudly

use std::time::Duration;

use bench_core::{SamplingOptions, TaskSet};
use bench_eval::{EvalError, Source};
use ollama_runner::batch::{BatchClient, Provider};
use ollama_runner::EndpointError;
use result_store::Store;
use test_support::batch_server::{Behaviour, FakeBatchApi, KEY};
use test_support::tools::workspace_root;

fn set(n: usize) -> TaskSet {
    let src = Source::local(workspace_root().join("tests/fixtures/tinyvalidator"), None);
    bench_eval::derive(&src, &task_synth::Rules::default(), Some(n), None).unwrap().set
}

fn client(p: Provider, server: &FakeBatchApi) -> BatchClient {
    BatchClient::new(p, &server.url(), KEY.into(), false, false).unwrap().0
}

async fn run(
    p: Provider,
    server: &FakeBatchApi,
    set: &TaskSet,
    store: &Store,
) -> Result<bench_eval::StoredRun, EvalError> {
    let mut c = client(p, server);
    let opts = SamplingOptions::default();
    bench_eval::run_batch(&mut c, set, "frontier-1", &opts, Duration::from_millis(10), store, |_| {}).await
}

#[tokio::test]
async fn failures_and_expiry_are_recorded_and_only_they_are_resubmitted() {
    for p in [Provider::OpenAi, Provider::Anthropic] {
        let set = set(6);
        let (bad, late) = (set.tasks[1].id.clone(), set.tasks[4].id.clone());
        let server = FakeBatchApi::start(Behaviour {
            polls: 3,
            fail: vec![bad.clone()],
            expire: vec![late.clone()],
            rate_limited: 2,
            ..Behaviour::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.sqlite")).await.unwrap();

        let first = run(p, &server, &set, &store).await.unwrap();
        let s = &first.finished.summary;
        assert_eq!((s.completed, s.failed), (4, 2), "{p:?}");
        let m = store.run(first.id).await.unwrap().manifest;
        let b = m.batch.clone().unwrap();
        assert!(b.ingested && b.id.is_some(), "{p:?} {b:?}");
        assert_eq!(b.status, if p == Provider::OpenAi { "expired" } else { "ended" });
        assert_eq!(b.provider_model.as_deref().map(|m| m.starts_with("frontier-1-")), Some(true), "{b:?}");
        assert_eq!(m.backend_kind, p.backend_kind());
        // Egress: every request the server saw (429s included) and the payload's hash.
        let e = m.egress.clone().unwrap();
        assert_eq!((e.provider.as_str(), e.host.as_str()), (p.name(), "127.0.0.1"));
        assert_eq!(e.requests as usize, server.seen(|s| s.requests), "{p:?}");
        assert!(e.bytes_sent > 1000 && e.bytes_received > 0 && e.payload_blake3.is_some(), "{e:?}");
        assert_eq!(e.taskset_id, set.taskset_id);

        let completions = store.completions(first.id).await.unwrap();
        let answered = completions.iter().filter(|c| c.error.is_none()).count();
        assert_eq!(answered, 4);
        let good = completions.iter().find(|c| c.task_id == set.tasks[0].id).unwrap();
        assert_eq!(good.text, format!("answer to {}", set.tasks[0].id));
        assert!(good.prompt_tokens.unwrap() > 0 && good.completion_tokens == Some(3));
        let expired = completions.iter().find(|c| c.task_id == late).unwrap();
        assert!(expired.error.as_deref().unwrap().contains("expired"), "{expired:?}");

        // The rerun resumes the same run and sends the two failed requests only.
        let second = run(p, &server, &set, &store).await.unwrap();
        assert_eq!((second.id, second.finished.summary.skipped_already_done), (first.id, 4));
        let submitted = server.seen(|s| s.submitted.clone());
        for t in &set.tasks {
            let n = submitted.iter().filter(|id| **id == t.id).count();
            assert_eq!(n, if t.id == bad || t.id == late { 2 } else { 1 }, "{p:?} {}", t.id);
        }
        assert_eq!(server.seen(|s| s.creates), 2);
        let e2 = store.run(first.id).await.unwrap().manifest.egress.unwrap();
        assert_eq!(e2.requests as usize, server.seen(|s| s.requests), "egress accumulates across invocations");
    }
}

#[tokio::test]
async fn a_creation_whose_answer_was_lost_is_found_not_paid_for_twice() {
    for p in [Provider::OpenAi, Provider::Anthropic] {
        let set = set(5);
        let server = FakeBatchApi::start(Behaviour { polls: 2, drop_create: true, others: 20, ..Behaviour::default() });
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.sqlite")).await.unwrap();

        let err = run(p, &server, &set, &store).await.unwrap_err();
        assert!(matches!(err, EvalError::Stopped { .. }), "{err}");
        let m = store.runs().await.unwrap()[0].manifest.clone();
        assert_eq!(m.batch.as_ref().map(|b| b.id.is_none()), Some(true), "{m:?}");

        let done = run(p, &server, &set, &store).await.unwrap();
        assert_eq!((done.finished.summary.completed, done.finished.summary.failed), (5, 0));
        server.seen(|s| {
            assert_eq!(s.creates, 1, "{p:?}: the batch was created once");
            assert_eq!(s.submitted.len(), 5);
            assert!(
                s.list_pages >= 3,
                "{p:?}: the lookup followed the cursor over 41 batches ({} pages)",
                s.list_pages
            );
        });
        assert_eq!(store.done(done.id).await.unwrap().len(), 5);
    }
}

#[test]
fn remote_providers_need_both_the_allowance_and_the_acknowledgement() {
    let api = "https://api.openai.com";
    let e = BatchClient::new(Provider::OpenAi, api, "k".into(), false, true).unwrap_err();
    assert!(matches!(e, EndpointError::Remote { .. }), "{e}");
    let e = BatchClient::new(Provider::OpenAi, api, "k".into(), true, false).unwrap_err();
    assert!(matches!(&e, EndpointError::Unacknowledged { provider, .. } if provider == "openai"), "{e}");
    assert!(e.to_string().starts_with(api) && !e.to_string().contains("--"), "{e}");
    let e = BatchClient::new(Provider::Anthropic, "http://127.0.0.1:9", " ".into(), false, false).unwrap_err();
    assert_eq!(e.to_string(), "anthropic: no API key in ANTHROPIC_API_KEY");
    let (_, scope) =
        BatchClient::new(Provider::Anthropic, "https://api.anthropic.com", "k".into(), true, true).unwrap();
    assert_eq!(scope, bench_core::EndpointScope::Remote);
}

#[tokio::test]
async fn a_wrong_key_is_a_one_line_error_naming_the_endpoint() {
    let server = FakeBatchApi::start(Behaviour::default());
    let set = set(2);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("r.sqlite")).await.unwrap();
    let mut c = BatchClient::new(Provider::OpenAi, &server.url(), "wrong".into(), false, false).unwrap().0;
    let err = bench_eval::run_batch(&mut c, &set, "m", &SamplingOptions::default(), Duration::ZERO, &store, |_| {})
        .await
        .unwrap_err();
    let EvalError::Stopped { source, .. } = err else { panic!("{err}") };
    let msg = source.to_string();
    assert!(msg.contains(&server.url()) && msg.contains("401") && !msg.contains('\n'), "{msg}");
    assert_eq!(server.seen(|s| s.creates), 0);
}
