//! Tasks a remembered answer cannot solve (decision 0024): the package's
//! own identifiers renamed consistently across its source and tests, to new
//! names drawn from the snapshot and rules, before anything is synthesised.
//! Names the code shares with the outside (imports from other
//! distributions and their attributes, builtins, attributes of standard or
//! dependency classes, keywords of calls to outside code, module names,
//! dunders) and names it reaches through strings stay as they are. Then
//! execution decides: the transformed suite must pass exactly the tests the
//! original passes, and names whose renaming changes that are found by
//! bisection and kept.

use std::collections::{BTreeMap, BTreeSet};

use bench_core::{ApiSurface, Novelty, TestOracle};
use py_ast_meta::rename::{apply as rename, inventory, Inventory};
use py_ast_meta::SourceFile;

use crate::Rules;

/// The rename the rules would make, before execution has its say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Old name to new name.
    pub map: BTreeMap<String, String>,
    /// Names the package's own modules define.
    pub defined: BTreeSet<String>,
}

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "cobalt", "dusky", "eager", "fabled", "gilded", "hollow", "ivory", "jaunty", "keen", "lunar",
    "mellow", "nimble", "opal", "placid", "quiet", "russet", "sable", "tawny", "umber", "vivid", "wistful", "young",
    "zesty", "azure", "bold", "crisp", "dapper", "ember", "frosty", "gentle", "hazel", "indigo", "jolly", "kindly",
    "lively", "misty", "noble", "olive", "plucky", "rosy", "silver", "tidy", "upbeat", "velvet", "woolly", "zonal",
];
const NOUNS: &[&str] = &[
    "badger", "comet", "dingo", "egret", "falcon", "gecko", "heron", "ibis", "jackal", "kestrel", "lemur", "marten",
    "newt", "ocelot", "puffin", "quokka", "raven", "stoat", "tapir", "urchin", "vole", "walrus", "yak", "zebu",
    "anchor", "beacon", "canyon", "delta", "ember", "fjord", "glacier", "harbor", "island", "jetty", "knoll", "lagoon",
    "meadow", "nebula", "orchard", "prairie", "quarry", "ridge", "summit", "thicket", "upland", "valley", "willow",
    "zenith",
];

/// Names every Python reader expects as they are.
const CONVENTIONS: &[&str] = &["self", "cls"];

/// Python's keywords and soft keywords: never a new name.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "case", "class", "continue", "def",
    "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "match",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "type", "while", "with", "yield", "_",
];

