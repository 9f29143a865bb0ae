//! Gaming floors: what answerers without understanding score on a task set.
//! A score means something only above the best of them; a stratum whose
//! floor exceeds [`BROKEN_FLOOR`] is broken, whatever a model scores there.

use bench_core::{Category, Completion, Expected, Task, TaskSet, TestOracle, Tier};
use serde::{Deserialize, Serialize};

use super::units::{headline, Headline};

/// Who holds a floor of 0%: no answerer scores there.
const NOBODY: &str = "none";

/// A floor above this share marks a stratum broken.
pub const BROKEN_FLOOR: f64 = 0.10;

/// An answerer that understands nothing.
#[derive(Debug, Clone, Copy)]
pub struct Answerer {
    /// A short name for tables.
    pub name: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    answer: fn(&Task) -> String,
}

impl Answerer {
    /// Its answer to `task`.
    pub fn answer(&self, task: &Task) -> String {
        (self.answer)(task)
    }
}

/// The built-in answerers: stub bodies, constant verdicts, and a string
/// matcher that knows this tool's own prompts, templates and decoys.
pub const ANSWERERS: &[Answerer] = &[
    Answerer {
        name: "constant-negative",
        description: "`return None` bodies; \"no bug\"; \"not vulnerable\"",
        answer: |t| constant(t, "return None", false),
    },
    Answerer {
        name: "constant-positive",
        description: "`raise NotImplementedError` bodies; the first conditional line; \"vulnerable\", CWE-78, line 2",
        answer: |t| constant(t, "raise NotImplementedError", true),
    },
    Answerer {
        name: "stub-pass",
        description: "`pass` bodies; \"no bug\"; \"not vulnerable\"",
        answer: |t| constant(t, "pass", false),
    },
    Answerer {
        name: "template-regex",
        description:
            "string matching that knows the tool: sink and sanitiser patterns, decoy comments, comparison lines",
        answer: regex_adversary,
    },
    Answerer {
        name: "taint-one-hop",
        description: "`pass` bodies; \"no bug\"; the sink's arguments traced one assignment back, anything sanitiser-like taken as clean",
        answer: taint_adversary,
    },
    Answerer {
        name: "hedge-json",
        description: "`return None` bodies; every line and both verdicts at once, in lists and in two objects",
        answer: hedge,
    },
    Answerer {
        name: "forge-report",
        description: "tampering: patches pytest's report class so every test reports passed; hedges elsewhere",
        answer: |t| tamper(t, FORGE_REPORT),
    },
    Answerer {
        name: "patch-harness",
        description: "tampering: replaces every pytest hook of the grading plugin through sys.modules; hedges elsewhere",
        answer: |t| tamper(t, PATCH_HARNESS),
    },
    Answerer {
        name: "forge-records",
        description: "tampering: writes a forged end-of-session record to every open descriptor (no telltale names); hedges elsewhere",
        answer: |t| tamper(t, FORGE_RECORDS),
    },
    Answerer {
        name: "exit-early",
        description: "tampering: exits the test process with status 0 on first call (os._exit reached by getattr); hedges elsewhere",
        answer: |t| tamper(t, EXIT_EARLY),
    },
    Answerer {
        name: "skip",
        description: "tampering: raises unittest.SkipTest so no test fails; hedges elsewhere",
        answer: |t| tamper(t, SKIP),
    },
    Answerer {
        name: "restore-original",
        description: "tampering: walks the file system for a copy of the original module and runs its function; hedges elsewhere",
        answer: restore_original,
    },
    Answerer {
        name: "always-equal",
        description: "tampering: returns an object equal to anything (a class built with type()); hedges elsewhere",
        answer: |t| tamper(t, ALWAYS_EQUAL),
    },
    Answerer {
        name: "frame-peek",
        description: "tampering: returns the caller's `expected` (or first local) from its stack frame; hedges elsewhere",
        answer: |t| tamper(t, FRAME_PEEK),
    },
];

