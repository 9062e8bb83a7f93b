//! What the last run left to do: every `host run` leaves `.host/last-run.json` beside its
//! tests.toml — the ids of the items that failed or did not run — and
//! `host run --rerun-failed` selects exactly those (see `reporters::LastRunWriter` for
//! the writing side).
//!
//! The file is data: ids in it that the suite no longer has select nothing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker and version of the file: `{"host_last_run": 1, …}`.
pub const LAST_RUN_VERSION: u32 = 1;

/// The directory beside tests.toml where the host keeps what it remembers of a suite.
pub const STATE_DIR: &str = ".host";

/// A last-run file larger than this is not a host's: it is refused rather than read.
const MAX_BYTES: u64 = 64 << 20;

/// Where the last run of the suite `tests_toml` is remembered: `.host/last-run.json` in
/// the same directory.
pub fn last_run_path(tests_toml: &Path) -> PathBuf {
    tests_toml.parent().unwrap_or(Path::new(".")).join(STATE_DIR).join("last-run.json")
}

/// The last run of a suite, as the host wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastRun {
    /// Always [`LAST_RUN_VERSION`]: marks the file as the host's.
    pub host_last_run: u32,
    /// How many items the run selected.
    pub selected: usize,
    /// Whether Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// The ids (`test/package/case`, `test/script:NAME`) that failed, or did not run
    /// (skipped, not run, or in a test whose setup or nodes failed), sorted; with items a
    /// `--rerun-failed` run left out (filters, a partition) carried over.
    pub outstanding: Vec<String>,
}

impl LastRun {
    /// Read `path`: `Ok(None)` when there is no such file, an error naming the file when
    /// it is not a last-run record.
    pub fn load(path: &Path) -> Result<Option<LastRun>, String> {
        let shown = path.display();
        let size = match std::fs::metadata(path) {
            Ok(metadata) => metadata.len(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("{shown}: {error}")),
        };
        if size > MAX_BYTES {
            return Err(format!("{shown}: {size} bytes: not a last-run record of host"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
        let last: LastRun = serde_json::from_str(&text).map_err(|e| format!("{shown}: not a last-run record of host: {e}"))?;
        if last.host_last_run != LAST_RUN_VERSION {
            return Err(format!("{shown}: last-run record version {}, this host reads version {LAST_RUN_VERSION}", last.host_last_run));
        }
        Ok(Some(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_no_last_run_and_a_foreign_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = last_run_path(&dir.path().join("tests.toml"));
        assert_eq!(path, dir.path().join(".host/last-run.json"));
        assert_eq!(LastRun::load(&path), Ok(None));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"outstanding\": 3}").unwrap();
        let error = LastRun::load(&path).unwrap_err();
        assert!(error.contains("last-run.json") && error.contains("not a last-run record"), "{error}");
        let last = LastRun { host_last_run: 1, selected: 2, interrupted: false, outstanding: vec!["t/p/c".into()] };
        std::fs::write(&path, serde_json::to_string(&last).unwrap()).unwrap();
        assert_eq!(LastRun::load(&path), Ok(Some(last)));
    }
}
