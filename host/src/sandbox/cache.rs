//! Compiled components cached across runs, keyed by the component's content and the
//! engine's compatibility (wasmtime version, target, settings), so a second run of the
//! same package skips compilation.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
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

    /// The compiled form of `wasm` from the cache, compiling (and storing) it on a miss.
    pub fn load(&self, engine: &Engine, wasm: &[u8], origin: &Path) -> Result<Cached> {
        let path = self.dir.join(format!("{}.cwasm", Self::key(engine, wasm)));
        if path.is_file() {
            // SAFETY: the file was written by `Component::serialize` for an engine with
            // the same compatibility hash (it is part of the key), in the user's own cache.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok(Cached { component, hit: true, warning: None });
            }
        }
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

    fn store(&self, path: &Path, component: &Component) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize()?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.persist(path)?;
        Ok(())
    }
}