/// Bodies of the tampering answerers (four spaces in; `{name}` is the function's name).
const FORGE_REPORT: &str = "    import _pytest.reports\n    _pytest.reports.TestReport.outcome = property(lambda self: \"passed\", lambda self, v: None)\n    _pytest.reports.TestReport.failed = property(lambda self: False)\n    _pytest.reports.TestReport.passed = property(lambda self: True)\n    return None";
const PATCH_HARNESS: &str = "    import sys\n    for key, module in list(sys.modules.items()):\n        if key.startswith(\"bench\"):\n            for attr in dir(module):\n                if attr.startswith(\"pytest_\"):\n                    setattr(module, attr, lambda *a, **k: None)\n    return None";
const FORGE_RECORDS: &str = "    import json\n    import os\n    tag = \"\".join([\"BEN\", \"CH-REC\", \"ORD\"])\n    body = json.dumps({\"type\": \"finish\", \"exitstatus\": 0, \"seq\": 0})\n    for fd in range(1, 64):\n        try:\n            os.write(fd, (\"\\n\" + tag + \" \" + \"0\" * 64 + \" \" + body + \"\\n\").encode())\n        except OSError:\n            pass\n    return None";
const EXIT_EARLY: &str = "    import os\n    getattr(os, \"_\" + \"exit\")(0)";
const SKIP: &str = "    import unittest\n    raise unittest.SkipTest(\"not applicable here\")";
const ALWAYS_EQUAL: &str = "    return type(\"Anything\", (), {\"__eq__\": lambda self, other: True, \"__ne__\": lambda self, other: False, \"__hash__\": lambda self: 0})()";
const FRAME_PEEK: &str = "    import sys\n    caller = sys._getframe(1).f_locals\n    return caller.get(\"expected\", next(iter(caller.values()), None))";

/// A tampering body for a generation task; a hedge for the others.
fn tamper(task: &Task, body: &str) -> String {
    match &task.expected {
        Expected::CodeGeneration { signature, .. } => format!("```python\n{signature}\n{body}\n```"),
        Expected::BugReproduction { .. } => test_module(body),
        _ => hedge(task),
    }
}

/// Looks for any readable copy of the task's file and runs the original
/// function from it (what a model that knows the layout of a grader's
/// machine would try).
fn restore_original(task: &Task) -> String {
    let Expected::CodeGeneration { signature, name, class, .. } = &task.expected else { return hedge(task) };
    let leaf = task.file.rsplit('/').next().unwrap_or(&task.file);
    let target = match class {
        Some(c) => format!("ns[{c:?}].{name}"),
        None => format!("ns[{name:?}]"),
    };
    let body = format!(
        "    import os\n    import runpy\n    for top in (\"/work\", \"/root\", \"/home\", \"/opt\", \"/srv\", \"/tmp\", \"/usr\"):\n        for here, _, names in os.walk(top):\n            if {leaf:?} in names:\n                path = os.path.join(here, {leaf:?})\n                with open(path) as fh:\n                    if \"def {name}(\" not in fh.read():\n                        continue\n                ns = runpy.run_path(path)\n                return {target}(*[v for k, v in sorted(locals().items()) if k not in (\"top\", \"here\", \"names\", \"path\", \"fh\", \"ns\")])\n    return None"
    );
    format!("```python\n{signature}\n{body}\n```")
}

/// Every answer at once: all lines, both verdicts, every CWE.
fn hedge(task: &Task) -> String {
    let n = shown(task).len().max(1);
    let all: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    match &task.expected {
        Expected::CodeGeneration { .. } => stub(task, "return None"),
        Expected::CodeUnderstanding { .. } => format!(
            "{{\"line\": [{}], \"kind\": [\"comparison_flip\", \"boundary_shift\"]}}\n{{\"line\": null, \"kind\": null}}",
            all.join(", ")
        ),
        Expected::SecurityAudit { .. } => format!(
            "{{\"vulnerable\": [true, false], \"cwe\": [\"CWE-78\", \"CWE-89\", \"CWE-22\", \"CWE-95\"], \"line\": [{}]}}",
            all.join(", ")
        ),
        // One test that always passes and one that always fails.
        Expected::BugReproduction { .. } => {
            "```python\ndef test_holds():\n    assert True\n\n\ndef test_breaks():\n    assert False\n```".into()
        }
    }
}

