//! Skipping cargo when nothing changed. Even a no-op `cargo build` costs tens of
//! milliseconds per package; on a warm second run that is most of the time to the first
//! result. After each build we record the artifact and every file cargo says it was made
//! from (its dep-info `.d` file, plus the manifests and lockfile) with their sizes and
//! modification times; when all of them are unchanged, the artifact is used as is.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Environment variables that change what cargo builds.
const BUILD_ENV: [&str; 5] = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTC"];

/// What a build produced and what it was made from.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    artifact: PathBuf,
    inputs: Vec<(PathBuf, u64, u128)>,
}

/// Where the record of building `dir` with `args` lives, under `cache`.
pub fn record_path(cache: &Path, dir: &Path, args: &[&str]) -> PathBuf {
    let mut hasher = Sha256::new();
    hasher.update(dir.display().to_string().as_bytes());
    for arg in args {
        hasher.update([0]);
        hasher.update(arg.as_bytes());
    }
    for name in BUILD_ENV {
        hasher.update([1]);
        hasher.update(std::env::var(name).unwrap_or_default().as_bytes());
    }
    let key: String = hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
    cache.join("cargo-fresh").join(format!("{key}.json"))
}

fn stamp(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
    Some((meta.len(), modified))
}

/// The artifact of an earlier build, if it and all its inputs are unchanged.
pub fn fresh_artifact(record: &Path) -> Option<PathBuf> {
    let record: Record = serde_json::from_slice(&std::fs::read(record).ok()?).ok()?;
    let unchanged = record.inputs.iter().all(|(path, size, modified)| stamp(path) == Some((*size, *modified)));
    unchanged.then_some(record.artifact)
}

/// Remember that `artifact` was built from `dir`'s sources; silently does nothing when the
/// dep-info cannot be read (the next run then asks cargo again).
pub fn remember(record: &Path, dir: &Path, artifact: &Path) {
    let Some(mut files) = dep_info(artifact) else { return };
    files.push(artifact.to_path_buf());
    // The package's and the workspace's manifests and lockfile, wherever they are.
    for ancestor in dir.ancestors() {
        for name in ["Cargo.toml", "Cargo.lock"] {
            let candidate = ancestor.join(name);
            if candidate.is_file() {
                files.push(candidate);
            }
        }
    }
    let inputs: Option<Vec<_>> = files.into_iter().map(|path| stamp(&path).map(|(size, modified)| (path, size, modified))).collect();
    let Some(inputs) = inputs else { return };
    let record_json = serde_json::to_vec(&Record { artifact: artifact.to_path_buf(), inputs });
    if let (Ok(json), Some(parent)) = (record_json, record.parent()) {
        let _ = std::fs::create_dir_all(parent);
        let _ = std::fs::write(record, json);
    }
}

/// The source files listed in the artifact's `.d` file (`artifact: dep dep …`, spaces in
/// paths escaped with a backslash).
fn dep_info(artifact: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(artifact.with_extension("d")).ok()?;
    let (_, deps) = text.lines().next()?.split_once(": ")?;
    let mut files = Vec::new();
    let mut current = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' => {
                if !current.is_empty() {
                    files.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        files.push(PathBuf::from(current));
    }
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_build_is_fresh_and_a_touched_input_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("lib.rs");
        std::fs::write(&source, "fn main() {}").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]").unwrap();
        let artifact = dir.path().join("out.wasm");
        std::fs::write(&artifact, "wasm").unwrap();
        std::fs::write(dir.path().join("out.d"), format!("{}: {}\n", artifact.display(), source.display())).unwrap();
        let record = record_path(dir.path(), dir.path(), &["--release"]);
        assert_eq!(fresh_artifact(&record), None, "nothing recorded yet");
        remember(&record, dir.path(), &artifact);
        assert_eq!(fresh_artifact(&record), Some(artifact.clone()));
        std::fs::write(&source, "fn main() { changed() }").unwrap();
        assert_eq!(fresh_artifact(&record), None, "a changed source needs cargo");
    }

    #[test]
    fn dep_info_paths_may_hold_escaped_spaces() {
        let dir = tempfile::tempdir().unwrap();
        let artifact = dir.path().join("a.wasm");
        std::fs::write(dir.path().join("a.d"), "/x/a.wasm: /src/my\\ file.rs /src/b.rs\n").unwrap();
        assert_eq!(dep_info(&artifact).unwrap(), [PathBuf::from("/src/my file.rs"), PathBuf::from("/src/b.rs")]);
    }
}
