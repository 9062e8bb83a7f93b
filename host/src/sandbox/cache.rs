//! Compiled components cached across runs, keyed by the component's content and the
//! engine's compatibility (wasmtime version, target, settings), so a second run of the
//! same package skips compilation.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// How big the cache may grow (`HOST_CACHE_MAX_MB` overrides it): compiled CPython
/// components are tens of megabytes each, and every change of a package adds one.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of precompiled components (`<key>.cwasm`).
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

/// A component out of [`CompileCache::load`].
pub struct Cached {
    pub component: Component,
    /// It was deserialized, not compiled.
    pub hit: bool,
    /// Something the user should know (the cache could not be written).
    pub warning: Option<String>,
}

/// Feeds `Hash` output into SHA-256, to hash the engine's compatibility value stably.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only the digest is read")
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl CompileCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> CompileCache {
        CompileCache { dir }
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The default location: `$HOST_CACHE_DIR`, else `$XDG_CACHE_HOME/host`, else `~/.cache/host`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("HOST_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("host"));
        }
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("host"))
    }

    fn key(engine: &Engine, wasm: &[u8]) -> String {
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.0.update(wasm);
        hasher.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The compiled form of `wasm` from the cache, compiling (and storing) it on a miss;
    /// `compiling` is told why just before a compile starts.
    pub fn load(&self, engine: &Engine, wasm: &[u8], origin: &Path, compiling: &dyn Fn(&str)) -> Result<Cached> {
        let path = self.dir.join(format!("{}.cwasm", Self::key(engine, wasm)));
        let mut reason = "cache miss";
        if path.is_file() {
            reason = "cached copy unreadable";
            // SAFETY: the file was written by `Component::serialize` for an engine with
            // the same compatibility hash (it is part of the key), in the user's own cache.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                // Recently used: the last to go when the cache is trimmed.
                let _ = std::fs::File::options().append(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
                return Ok(Cached { component, hit: true, warning: None });
            }
        }
        compiling(reason);
        let component = Component::new(engine, wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} is not a valid component", origin.display()))?;
        // A cache that cannot be written costs time, not correctness: warn and go on.
        let warning = self
            .store(&path, &component)
            .err()
            .map(|e| format!("cannot write compile cache {}: {e:#}", path.display()));
        Ok(Cached { component, hit: false, warning })
    }

    /// Keep the cache within `max_bytes`: compiled components (`*.cwasm`) and declared
    /// builds (`builds/*.wasm`), least recently used first (a hit refreshes an entry's
    /// time). Only files of the cache's own naming are removed, and none used since
    /// `since` (the current run's). Returns how many bytes were freed.
    pub fn trim(&self, max_bytes: u64, since: std::time::SystemTime) -> u64 {
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        for (dir, extension) in [(self.dir.clone(), "cwasm"), (self.dir.join("builds"), "wasm")] {
            let Ok(listing) = std::fs::read_dir(&dir) else { continue };
            for entry in listing.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
                if meta.is_file() && is_cache_entry(&path, extension) {
                    entries.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len(), path));
                }
            }
        }
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        entries.sort();
        let mut freed = 0;
        for (modified, size, path) in entries {
            if total <= max_bytes || modified >= since {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
                freed += size;
            }
        }
        freed
    }

    fn store(&self, path: &Path, component: &Component) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.persist(path)?;
        Ok(())
    }
}

/// Whether `path` is named as the cache names its entries: a hex digest (components) or
/// `name-<16 hex>.wasm` (declared builds), with `extension`. Nothing else is ever removed.
fn is_cache_entry(path: &Path, extension: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let Some(stem) = name.strip_suffix(&format!(".{extension}")) else { return false };
    let digest = stem.rsplit('-').next().unwrap_or_default();
    let hex = |text: &str| text.chars().all(|c| c.is_ascii_hexdigit());
    match extension {
        "cwasm" => stem.len() == 64 && hex(stem),
        _ => digest.len() == 16 && hex(digest) && stem.len() > 17,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn trimming_removes_the_least_recently_used_entries_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let builds = dir.path().join("builds");
        std::fs::create_dir(&builds).unwrap();
        let write = |path: PathBuf, age_secs: u64| {
            std::fs::write(&path, vec![0u8; 1000]).unwrap();
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(age_secs)).unwrap();
            path
        };
        let oldest = write(dir.path().join(format!("{}.cwasm", "a".repeat(64))), 300);
        let old_build = write(builds.join("pkg-0123456789abcdef.wasm"), 200);
        let recent = write(dir.path().join(format!("{}.cwasm", "b".repeat(64))), 100);
        let foreign = write(dir.path().join("notes.cwasm"), 400);
        let users = write(builds.join("mine.wasm"), 400);
        let cache = CompileCache::new(dir.path().to_path_buf());
        let freed = cache.trim(1500, SystemTime::now() - Duration::from_secs(10));
        assert_eq!(freed, 2000);
        assert!(!oldest.exists() && !old_build.exists(), "the two least recently used go");
        assert!(recent.exists(), "what fits stays");
        assert!(foreign.exists() && users.exists(), "files of other names are never removed");
        // Nothing used by the current run goes, whatever the limit.
        assert_eq!(cache.trim(0, SystemTime::now() - Duration::from_secs(150)), 0);
        assert!(recent.exists());
    }
}