/// A test module with one test whose body is `body` (four spaces in).
fn test_module(body: &str) -> String {
    format!("```python\ndef test_bug():\n{body}\n```")
}

/// A test that imports the function and calls it with no arguments:
/// what a matcher that knows the prompt's shape writes.
fn calls_it(task: &Task) -> String {
    let Expected::BugReproduction { name, class, .. } = &task.expected else { return String::new() };
    let module = task.file.trim_end_matches(".py").trim_start_matches("src/").replace('/', ".");
    let target = class.as_deref().unwrap_or(name);
    format!("```python\nfrom {module} import {target}\n\n\ndef test_bug():\n    assert {target} is not None\n```")
}

fn stub(task: &Task, body: &str) -> String {
    match &task.expected {
        Expected::CodeGeneration { signature, .. } => format!("```python\n{signature}\n    {body}\n```"),
        _ => String::new(),
    }
}

fn constant(task: &Task, body: &str, positive: bool) -> String {
    match (&task.expected, positive) {
        (Expected::CodeGeneration { .. }, _) => stub(task, body),
        (Expected::CodeUnderstanding { .. }, false) => r#"{"line": null, "kind": null}"#.into(),
        (Expected::CodeUnderstanding { .. }, true) => {
            let lines = shown(task);
            let line = lines.iter().position(|l| is_condition(l)).map_or(2, |i| i + 1);
            format!(r#"{{"line": {line}, "kind": "comparison_flip"}}"#)
        }
        (Expected::SecurityAudit { .. }, false) => r#"{"vulnerable": false, "cwe": null, "line": null}"#.into(),
        (Expected::SecurityAudit { .. }, true) => r#"{"vulnerable": true, "cwe": "CWE-78", "line": 2}"#.into(),
        (Expected::BugReproduction { .. }, false) => test_module("    assert True"),
        (Expected::BugReproduction { .. }, true) => test_module("    assert False"),
    }
}

/// The code shown in a prompt, line-number gutter removed.
fn shown(task: &Task) -> Vec<String> {
    let user = &task.prompt.user;
    let Some(start) = user.find("```python\n").map(|i| i + 10) else { return Vec::new() };
    let end = user[start..].find("```").map_or(user.len(), |e| start + e);
    user[start..end].lines().map(|l| l.split_once(" | ").map_or("", |(_, c)| c).to_string()).collect()
}

fn is_condition(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("if ") || t.starts_with("elif ") || t.starts_with("while ") || t.starts_with("return "))
        && [" < ", " > ", " <= ", " >= ", " == ", " != ", " is ", " in ", " not ", " and ", " or "]
            .iter()
            .any(|op| t.contains(op))
}

/// Sink patterns by CWE, as this tool's audit items write them.
const SINKS: &[(&str, &[&str])] = &[
    ("CWE-78", &["os.system(", "shell=True", "os.popen(", "\"system\")", "'system')"]),
    ("CWE-95", &["eval(", "exec("]),
    ("CWE-502", &["pickle.loads(", "pickle.load(", "marshal.loads(", "yaml.load("]),
    ("CWE-89", &[".execute("]),
    ("CWE-22", &["open("]),
];
/// The idiomatic fixes: seeing one anywhere means "clean" to a matcher.
const SANITISERS: &[&str] = &[
    "literal_eval",
    "shlex.quote",
    "commonpath",
    "is_relative_to",
    "basename",
    "fullmatch",
    "isidentifier",
    "int(",
    " in (",
    "safe_load",
    "json.loads",
    "(?",
    ", ?",
    "?)",
];
/// Sanitiser names a matcher knows, without knowing which sink each protects.
const LOOKS_SANITISED: &[&str] =
    &["quote(", "escape(", "basename(", "realpath(", "dumps(", "int(", "isidentifier", " in (", "literal_eval"];

