//! The invented-API check: loading the shipped standard-library surface
//! once, and checking one generation answer against it (parse, resolve every
//! import, attribute chain and keyword), on the hand-written anchor answers.
//!
//! cargo bench -p task-synth --bench api_check

#![allow(clippy::unwrap_used)] // tests and benches fail loudly

use bench_core::ApiSurface;

fn main() {
    divan::main();
}

fn answers() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api-answers");
    let mut v: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    v.sort();
    v
}

#[divan::bench]
fn decode_stdlib_surface() -> ApiSurface {
    // What the first grade of a process pays (the shipped surface is then kept).
    let gz = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/stdlib-surface-3.11.json.gz"))
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[divan::bench(args = [0, 1, 2, 3, 4])]
fn check_one_answer(bencher: divan::Bencher<'_, '_>, i: usize) {
    let code = &answers()[i];
    let surface = task_synth::stdlib_surface();
    let declared = ["requests".to_string(), "yaml".to_string()];
    bencher.bench(|| {
        let facts = py_ast_meta::facts::analyze("<answer>", code).unwrap();
        task_synth::check_apis(&facts, surface, &ApiSurface::default(), &[], &declared)
    });
}
