//! `build`: turning tests.toml's sources into artifacts — test packages into `.wasm`
//! components (`cargo build --target wasm32-wasip2`, or the command a package's
//! `host-package.toml` declares, see [`custom`]) and `RepoPath` runtimes into node
//! executables. Cargo's own incremental build is the cache of Rust sources: an unchanged
//! package costs one no-op cargo call.

pub mod custom;
mod error;
mod fresh;

pub use error::BuildError;

use std::path::{Path, PathBuf};

use cargo_metadata::{Artifact, Message, TargetKind};
use tokio::process::Command;

use crate::config::{PackageKind, PackageRef, Program};

/// The target test packages are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// Why `package` will be built by [`package`], or `None` when its last build is current
/// (a component file; cargo sources unchanged since the recorded build; a declared
/// build cached for exactly its inputs). Costs file stamps and input hashes, no build.
pub fn stale_reason(package: &PackageRef, cache: &Path) -> Option<String> {
    match &package.kind {
        PackageKind::Component => None,
        PackageKind::Declared(spec) => custom::stale_reason(&package.path, spec, cache),
        PackageKind::Cargo => {
            let record = fresh::record_path(cache, &package.path, &["--release", "--target", GUEST_TARGET]);
            if !record.is_file() {
                Some("no build recorded yet".into())
            } else if fresh::fresh_artifact(&record).is_none() {
                Some("its sources changed since the last build".into())
            } else {
                None
            }
        }
    }
}

/// The component file of `package`, building it first when it is a source package;
/// `cache` holds the results of declared builds.
pub async fn package(package: &PackageRef, cache: &Path) -> Result<PathBuf, BuildError> {
    match &package.kind {
        PackageKind::Component => Ok(package.path.clone()),
        PackageKind::Declared(spec) => custom::build(&package.path, spec, cache).await,
        PackageKind::Cargo => {
            let args = ["--release", "--target", GUEST_TARGET];
            let record = fresh::record_path(cache, &package.path, &args);
            if let Some(wasm) = fresh::fresh_artifact(&record) {
                return Ok(wasm);
            }
            let artifacts = cargo_build(&package.path, &args).await?;
            let manifest = package.path.join("Cargo.toml");
            let manifest = manifest.canonicalize().map_err(BuildError::io(&manifest, "cannot resolve the manifest"))?;
            let wasm = artifacts
                .into_iter()
                .filter(|a| a.manifest_path.as_std_path() == manifest && a.target.kind.contains(&TargetKind::CDyLib))
                .flat_map(|a| a.filenames)
                .map(|file| file.into_std_path_buf())
                .find(|file| file.extension().is_some_and(|ext| ext == "wasm"))
                .ok_or_else(|| BuildError::NoArtifact {
                    dir: package.path.clone(),
                    problem: "cargo built no .wasm component; a test package needs `[lib] crate-type = [\"cdylib\"]`".into(),
                })?;
            fresh::remember(&record, &package.path, &wasm);
            Ok(wasm)
        }
    }
}