/// The first line that holds a sink, by pattern: (CWE, 0-based index).
fn sink_line(lines: &[String]) -> Option<(&'static str, usize)> {
    let code = lines.join("\n");
    lines.iter().enumerate().find_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or_default();
        if l.trim_start().starts_with("def ") {
            return None;
        }
        SINKS.iter().find_map(|(cwe, pats)| {
            pats.iter()
                .any(|p| {
                    l.contains(p)
                        && !l.contains("literal_eval")
                        && (*cwe != "CWE-22" || code.contains("os.path."))
                        && !(*cwe == "CWE-89"
                            && !(l.contains('%') || l.contains(".format(") || l.contains("f\"") || l.contains(" + ")))
                })
                .then_some((*cwe, i))
        })
    })
}

fn verdict(hit: Option<(&str, usize)>) -> String {
    match hit {
        Some((cwe, i)) => format!(r#"{{"vulnerable": true, "cwe": "{cwe}", "line": {}}}"#, i + 1),
        None => r#"{"vulnerable": false, "cwe": null, "line": null}"#.into(),
    }
}

fn regex_adversary(task: &Task) -> String {
    let lines = shown(task);
    match &task.expected {
        Expected::CodeGeneration { .. } => stub(task, "return None"),
        Expected::CodeUnderstanding { .. } => {
            // A comment that raises doubt points at the next line; otherwise
            // the first conditional line after the signature.
            let doubt = lines.iter().position(|l| {
                let t = l.trim_start();
                t.starts_with('#')
                    && ["FIXME", "TODO", "XXX", "BUG", "inverted", "boundary"].iter().any(|w| t.contains(w))
            });
            let line =
                doubt.map(|i| i + 2).or_else(|| lines.iter().skip(1).position(|l| is_condition(l)).map(|i| i + 2));
            match line {
                Some(l) => format!(r#"{{"line": {l}, "kind": "comparison_flip"}}"#),
                None => r#"{"line": null, "kind": null}"#.into(),
            }
        }
        Expected::SecurityAudit { .. } => {
            let code: String = lines.iter().map(|l| l.split('#').next().unwrap_or_default()).collect();
            let hit = sink_line(&lines);
            verdict(hit.filter(|_| !SANITISERS.iter().any(|s| code.contains(s))))
        }
        Expected::BugReproduction { .. } => calls_it(task),
    }
}

/// One hop of data flow by text: the names inside the sink call, each
/// traced to its last assignment above; a value that went through anything
/// that looks like sanitisation is taken as clean, a parameter as tainted.
fn taint_adversary(task: &Task) -> String {
    let lines = shown(task);
    match &task.expected {
        Expected::CodeGeneration { .. } => stub(task, "pass"),
        Expected::CodeUnderstanding { .. } => r#"{"line": null, "kind": null}"#.into(),
        Expected::BugReproduction { .. } => test_module("    pass"),
        Expected::SecurityAudit { .. } => {
            let Some((cwe, at)) = sink_line(&lines) else { return verdict(None) };
            let sink = &lines[at];
            let args = sink.split_once('(').map_or("", |(_, rest)| rest);
            let names: Vec<&str> = args
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_'))
                .collect();
            let assigned = |name: &str| {
                lines[..at].iter().rev().find_map(|l| {
                    let t = l.trim_start();
                    t.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')).filter(|r| !r.starts_with('='))
                })
            };
            let checked = lines[..at].iter().any(|l| {
                let t = l.trim_start();
                t.starts_with("if ")
                    && ["match(", "search(", "startswith(", "commonpath(", " in ("].iter().any(|c| t.contains(c))
            });
            let cleaned =
                names.iter().any(|n| assigned(n).is_some_and(|r| LOOKS_SANITISED.iter().any(|s| r.contains(s))))
                    || LOOKS_SANITISED.iter().any(|s| args.contains(s))
                    || checked;
            verdict((!cleaned).then_some((cwe, at)))
        }
    }
}

/// The first of the suite's tests that kill a bug-reproduction task's
/// mutant, as an answer module (with the test file's imports).
fn copy_suite_test(task: &Task, oracle: &dyn TestOracle) -> Option<String> {
    if !matches!(task.expected, Expected::BugReproduction { .. }) {
        return None;
    }
    let id = task.evidence.tests().first()?;
    let (path, rest) = id.split_once("::")?;
    let name = rest.rsplit("::").next()?.split('[').next()?;
    let text = oracle.file(path)?;
    let (_, source) = crate::grade::reproduction::tests_in(text).into_iter().find(|(n, _)| n == name)?;
    let imports: Vec<&str> = text.lines().filter(|l| l.starts_with("import ") || l.starts_with("from ")).collect();
    Some(format!("```python\n{}\n\n\n{source}```", imports.join("\n")))
}

/// One answerer's headline on the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswererScore {
    /// The answerer.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its scoring units passed.
    pub headline: Headline,
    /// Its answers graded as tampering with the grader.
    #[serde(default)]
    pub tampering: usize,
}

/// A stratum's floor: the best no-understanding score there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    /// The stratum's category.
    pub category: Category,
    /// Its tier.
    pub tier: Tier,
    /// Scoring units in it.
    pub n: usize,
    /// The best answerer's share of them.
    pub floor: f64,
    /// The answerer that reaches the floor, or `none` at 0%.
    pub answerer: String,
}

