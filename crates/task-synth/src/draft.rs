//! A task before its id is sealed, and the check the repository's tests
//! must pass before it becomes one. Every generator builds these; the
//! orchestrator verifies and seals them.

use bench_core::{canonical_json, content_id, Category, Evidence, Expected, ExploitJob, Prompt, Task, Tier};
use serde::Serialize;

/// A task before its id is computed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Draft {
    pub category: Category,
    pub tier: Tier,
    pub tier_rule: String,
    pub file: String,
    pub symbol: String,
    pub span: [u32; 2],
    pub prompt: Prompt,
    pub expected: Expected,
    /// Left out of a structural task's id, so ids from before execution
    /// evidence existed stay valid.
    #[serde(skip_serializing_if = "Evidence::is_structural")]
    pub evidence: Evidence,
}

impl Draft {
    pub(crate) fn seal(self) -> Task {
        let id = content_id(&canonical_json(&self))[..16].to_string();
        Task {
            id,
            category: self.category,
            tier: self.tier,
            tier_rule: self.tier_rule,
            file: self.file,
            symbol: self.symbol,
            span: self.span,
            prompt: self.prompt,
            expected: self.expected,
            evidence: self.evidence,
        }
    }
}

/// What the repository's tests must show before a draft becomes a task.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// A mutant: at least one covering test that passed at baseline fails.
    Killed { file: String, text: String, def_line: u32 },
    /// A no-bug control: some passing test executes the function.
    Covered { file: String, def_line: u32 },
    /// A generation target: covered, and a `return None` body fails a covering test.
    StubFails { file: String, text: String, def_line: u32 },
    /// The vulnerable half of an audit pair: a payload takes effect.
    Exploited(ExploitJob),
    /// The clean half of an audit pair: no payload takes effect.
    Withstands(ExploitJob),
}

/// A draft and the check that admits it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub draft: Draft,
    pub check: Check,
}