/// The executable that runs nodes of `program`, building it first for `Program::Cargo`
/// (unless its last build in `cache` is still fresh).
pub async fn runtime(program: &Program, cache: &Path) -> Result<PathBuf, BuildError> {
    match program {
        Program::Path(path) => Ok(path.clone()),
        Program::Command(name) => which::which(name).map_err(|source| BuildError::NotOnPath { name: name.clone(), source }),
        Program::Cargo { dir, bin, release } => {
            let mut args: Vec<&str> = Vec::new();
            if *release {
                args.push("--release");
            }
            if let Some(bin) = bin {
                args.extend(["--bin", bin]);
            }
            let record = fresh::record_path(cache, dir, &args);
            if let Some(exe) = fresh::fresh_artifact(&record) {
                return Ok(exe);
            }
            let executables: Vec<_> = cargo_build(dir, &args)
                .await?
                .into_iter()
                .filter(|a| bin.as_ref().is_none_or(|bin| &a.target.name == bin))
                .filter_map(|a| a.executable.map(|exe| (a.target.name, exe.into_std_path_buf())))
                .collect();
            match executables.as_slice() {
                [(_, exe)] => {
                    fresh::remember(&record, dir, exe);
                    Ok(exe.clone())
                }
                [] => Err(BuildError::NoArtifact { dir: dir.clone(), problem: "runtime.RepoPath: cargo built no executable".into() }),
                many => Err(BuildError::NoArtifact {
                    dir: dir.clone(),
                    problem: format!(
                        "runtime.RepoPath: cargo built several executables ({}); choose one with `bin = \"…\"`",
                        many.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                }),
            }
        }
    }
}

/// `cargo build` of the package in `dir`; the artifacts it reports (cargo_metadata parses
/// `--message-format=json`).
async fn cargo_build(dir: &Path, extra: &[&str]) -> Result<Vec<Artifact>, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = dir.join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command
        .arg("build")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(extra)
        // In the package's directory, as its author builds it: cargo finds the package's
        // own `.cargo/config.toml` (cargo reads configuration from where it runs).
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    let output = output_of_group(command).await.map_err(|source| BuildError::Spawn {
        dir: dir.to_path_buf(),
        command: format!("{} build", cargo.to_string_lossy()),
        source,
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains(GUEST_TARGET) && stderr.contains("target may not be installed") {
            format!("\nhint: run `rustup target add {GUEST_TARGET}`")
        } else {
            String::new()
        };
        return Err(BuildError::Failed {
            dir: dir.to_path_buf(),
            command: format!("{} build", cargo.to_string_lossy()),
            status: output.status,
            output: excerpt(&stderr),
            hint,
        });
    }
    Ok(Message::parse_stream(output.stdout.as_slice())
        .filter_map(|message| match message {
            Ok(Message::CompilerArtifact(artifact)) => Some(artifact),
            _ => None,
        })
        .collect())
}


/// Run a build command in a process group of its own, collecting its output. The group is
/// the host's to kill: registered with the lifetime machinery (a second Ctrl-C, the
/// watchdog of a SIGKILLed host) and SIGKILLed as a whole when this future is dropped —
/// so a cancelled build leaves no compiler behind, grandchildren included.
/// A failed build's output as an error shows it: whole when short; otherwise its first
/// lines (where compilers and tracebacks put the cause) and its last lines (where they
/// end), with a note of how many lines are left out between.
fn excerpt(text: &str) -> String {
    const HEAD: usize = 20;
    const TAIL: usize = 30;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= HEAD + TAIL + 1 {
        return lines.join("\n");
    }
    let skipped = lines.len() - HEAD - TAIL;
    format!("{}\n[… {skipped} lines not shown …]\n{}", lines[..HEAD].join("\n"), lines[lines.len() - TAIL..].join("\n"))
}

pub(crate) async fn output_of_group(mut command: Command) -> std::io::Result<std::process::Output> {
    command.process_group(0).kill_on_drop(true).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = command.spawn()?;
    let _group = child.id().map(crate::nodes::groups::GroupGuard::new);
    child.wait_with_output().await
}

/// Lowercase hexadecimal of `bytes` (digests in cache keys and archive manifests).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file that is removed when dropped unless [`kept`](PartialFile::kept): a build's
/// output before it is complete.
pub(crate) struct PartialFile(Option<PathBuf>);

impl PartialFile {
    pub(crate) fn new(path: PathBuf) -> PartialFile {
        PartialFile(Some(path))
    }

    /// The build completed: keep the file (the caller moves it into place).
    pub(crate) fn kept(mut self) -> PathBuf {
        self.0.take().expect("a partial file is kept once")
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_build_output_keeps_its_first_and_last_lines() {
        let text: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let shown = super::excerpt(&text);
        assert!(shown.starts_with("line 1\nline 2\n"), "{shown}");
        assert!(shown.contains("line 20\n[… 50 lines not shown …]\nline 71\n"), "{shown}");
        assert!(shown.ends_with("line 100"), "{shown}");
        assert_eq!(super::excerpt("one\ntwo\n"), "one\ntwo");
    }
}
