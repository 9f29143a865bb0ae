//! Parses Python sources into a bounded metadata set, behind this crate's own
//! types so the parser (rustpython-parser today) can be swapped without
//! touching callers.
//!
//! Per module: the head imports, the top-level function and class signatures
//! (rendered as Python source), the methods of each class, and the *first
//! functionally significant method*. Two tool modules serve the task
//! synthesiser and grader: [`mutation`] (where a snippet can take one
//! injected bug, and the normalised AST that proves a mutant differs) and
//! [`facts`] (the calls and names of an answer, and an index of which modules
//! and names a snapshot defines).
//!
//! # Functionally significant
//!
//! A function or method, taken in source order (top-level functions and class
//! methods interleaved by line), is *functionally significant* when:
//! 1. it is not a dunder, except `__init__`, `__call__` and `__getitem__`;
//! 2. its body, without the docstring, holds at least
//!    [`SignificantRule::min_statements`] statements, counted through nested blocks;
//! 3. it branches (`if`, `for`, `while`, `try`, `with`, `match`, a boolean
//!    operator or a conditional expression) when `require_branch` is set;
//! 4. it makes at least one call when `require_call` is set;
//! 5. it spans at most [`SignificantRule::max_lines`] lines.
//!
//! These bounds are part of the extraction rules ([`ExtractRules`]).
//!
//! ```
//! use py_ast_meta::{parse_module, ExtractRules};
//! let src = "import os\n\ndef f(a, b=1, *args, c, **kw) -> int:\n    \"\"\"Doc.\"\"\"\n    return a\n";
//! let meta = parse_module("pkg/m.py", src, &ExtractRules::default()).unwrap();
//! assert_eq!(meta.functions[0].signature, "def f(a, b=1, *args, c, **kw) -> int:");
//! assert_eq!(meta.imports[0].module, "os");
//! ```

pub mod answer;
mod api;
mod error;
pub mod facts;
mod guard;
mod lines;
mod meta;
pub mod mutation;
pub mod rename;
mod setup;
pub mod similarity;
mod visit;

pub use error::ParseFailure;
pub use meta::{
    extract, module_name, parse_module, ClassSig, ExtractRules, Extraction, FunctionSig, Import, ModuleMeta, Param,
    ParamKind, SignificantMethod, SignificantRule, SourceFile,
};
pub use setup::{setup_call, SetupCall};
