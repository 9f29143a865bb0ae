//! Uses `py-ast-meta` alone: prints the signatures and the first significant
//! method of one Python file.
//!
//! cargo run -p examples --example extract_metadata -- path/to/module.py

use py_ast_meta::{parse_module, ExtractRules};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: extract_metadata FILE.py");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("error: {path}: {e}");
        std::process::exit(2);
    });
    match parse_module(&path, &text, &ExtractRules::default()) {
        Ok(meta) => {
            for i in &meta.imports {
                println!("import {:?} {:?} (line {})", i.module, i.name, i.line);
            }
            for f in &meta.functions {
                println!("{}  # lines {}-{}", f.signature, f.start_line, f.end_line);
            }
            for c in &meta.classes {
                println!("{}  # lines {}-{}", c.signature, c.start_line, c.end_line);
                for m in &c.methods {
                    println!("    {}", m.signature);
                }
            }
            if let Some(s) = &meta.significant_method {
                println!("first significant method: {} (lines {}-{})", s.symbol, s.start_line, s.end_line);
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
