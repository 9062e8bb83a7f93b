//! Packages in any language: a directory with a `host-package.toml` names the command
//! that builds its component. The result is cached by the content of the package's input
//! files, the command and the WIT contract, so an unchanged Python or JavaScript package
//! does not pay its multi-second build again.
//!
//! ```toml
//! # host-package.toml
//! build = ["componentize-py", "-d", "{wit}", "-w", "{world}", "componentize", "app", "-o", "{out}"]
//! inputs = ["*.py", "../../guest-sdk/python/host_test/*.py"]   # default: every file below the directory
//! ```
//!
//! Placeholders in `build`: `{out}` (where the component must be written), `{wit}` (a
//! directory holding the contract, `tester.wit`, and the 0.2 contract in `v0.2/`), `{world}` (`tester`), `{dir}` (the
//! package directory). The same values are in `HOST_OUT`, `HOST_WIT_DIR`, `HOST_WORLD`.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};
use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::{BuildError, hex};
use crate::config::BuildSpec;

/// The contract, compiled into the binary so builds work wherever `host` is installed.
pub const WIT: &str = include_str!("../../../wit/tester.wit");
/// The 0.2 contract (`wit/v0.2/tester.wit`), handed over as `{wit}/v0.2` (with the 0.1
/// contract it imports from in `{wit}/v0.2/deps`).
pub const WIT_V2: &str = include_str!("../../../wit/v0.2/tester.wit");
/// The world every package targets.
pub const WORLD: &str = "tester";

/// Directories never walked for inputs.
const SKIPPED_DIRS: [&str; 4] = ["target", "node_modules", ".git", "__pycache__"];

/// Why the package in `dir` needs building, or `None` when a build of exactly its
/// current inputs (sources, command, contract) is cached.
pub fn stale_reason(dir: &Path, spec: &BuildSpec, cache: &Path) -> Option<String> {
    match cache_key(dir, spec) {
        Ok(key) if output(dir, &key, cache).is_file() => None,
        Ok(_) => Some("no cached build of its current sources, command and contract".into()),
        Err(error) => Some(format!("its inputs cannot be read ({:#})", anyhow::Error::new(error))),
    }
}

/// Where the build of the package in `dir` with inputs `key` is cached.
fn output(dir: &Path, key: &str, cache: &Path) -> PathBuf {
    let name = dir.file_name().map_or_else(|| "package".into(), |n| n.to_string_lossy().into_owned());
    cache.join("builds").join(format!("{name}-{}.wasm", &key[..16]))
}

/// Build (or take from `cache`) the component of the package in `dir`.
pub async fn build(dir: &Path, spec: &BuildSpec, cache: &Path) -> Result<PathBuf, BuildError> {
    let key = cache_key(dir, spec)?;
    let out = output(dir, &key, cache);
    if out.is_file() {
        // Recently used: the cache trims the least recently used builds first.
        let _ = std::fs::File::options().append(true).open(&out).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(out);
    }
    let wit = cache.join("wit").join(&hex(&Sha256::digest(format!("{WIT}{WIT_V2}")))[..16]);
    for (file, text) in [("tester.wit", WIT), ("v0.2/tester.wit", WIT_V2), ("v0.2/deps/host-test-0.1.wit", WIT)] {
        let contract = wit.join(file);
        let parent = contract.parent().expect("a wit dir");
        std::fs::create_dir_all(parent).map_err(BuildError::io(parent, "cannot create the directory"))?;
        // Another host may be building from this file right now: replace it whole (a
        // rename), never truncate it under a reader.
        let staged = parent.join(format!(".{}.{}.partial", contract.file_name().unwrap().to_string_lossy(), std::process::id()));
        std::fs::write(&staged, text)
            .and_then(|()| std::fs::rename(&staged, &contract))
            .map_err(BuildError::io(&contract, "cannot write the contract"))?;
    }
    let builds = out.parent().expect("a builds dir");
    std::fs::create_dir_all(builds).map_err(BuildError::io(builds, "cannot create the builds cache"))?;
    // Build into a name of this process's own (two hosts may build the same package at
    // once); only a complete component enters the cache, by an atomic rename.
    let partial = out.with_extension(format!("{}.partial.wasm", std::process::id()));
    let fill = |arg: &String| {
        arg.replace("{out}", &partial.display().to_string())
            .replace("{wit}", &wit.display().to_string())
            .replace("{world}", WORLD)
            .replace("{dir}", &dir.display().to_string())
    };
    let args: Vec<String> = spec.command.iter().map(fill).collect();
    // Removed if the build fails or is cancelled (Ctrl-C, SIGTERM).
    let guard = super::PartialFile::new(partial.clone());
    let mut command = Command::new(&args[0]);
    command
        .args(&args[1..])
        .current_dir(dir)
        .env("HOST_OUT", &partial)
        .env("HOST_WIT_DIR", &wit)
        .env("HOST_WORLD", WORLD)
        .stdin(std::process::Stdio::null());
    let output = super::output_of_group(command).await.map_err(|source| BuildError::Spawn {
        dir: dir.to_path_buf(),
        command: args.join(" "),
        source,
    })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        return Err(BuildError::Failed {
            dir: dir.to_path_buf(),
            command: args.join(" "),
            status: output.status,
            output: super::excerpt(&text),
            hint: String::new(),
        });
    }
    if !partial.is_file() {
        return Err(BuildError::NoArtifact {
            dir: dir.to_path_buf(),
            problem: format!("build command `{}` succeeded but wrote no component at {{out}} ({})", args.join(" "), partial.display()),
        });
    }
    let partial = guard.kept();
    std::fs::rename(&partial, &out).map_err(BuildError::io(&out, "cannot move the component into place"))?;
    Ok(out)
}

/// SHA-256 over the command, the contract and every input file (path and content).
fn cache_key(dir: &Path, spec: &BuildSpec) -> Result<String, BuildError> {
    let mut hasher = Sha256::new();
    for arg in &spec.command {
        hasher.update(arg.as_bytes());
        hasher.update([0]);
    }
    hasher.update(WIT.as_bytes());
    hasher.update(WIT_V2.as_bytes());
    for file in inputs(dir, &spec.inputs)? {
        let content = std::fs::read(&file).map_err(BuildError::io(&file, "cannot read the input"))?;
        hasher.update(file.display().to_string().as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(hex(&hasher.finalize()))
}

/// The files matching `patterns` (relative to `dir`), sorted.
fn inputs(dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, BuildError> {
    let mut files = Vec::new();
    for pattern in patterns {
        // Walk from the literal part of the pattern (which may climb out of `dir`).
        let literal: PathBuf = Path::new(pattern).components().take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[', '{'])).collect();
        let root = dir.join(&literal);
        let invalid = |source| BuildError::Pattern { dir: dir.to_path_buf(), pattern: pattern.clone(), source };
        let glob = Glob::new(&dir.join(pattern).display().to_string()).map_err(invalid)?;
        let set = GlobSetBuilder::new().add(glob).build().map_err(invalid)?;
        let walker = walkdir::WalkDir::new(&root).into_iter().filter_entry(|e| {
            !(e.file_type().is_dir() && SKIPPED_DIRS.iter().any(|skip| e.file_name() == *skip))
        });
        for entry in walker.filter_map(Result::ok) {
            if entry.file_type().is_file() && (set.is_match(entry.path()) || entry.path() == root) {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}
