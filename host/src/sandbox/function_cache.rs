//! Compiled functions cached across components (Cranelift's incremental compilation
//! cache), in a directory of the compile cache.
//!
//! Components of one language share most of their code: every Python package carries the
//! same CPython, every JavaScript package the same QuickJS, every Go package the same
//! runtime. A package's first compile fills this cache one function at a time; the next
//! package (or the same package after an edit) finds most of its functions here and skips
//! their optimisation and register allocation, the bulk of a compile. Keys are Cranelift's
//! own: a digest of the function's code and of the compiler's settings and version, so an
//! entry never stands for different code; an entry that does not read back is compiled
//! again.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The directory of the compile cache that holds compiled functions.
pub const DIR: &str = "functions";

/// One file per compiled function, `functions/<2 hex>/<rest of the key in hex>`, written
/// as every entry of the compile cache is (`cache::write_atomically`).
#[derive(Debug)]
pub struct FunctionCache {
    dir: PathBuf,
    /// Entries written by this process: only then can the directory need trimming.
    inserted: AtomicU64,
    /// Entries this process read back (each a function not compiled again).
    hits: AtomicU64,
}

impl FunctionCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> FunctionCache {
        FunctionCache { dir, inserted: AtomicU64::new(0), hits: AtomicU64::new(0) }
    }

    /// How many entries this process wrote.
    pub fn inserted(&self) -> u64 {
        self.inserted.load(Ordering::Relaxed)
    }

    /// How many entries this process read back.
    #[cfg(test)]
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Where the entry of `key` lives (`None`: not a key this cache can name).
    fn entry(&self, key: &[u8]) -> Option<PathBuf> {
        if key.is_empty() || key.len() > 64 {
            return None;
        }
        let name = super::cache::hex(key);
        let (fanout, rest) = name.split_at(2);
        Some(self.dir.join(fanout).join(rest))
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let value = std::fs::read(self.entry(key)?).ok()?;
        // Counted as read, not as used: Cranelift may still reject it and compile instead.
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Cow::Owned(value))
    }

    /// Best effort: a cache that cannot be written costs a later compile, nothing else.
    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let Some(path) = self.entry(key) else { return false };
        let written = super::cache::write_atomically(&path, &value).is_ok();
        if written {
            self.inserted.fetch_add(1, Ordering::Relaxed);
        }
        written
    }
}

/// Whether `path` (inside the cache's `functions` directory) is named as an entry is: a
/// two-hex-digit directory holding a hex name. Nothing else is ever trimmed.
pub fn is_entry(path: &Path) -> bool {
    let hex = |text: &str| !text.is_empty() && text.len() <= 126 && text.chars().all(|c| c.is_ascii_hexdigit());
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let parent = path.parent().and_then(Path::file_name).and_then(|n| n.to_str()).unwrap_or_default();
    parent.len() == 2 && hex(parent) && hex(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use wasmtime::{Config, Engine};

    /// A function computing something of its own (`seed` and `i` pick the constants).
    fn function(seed: u32, i: u32) -> String {
        let k = seed * 1000 + i;
        format!("(func (export \"f{k}\") (param i32) (result i32) local.get 0 i32.const {k} i32.mul i32.const {k} i32.xor)")
    }

    fn module(functions: impl Iterator<Item = String>) -> String {
        format!("(module {})", functions.collect::<String>())
    }

    fn engine(cache: &Arc<FunctionCache>) -> Engine {
        let mut config = Config::new();
        // One function at a time: compiled in parallel, two alike trampolines may both miss.
        config.parallel_compilation(false);
        config.enable_incremental_compilation(cache.clone() as Arc<dyn wasmtime::CacheStore>).unwrap();
        Engine::new(&config).unwrap()
    }

    /// The second module shares 20 of its 21 functions with the first: they come from the
    /// cache, written by another engine (another run), and only the new one is compiled.
    #[test]
    fn functions_compiled_once_are_taken_from_the_cache_by_the_next_module() {
        let dir = tempfile::tempdir().unwrap();
        let first = Arc::new(FunctionCache::new(dir.path().join(DIR)));
        wasmtime::Module::new(&engine(&first), module((0..20).map(|i| function(1, i)))).unwrap();
        // (Their entry trampolines are alike — one signature — and stored once.)
        assert!(first.inserted() >= 20, "every function stored: {}", first.inserted());

        let second = Arc::new(FunctionCache::new(dir.path().join(DIR)));
        // The new function comes first: the shared ones sit at other indices than before.
        let both = module(std::iter::once(function(2, 0)).chain((0..20).map(|i| function(1, i))));
        let compiled = wasmtime::Module::new(&engine(&second), &both).unwrap();
        assert!(second.hits() >= 20, "the shared functions are read back: {}", second.hits());
        // The new function and its trampoline; none of the 20 shared ones.
        assert!((1..=2).contains(&second.inserted()), "only what is new is stored: {}", second.inserted());
        // And what came from the cache runs as compiled.
        let mut store = wasmtime::Store::new(compiled.engine(), ());
        let instance = wasmtime::Instance::new(&mut store, &compiled, &[]).unwrap();
        let f3 = instance.get_typed_func::<i32, i32>(&mut store, "f1003").unwrap();
        assert_eq!(f3.call(&mut store, 2).unwrap(), (2 * 1003) ^ 1003);
    }

    /// Entries are named by their key; nothing else in the directory counts as one.
    #[test]
    fn only_files_named_as_entries_are_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FunctionCache::new(dir.path().join(DIR));
        let path = cache.entry(&[0xab; 32]).unwrap();
        assert!(is_entry(&path));
        assert!(path.ends_with(format!("ab/{}", "ab".repeat(31))));
        assert!(!is_entry(&dir.path().join(DIR).join("ab").join("notes.txt")));
        assert!(!is_entry(&dir.path().join(DIR).join("abc").join("ab")));
        assert!(cache.entry(&[]).is_none());
    }
}
