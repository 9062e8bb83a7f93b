//! Why a package or a runtime could not be built: one error type for the `build` module,
//! each variant naming the directory, file or command it is about. The cause of an I/O or
//! lookup failure is the error's `source`, so `{:#}` through `anyhow` prints
//! `what: why`, as the CLI shows it.

use std::path::PathBuf;
use std::process::ExitStatus;

/// A build that could not run, failed, or left no artifact.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The build command could not be started.
    #[error("{}: cannot run build command `{command}`", dir.display())]
    Spawn {
        dir: PathBuf,
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The build command ran and failed; `output` is an excerpt of what it printed.
    #[error("{}: build command `{command}` failed ({status}):\n{output}{hint}", dir.display())]
    Failed { dir: PathBuf, command: String, status: ExitStatus, output: String, hint: String },
    /// The build succeeded but did not produce what the host needs from it.
    #[error("{}: {problem}", dir.display())]
    NoArtifact { dir: PathBuf, problem: String },
    /// A file or directory the build reads or writes.
    #[error("{}: {action}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `runtime.Command` program that is not on `PATH`.
    #[error("runtime.Command: {name:?} is not on PATH")]
    NotOnPath {
        name: String,
        #[source]
        source: which::Error,
    },
    /// An `inputs` pattern of a `host-package.toml` that is not a valid glob.
    #[error("{}: input pattern {pattern:?}", dir.display())]
    Pattern {
        dir: PathBuf,
        pattern: String,
        #[source]
        source: globset::Error,
    },
}

impl BuildError {
    /// An I/O failure on `path` while doing `action` ("cannot read input", …).
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, action, source }
    }
}
