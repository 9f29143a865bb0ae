//! What synthesis knows about the snapshot as a whole.

use std::collections::{BTreeMap, BTreeSet};

use py_ast_meta::{Extraction, ModuleMeta, SourceFile};

use crate::Rules;

pub(crate) struct Context<'a> {
    pub snapshot_id: &'a str,
    pub rules: &'a Rules,
    pub rules_hash: String,
    pub extraction: &'a Extraction,
    pub texts: BTreeMap<&'a str, &'a str>,
    pub api: BTreeMap<String, Vec<String>>,
    pub declared: Vec<String>,
    project: super::project::Project,
}

impl<'a> Context<'a> {
    pub fn new(files: &'a [SourceFile], extraction: &'a Extraction, rules: &'a Rules) -> Self {
        let api = extraction
            .api
            .modules
            .iter()
            .map(|(m, names)| (m.clone(), names.iter().take(600).cloned().collect()))
            .collect();
        let project = super::project::read(files, rules);
        Self {
            snapshot_id: &extraction.snapshot_id,
            rules,
            rules_hash: rules.hash(),
            extraction,
            texts: files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect(),
            api,
            declared: project.declared.clone(),
            project,
        }
    }

    /// Modules tasks may be built from, in path order: the distribution's
    /// own packages, less what the rules exclude (tests, benchmarks, ...).
    pub fn library_modules(&self) -> impl Iterator<Item = &'a ModuleMeta> + '_ {
        self.extraction.modules.iter().filter(|m| self.project.ships(&m.path) && self.rules.is_library_code(&m.path))
    }

    pub fn rank(&self, file: &str, purpose: &str) -> u64 {
        bench_core::Hasher::new().field(self.snapshot_id).field(&self.rules_hash).field(file).field(purpose).rank()
    }

    pub fn text(&self, path: &str) -> &'a str {
        self.texts.get(path).copied().unwrap_or_default()
    }

    /// Names visible in a module that the repository itself defines: its own
    /// top-level names and what its head imports bind from local modules.
    pub fn repo_names(&self, m: &ModuleMeta) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = m.functions.iter().map(|f| f.name.clone()).collect();
        names.extend(m.classes.iter().map(|c| c.name.clone()));
        names.extend(m.assignments.iter().cloned());
        let roots = self.extraction.api.roots();
        for i in &m.imports {
            let local = i.level > 0 || roots.contains(i.module.split('.').next().unwrap_or_default());
            if local {
                names.insert(i.bound().to_string());
            }
        }
        names
    }
}
