//! Directories the host makes, and the only ones it ever removes.
//!
//! Every directory the host creates for a run — the run's scratch directory (event pipes,
//! node logs, default homes) and a node `home` that did not exist — carries a marker file.
//! Removal checks the marker first, on the directory itself (never through a symbolic
//! link), so a path in tests.toml that names an existing directory of the user's is never
//! deleted, at boot or at teardown.
//!
//! The run's scratch directory also holds a lock file, locked (`flock`) for the run's life.
//! A later host sweeps leftovers of hosts that were SIGKILLed: only marked directories
//! whose lock it can take, which proves that no live run — in this pid namespace or
//! another container sharing the directory — still owns them.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use nix::fcntl::{Flock, FlockArg};
use tempfile::TempDir;

const PREFIX: &str = "host-run-";
/// The marker of a directory the host made.
pub const MARKER: &str = ".made-by-host";
const LOCK_FILE: &str = "run.lock";

/// The run's scratch directory, locked while this value lives.
pub struct Scratch {
    dir: TempDir,
    _lock: Flock<File>,
}

impl Scratch {
    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A fresh, marked and locked scratch directory. Leftovers of hosts that died (SIGKILL
/// leaves no chance to clean up) are removed first.
pub fn create() -> Result<Scratch> {
    sweep(&std::env::temp_dir());
    let dir = tempfile::Builder::new().prefix(PREFIX).tempdir().context("cannot create a scratch directory")?;
    let lock = File::create(dir.path().join(LOCK_FILE)).context("cannot create the scratch directory's lock file")?;
    let lock = Flock::lock(lock, FlockArg::LockExclusiveNonblock)
        .map_err(|(_, errno)| anyhow::anyhow!("cannot lock {}: {errno}", dir.path().join(LOCK_FILE).display()))?;
    write_marker(dir.path()).context("cannot mark the scratch directory")?;
    Ok(Scratch { dir, _lock: lock })
}

/// Keep the directory after the run (`persist_home`): unmarked, it is never swept.
pub fn keep(scratch: Scratch) -> PathBuf {
    let _ = std::fs::remove_file(scratch.path().join(MARKER));
    let _ = std::fs::remove_file(scratch.path().join(LOCK_FILE));
    scratch.dir.keep()
}

/// Create `path` (and its missing parents) and mark it as made by the host.
pub fn make_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    write_marker(path)
}

fn write_marker(path: &Path) -> std::io::Result<()> {
    let mut marker = File::create(path.join(MARKER))?;
    writeln!(marker, "made by host (pid {}); removed by host when its run ends", std::process::id())
}

/// Whether `path` is a real directory (not a link to one) that carries the host's marker.
pub fn is_host_made(path: &Path) -> bool {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir());
    is_dir && std::fs::symlink_metadata(path.join(MARKER)).is_ok_and(|meta| meta.is_file())
}

/// Remove `path` if the host made it; anything else is left alone. Returns whether it was
/// removed.
pub fn remove_if_host_made(path: &Path) -> std::io::Result<bool> {
    if !is_host_made(path) {
        return Ok(false);
    }
    std::fs::remove_dir_all(path)?;
    Ok(true)
}

/// Remove the scratch directories in `parent` that a dead host left: marked, and with a
/// lock that nobody holds.
pub fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) || !is_host_made(&path) {
            continue;
        }
        let Ok(lock) = File::open(path.join(LOCK_FILE)) else { continue };
        // Taken: its run is over. Held by anyone, anywhere: leave it.
        if let Ok(_taken) = Flock::lock(lock, FlockArg::LockExclusiveNonblock) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_directories_are_removed_and_links_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let mine = root.path().join("mine");
        make_dir(&mine).unwrap();
        let theirs = root.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::write(theirs.join("precious"), "x").unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&mine, &link).unwrap();
        assert!(!remove_if_host_made(&theirs).unwrap());
        assert!(!remove_if_host_made(&link).unwrap());
        assert!(theirs.join("precious").exists() && mine.exists());
        assert!(remove_if_host_made(&mine).unwrap());
        assert!(!mine.exists());
    }

    #[test]
    fn the_sweep_spares_locked_and_unmarked_directories() {
        let parent = tempfile::tempdir().unwrap();
        let make = |name: &str, marked: bool| {
            let dir = parent.path().join(format!("{PREFIX}{name}"));
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join(LOCK_FILE), "").unwrap();
            if marked {
                write_marker(&dir).unwrap();
            }
            dir
        };
        let live = make("live", true);
        let dead = make("dead", true);
        let unmarked = make("unmarked", false);
        let held = Flock::lock(File::open(live.join(LOCK_FILE)).unwrap(), FlockArg::LockExclusiveNonblock).unwrap();
        sweep(parent.path());
        assert!(live.exists(), "a locked (live) run's scratch survives");
        assert!(unmarked.exists(), "a directory the host did not mark survives");
        assert!(!dead.exists(), "an unlocked, marked leftover is swept");
        drop(held);
    }
}
