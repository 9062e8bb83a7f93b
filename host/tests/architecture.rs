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

/// Every checkout shares one build directory (.cargo/config.toml), where cargo tells a
/// workspace crate's freshness by modification times alone: each crate it builds there —
/// every target of every package of the workspace, and guest-sdk — reads HOST_CHECKOUT,
/// so that a crate last built for another checkout is built again, never taken as it is.
#[test]
fn every_crate_of_the_shared_build_directory_is_rebuilt_for_another_checkout() {
    const GUARD: &str = "const _: Option<&str> = option_env!(\"HOST_CHECKOUT\");";
    let config = std::fs::read_to_string(repo().join(".cargo/config.toml")).unwrap();
    assert!(config.contains("HOST_CHECKOUT = { value = \".\", relative = true }"), "{config}");
    let metadata = cargo_metadata::MetadataCommand::new().manifest_path(repo().join("Cargo.toml")).no_deps().exec().unwrap();
    let mut roots: Vec<std::path::PathBuf> = metadata.packages.iter().flat_map(|p| &p.targets).map(|t| t.src_path.clone().into_std_path_buf()).collect();
    roots.push(repo().join("guest-sdk/src/lib.rs"));
    assert!(roots.len() > 40, "every test, bench, bin, lib and build script: {roots:?}");
    let common = std::fs::read_to_string(repo().join("host/tests/common/mod.rs")).unwrap();
    let unguarded: Vec<_> = roots
        .iter()
        .filter(|root| {
            let text = std::fs::read_to_string(root).unwrap();
            !(text.contains(GUARD) || (text.contains("\nmod common;") && common.contains(GUARD)))
        })
        .collect();
    assert!(unguarded.is_empty(), "crates that do not read HOST_CHECKOUT (add `{GUARD}`): {unguarded:?}");
    // The test packages do not read it: they keep a build directory of their own.
    let packages = std::fs::read_to_string(repo().join("test-packages/.cargo/config.toml")).unwrap();
    assert!(packages.contains("build-dir = \"{workspace-root}/target\""), "{packages}");
}
