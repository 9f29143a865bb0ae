use std::collections::BTreeMap;
use std::path::Path;

use py_ast_meta::ExtractRules;
use serde::{Deserialize, Serialize};

use crate::SynthError;

const DEFAULT_RULES: &str = include_str!("default_rules.yaml");

/// The versioned extraction-and-synthesis rules document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The rules format's version.
    pub version: u32,
    /// What the extractor keeps.
    pub extract: ExtractRules,
    /// What is never a task.
    pub exclude: Exclude,
    /// How many tasks, and how they split.
    pub quota: Quota,
    /// Code generation tasks.
    pub code_generation: CodegenRules,
    /// Bug localisation tasks.
    pub code_understanding: UnderstandingRules,
    /// Security audit tasks.
    pub security_audit: AuditRules,
    /// Where the repository's own tests live, for execution-verified ground
    /// truth. Left out of the hash while it has its default value.
    #[serde(default, skip_serializing_if = "TestRules::is_default")]
    pub tests: TestRules,
    /// Per category, the headline tier of each structural tier (the rule
    /// that placed an item, T1..T5): where blind capable readers actually
    /// succeed (decision 0026). A category not named keeps its structural
    /// tiers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured_tiers: BTreeMap<String, [bench_core::Tier; 5]>,
}

/// Where the repository's tests are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRules {
    /// Directory names that hold tests; the top-most such directories are
    /// what the default test command runs.
    pub dirs: Vec<String>,
}

impl Default for TestRules {
    fn default() -> Self {
        Self { dirs: ["tests", "test", "testing"].map(String::from).to_vec() }
    }
}

impl TestRules {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// What is never a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclude {
    /// Directories whose files are never tasks.
    pub dirs: Vec<String>,
    /// File names; `*` matches any run of characters.
    pub files: Vec<String>,
}

/// How many tasks, and how they split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Tasks in all.
    pub total: usize,
    /// Weight per category.
    pub categories: BTreeMap<String, u32>,
}

/// Code generation tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodegenRules {
    /// The fewest statements a target's body has.
    pub min_statements: usize,
    /// Statement counts that start tiers T2 to T5.
    pub tier_thresholds: [usize; 4],
    /// Sink names a target must not contain.
    pub forbidden_sinks: Vec<String>,
}

/// Bug localisation tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderstandingRules {
    /// Functions taken per file at most.
    pub methods_per_file: usize,
    /// The mutation operators used.
    pub operators: Vec<String>,
    /// Operators whose bug is visible from its line alone.
    pub local_operators: Vec<String>,
    /// Longest function for T1.
    pub t1_max_lines: usize,
    /// Farthest a T1 bug lies from the function's start.
    pub t1_max_distance: usize,
    /// Longest function for T2.
    pub t2_max_lines: usize,
}

/// Security audit tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRules {
    /// The fewest statements a host function's body has.
    pub min_statements: usize,
    /// Sink templates used.
    pub templates: Vec<Template>,
    /// Lines of the function's own code between the values and a T3 sink.
    pub min_buried_distance: usize,
}

/// A family of injected sinks for `security_audit` (the rules name them in
/// `security_audit.templates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// OS command injection (CWE-78).
    Shell,
    /// SQL injection (CWE-89).
    Sql,
    /// Path traversal (CWE-22).
    Path,
    /// Evaluation of untrusted input (CWE-95).
    Eval,
}

impl Template {
    /// `shell`, `sql`, `path` or `eval`, as the rules write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Shell => "shell",
            Template::Sql => "sql",
            Template::Path => "path",
            Template::Eval => "eval",
        }
    }
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::parse(DEFAULT_RULES, "<default rules>").expect("the shipped rules parse")
    }
}

