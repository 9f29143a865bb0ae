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
use py_ast_meta::rename::{inventory, rewrite, Inventory, Renames};
use py_ast_meta::SourceFile;

use crate::Rules;

/// The rename the rules would make, before execution has its say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Renamed everywhere; where a function's own (names that keep their
    /// spelling elsewhere: a string reaches them, an outside class has them
    /// as attributes), not as parameters a caller passes by keyword to
    /// something else; and those keywords where every call goes to the
    /// package's own functions.
    pub renames: Renames,
    /// Names renamed everywhere that are also functions' own, with whether
    /// a parameter of that name must stay: should renaming one everywhere
    /// break the suite, it is tried again where it is a function's own.
    pub fallback: BTreeMap<String, bool>,
    /// Names the package's own modules define.
    pub defined: BTreeSet<String>,
    /// Of those, names it shares with Python or the outside by contract and
    /// keeps: attributes of builtin or imported classes it implements
    /// (`get`, `update`, `items`), names it imports, module names.
    pub shared: BTreeSet<String>,
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
    let (mut params, mut locals) = (BTreeSet::new(), BTreeSet::new());
    let mut all = Inventory::default();
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for f in &python {
        modules.extend(f.path.trim_end_matches(".py").split('/').map(String::from));
        let Ok(inv) = inventory(&f.path, &f.text, &roots) else { continue };
        if project.ships(&f.path) && rules.is_library_code(&f.path) {
            library.defined.extend(inv.defined.iter().cloned());
            for (param, owners) in &inv.param_owners {
                library.param_owners.entry(param.clone()).or_default().extend(owners.iter().cloned());
            }
            if let Ok((p, l)) = py_ast_meta::rename::function_names(&f.path, &f.text) {
                params.extend(p);
                locals.extend(l);
            }
        }
        all.defined.extend(inv.defined);
        all.external.extend(inv.external);
        all.keywords.extend(inv.keywords);
        all.strings.extend(inv.strings);
        all.prefixes.extend(inv.prefixes);
        all.identifiers.extend(inv.identifiers);
        all.keyword_names.extend(inv.keyword_names);
        all.keyword_calls.extend(inv.keyword_calls);
    }
    // What must keep its spelling.
    let mut keep: BTreeSet<String> = all.external.clone();
    // Module names and what imports bind stay everywhere, locals included.
    let modules_and_imports: BTreeSet<String> = all.external.iter().cloned().chain(modules.iter().cloned()).collect();
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
    // Up to here, what the package shares with Python and the outside.
    let shared: BTreeSet<String> = library.defined.iter().filter(|d| keep.contains(*d)).cloned().collect();
    // Keywords of builtin calls (`sorted(key=...)`, `open(encoding=...)`).
    let builtin = |callee: &str| surface.modules.get("builtins").is_some_and(|b| b.members.contains_key(callee));
    keep.extend(
        all.keywords
            .iter()
            .filter(|(callee, _)| builtin(callee) && !library.defined.contains(callee))
            .map(|(_, kw)| kw.clone()),
    );
    // Names reached through strings: a string used as a name (a key, the
    // name given to `getattr`, a compared value), or that begins one
    // (`'_validate_' + rule`, `'_normalize_{}'.format(x)`).
    keep.extend(all.strings.iter().cloned());
    let prefixes: Vec<String> = all.prefixes.iter().cloned().collect();
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
    // A function's own names that stay elsewhere are renamed where they are
    // its own: a parameter only when no call anywhere passes it by keyword
    // and no string spells it (`f(**{'name': 1})`).
    let mut local = BTreeMap::new();
    let mut not_params = BTreeSet::new();
    // A parameter that calls pass by keyword may still be renamed when every
    // such call goes to one of the package's functions that take it: the
    // keyword is renamed at those calls too.
    let owners = &library.param_owners;
    let keyword_safe = |name: &String| -> bool {
        let Some(own) = owners.get(name) else { return false };
        !all.strings.contains(name)
            && all.keyword_calls.iter().filter(|(_, kw)| kw == name).all(|(callee, _)| own.contains(callee))
    };
    let mut keywords = BTreeMap::new();
    let mut fallback = BTreeMap::new();
    for name in params.iter().chain(&locals).filter(|n| map.contains_key(*n)) {
        let by_keyword = all.keyword_names.contains(name);
        let param_ok = !params.contains(name) || (!by_keyword && !all.strings.contains(name));
        if param_ok || locals.contains(name) {
            fallback.insert(name.clone(), !param_ok);
        }
    }
    for name in params.iter().chain(&locals) {
        let dunder = name.starts_with("__") && name.ends_with("__");
        let keepable = !(dunder
            || KEYWORDS.contains(&name.as_str())
            || CONVENTIONS.contains(&name.as_str())
            || map.contains_key(name)
            || local.contains_key(name));
        let by_keyword = all.keyword_names.contains(name);
        let param_ok = !params.contains(name) || (!by_keyword && !all.strings.contains(name)) || keyword_safe(name);
        if !param_ok && locals.contains(name) {
            not_params.insert(name.clone());
        }
        if keepable && (param_ok || locals.contains(name)) && !modules_and_imports.contains(name) {
            let rank = bench_core::Hasher::new()
                .field(snapshot_id)
                .field(rules.hash())
                .field("rename-local")
                .field(name)
                .rank();
            let new = fresh(name, rank, &taken);
            taken.insert(new.clone());
            if params.contains(name) && by_keyword && param_ok {
                for owner in owners.get(name).into_iter().flatten() {
                    keywords.insert((owner.clone(), name.clone()), new.clone());
                }
            }
            local.insert(name.clone(), new);
        }
    }
    let shared = shared.into_iter().filter(|n| !map.contains_key(n) && !local.contains_key(n)).collect();
    let not_params = not_params.into_iter().filter(|n| local.contains_key(n)).collect();
    Plan { renames: Renames { global: map, local, not_params, keywords }, fallback, defined: library.defined, shared }
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
pub fn apply(files: &[SourceFile], renames: &Renames) -> Vec<SourceFile> {
    files
        .iter()
        .map(|f| {
            let text = if f.path.ends_with(".py") {
                rewrite(&f.text, renames).unwrap_or_else(|_| f.text.clone())
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
    /// Of those, the ones it shares with Python or the outside by contract.
    pub shared: BTreeSet<String>,
}

/// The transformed files and the record of the transform: the plan, less
/// the names whose renaming changes which tests pass (found by bisection
/// through `oracle`, which holds the original snapshot).
pub fn transform(files: &[SourceFile], snapshot_id: &str, rules: &Rules, oracle: &dyn TestOracle) -> Transformed {
    let surface = oracle.api_surface().unwrap_or_else(|| crate::stdlib_surface());
    let plan = plan(files, snapshot_id, rules, surface);
    let r = &plan.renames;
    let names: Vec<String> = r.global.keys().chain(r.local.keys()).cloned().collect();
    let baseline = oracle.suite(&[]).unwrap_or_default();
    let split = |subset: &[String]| -> Renames {
        let pick = |from: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            subset.iter().filter_map(|n| from.get(n).map(|v| (n.clone(), v.clone()))).collect()
        };
        let local = pick(&r.local);
        Renames {
            global: pick(&r.global),
            not_params: r.not_params.iter().filter(|n| local.contains_key(*n)).cloned().collect(),
            keywords: r
                .keywords
                .iter()
                .filter(|((_, kw), _)| local.contains_key(kw))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            local,
        }
    };
    // Whether the suite passes as the original does with `chosen` applied:
    // every test the original passes, under its new name, stopping at the
    // first failure.
    let runs = |chosen: &Renames| -> bool {
        let replaced: Vec<(String, String)> = apply(files, chosen)
            .into_iter()
            .zip(files)
            .filter(|(new, old)| new.text != old.text)
            .map(|(new, _)| (new.path, new.text))
            .collect();
        let tests: Vec<String> = baseline.iter().map(|id| node_forward(id, &chosen.global)).collect();
        oracle.passes_all(&replaced, &tests)
    };
    let passes = |subset: &[String]| -> bool { runs(&split(subset)) };
    let kept = culprits(&names, &passes);
    let survivors: Vec<String> = names.iter().filter(|n| !kept.contains(*n)).cloned().collect();
    let mut chosen = split(&survivors);
    // A name that broke the suite renamed everywhere may still be renamed
    // where it is a function's own (its attribute or string stays).
    let retry: Vec<String> = kept.iter().filter(|n| plan.fallback.contains_key(*n)).cloned().collect();
    let with_local = |subset: &[String]| -> Renames {
        let mut r = chosen.clone();
        for n in subset {
            r.local.insert(n.clone(), plan.renames.global[n].clone());
            if plan.fallback[n] {
                r.not_params.insert(n.clone());
            }
        }
        r
    };
    let passes_local = |subset: &[String]| -> bool { runs(&with_local(subset)) };
    let still = culprits(&retry, &passes_local);
    let rescued: Vec<String> = retry.iter().filter(|n| !still.contains(*n)).cloned().collect();
    chosen = with_local(&rescued);
    let kept: BTreeSet<String> = kept.into_iter().filter(|n| !rescued.contains(n)).collect();
    let renamed: BTreeSet<&String> = chosen.global.keys().chain(chosen.local.keys()).collect();
    let novelty = Novelty {
        transform: "rename".into(),
        defined: plan.defined.len(),
        renamed: plan.defined.iter().filter(|d| renamed.contains(d)).count(),
        kept_by_rule: plan.defined.iter().filter(|d| !r.global.contains_key(*d) && !r.local.contains_key(*d)).count(),
        kept_by_execution: kept.into_iter().collect(),
        prompt_share: 0.0,
        renames: chosen.global.clone(),
        local_renames: chosen.local.clone(),
        local_not_params: chosen.not_params.clone(),
        keyword_renames: chosen.keywords.iter().map(|((c, k), v)| (c.clone(), k.clone(), v.clone())).collect(),
    };
    Transformed { files: apply(files, &chosen), novelty, defined: plan.defined, shared: plan.shared }
}

/// `set`, synthesised from `t`'s files, with the transform recorded (its
/// prompt share measured on the set's prompts) and its id sealed again.
pub fn seal(mut set: bench_core::TaskSet, t: &Transformed) -> bench_core::TaskSet {
    let prompts: Vec<&str> = set.tasks.iter().map(|t| t.prompt.user.as_str()).collect();
    let mut novelty = t.novelty.clone();
    let all: BTreeMap<String, String> =
        novelty.renames.iter().chain(&novelty.local_renames).map(|(a, b)| (a.clone(), b.clone())).collect();
    let own: BTreeSet<String> = t.defined.difference(&t.shared).cloned().collect();
    novelty.prompt_share = (prompt_share(&prompts, &all, &own) * 1000.0).round() / 1000.0;
    set.novelty = Some(novelty);
    set.taskset_id = String::new();
    set.taskset_id = bench_core::content_id(&bench_core::canonical_json(&set));
    set
}

/// The files a task set's transform made: its recorded renames applied
/// again, without execution.
pub fn replay(files: &[SourceFile], novelty: &Novelty) -> Vec<SourceFile> {
    let renames = Renames {
        global: novelty.renames.clone(),
        local: novelty.local_renames.clone(),
        not_params: novelty.local_not_params.clone(),
        keywords: novelty.keyword_renames.iter().map(|(c, k, v)| ((c.clone(), k.clone()), v.clone())).collect(),
    };
    apply(files, &renames)
}

/// A test id of the original suite in the transformed one's names.
fn node_forward(id: &str, map: &BTreeMap<String, String>) -> String {
    id.split("::")
        .map(|part| {
            let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            let name = map.get(name).map_or(name, String::as_str);
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

/// The share of the package's own names in `prompts`' code blocks that
/// appear renamed, each distinct name counted once. `defined` leaves out what
/// the package shares with Python and the outside by contract; `self`, `cls`
/// and dunders are Python's.
pub fn prompt_share(prompts: &[&str], novelty_map: &BTreeMap<String, String>, defined: &BTreeSet<String>) -> f64 {
    let new: BTreeSet<&str> = novelty_map.values().map(String::as_str).collect();
    let kept: BTreeSet<&str> = defined
        .iter()
        .filter(|d| !novelty_map.contains_key(*d) && !CONVENTIONS.contains(&d.as_str()))
        // Python's own protocol names are not the package's to rename.
        .filter(|d| !(d.starts_with("__") && d.ends_with("__")))
        .map(String::as_str)
        .collect();
    let (mut renamed, mut left) = (BTreeSet::new(), BTreeSet::new());
    for p in prompts {
        for block in p.split("```").skip(1).step_by(2) {
            for word in block.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if new.contains(word) {
                    renamed.insert(word);
                } else if kept.contains(word) {
                    left.insert(word);
                }
            }
        }
    }
    if renamed.len() + left.len() == 0 {
        1.0
    } else {
        renamed.len() as f64 / (renamed.len() + left.len()) as f64
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
            assert!(p.renames.global.contains_key(renamed), "{renamed}: {:?}", p.renames.global);
        }
        // A prefix read from a string, a builtin-class attribute, a keyword
        // of an outside call, an imported module, a dunder.
        for kept in ["_rule_size", "items", "indent", "json", "self"] {
            assert!(!p.renames.global.contains_key(kept), "{kept}: {:?}", p.renames.global);
        }
        let out = apply(&files, &p.renames);
        assert!(out[1].text.contains(&format!("from pkg import {}", p.renames.global["Engine"])), "{}", out[1].text);
        assert!(out[0].text.contains("'_rule_' + "), "{}", out[0].text);
        // The same inputs draw the same names.
        assert_eq!(p, plan(&files, "snap", &Rules::default(), crate::stdlib_surface()));
    }
}
