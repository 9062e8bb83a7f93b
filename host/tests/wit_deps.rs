//! `wit/deps` is the one copy of the WASI WIT packages (io, clocks, sockets, filesystem,
//! random, cli) that the C, Python and JavaScript SDKs build against; it must equal what the
//! host's wasmtime-wasi implements, at the version Cargo.lock pins
//! (`scripts/sync-wit-deps --check`).

mod common;

use common::repo;

#[test]
fn wit_deps_equal_the_wasi_interfaces_of_the_hosts_wasmtime() {
    let output = std::process::Command::new("bash")
        .arg(repo().join("scripts/sync-wit-deps"))
        .arg("--check")
        .output()
        .expect("cannot run scripts/sync-wit-deps");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn no_sdk_keeps_its_own_copy_of_a_wasi_package() {
    let copies: Vec<_> = walkdir_wit(&repo().join("guest-sdk"))
        .into_iter()
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains("package wasi:")))
        .collect();
    assert!(copies.is_empty(), "WASI WIT copied into an SDK (keep the one copy in wit/deps): {copies:?}");
}

/// Every `.wit` file below `dir`, not following links (the Python SDK links to wit/deps).
fn walkdir_wit(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        let path = entry.path();
        if kind.is_dir() && path.file_name().is_some_and(|n| n != "node_modules") {
            found.extend(walkdir_wit(&path));
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "wit") {
            found.push(path);
        }
    }
    found
}