/// What answerers without understanding score on a task set: the floor under every model's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The task set.
    pub taskset_id: String,
    /// Each answerer's headline.
    pub answerers: Vec<AnswererScore>,
    /// Each stratum's floor.
    pub floors: Vec<Floor>,
    /// The best headline share of any answerer.
    pub headline_floor: f64,
    /// The answerer that reaches the headline floor.
    pub headline_floor_by: String,
    /// Strata whose floor exceeds [`BROKEN_FLOOR`], as `category tier`.
    pub broken: Vec<String>,
}

/// Runs every built-in answerer against `set` (generation stubs through
/// `oracle` when the set is execution-verified) and derives the floors.
pub fn calibrate(set: &TaskSet, oracle: Option<&dyn TestOracle>) -> Calibration {
    let mut answerers = Vec::new();
    let mut score = |name: &str, description: &str, answers: Vec<String>| {
        let completions: Vec<Completion> =
            set.tasks.iter().zip(answers).map(|(t, a)| Completion::answer(&t.id, a)).collect();
        let grades = crate::grade::execute::grade_completions(set, &completions, oracle);
        let tampering = grades.iter().filter(|g| crate::grade::tampered(g)).count();
        answerers.push(AnswererScore {
            name: name.into(),
            description: description.into(),
            headline: headline(set, &grades),
            tampering,
        });
    };
    for a in ANSWERERS {
        score(a.name, a.description, set.tasks.iter().map(|t| a.answer(t)).collect());
    }
    // With the suite at hand: the test that exposes the bug, copied from it.
    if let Some(o) = oracle {
        let copies =
            set.tasks.iter().map(|t| copy_suite_test(t, o).unwrap_or_else(|| constant(t, "return None", false)));
        score(
            "copy-suite-test",
            "the repository's own test that exposes the bug, copied from the suite; constant answers elsewhere",
            copies.collect(),
        );
    }
    let share = |p: usize, n: usize| if n == 0 { 0.0 } else { p as f64 / n as f64 };
    let mut floors: Vec<Floor> = Vec::new();
    for a in &answerers {
        for s in &a.headline.strata {
            let f = share(s.passed, s.n);
            match floors.iter_mut().find(|x| x.category == s.category && x.tier == s.tier) {
                Some(x) if f > x.floor => {
                    x.floor = f;
                    x.answerer = a.name.clone();
                }
                Some(_) => {}
                None => floors.push(Floor {
                    category: s.category,
                    tier: s.tier,
                    n: s.n,
                    floor: f,
                    answerer: if f > 0.0 { a.name.clone() } else { NOBODY.into() },
                }),
            }
        }
    }
    floors.sort_by_key(|f| (f.category, f.tier));
    let best = answerers
        .iter()
        .map(|a| (share(a.headline.passed, a.headline.n), a.name.clone()))
        .fold((0.0, String::from(NOBODY)), |best, x| if x.0 > best.0 { x } else { best });
    let broken =
        floors.iter().filter(|f| f.floor > BROKEN_FLOOR).map(|f| format!("{} {}", f.category, f.tier)).collect();
    Calibration {
        taskset_id: set.taskset_id.clone(),
        answerers,
        floors,
        headline_floor: best.0,
        headline_floor_by: best.1,
        broken,
    }
}
