use std::collections::BTreeMap;

use bench_core::{Category, Grade, InventionKind, TaskSet};
use serde::Serialize;

/// Invented APIs in one run's generation answers: modules, attributes and
/// keyword arguments the evaluation environment does not have.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hallucination {
    /// Generation tasks graded.
    pub generation_tasks: usize,
    /// Of which the answer parsed, so its APIs were checked: the denominator.
    pub checked: usize,
    /// Per kind: answers with at least one invention of it.
    pub kinds: Vec<KindRate>,
    /// Answers with any invention.
    pub any: usize,
    /// `any / checked`.
    pub any_rate: f64,
    /// Imports, attribute chains and keywords that resolved.
    pub resolved: u64,
    /// Those that could not be decided statically (counted, never invented).
    pub unresolved: u64,
    /// The most frequent inventions, most answers first.
    pub top: Vec<Frequent>,
}

/// One kind of invention across a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindRate {
    /// `module`, `attribute` or `keyword`.
    pub kind: InventionKind,
    /// Answers with at least one.
    pub answers: usize,
    /// `answers / checked`.
    pub rate: f64,
    /// Inventions of this kind in all.
    pub total: usize,
}

/// One invented name and how often it was invented.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequent {
    /// Its kind.
    pub kind: InventionKind,
    /// `os.path.joinpath`, `json.dumps(pretty=)`.
    pub name: String,
    /// Answers that invented it.
    pub answers: usize,
    /// The first task whose answer did.
    pub first_task: String,
}

/// How many of the most frequent inventions the report lists.
const TOP: usize = 10;

impl Hallucination {
    /// The section for one run's grades of `set`.
    pub fn of(set: &TaskSet, grades: &[Grade]) -> Self {
        let generation: Vec<&Grade> = grades
            .iter()
            .filter(|g| set.task(&g.task_id).is_some_and(|t| t.category == Category::CodeGeneration))
            .collect();
        let checks: Vec<(&str, &bench_core::ApiCheck)> =
            generation.iter().filter_map(|g| g.api.as_ref().map(|a| (g.task_id.as_str(), a))).collect();
        let checked = checks.len();
        let share = |n: usize| if checked == 0 { 0.0 } else { n as f64 / checked as f64 };
        let kinds = InventionKind::ALL
            .into_iter()
            .map(|kind| {
                let answers = checks.iter().filter(|(_, a)| a.of(kind).next().is_some()).count();
                let total = checks.iter().map(|(_, a)| a.of(kind).count()).sum();
                KindRate { kind, answers, rate: share(answers), total }
            })
            .collect();
        let any = checks.iter().filter(|(_, a)| !a.inventions.is_empty()).count();
        let mut counts: BTreeMap<(InventionKind, &str), (usize, &str)> = BTreeMap::new();
        for (task, a) in &checks {
            for i in &a.inventions {
                counts.entry((i.kind, i.name.as_str())).or_insert((0, task)).0 += 1;
            }
        }
        let mut top: Vec<Frequent> = counts
            .into_iter()
            .map(|((kind, name), (answers, first))| Frequent {
                kind,
                name: name.to_string(),
                answers,
                first_task: first.to_string(),
            })
            .collect();
        top.sort_by(|a, b| b.answers.cmp(&a.answers).then_with(|| (a.kind, &a.name).cmp(&(b.kind, &b.name))));
        top.truncate(TOP);
        Self {
            generation_tasks: generation.len(),
            checked,
            kinds,
            any,
            any_rate: share(any),
            resolved: checks.iter().map(|(_, a)| u64::from(a.resolved)).sum(),
            unresolved: checks.iter().map(|(_, a)| u64::from(a.unresolved)).sum(),
            top,
        }
    }

    /// One line per kind, for a summary.
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![format!(
            "{} of {} generation answers that parsed ({} generation tasks) invented at least one API: {:.1}%",
            self.any,
            self.checked,
            self.generation_tasks,
            self.any_rate * 100.0
        )];
        for k in &self.kinds {
            v.push(format!(
                "invented {}s: {} answers ({:.1}% per generation answer), {} in all",
                k.kind.as_str(),
                k.answers,
                k.rate * 100.0,
                k.total
            ));
        }
        v.push(format!(
            "{} names resolved against the environment; {} could not be decided statically and are not counted as invented",
            self.resolved, self.unresolved
        ));
        v
    }
}
