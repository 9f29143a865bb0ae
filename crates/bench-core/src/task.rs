use std::fmt;

use serde::{Deserialize, Serialize};

/// The three task categories of DESIGN.md §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Write a function from its signature and docstring.
    CodeGeneration,
    /// Find the line of an injected bug, or say there is none.
    CodeUnderstanding,
    /// Say whether code is vulnerable, and where.
    SecurityAudit,
    /// Write the test that exposes a bug: it must fail on the code shown and
    /// pass on the intended behaviour (SWT-bench style).
    BugReproduction,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 4] =
        [Category::CodeGeneration, Category::CodeUnderstanding, Category::SecurityAudit, Category::BugReproduction];

    /// `code_generation`, `code_understanding`, `security_audit` or `bug_reproduction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::CodeGeneration => "code_generation",
            Category::CodeUnderstanding => "code_understanding",
            Category::SecurityAudit => "security_audit",
            Category::BugReproduction => "bug_reproduction",
        }
    }

    /// The inverse of [`Category::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Difficulty, from `T1` (trivial) to `T5` (adversarial).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// The easiest tier.
    T1,
    /// Tier 2.
    T2,
    /// Tier 3.
    T3,
    /// Tier 4.
    T4,
    /// The hardest tier.
    T5,
}

impl Tier {
    /// Every tier, easiest first.
    pub const ALL: [Tier; 5] = [Tier::T1, Tier::T2, Tier::T3, Tier::T4, Tier::T5];

    /// 0 for T1.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The tier at `i` (0 for T1), clamped to T5.
    pub fn from_index(i: usize) -> Tier {
        Self::ALL[i.min(4)]
    }

    /// `T1` to `T5`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.to_string() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.index() + 1)
    }
}

/// A chat prompt: one system message and one user message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// The system prompt.
    pub system: String,
    /// The user prompt.
    pub user: String,
}

/// The ground truth a task carries, one variant per category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expected {
    /// A function to write.
    CodeGeneration {
        /// The function's name.
        name: String,
        /// The real signature, rendered as Python source.
        signature: String,
        /// Parameters in order, as `(name, kind, has_default)`; kind is one of
        /// `posonly`, `normal`, `vararg`, `kwonly`, `kwarg`.
        params: Vec<(String, String, bool)>,
        /// Whether the function is a method of `class`.
        class: Option<String>,
        /// Whether the real function calls into the repository's own code.
        standalone: bool,
        /// The snapshot's own modules and the names each defines (from the API index).
        api: std::collections::BTreeMap<String, Vec<String>>,
        /// Names the module's head imports bind, as `(bound name, module, name)`;
        /// they are in scope for the answer.
        head_bindings: Vec<(String, String, Option<String>)>,
        /// Third-party distributions the project declares (normalised import names).
        declared_dependencies: Vec<String>,
        /// Sinks the answer may not use.
        forbidden_sinks: Vec<String>,
        /// Sinks the original itself used (allowed).
        original_sinks: Vec<String>,
    },
    /// A function that may hold one injected bug.
    CodeUnderstanding {
        /// The 1-based line of the injected bug, or `None` for a no-bug control.
        line: Option<u32>,
        /// The mutation operator, or `None` for a control.
        operator: Option<String>,
        /// The original text of the mutated line, for review.
        original_line: Option<String>,
        /// Shared by a no-bug control and the mutant of the same function it
        /// is paired with: the pair counts only when both are right.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pair: Option<String>,
    },
    /// Code that may be vulnerable.
    SecurityAudit {
        /// Whether it is.
        vulnerable: bool,
        /// e.g. `CWE-89`; for a clean twin, the CWE of its vulnerable half.
        cwe: String,
        /// The 1-based line of the sink (in a clean twin, the line made safe).
        line: u32,
        /// Every line of the injected block; naming any of them counts.
        lines: Vec<u32>,
        /// The id shared by the two halves of a pair.
        pair: String,
        /// The template that injected the sink.
        template: String,
    },
    /// A function with one injected bug, to be exposed by a test.
    BugReproduction {
        /// The function's name.
        name: String,
        /// Its class, for a method.
        class: Option<String>,
        /// The 1-based line of its file the bug is on.
        line: u32,
        /// That line with the bug, as the file holds it.
        mutated: String,
        /// The mutation operator.
        operator: String,
        /// Where the answer's test module goes in the repository (its test
        /// directory, so the suite's conftest applies).
        test_module: String,
    },
}

/// One evaluation task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Content hash of everything below.
    pub id: String,
    /// The task's category.
    pub category: Category,
    /// Its difficulty tier.
    pub tier: Tier,
    /// The stated rule that placed the task in its tier.
    pub tier_rule: String,
    /// The snapshot-relative file the task was built from.
    pub file: String,
    /// The function or method the task was built from (`Class.method` or `func`).
    pub symbol: String,
    /// Its first and last line in `file` (decorators included).
    pub span: [u32; 2],
    /// What the model is sent.
    pub prompt: Prompt,
    /// The ground truth.
    pub expected: Expected,
    /// What decides the ground truth: the repository's tests, or the
    /// injected change alone.
    pub evidence: crate::Evidence,
}

/// A task set: the pure function of (snapshot, rules, tool version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSet {
    /// The content hash of the whole set.
    pub taskset_id: String,
    /// The snapshot it was derived from.
    pub snapshot_id: String,
    /// The hash of the rules it was derived under.
    pub rules_hash: String,
    /// The tool version that derived it.
    pub tool_version: String,
    /// The task count asked for; a small repository may yield fewer tasks.
    pub requested: usize,
    /// How the ground truth was settled by execution; `None`: structural only.
    pub execution: Option<crate::ExecutionRecord>,
    /// How the repository was transformed before synthesis; `None`: as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub novelty: Option<crate::Novelty>,
    /// The tasks, in a fixed order.
    pub tasks: Vec<Task>,
}

impl TaskSet {
    /// The task with `id`.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Whether the repository's own tests settled this set's ground truth.
    pub fn execution_verified(&self) -> bool {
        self.execution.is_some()
    }
}
