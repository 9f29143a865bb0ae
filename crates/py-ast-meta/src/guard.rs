//! Hostile or machine-written Python must not take the process down. The
//! parser and the visitors recurse once per level of nesting, and a stack
//! overflow aborts the process (it is not a panic that can be caught), so
//! every parse runs on a thread with a large stack, behind a lexical check
//! that refuses nesting CPython itself refuses.

use crate::ParseFailure;

/// CPython's tokenizer refuses more than 200 nested brackets ("too many
/// nested parentheses").
pub(crate) const MAX_BRACKETS: usize = 200;
/// CPython raises `RecursionError` building the AST of one statement with a
/// few thousand chained operators; this bound sits at that order.
pub(crate) const MAX_CHAIN: usize = 3000;
/// Room for `MAX_CHAIN` levels in an unoptimised build, with margin. Only
/// the pages a parse touches are ever committed.
const STACK_BYTES: usize = 256 << 20;

/// The first place `text` nests deeper than CPython allows, as a failure.
pub(crate) fn check_depth(path: &str, text: &str) -> Result<(), ParseFailure> {
    let fail = |line: u32, error: String| Err(ParseFailure { path: path.to_string(), line, error });
    let b = text.as_bytes();
    let (mut i, mut line, mut depth, mut chain, mut attrs) = (0, 1u32, 0usize, 0usize, 0usize);
    // Whether the last significant token ends an operand, so that an
    // operator after it is binary (nests the tree) rather than unary.
    let mut after_operand = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                if depth == 0 {
                    (chain, attrs) = (0, 0);
                    after_operand = false;
                }
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 1;
                line += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\'' | b'"' => {
                let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                        if !triple {
                            break;
                        }
                    } else if b[i] == c && (!triple || (b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c))) {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    i += 1;
                }
                after_operand = true;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKETS {
                    return fail(
                        line,
                        format!("too many nested parentheses (CPython refuses more than {MAX_BRACKETS})"),
                    );
                }
                after_operand = false;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                after_operand = true;
            }
            b';' if depth == 0 => {
                chain = 0;
                after_operand = false;
            }
            // `a.b().c.d`: attribute access nests only along one chain.
            b'.' if b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_') => attrs += 1,
            b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'<' | b'>' | b'~' => {
                if after_operand {
                    chain += 1;
                }
                after_operand = false;
                attrs = 0;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => after_operand = true,
            b' ' | b'\t' | b'\r' => {}
            _ => {
                after_operand = false;
                attrs = 0;
            }
        }
        if chain.max(attrs) > MAX_CHAIN {
            return fail(line, format!("expression nested too deeply (more than {MAX_CHAIN} chained operators or attributes in one statement)"));
        }
        i += 1;
    }
    Ok(())
}

/// Runs `f` over `text` on a thread with a large stack, after the depth
/// check; a panic inside becomes that text's parse failure.
pub(crate) fn guarded<T: Send>(
    path: &str,
    text: &str,
    f: impl FnOnce() -> Result<T, ParseFailure> + Send,
) -> Result<T, ParseFailure> {
    check_depth(path, text)?;
    let failure = |error: String| ParseFailure { path: path.to_string(), line: 0, error };
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| failure(format!("cannot start the parser thread: {e}")))?;
        handle.join().unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(failure(format!("the parser panicked: {why}")))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_cpython_refuses_is_refused_and_ordinary_code_is_not() {
        let deep = format!("x = {}1{}\n", "[".repeat(201), "]".repeat(201));
        let e = check_depth("m.py", &deep).unwrap_err();
        assert!(e.error.contains("nested parentheses"), "{e}");
        assert!(check_depth("m.py", &format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200))).is_ok());
        let chain = format!("a = 1\nx = {}\n", vec!["1"; MAX_CHAIN + 2].join("+"));
        assert_eq!(check_depth("m.py", &chain).unwrap_err().line, 2);
        // Unary signs in a long literal, brackets inside strings and
        // comments, and floats do not nest.
        let flat = format!(
            "x = [{}]\ns = '((((' # ((((\ny = [{}]\n",
            vec!["-1"; 5000].join(", "),
            vec!["1.5"; 5000].join(", ")
        );
        assert!(check_depth("m.py", &flat).is_ok());
    }

    #[test]
    fn a_panic_becomes_one_parse_failure() {
        let r: Result<(), _> = guarded("m.py", "x = 1\n", || panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.path, "m.py");
        assert!(e.error.contains("the parser panicked: boom"), "{e}");
    }
}
