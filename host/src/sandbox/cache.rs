//! Compiled components cached across runs, keyed by the component's content and the
//! engine's compatibility (wasmtime version, target, settings), so a second run of the
//! same package skips compilation.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

/// How big the cache may grow (`HOST_CACHE_MAX_MB` overrides it): compiled CPython
/// components are tens of megabytes each, and every change of a package adds one.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;
use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine};
use wasmtime::component::Component;

use super::function_cache::{self, FunctionCache};

/// A directory of precompiled components (`<key>.cwasm`), of declared builds
/// (`builds/`) and of compiled functions (`functions/`, see [`FunctionCache`]).
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    functions: Arc<FunctionCache>,
}

/// A component out of [`CompileCache::load_file`].
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
        let functions = Arc::new(FunctionCache::new(dir.join(function_cache::DIR)));
        CompileCache { dir, functions }
    }

    /// Have engines made from `config` keep every function they compile in this cache
    /// and take it from there when they meet the same function again — in another
    /// package of the same language, or the same package after an edit.
    pub fn configure(&self, config: &mut Config) -> Result<()> {
        config.enable_incremental_compilation(self.functions.clone() as Arc<dyn wasmtime::CacheStore>)?;
        Ok(())
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
        hex(&hasher.0.finalize())
    }

    /// The compiled form of the component file at `origin`, compiling (and storing) it on a miss —
    /// `compiling` is told why just before a compile starts. When
    /// the file is the one a stamp recorded (same device, inode, size, modification and
    /// change times — the change time moves on every write and cannot be set back), its
    /// key comes from the stamp: a warm run neither reads nor hashes the component (for a
    /// 3 MB package that was a quarter of the host's start-up).
    pub fn load_file(&self, engine: &Engine, origin: &Path, compiling: &dyn Fn(&str)) -> Result<Cached> {
        let identity = identity(origin).with_context(|| format!("cannot read {}", origin.display()))?;
        let stamp = self.stamp_path(engine, origin);
        let stamped = std::fs::read_to_string(&stamp).ok().and_then(|text| {
            let (recorded, key) = text.trim_end().rsplit_once(' ')?;
            (recorded == identity && key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit())).then(|| key.to_string())
        });
        if let Some(cached) = stamped.and_then(|key| self.hit(engine, &self.entry(&key))) {
            return Ok(cached);
        }
        let wasm = std::fs::read(origin).with_context(|| format!("cannot read {}", origin.display()))?;
        let key = Self::key(engine, &wasm);
        let cached = self.load_keyed(engine, &wasm, &key, origin, compiling)?;
        // Best effort: without a stamp the next run reads and hashes the file again.
        let _ = write_atomically(&stamp, format!("{identity} {key}\n").as_bytes());
        Ok(cached)
    }

    /// What identifies `engine`'s compiled code: a hex digest of its compatibility hash
    /// (wasmtime version, target and CPU features, settings). A component compiled for one
    /// engine loads into another only when their fingerprints are equal.
    pub fn engine_fingerprint(engine: &Engine) -> String {
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hex(&hasher.0.finalize())
    }

    /// The compiled form of the component `wasm` for `engine`, as a cache of that engine
    /// would hold it: its entry's file name (`<key>.cwasm`) and bytes — taken from `cache`
    /// when it is there, compiled otherwise (not stored).
    pub fn precompiled(engine: &Engine, cache: Option<&CompileCache>, wasm: &[u8]) -> Result<(String, Vec<u8>)> {
        let key = Self::key(engine, wasm);
        let name = format!("{key}.cwasm");
        if let Some(bytes) = cache.and_then(|cache| std::fs::read(cache.entry(&key)).ok()) {
            return Ok((name, bytes));
        }
        let bytes = engine.precompile_component(wasm).map_err(anyhow::Error::from)?;
        Ok((name, bytes))
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    /// The cached component at `path`, if it is there and deserializes.
    fn hit(&self, engine: &Engine, path: &Path) -> Option<Cached> {
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file was written by `Component::serialize` for an engine with the
        // same compatibility hash (it is part of the key), in the user's own cache.
        let component = unsafe { Component::deserialize_file(engine, path) }.ok()?;
        // Recently used: the last to go when the cache is trimmed.
        let _ = std::fs::File::options().append(true).open(path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(Cached { component, hit: true, warning: None })
    }

    fn load_keyed(&self, engine: &Engine, wasm: &[u8], key: &str, origin: &Path, compiling: &dyn Fn(&str)) -> Result<Cached> {
        let path = self.entry(key);
        if let Some(cached) = self.hit(engine, &path) {
            return Ok(cached);
        }
        compiling(if path.is_file() { "cached copy unreadable" } else { "cache miss" });
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

    /// Where the stamp of the component file `origin` lives (per engine).
    fn stamp_path(&self, engine: &Engine, origin: &Path) -> PathBuf {
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.0.update(origin.as_os_str().as_encoded_bytes());
        self.dir.join("stamps").join(&hex(&hasher.0.finalize())[..32])
    }

    /// Keep the cache within `max_bytes`: compiled components (`*.cwasm`), declared
    /// builds (`builds/*.wasm`) and — when this process added to them — compiled functions
    /// (`functions/`), least recently written or used first (a component hit refreshes its
    /// entry's time). Only files of the cache's own naming are removed, and none used
    /// since `since` (the current run's). Returns how many bytes were freed.
    pub fn trim(&self, max_bytes: u64, since: std::time::SystemTime) -> u64 {
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        let mut add = |path: PathBuf| {
            let Ok(meta) = std::fs::symlink_metadata(&path) else { return };
            if meta.is_file() {
                entries.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len(), path));
            }
        };
        for (dir, extension) in [(self.dir.clone(), "cwasm"), (self.dir.join("builds"), "wasm")] {
            let Ok(listing) = std::fs::read_dir(&dir) else { continue };
            for entry in listing.flatten() {
                if is_cache_entry(&entry.path(), extension) {
                    add(entry.path());
                }
            }
        }
        // Thousands of small files: listed only when this run wrote some, so that a warm
        // run does not pay for walking them.
        if self.functions.inserted() > 0 {
            let fanouts = std::fs::read_dir(self.dir.join(function_cache::DIR)).into_iter().flatten().flatten();
            // Only directories the cache made: a link there may lead anywhere.
            for fanout in fanouts.filter(|fanout| fanout.file_type().is_ok_and(|kind| kind.is_dir())) {
                for entry in std::fs::read_dir(fanout.path()).into_iter().flatten().flatten() {
                    if function_cache::is_entry(&entry.path()) {
                        add(entry.path());
                    }
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
        write_atomically(path, &component.serialize()?)?;
        Ok(())
    }
}

/// Write `bytes` to `path` (making its directory) through a temporary file renamed into
/// place, so that runs sharing the cache never read half an entry.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies the file at `path` without reading it.
fn identity(path: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok(format!(
        "{} {} {} {}.{} {}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    ))
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

    /// A component's stamp saves reading it while the file stays the same, and is ignored
    /// once it changes (its change time moves, whatever its modification time says).
    #[test]
    fn a_stamp_stands_for_the_file_only_while_the_file_is_unchanged() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("cache"));
        let origin = dir.path().join("package.wasm");
        std::fs::write(&origin, wat_component("first")).unwrap();
        assert!(!cache.load_file(&engine, &origin, &|_| {}).unwrap().hit, "first load compiles");
        let stamp = cache.stamp_path(&engine, &origin);
        assert!(stamp.is_file());
        assert!(cache.load_file(&engine, &origin, &|_| {}).unwrap().hit);
        // Replace the content, keep the size and the modification time.
        let mtime = std::fs::metadata(&origin).unwrap().modified().unwrap();
        std::fs::write(&origin, wat_component("secnd")).unwrap();
        std::fs::File::options().append(true).open(&origin).unwrap().set_modified(mtime).unwrap();
        let loaded = cache.load_file(&engine, &origin, &|_| {}).unwrap();
        assert!(!loaded.hit, "a changed file is compiled again, not taken for the stamped one");
        // A stamp naming a key that is not in the cache is a miss, not an error.
        std::fs::write(&stamp, format!("{} {}\n", identity(&origin).unwrap(), "0".repeat(64))).unwrap();
        assert!(cache.load_file(&engine, &origin, &|_| {}).unwrap().hit, "falls back to the content key");
        // While the file is unchanged, the stamp's key is taken without reading the file:
        // pointed at another cached component, that is what loads.
        let other = dir.path().join("other.wasm");
        std::fs::write(&other, wat_component("other")).unwrap();
        let other_key = CompileCache::key(&engine, &wat_component("other"));
        let other_bytes = cache.load_file(&engine, &other, &|_| {}).unwrap().component.serialize().unwrap();
        std::fs::write(&stamp, format!("{} {other_key}\n", identity(&origin).unwrap())).unwrap();
        let loaded = cache.load_file(&engine, &origin, &|_| {}).unwrap();
        assert!(loaded.hit);
        assert_eq!(loaded.component.serialize().unwrap(), other_bytes, "the stamp decided, not the file's content");
    }

    /// A minimal component (as text, which wasmtime compiles too) whose bytes differ by
    /// `name`: same length for same-length names.
    fn wat_component(name: &str) -> Vec<u8> {
        format!("(component (core module ${name}))").into_bytes()
    }

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

    /// Compiled functions are trimmed with the rest, least recently written first — but
    /// only by a run that added some (a warm run does not walk thousands of files).
    #[test]
    fn compiled_functions_are_trimmed_only_by_a_run_that_compiled() {
        let dir = tempfile::tempdir().unwrap();
        let functions = dir.path().join(function_cache::DIR).join("ab");
        std::fs::create_dir_all(&functions).unwrap();
        let old = |name: String| {
            let path = functions.join(name);
            std::fs::write(&path, vec![0u8; 1 << 20]).unwrap();
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(300)).unwrap();
            path
        };
        let stale = old("cd".repeat(31));
        let foreign = old("notes.txt".to_string());
        // A fan-out directory that is a link to a directory the cache did not make.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("ef".repeat(31)), vec![0u8; 1 << 20]).unwrap();
        std::fs::File::options().append(true).open(elsewhere.join("ef".repeat(31))).unwrap().set_modified(SystemTime::now() - Duration::from_secs(300)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(function_cache::DIR).join("ef")).unwrap();
        let since = SystemTime::now() - Duration::from_secs(10);

        let warm = CompileCache::new(dir.path().to_path_buf());
        assert_eq!(warm.trim(0, since), 0, "nothing compiled: the functions are not looked at");
        assert!(stale.exists());

        let compiling = CompileCache::new(dir.path().to_path_buf());
        let mut config = Config::new();
        compiling.configure(&mut config).unwrap();
        let engine = Engine::new(&config).unwrap();
        Component::new(&engine, "(component (core module (func (export \"f\") (result i32) i32.const 7)))").unwrap();
        let written = || walkdir::WalkDir::new(dir.path().join(function_cache::DIR)).into_iter().flatten().filter(|e| e.file_type().is_file()).count();
        let before = written();
        assert!(before >= 3, "the component's functions were stored beside the two old files");
        assert_eq!(compiling.trim(0, since), 1 << 20, "the old entry goes");
        assert!(!stale.exists() && foreign.exists(), "files of other names are never removed");
        assert!(elsewhere.join("ef".repeat(31)).exists(), "nothing is removed through a link");
        assert_eq!(written(), before - 1, "what this run wrote stays");
    }
}
