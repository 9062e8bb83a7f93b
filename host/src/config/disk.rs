//! Planning checks: what the configuration names must be on disk (executables, homes).
//! Kept apart from the pure checks so that validation of values never touches the disk.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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
