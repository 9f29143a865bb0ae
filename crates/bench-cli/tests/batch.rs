//! A frontier baseline through each batch backend's local test server: the
//! fixture task set submitted as one batch, the process killed (SIGKILL)
//! while it polls, and rerun: the batch is looked up, never submitted twice,
//! and every task lands in the store once, with egress in the manifest and
//! the report. Without the allowance and the acknowledgement nothing is sent.

#![allow(clippy::unwrap_used)] // tests fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{bin, block_on, fixture_tasks, run, s};
use test_support::batch_server::{Behaviour, FakeBatchApi, KEY};

#[test]
fn a_batch_run_killed_mid_poll_resumes_without_a_second_submission() {
    let dir = tempfile::tempdir().unwrap();
    let (tasks, n) = fixture_tasks(dir.path(), "12");

    for (backend, var, provider) in
        [("openai-batch", "OPENAI_API_KEY", "openai"), ("anthropic-batch", "ANTHROPIC_API_KEY", "anthropic")]
    {
        let server = FakeBatchApi::start(Behaviour { polls: 40, ..Behaviour::default() });
        let db = dir.path().join(format!("{provider}.sqlite"));
        let url = server.url();
        let args = [
            "run",
            "--tasks",
            s(&tasks),
            "--backend",
            backend,
            "--endpoint",
            &url,
            "--model",
            "frontier-1",
            "--db",
            s(&db),
            "--poll-every",
            "0.05",
        ];
        let mut child = bin().args(args).env(var, KEY).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("in_progress") {
                while server.seen(|s| s.polls) < 2 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        let polls_at_kill = server.seen(|s| s.polls);
        assert!((2..40).contains(&polls_at_kill), "{backend}: killed mid-poll ({polls_at_kill} polls)");
        let done_at_kill = block_on(async {
            let store = result_store::Store::open_existing(&db).await.unwrap();
            let run = &store.runs().await.unwrap()[0];
            assert!(run.manifest.batch.as_ref().unwrap().id.is_some(), "the batch id was recorded before polling");
            store.done(run.id).await.unwrap().len()
        });
        assert_eq!(done_at_kill, 0);

        let out = bin().args(args).env(var, KEY).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("resumed run 1") && err.contains(&format!("egress to {provider} (127.0.0.1)")), "{err}");
        server.seen(|st| {
            assert_eq!(st.creates, 1, "{backend}: one batch, never submitted twice");
            assert_eq!(st.uploads, usize::from(provider == "openai"));
            assert_eq!(st.submitted.len(), n, "{backend}: each task sent once");
        });
        let (runs, results) = block_on(async {
            let store = result_store::Store::open_existing(&db).await.unwrap();
            (store.runs().await.unwrap(), store.completions(1).await.unwrap())
        });
        assert_eq!(runs.len(), 1);
        assert_eq!(results.len(), n);
        assert!(results.iter().all(|c| c.error.is_none() && c.text.starts_with("answer to ")));
        let egress = runs[0].manifest.egress.clone().unwrap();
        // A kill mid-request leaves that request counted ahead: egress may be
        // overstated by one, never understated.
        let sent = server.seen(|s| s.requests) as u64;
        assert!((sent..=sent + 1).contains(&egress.requests), "{backend}: {} recorded, {sent} sent", egress.requests);

        let (code, _, _) = run(&["grade", "--db", s(&db)]);
        assert_eq!(code, 0);
        let (code, md, _) = run(&["report", "--db", s(&db)]);
        assert_eq!(code, 0);
        assert!(md.contains(&format!("remote baseline via {backend}")), "{md}");
        assert!(md.contains(&format!("Egress to {provider} (127.0.0.1): {} requests", egress.requests)), "{md}");
    }
}

#[test]
fn a_remote_provider_needs_the_allowance_and_the_acknowledgement_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (tasks, _) = fixture_tasks(dir.path(), "2");
    let db = dir.path().join("r.sqlite");
    let base = ["run", "--tasks", s(&tasks), "--backend", "openai-batch", "--model", "m", "--db", s(&db)];
    // An unroutable documentation address: refused before any connection.
    let remote = "https://203.0.113.7";
    let go = |extra: &[&str]| {
        let out =
            bin().args(base).args(["--endpoint", remote]).args(extra).env("OPENAI_API_KEY", "k").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = go(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--allow-remote") && err.lines().count() == 1, "{err}");
    let (code, err) = go(&["--allow-remote"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("egress to openai was not acknowledged") && err.contains("--egress openai"), "{err}");
    let (code, err) = go(&["--allow-remote", "--egress", "anthropic"]);
    assert!(code == Some(2) && err.contains("--egress openai"), "acknowledging another provider is not enough: {err}");
    assert!(!db.exists(), "nothing was written");
}

/// A local-API server at a non-local name (this machine's hostname, which
/// resolves to loopback here but counts as remote: a name cannot be checked
/// offline) needs the allowance and its host acknowledged, and the run
/// records what it sent.
#[test]
fn a_remote_model_server_needs_its_host_acknowledged_and_the_run_records_its_egress() {
    use std::net::ToSocketAddrs as _;
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim().to_string();
    let loopback = (host.as_str(), 80).to_socket_addrs().is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
    if host.is_empty() || !loopback {
        eprintln!("skipped: this machine's hostname does not resolve to loopback");
        return;
    }
    let server = test_support::ollama_server::FakeOllama::start();
    let endpoint = server.url().replace("127.0.0.1", &host);
    let dir = tempfile::tempdir().unwrap();
    let (tasks, n) = fixture_tasks(dir.path(), "4");
    let db = dir.path().join("r.sqlite");
    let base = ["run", "--tasks", s(&tasks), "--backend", "ollama", "--endpoint", &endpoint, "--model", "qwen-test"];
    let go = |extra: &[&str]| {
        let out = bin().args(base).args(["--db", s(&db)]).args(extra).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = go(&[]);
    assert!(code == Some(2) && err.contains("--allow-remote"), "{err}");
    let (code, err) = go(&["--allow-remote"]);
    assert!(code == Some(2) && err.contains(&format!("egress to {host} was not acknowledged")), "{err}");
    assert!(err.contains(&format!("--egress {host}")), "{err}");
    assert_eq!(server.state.chat_requests.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was sent");

    let (code, err) = go(&["--allow-remote", "--egress", &host]);
    assert_eq!(code, Some(0), "{err}");
    let m = block_on(async { result_store::Store::open_existing(&db).await.unwrap().runs().await.unwrap() })[0]
        .manifest
        .clone();
    let e = m.egress.unwrap();
    let chats = server.state.chat_requests.load(std::sync::atomic::Ordering::SeqCst) as u64;
    assert_eq!(chats, n as u64 + 1, "the tasks and a warm-up");
    assert!(e.requests > chats && e.bytes_sent > 0 && e.host == host, "{e:?}");
    assert_eq!(run(&["grade", "--db", s(&db)]).0, 0);
    let (code, md, _) = run(&["report", "--db", s(&db)]);
    assert_eq!(code, 0);
    assert!(md.contains(&format!("Egress to {host} ({host}): {} requests", e.requests)), "{md}");
}
