use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Which modules a snapshot defines and which names each one binds: functions,
/// classes, `Class.method`s, module-level assignments and names re-exported by
/// imports. Used to tell a real API from an invented one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiIndex {
    /// Module name (`pkg.sub`) to the names it defines or imports at top level.
    pub modules: BTreeMap<String, BTreeSet<String>>,
}

impl ApiIndex {
    /// Whether `module` (dotted) is one of the snapshot's modules or packages.
    pub fn has_module(&self, module: &str) -> bool {
        self.modules.contains_key(module)
            || self.modules.keys().any(|m| m.starts_with(module) && m[module.len()..].starts_with('.'))
    }

    /// Whether `module.name` exists: a bound name or a submodule.
    pub fn has_attr(&self, module: &str, name: &str) -> bool {
        self.modules.get(module).is_some_and(|n| n.contains(name)) || self.has_module(&format!("{module}.{name}"))
    }

    /// The top-level names of the snapshot's own packages and modules.
    pub fn roots(&self) -> BTreeSet<String> {
        self.modules.keys().filter_map(|m| m.split('.').next()).filter(|r| !r.is_empty()).map(str::to_string).collect()
    }
}
