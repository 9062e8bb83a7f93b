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
    assert!(config.contains("HOST_CHECKOUT = { value = \".\", relative = true, force = true }"), "{config}");
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

/// What that guard relies on, with this repository's own cargo settings: two checkouts of a
/// crate share a build directory, the older one (files older than the other's build) is
/// built second, and still runs its own code, not the other checkout's.
#[test]
fn a_checkout_never_runs_another_checkouts_build() {
    let config = std::fs::read_to_string(repo().join(".cargo/config.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared-build");
    let build_dir = config.lines().find(|line| line.starts_with("build-dir = ")).expect("the shared build-dir line");
    let config = config.replace(build_dir, &format!("build-dir = {:?}", shared.display().to_string()));
    let checkout = |name: &str| {
        let root = dir.path().join(name);
        std::fs::create_dir_all(root.join(".cargo")).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join(".cargo/config.toml"), &config).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n").unwrap();
        let main = format!("const _: Option<&str> = option_env!(\"HOST_CHECKOUT\");\nfn main() {{ println!(\"{name}\"); }}\n");
        std::fs::write(root.join("src/main.rs"), main).unwrap();
        root
    };
    let (older, newer) = (checkout("older"), checkout("newer"));
    let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    for file in ["Cargo.toml", "src/main.rs", ".cargo/config.toml"] {
        std::fs::File::options().append(true).open(older.join(file)).unwrap().set_modified(long_ago).unwrap();
    }
    let run = |root: &Path| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // As from a shell: none of the variables `cargo test` sets for this test (it sets
        // HOST_CHECKOUT too, to this repository's checkout).
        let keep = ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"];
        let mut command = std::process::Command::new(cargo);
        command.args(["run", "-q"]).current_dir(root).env_clear();
        for (name, value) in std::env::vars_os().filter(|(name, _)| keep.iter().any(|k| name == k)) {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(run(&newer), "newer");
    assert_eq!(run(&older), "older", "the older checkout ran the newer one's build");
    assert!(shared.is_dir(), "both built in the shared build directory");
}
