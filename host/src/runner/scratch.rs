//! The run's scratch directory (event pipes, node logs, default homes), and the sweep of
//! those that a killed host could not remove.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use tempfile::TempDir;

const PREFIX: &str = "host-run-";
const OWNER_FILE: &str = "owner.pid";

/// A fresh scratch directory owned by this process. Leftovers of hosts that died
/// (SIGKILL leaves no chance to clean up) are removed first.
pub fn create() -> Result<TempDir> {
    sweep();
    let dir = tempfile::Builder::new().prefix(PREFIX).tempdir().context("cannot create a scratch directory")?;
    std::fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string())
        .context("cannot write the scratch directory's owner file")?;
    Ok(dir)
}

/// Keep the directory after the run (`persist_home`); it is no longer swept.
pub fn keep(dir: TempDir) -> PathBuf {
    let _ = std::fs::remove_file(dir.path().join(OWNER_FILE));
    dir.keep()
}

/// Remove scratch directories whose owner process is gone.
fn sweep() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let Ok(owner) = std::fs::read_to_string(path.join(OWNER_FILE)) else { continue };
        let Ok(pid) = owner.trim().parse::<i32>() else { continue };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if !alive {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
