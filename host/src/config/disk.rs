//! Planning checks: what the configuration names must be on disk (executables, homes,
//! scripts, data directories). Validation records them as [`Obligation`]s instead of
//! looking; [`check`] then looks at the disk once, and its errors keep their positions.
//! (Packages and `RepoPath` are looked at during validation: what kind of package a
//! path is depends on what is there.)

use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What a path must be on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// An executable regular file (`runtime.Path`).
    Executable,
    /// A program found on `PATH` (`runtime.Command`); the path is the command.
    OnPath,
    /// A regular file (a script).
    File,
    /// A directory (`sandbox.data_dir`).
    Directory,
    /// A node home: absent, or a directory that is not (through a link) a protected one.
    Home,
}

/// A check that validation leaves to planning: `path` (for the value at `span` of key
/// `key`) must be what `expect` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    pub span: Range<usize>,
    pub key: String,
    pub path: PathBuf,
    pub expect: Expect,
}

/// Look at the disk for every obligation (each distinct one once): the span and the
/// message of each that is not met.
pub fn check(obligations: &[Obligation], base_dir: &Path, user_home: Option<&Path>) -> Vec<(Range<usize>, String)> {
    let mut seen: Vec<&Obligation> = Vec::new();
    let mut problems = Vec::new();
    for obligation in obligations {
        if seen.contains(&obligation) {
            continue;
        }
        seen.push(obligation);
        let path = &obligation.path;
        let problem = match obligation.expect {
            Expect::OnPath => command_problem(&path.to_string_lossy()),
            Expect::Home => home_problem(path, base_dir, user_home),
            _ if !path.exists() => Some(format!("no such file or directory: {}", path.display())),
            Expect::Executable => executable_problem(path),
            Expect::File if !path.is_file() => Some(format!("{} is not a file", path.display())),
            Expect::Directory if !path.is_dir() => Some(format!("{} is not a directory", path.display())),
            Expect::File | Expect::Directory => None,
        };
        if let Some(problem) = problem {
            problems.push((obligation.span.clone(), format!("{}: {problem}", obligation.key)));
        }
    }
    problems
}

/// Why `path` (which exists) cannot be run as a node's program, or `None` when it can.
pub fn executable_problem(path: &Path) -> Option<String> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => return Some(format!("{}: {error}", path.display())),
    };
    if metadata.is_dir() {
        return Some(format!("{} is a directory, not an executable file", path.display()));
    }
    if !metadata.is_file() {
        return Some(format!("{} is not a regular file", path.display()));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Some(format!("{} is not executable (chmod +x it)", path.display()));
    }
    None
}

/// Why `command` cannot be found on `PATH` as an executable, or `None` when it can.
pub fn command_problem(command: &str) -> Option<String> {
    match which::which(command) {
        Ok(_) => None,
        Err(_) => Some(format!("{command:?} is not an executable found on PATH")),
    }
}

/// Why an existing `resolved` home cannot be used: it is a file, or (through a
/// symbolic link) the suite's directory, the user's home or an ancestor of either.
pub fn home_problem(resolved: &Path, base_dir: &Path, user_home: Option<&Path>) -> Option<String> {
    let metadata = std::fs::metadata(resolved).ok()?;
    if !metadata.is_dir() {
        return Some(format!("{} exists and is not a directory", resolved.display()));
    }
    let real = std::fs::canonicalize(resolved).ok()?;
    let protected = [Some(base_dir), user_home].into_iter().flatten().filter_map(|p| std::fs::canonicalize(p).ok());
    for dir in protected {
        if dir.starts_with(&real) {
            return Some(format!(
                "{} is (through a link) {} or one of its ancestors; a home must be a directory of the node's own",
                resolved.display(),
                dir.display()
            ));
        }
    }
    None
}