/// The names the rules would rename, each with its new name. `surface` is
/// the environment's (standard library and dependencies).
pub fn plan(files: &[SourceFile], snapshot_id: &str, rules: &Rules, surface: &ApiSurface) -> Plan {
    let project = super::project::read(files, rules);
    let python: Vec<&SourceFile> = files.iter().filter(|f| f.path.ends_with(".py")).collect();
    let roots: BTreeSet<String> = python
        .iter()
        .filter_map(|f| py_ast_meta::module_name(&f.path))
        .filter_map(|m| m.split('.').next().map(String::from))
        .collect();
    let mut library = Inventory::default();
    let mut all = Inventory::default();
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for f in &python {
        modules.extend(f.path.trim_end_matches(".py").split('/').map(String::from));
        let Ok(inv) = inventory(&f.path, &f.text, &roots) else { continue };
        if project.ships(&f.path) && rules.is_library_code(&f.path) {
            library.defined.extend(inv.defined.iter().cloned());
        }
        all.defined.extend(inv.defined);
        all.external.extend(inv.external);
        all.keywords.extend(inv.keywords);
        all.strings.extend(inv.strings);
        all.identifiers.extend(inv.identifiers);
    }
    // What must keep its spelling.
    let mut keep: BTreeSet<String> = all.external.clone();
    keep.extend(modules);
    if let Some(b) = surface.modules.get("builtins") {
        keep.extend(b.members.keys().cloned());
    }
    // Attributes of the classes the code can meet: the builtin types, and
    // the classes of every module it imports from outside.
    // (Of the builtin exceptions only what every exception has: their
    // `name` or `value` belong to a handful of them, and a package's own
    // `name` and `value` are far more common than code reading those.)
    for (name, m) in &surface.modules {
        let builtins = name == "builtins";
        if !builtins && !all.external.contains(name.split('.').next().unwrap_or_default()) {
            continue;
        }
        for (class, member) in &m.members {
            let exception = builtins
                && ["Error", "Exception", "Warning", "Exit", "Iteration", "Interrupt"]
                    .iter()
                    .any(|s| class.ends_with(s));
            if !exception {
                keep.extend(member.attributes.iter().flatten().cloned());
            }
        }
    }
    keep.extend(["args", "with_traceback", "add_note"].map(String::from));
    keep.extend(all.keywords.iter().filter(|(callee, _)| !library.defined.contains(callee)).map(|(_, kw)| kw.clone()));
    // Names reached through strings: a string that is the name, or that
    // begins one (`'_validate_' + rule`, `'_normalize_{}'.format(x)`).
    // Prose (a string with spaces) names nothing.
    let mut prefixes: Vec<String> = Vec::new();
    let ident = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
    for s in all.strings.iter().filter(|s| !s.trim().contains(char::is_whitespace)) {
        let head = s.trim().split(['{', '%']).next().unwrap_or_default();
        if head.split('.').all(ident) {
            keep.extend(head.split('.').map(String::from));
        }
        if ident(head) && head.len() >= 2 && (head.ends_with('_') || head != s.trim()) {
            prefixes.push(head.to_string());
        }
    }
    let candidates: Vec<String> = library
        .defined
        .iter()
        .filter(|n| !(n.starts_with("__") && n.ends_with("__")))
        .filter(|n| !keep.contains(*n) && !KEYWORDS.contains(&n.as_str()) && !CONVENTIONS.contains(&n.as_str()))
        .filter(|n| !prefixes.iter().any(|p| n.starts_with(p.as_str())))
        .filter(|n| n.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
        .cloned()
        .collect();
    let mut taken: BTreeSet<String> = all.identifiers.clone();
    taken.extend(keep.iter().cloned());
    taken.extend(KEYWORDS.iter().map(|k| k.to_string()));
    let mut map = BTreeMap::new();
    for name in candidates {
        let rank = bench_core::Hasher::new().field(snapshot_id).field(rules.hash()).field("rename").field(&name).rank();
        let new = fresh(&name, rank, &taken);
        taken.insert(new.clone());
        map.insert(name, new);
    }
    Plan { map, defined: library.defined }
}

/// A new name for `name`, drawn by `rank`, in the same style (leading and
/// trailing underscores kept; `CamelCase`, `UPPER_CASE` or `snake_case`),
/// not among `taken`.
fn fresh(name: &str, rank: u64, taken: &BTreeSet<String>) -> String {
    let lead = &name[..name.len() - name.trim_start_matches('_').len()];
    let trail = &name[name.trim_end_matches('_').len()..];
    let core = name.trim_matches('_');
    let upper = core.chars().any(|c| c.is_alphabetic()) && !core.chars().any(|c| c.is_lowercase());
    let camel = !upper && core.chars().next().is_some_and(|c| c.is_uppercase());
    let combos = (ADJECTIVES.len() * NOUNS.len()) as u64;
    for attempt in 0u64.. {
        let pick = (rank.wrapping_add(attempt.wrapping_mul(7919))) % combos;
        let (a, n) = (ADJECTIVES[(pick / NOUNS.len() as u64) as usize], NOUNS[(pick % NOUNS.len() as u64) as usize]);
        let suffix = if attempt >= combos { format!("{}", attempt / combos + 1) } else { String::new() };
        let cap = |w: &str| w[..1].to_uppercase() + &w[1..];
        let body = if upper {
            format!("{}_{}{suffix}", a.to_uppercase(), n.to_uppercase())
        } else if camel {
            format!("{}{}{suffix}", cap(a), cap(n))
        } else {
            format!("{a}_{n}{suffix}")
        };
        let candidate = format!("{lead}{body}{trail}");
        if !taken.contains(&candidate) {
            return candidate;
        }
    }
    unreachable!("an unbounded search finds a free name")
}

/// `files` with `map` applied to every Python file (one that does not parse
/// is left as it is: it cannot be renamed consistently, and it is no task).
pub fn apply(files: &[SourceFile], map: &BTreeMap<String, String>) -> Vec<SourceFile> {
    files
        .iter()
        .map(|f| {
            let text = if f.path.ends_with(".py") {
                rename(&f.text, map).unwrap_or_else(|_| f.text.clone())
            } else {
                f.text.clone()
            };
            SourceFile { path: f.path.clone(), text }
        })
        .collect()
}

/// A repository after the transform.
#[derive(Debug, Clone)]
pub struct Transformed {
    /// Its files.
    pub files: Vec<SourceFile>,
    /// The record for the task set (its prompt share still to be measured).
    pub novelty: Novelty,
    /// The names the package defines (before renaming).
    pub defined: BTreeSet<String>,
}

/// The transformed files and the record of the transform: the plan, less
/// the names whose renaming changes which tests pass (found by bisection
/// through `oracle`, which holds the original snapshot).
pub fn transform(files: &[SourceFile], snapshot_id: &str, rules: &Rules, oracle: &dyn TestOracle) -> Transformed {
    let surface = oracle.api_surface().unwrap_or_else(|| crate::stdlib_surface());
    let plan = plan(files, snapshot_id, rules, surface);
    let names: Vec<String> = plan.map.keys().cloned().collect();
    let baseline = oracle.suite(&[]).unwrap_or_default();
    let passes = |subset: &[String]| -> bool {
        let map: BTreeMap<String, String> = subset.iter().map(|n| (n.clone(), plan.map[n].clone())).collect();
        let inverse: BTreeMap<&str, &str> = map.iter().map(|(a, b)| (b.as_str(), a.as_str())).collect();
        let replaced: Vec<(String, String)> = apply(files, &map)
            .into_iter()
            .zip(files)
            .filter(|(new, old)| new.text != old.text)
            .map(|(new, _)| (new.path, new.text))
            .collect();
        let Some(passed) = oracle.suite(&replaced) else { return false };
        let back: BTreeSet<String> = passed.iter().map(|id| node_back(id, &inverse)).collect();
        back == baseline
    };
    let kept = culprits(&names, &passes);
    let map: BTreeMap<String, String> =
        plan.map.iter().filter(|(n, _)| !kept.contains(*n)).map(|(a, b)| (a.clone(), b.clone())).collect();
    let novelty = Novelty {
        transform: "rename".into(),
        defined: plan.defined.len(),
        renamed: map.len(),
        kept_by_rule: plan.defined.len() - plan.map.len(),
        kept_by_execution: kept.into_iter().collect(),
        prompt_share: 0.0,
        renames: map.clone(),
    };
    Transformed { files: apply(files, &map), novelty, defined: plan.defined }
}

/// `set`, synthesised from `t`'s files, with the transform recorded (its
/// prompt share measured on the set's prompts) and its id sealed again.
pub fn seal(mut set: bench_core::TaskSet, t: &Transformed) -> bench_core::TaskSet {
    let prompts: Vec<&str> = set.tasks.iter().map(|t| t.prompt.user.as_str()).collect();
    let mut novelty = t.novelty.clone();
    novelty.prompt_share = (prompt_share(&prompts, &novelty.renames, &t.defined) * 1000.0).round() / 1000.0;
    set.novelty = Some(novelty);
    set.taskset_id = String::new();
    set.taskset_id = bench_core::content_id(&bench_core::canonical_json(&set));
    set
}

/// The files a task set's transform made: its recorded renames applied
/// again, without execution.
pub fn replay(files: &[SourceFile], novelty: &Novelty) -> Vec<SourceFile> {
    apply(files, &novelty.renames)
}

/// A test id of the transformed suite in the original's names.
fn node_back(id: &str, inverse: &BTreeMap<&str, &str>) -> String {
    id.split("::")
        .map(|part| {
            let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            let name = inverse.get(name).copied().unwrap_or(name);
            if rest.is_empty() {
                name.to_string()
            } else {
                format!("{name}[{rest}")
            }
        })
        .collect::<Vec<_>>()
        .join("::")
}

/// The names among `names` whose renaming breaks the suite: none when all
/// of them together pass; else each half is tried alone and searched
/// further. Halves that pass alone but not together are kept whole (the
/// later one), which is conservative.
fn culprits(names: &[String], passes: &(dyn Fn(&[String]) -> bool + Sync)) -> BTreeSet<String> {
    fn search(names: &[String], passes: &(dyn Fn(&[String]) -> bool + Sync), known_bad: bool) -> BTreeSet<String> {
        if names.is_empty() || (!known_bad && passes(names)) {
            return BTreeSet::new();
        }
        if names.len() == 1 {
            return names.iter().cloned().collect();
        }
        // The halves run side by side: each is a whole-suite run.
        let (a, b) = names.split_at(names.len() / 2);
        let (mut bad, other) = std::thread::scope(|s| {
            let first = s.spawn(|| search(a, passes, false));
            let second = search(b, passes, false);
            (first.join().unwrap_or_else(|_| a.iter().cloned().collect()), second)
        });
        bad.extend(other);
        if bad.is_empty() {
            // Each half passes alone, not together: keep the second.
            bad.extend(b.iter().cloned());
        }
        bad
    }
    let bad = search(names, passes, false);
    // What is left must pass together; if not, keep everything.
    let rest: Vec<String> = names.iter().filter(|n| !bad.contains(*n)).cloned().collect();
    if !bad.is_empty() && !rest.is_empty() && !passes(&rest) {
        return names.iter().cloned().collect();
    }
    bad
}

/// The share of the package's defined names in `prompts`' code blocks that
/// appear renamed: new names over new names and kept defined names.
pub fn prompt_share(prompts: &[&str], novelty_map: &BTreeMap<String, String>, defined: &BTreeSet<String>) -> f64 {
    let new: BTreeSet<&str> = novelty_map.values().map(String::as_str).collect();
    let kept: BTreeSet<&str> = defined.iter().filter(|d| !novelty_map.contains_key(*d)).map(String::as_str).collect();
    let (mut renamed, mut left) = (0usize, 0usize);
    for p in prompts {
        for block in p.split("```").skip(1).step_by(2) {
            for word in block.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if new.contains(word) {
                    renamed += 1;
                } else if kept.contains(word) {
                    left += 1;
                }
            }
        }
    }
    if renamed + left == 0 {
        1.0
    } else {
        renamed as f64 / (renamed + left) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_keep_their_style() {
        let taken = BTreeSet::new();
        let snake = fresh("_load_rules", 5, &taken);
        assert!(snake.starts_with('_') && snake.chars().all(|c| c.is_lowercase() || c == '_'), "{snake}");
        let camel = fresh("Validator", 5, &taken);
        assert!(camel.chars().next().unwrap().is_uppercase() && !camel.contains('_'), "{camel}");
        let upper = fresh("MAX_DEPTH", 5, &taken);
        assert!(upper.chars().all(|c| c.is_uppercase() || c == '_'), "{upper}");
        let taken = BTreeSet::from([snake.clone()]);
        assert_ne!(fresh("_load_rules", 5, &taken), snake);
    }

    #[test]
    fn bisection_finds_the_names_that_break() {
        let names: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        let bad = ["n3", "n17"];
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let passes = |s: &[String]| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            !s.iter().any(|n| bad.contains(&n.as_str()))
        };
        let found = culprits(&names, &passes);
        assert_eq!(found, BTreeSet::from(["n3".to_string(), "n17".to_string()]));
        let runs = runs.load(std::sync::atomic::Ordering::Relaxed);
        assert!(runs < 25, "{runs} runs");
        assert!(culprits(&names, &|_: &[String]| true).is_empty());
    }

    #[test]
    fn names_reached_through_strings_and_shared_with_the_outside_stay() {
        let files = vec![
            SourceFile {
                path: "pkg/__init__.py".into(),
                text: "import json\n\nclass Engine:\n    def _rule_size(self, value):\n        total = json.dumps(value, indent=2)\n        return total\n\n    def run(self, name):\n        return getattr(self, '_rule_' + name)(name)\n\n    def items(self):\n        return []\n".into(),
            },
            SourceFile { path: "tests/test_pkg.py".into(), text: "from pkg import Engine\n\ndef test_run():\n    assert Engine().run('size')\n".into() },
        ];
        let p = plan(&files, "snap", &Rules::default(), crate::stdlib_surface());
        for renamed in ["Engine", "run", "value", "total"] {
            assert!(p.map.contains_key(renamed), "{renamed}: {:?}", p.map);
        }
        // A prefix read from a string, a builtin-class attribute, a keyword
        // of an outside call, an imported module, a dunder.
        for kept in ["_rule_size", "items", "indent", "json", "self"] {
            assert!(!p.map.contains_key(kept), "{kept}: {:?}", p.map);
        }
        let out = apply(&files, &p.map);
        assert!(out[1].text.contains(&format!("from pkg import {}", p.map["Engine"])), "{}", out[1].text);
        assert!(out[0].text.contains("'_rule_' + "), "{}", out[0].text);
        // The same inputs draw the same names.
        assert_eq!(p, plan(&files, "snap", &Rules::default(), crate::stdlib_surface()));
    }
}
