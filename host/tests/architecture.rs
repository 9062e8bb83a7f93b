//! The module structure ARCHITECTURE.md describes, checked: dependencies between the
//! library's top-level modules go one way only (each module may use only the modules
//! listed for it below, so there is no cycle), and no source file grows past 500 lines
//! without saying why at its top.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::repo;

/// Each top-level module and the modules it may use: config → suite → runner → events →
/// reporters, with build, nodes and sandbox below the runner, and archive over the runner.
const ALLOWED: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("suite", &["config"]),
    ("events", &["suite"]),
    ("nodes", &["config"]),
    ("build", &["config", "nodes"]),
    ("netfault", &[]),
    ("sandbox", &["config", "events", "nodes", "netfault"]),
    ("runner", &["config", "suite", "build", "nodes", "netfault", "sandbox", "events"]),
    // Packs what the runner prepared (built, compiled, listed) for another machine.
    ("archive", &["config", "build", "sandbox", "runner"]),
    ("reporters", &["events", "suite"]),
    ("handlers", &["config", "nodes", "build", "sandbox", "events", "reporters"]),
];

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules each module's files name through `crate::`.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("host/src");
    let modules: Vec<&str> = ALLOWED.iter().map(|(m, _)| *m).collect();
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        if src.join(module).is_dir() {
            sources(&src.join(module), &mut files);
        }
        if src.join(format!("{module}.rs")).is_file() {
            files.push(src.join(format!("{module}.rs")));
        }
        assert!(!files.is_empty(), "module {module} has no sources");
        let mut uses = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for other in &modules {
                let named = [format!("crate::{other}::"), format!("crate::{other}}}"), format!("crate::{other};"), format!("crate::{other},")];
                if other != module && named.iter().any(|n| text.contains(n.as_str())) {
                    uses.insert(other.to_string());
                }
            }
        }
        graph.insert(module.to_string(), uses);
    }
    graph
}

#[test]
fn module_dependencies_go_one_way() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    for (module, uses) in dependencies() {
        for used in &uses {
            assert!(
                allowed[module.as_str()].contains(&used.as_str()),
                "{module} uses {used}, which ARCHITECTURE.md does not allow (allowed: {:?})",
                allowed[module.as_str()]
            );
        }
    }
    // The allowed graph itself has no cycle: every module's allowed dependencies come
    // before it in ALLOWED.
    for (position, (module, deps)) in ALLOWED.iter().enumerate() {
        for dep in *deps {
            let at = ALLOWED.iter().position(|(m, _)| m == dep).unwrap();
            assert!(at < position, "{module} may use {dep}, which comes after it");
        }
    }
}

#[test]
fn no_source_file_is_over_500_lines_without_a_reason_at_its_top() {
    let mut files = Vec::new();
    sources(&repo().join("host/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = text.lines().count();
        let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        assert!(lines <= 500 || head.contains("Over 500 lines"), "{} has {lines} lines and no reason at its top", file.display());
    }
}