impl Rules {
    /// The rules shipped with the crate, as text.
    pub fn default_text() -> &'static str {
        DEFAULT_RULES
    }

    /// Rules from YAML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SynthError> {
        let rules: Rules = serde_yaml_ng::from_str(text)
            .map_err(|source| SynthError::RulesYaml { origin: origin.to_string(), source })?;
        rules.check(origin)?;
        Ok(rules)
    }

    /// Rules from a YAML file.
    pub fn load(path: &Path) -> Result<Self, SynthError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SynthError::RulesIo { origin: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn check(&self, origin: &str) -> Result<(), SynthError> {
        let bad = |reason: String| Err(SynthError::Rules { origin: origin.to_string(), reason });
        if self.version != 1 {
            return bad(format!("unsupported rules version {}", self.version));
        }
        for op in &self.code_understanding.operators {
            if !py_ast_meta::mutation::OPERATORS.contains(&op.as_str()) {
                return bad(format!("unknown mutation operator {op:?}"));
            }
        }
        for c in self.quota.categories.keys().chain(self.measured_tiers.keys()) {
            if bench_core::Category::parse(c).is_none() {
                return bad(format!("unknown category {c:?}"));
            }
        }
        Ok(())
    }

    /// The headline tier of an item `category` placed at `structural`.
    pub fn measured_tier(&self, category: bench_core::Category, structural: bench_core::Tier) -> bench_core::Tier {
        self.measured_tiers.get(category.as_str()).map_or(structural, |map| map[structural.index()])
    }

    /// The hash of the parsed rules: formatting and comments do not change it.
    pub fn hash(&self) -> String {
        bench_core::content_id(&bench_core::canonical_json(self))
    }

    /// Whether tasks may be built from `path`.
    pub fn is_library_code(&self, path: &str) -> bool {
        let mut parts: Vec<&str> = path.split('/').collect();
        let Some(name) = parts.pop() else { return false };
        !parts.iter().any(|p| self.exclude.dirs.iter().any(|d| d == p))
            && !self.exclude.files.iter().any(|g| glob(g, name))
            && name.ends_with(".py")
    }

    /// The top-most directories among `paths` (snapshot-relative files)
    /// that the rules name as test directories, sorted.
    pub fn test_paths<'p>(&self, paths: impl IntoIterator<Item = &'p str>) -> Vec<String> {
        let mut dirs = std::collections::BTreeSet::new();
        for path in paths {
            let parts: Vec<&str> = path.split('/').collect();
            if let Some(i) =
                parts[..parts.len().saturating_sub(1)].iter().position(|p| self.tests.dirs.iter().any(|d| d == p))
            {
                dirs.insert(parts[..=i].join("/"));
            }
        }
        dirs.into_iter().collect()
    }

    /// Tasks per category, in category order, summing to `total` (or `count`).
    pub fn category_quota(&self, count: Option<usize>) -> Vec<(bench_core::Category, usize)> {
        let total = count.unwrap_or(self.quota.total);
        let weights: Vec<(bench_core::Category, u32)> = bench_core::Category::ALL
            .into_iter()
            .map(|c| (c, self.quota.categories.get(c.as_str()).copied().unwrap_or(0)))
            .collect();
        let sum: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut out: Vec<(bench_core::Category, usize)> =
            weights.iter().map(|(c, w)| (*c, total * *w as usize / sum.max(1) as usize)).collect();
        let mut left = total - out.iter().map(|(_, n)| n).sum::<usize>();
        for (c, n) in out.iter_mut() {
            if left > 0 && self.quota.categories.get(c.as_str()).copied().unwrap_or(0) > 0 {
                *n += 1;
                left -= 1;
            }
        }
        out
    }
}

/// `*` matches any run of characters; everything else matches itself.
/// Whether `name` matches `pattern`, where each `*` matches any run of
/// characters (none included).
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let head = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(head) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((tail, middle)) = parts.split_last() else { return rest.is_empty() };
    // Each middle piece at its first occurrence leaves the most room for the rest.
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(tail)
}

/// Splits `n` items over five tiers, remainders to the lower tiers.
pub(crate) fn per_tier(n: usize) -> [usize; 5] {
    let mut out = [n / 5; 5];
    for slot in out.iter_mut().take(n % 5) {
        *slot += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_any_number_of_stars() {
        for (pattern, name, want) in [
            ("setup.py", "setup.py", true),
            ("setup.py", "setup.pyc", false),
            ("test_*.py", "test_rules.py", true),
            ("test_*.py", "test_.py", true),
            ("test_*.py", "tests.py", false),
            ("*_test.py", "rules_test.py", true),
            ("*", "", true),
            ("test_*_*.py", "test_a_b.py", true),
            ("test_*_*.py", "test_ab.py", false),
            ("*conf*", "conftest.py", true),
            ("a*a", "a", false),
        ] {
            assert_eq!(glob(pattern, name), want, "{pattern} on {name}");
        }
    }

    #[test]
    fn default_rules_parse_and_hash_ignores_formatting() {
        let a = Rules::default();
        let reformatted: String = Rules::default_text()
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| l.split(" #").next().unwrap_or(l).trim_end().to_string() + "\n")
            .collect();
        let b = Rules::parse(&reformatted, "x").unwrap();
        assert_eq!(a.hash(), b.hash());
        let mut c = a.clone();
        c.quota.total = 30;
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn library_code_excludes_tests_and_setup() {
        let r = Rules::default();
        assert!(r.is_library_code("cerberus/validator.py"));
        assert!(!r.is_library_code("cerberus/tests/test_validation.py"));
        assert!(!r.is_library_code("setup.py"));
        assert!(!r.is_library_code("pkg/test_x.py"));
        assert!(!r.is_library_code("docs/conf.py"));
    }

    #[test]
    fn test_paths_are_the_top_most_test_directories() {
        let r = Rules::default();
        let paths =
            ["cerberus/tests/test_a.py", "cerberus/tests/sub/test_b.py", "cerberus/validator.py", "tests/conftest.py"];
        assert_eq!(r.test_paths(paths), ["cerberus/tests", "tests"]);
        // The default test rules leave the hash as it was before they existed.
        let mut other = r.clone();
        other.tests.dirs.push("spec".into());
        assert_ne!(r.hash(), other.hash());
    }

    #[test]
    fn quotas_add_up() {
        let r = Rules::default();
        let q = r.category_quota(Some(61));
        assert_eq!(q.iter().map(|(_, n)| n).sum::<usize>(), 61);
        assert_eq!(per_tier(12), [3, 3, 2, 2, 2]);
    }

    #[test]
    fn unknown_operator_is_an_error_naming_the_origin() {
        let text = Rules::default_text().replace("wrong_constant,", "made_up,");
        let e = Rules::parse(&text, "my-rules.yaml").unwrap_err().to_string();
        assert!(e.contains("my-rules.yaml") && e.contains("made_up"), "{e}");
    }
}
