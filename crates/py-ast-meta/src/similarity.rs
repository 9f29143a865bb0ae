//! How close two pieces of Python are as code, for telling recall from
//! synthesis (decision 0022): both are cut into Python tokens with comments,
//! docstrings, line breaks and indentation left out, and compared by token
//! edit distance, `1 - distance / longer length`. Reformatting, renamed
//! nothing and comments added score 1.0; every token changed, added or
//! removed costs the same. A near-verbatim copy of a function (say >= 0.9)
//! differs in a token or two in ten.

use rustpython_ast::{self as ast, Ranged};
use rustpython_parser::{lexer::lex, Mode, Parse, Tok};

use crate::ParseFailure;

/// The code's tokens, without comments, docstrings, line breaks or
/// indentation.
pub fn tokens(code: &str) -> Result<Vec<String>, ParseFailure> {
    crate::guard::guarded("<code>", code, || {
        let suite = ast::Suite::parse(code, "<code>").map_err(|e| ParseFailure::from_parser("<code>", code, &e))?;
        let mut docs = Vec::new();
        docstrings(&suite, &mut docs);
        let mut out = Vec::new();
        for t in lex(code, Mode::Module) {
            let Ok((tok, range)) = t else { break };
            if matches!(tok, Tok::Newline | Tok::Indent | Tok::Dedent | Tok::EndOfFile) {
                continue;
            }
            let at = range.start().to_usize();
            if docs.iter().any(|(a, b)| *a <= at && at < *b) {
                continue;
            }
            out.push(tok.to_string());
        }
        Ok(out)
    })
}

/// Byte ranges of every docstring: the first statement of a module, class or
/// function body when it is a string literal.
fn docstrings(body: &[ast::Stmt], out: &mut Vec<(usize, usize)>) {
    if let Some(ast::Stmt::Expr(e)) = body.first() {
        if let ast::Expr::Constant(ast::ExprConstant { value: ast::Constant::Str(_), .. }) = e.value.as_ref() {
            out.push((e.range().start().to_usize(), e.range().end().to_usize()));
        }
    }
    for s in body {
        match s {
            ast::Stmt::FunctionDef(f) => docstrings(&f.body, out),
            ast::Stmt::AsyncFunctionDef(f) => docstrings(&f.body, out),
            ast::Stmt::ClassDef(c) => docstrings(&c.body, out),
            _ => {}
        }
    }
}

/// `1 - edit distance / the longer length` over two token sequences: 1.0
/// for the same tokens, 0.0 for nothing in common (or one side empty).
pub fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // One row of the Levenshtein table at a time.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(x != y);
            row[j + 1] = substitute.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        std::mem::swap(&mut prev, &mut row);
    }
    1.0 - prev[b.len()] as f64 / a.len().max(b.len()) as f64
}

/// Tokens as the lexer alone sees them, for text that need not parse (a
/// model's continuation, cut off anywhere): comments, line breaks,
/// indentation and triple-quoted strings (docstrings) left out, up to the
/// first lexical error.
fn lexed(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in lex(code, Mode::Module) {
        let Ok((tok, _)) = t else { break };
        match tok {
            Tok::Newline | Tok::Indent | Tok::Dedent | Tok::EndOfFile => {}
            Tok::String { triple_quoted: true, .. } => {}
            tok => out.push(tok.to_string()),
        }
    }
    out
}

/// How far a continuation of a file reproduces the function `name` whose
/// source is `original`: both from `def name` on, the continuation cut to
/// the original's length in tokens. 0.0 when the continuation never
/// defines `name`.
pub fn continuation_similarity(original: &str, continuation: &str, name: &str) -> f64 {
    // The lexer's tokens print quoted: `'def'`, `'name'`.
    let wanted = format!("'{name}'");
    let from_def = |toks: Vec<String>| -> Option<Vec<String>> {
        let at = toks.windows(2).position(|w| w[0] == "'def'" && w[1] == wanted)?;
        Some(toks[at..].to_vec())
    };
    let (Some(ours), Some(theirs)) = (from_def(lexed(original)), from_def(lexed(continuation))) else { return 0.0 };
    let cut = &theirs[..theirs.len().min(ours.len())];
    similarity(&ours, cut)
}

/// The similarity of two pieces of code; `None` when either does not parse.
pub fn code_similarity(a: &str, b: &str) -> Option<f64> {
    Some(similarity(&tokens(a).ok()?, &tokens(b).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_comments_and_docstrings_do_not_count() {
        let a = "def f(x, y):\n    \"\"\"Add.\"\"\"\n    return x + y\n";
        let b = "def f(x,y):  # sum\n    return (x\n            + y)\n";
        let t = tokens(b).unwrap();
        assert!(!t.iter().any(|t| t.contains('#') || t.contains("Add")), "{t:?}");
        // The parentheses are two tokens more than the twelve `a` has.
        let s = code_similarity(a, b).unwrap();
        assert!((s - (1.0 - 2.0 / 14.0)).abs() < 1e-9, "{s}");
        assert_eq!(code_similarity(a, "def f(x, y):\n  return x + y\n"), Some(1.0));
    }

    #[test]
    fn a_continuation_is_compared_from_its_def_on() {
        let original = "@cached\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    return x + 1\n";
        let cont = "@cached\ndef f(x):\n    '''Another doc.'''\n    return x + 1\n\n\ndef g(y):\n    return y\n";
        assert_eq!(continuation_similarity(original, cont, "f"), 1.0);
        assert_eq!(continuation_similarity(original, "def g():\n    pass\n", "f"), 0.0);
        // Cut off mid-function: what is there counts against the whole.
        let cut = continuation_similarity(original, "def f(x):\n    return", "f");
        assert!(cut > 0.5 && cut < 1.0, "{cut}");
    }

    #[test]
    fn edit_distance_over_tokens() {
        let t = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(similarity(&t("a b c d"), &t("a b c d")), 1.0);
        assert_eq!(similarity(&t("a b c d"), &t("a x c d")), 0.75);
        assert_eq!(similarity(&t("a b c d"), &t("a b c")), 0.75);
        assert_eq!(similarity(&t("a b"), &t("c d")), 0.0);
        assert_eq!(similarity(&[], &t("a")), 0.0);
        assert!(code_similarity("def (", "x").is_none());
    }
}
