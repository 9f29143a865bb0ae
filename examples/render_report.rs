//! Uses `bench-report` (on a `result-store` store, its input): builds the
//! report of every run in a store and prints it as Markdown, or writes the
//! self-contained HTML page, then the one-line summary.
//!
//! cargo run -p examples --example render_report -- results.sqlite [report.html]

use std::path::Path;

use result_store::Store;

async fn main_() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, rest @ ..] = args.as_slice() else {
        return Err("usage: render_report STORE [OUT.html]".into());
    };
    let store = Store::open_existing(Path::new(db)).await.map_err(|e| e.to_string())?;
    let report = bench_report::build(&store).await.map_err(|e| e.to_string())?;
    match rest.first() {
        Some(out) => {
            std::fs::write(out, bench_report::html(&report)).map_err(|e| format!("{out}: {e}"))?;
            println!("wrote {out}");
        }
        None => print!("{}", bench_report::markdown(&report)),
    }
    println!("{}", bench_report::summary(&report));
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = main_().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
