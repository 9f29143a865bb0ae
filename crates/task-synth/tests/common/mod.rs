#![allow(clippy::unwrap_used)] // tests and benches fail loudly
#![allow(dead_code)]

use std::path::Path;

use bench_core::{Category, Expected, Task, TaskSet};
use py_ast_meta::SourceFile;
use task_synth::{find_sinks, synthesize, Rules};

/// A source read as `bench-cli` reads it: its files and its snapshot id.
pub struct Source {
    pub files: Vec<SourceFile>,
    pub snapshot_id: String,
}

pub fn load(root: &Path) -> Source {
    let snap = repo_scan::scan(root, None, &repo_scan::Limits::default()).unwrap();
    Source {
        files: snap.files.iter().map(|f| SourceFile { path: f.path.clone(), text: f.text.clone() }).collect(),
        snapshot_id: snap.snapshot_id,
    }
}

/// The fixture package written for this project.
pub fn fixture() -> Source {
    load(&test_support::tools::workspace_root().join("tests/fixtures/tinyvalidator"))
}

pub fn synth(src: &Source, count: Option<usize>) -> TaskSet {
    let rules = Rules::default();
    let ex = py_ast_meta::extract(&src.snapshot_id, &src.files, &rules.extract);
    synthesize(&src.files, &ex, &rules, count)
}

/// The code block of a prompt, with the line-number gutter removed.
pub fn shown_code(task: &Task) -> Vec<String> {
    let user = &task.prompt.user;
    let start = user.find("```python\n").expect("a code block") + 10;
    let end = start + user[start..].find("```").expect("a closed block");
    user[start..end]
        .lines()
        .map(|l| l.split_once(" | ").map(|(_, code)| code.to_string()).unwrap_or_default())
        .collect()
}

/// The real source of a task's function, dedented, from the files.
pub fn original(files: &[SourceFile], task: &Task) -> Vec<String> {
    let file = files.iter().find(|f| f.path == task.file).expect("the task's file");
    let [start, end] = task.span;
    let lines: Vec<&str> = file.text.lines().skip(start as usize - 1).take((end - start + 1) as usize).collect();
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    lines.iter().map(|l| l.get(indent..).unwrap_or("").trim_end().to_string()).collect()
}

/// Checks, over every task of a set, the ground truth against the code shown.
pub fn check_every_task(src: &Source, set: &TaskSet) {
    let files = &src.files;
    for t in &set.tasks {
        match &t.expected {
            Expected::CodeUnderstanding { line, operator, original_line, .. } => {
                let mut shown = shown_code(t);
                let code = shown.join("\n") + "\n";
                py_ast_meta::mutation::normalized_ast(&code)
                    .unwrap_or_else(|e| panic!("task {}: snippet does not parse: {e}", t.id));
                // A decoy comment is the only line allowed besides the bug.
                let orig = original(files, t);
                let decoy = (shown.len() == orig.len() + 1)
                    .then(|| {
                        (0..shown.len())
                            .find(|i| shown[*i].trim_start().starts_with('#') && orig.get(*i) != Some(&shown[*i]))
                    })
                    .flatten();
                let mut bug_line = *line;
                if let Some(d) = decoy {
                    shown.remove(d);
                    bug_line = bug_line.map(|l| if (l as usize) > d { l - 1 } else { l });
                }
                assert_eq!(shown.len(), orig.len(), "task {}", t.id);
                let differing: Vec<usize> = (0..orig.len()).filter(|i| shown[*i] != orig[*i]).collect();
                match bug_line {
                    None => {
                        assert!(differing.is_empty(), "control {} differs from the original at {differing:?}", t.id)
                    }
                    Some(l) => {
                        assert_eq!(
                            differing,
                            vec![l as usize - 1],
                            "task {} ({operator:?}): the mutated line is not the expected one",
                            t.id
                        );
                        assert_eq!(
                            original_line.as_deref(),
                            Some(orig[l as usize - 1].as_str()).map(|_| original_line.as_deref().unwrap())
                        );
                        assert_ne!(
                            py_ast_meta::mutation::normalized_ast(&(orig.join("\n") + "\n")).unwrap(),
                            py_ast_meta::mutation::normalized_ast(&code).unwrap(),
                            "task {}: the mutant's AST equals the original's",
                            t.id
                        );
                    }
                }
            }
            Expected::BugReproduction { line, mutated, .. } => {
                // The bug shown is the line the file would hold, and it differs.
                let file = files.iter().find(|f| f.path == t.file).expect("the task's file");
                let original = file.text.lines().nth(*line as usize - 1).expect("the bug's line");
                assert_ne!(original, mutated, "task {}: the bug changes nothing", t.id);
                assert!(t.prompt.user.contains(mutated.trim()), "task {}: the bug is not shown", t.id);
            }
            Expected::SecurityAudit { vulnerable, cwe, line, lines, .. } => {
                let shown = shown_code(t);
                let code = shown.join("\n") + "\n";
                py_ast_meta::mutation::normalized_ast(&code)
                    .unwrap_or_else(|e| panic!("task {}: snippet does not parse: {e}", t.id));
                // The accepted line is the sink statement itself, and both
                // halves hold the same sink there.
                assert_eq!(lines, &vec![*line], "task {}", t.id);
                let sink = &shown[*line as usize - 1];
                let token = match cwe.as_str() {
                    "CWE-78" => ["os.system(", "shell=True"].iter().find(|k| sink.contains(**k)),
                    "CWE-89" => [".execute(f\""].iter().find(|k| sink.contains(**k)),
                    "CWE-22" => ["open("].iter().find(|k| sink.contains(**k)),
                    "CWE-95" => ["eval("].iter().find(|k| sink.contains(**k)),
                    other => panic!("task {}: unexpected {other}", t.id),
                };
                assert!(token.is_some(), "task {}: line {line} is not a {cwe} sink: {sink:?}", t.id);
                if *vulnerable && cwe != "CWE-22" {
                    // The independent detector agrees (it skips opens behind any containment check).
                    assert!(
                        find_sinks(&code).iter().any(|s| &s.cwe == cwe && s.line == *line),
                        "task {}: the detector finds no {cwe} sink at {line}",
                        t.id
                    );
                }
            }
            Expected::CodeGeneration { signature, .. } => {
                assert!(t.prompt.user.contains(signature.as_str()), "task {}: signature not in the prompt", t.id);
            }
        }
    }
    // Pairs: each vulnerable half has its clean twin, one line apart.
    let audits: Vec<(&str, bool, &Task)> = set
        .tasks
        .iter()
        .filter_map(|t| match &t.expected {
            Expected::SecurityAudit { pair, vulnerable, .. } => Some((pair.as_str(), *vulnerable, t)),
            _ => None,
        })
        .collect();
    for (p, vulnerable, t) in &audits {
        let twins: Vec<_> = audits.iter().filter(|(q, _, _)| q == p).collect();
        assert_eq!(twins.len(), 2, "pair {p} is not complete");
        if !vulnerable {
            continue;
        }
        let (a, b) = (shown_code(t), shown_code(twins.iter().find(|x| !x.1).unwrap().2));
        assert_eq!(a.len(), b.len(), "pair {p}");
        assert_eq!((0..a.len()).filter(|i| a[*i] != b[*i]).count(), 1, "pair {p}: not a one-line difference");
    }
    let _ = Category::ALL;
}
