//! `archive`: a suite packed to run on another machine without building or compiling
//! anything (cargo-nextest's archive model). `host archive OUT` builds and compiles every
//! package of the suite and writes OUT, a zstd-compressed tar holding the components and
//! their compiled form for this host's engine, what `list-cases` said of each, the node
//! executables built from `RepoPath`, tests.toml rewritten to point inside the archive
//! and every file it names ([`layout`]), and a [`Manifest`] with the SHA-256 of every file.
//! `host run --archive OUT` extracts it ([`unpack`]), checks every checksum and that it
//! was made by this host version for this engine, and runs the archived tests.toml with
//! the archive's compile cache.

mod layout;
mod pack;
mod unpack;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use pack::{Summary, create};
pub use unpack::{Extracted, extract};

/// The manifest's name, at the archive's root.
pub const MANIFEST: &str = "host-archive.json";
/// The suite's directory inside the archive (tests.toml is `project/tests.toml`).
pub const PROJECT_DIR: &str = "project";
/// The compile cache inside the archive.
pub const CACHE_DIR: &str = "cache";
/// The version of the archive layout this host writes and reads.
pub const FORMAT: u32 = 1;

/// What an archive holds and what it was made for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub host_archive: u32,
    /// The version of the host that made it; only the same version runs it.
    pub host_version: String,
    /// The wasmtime version of that host (for people: the engine fingerprint covers it).
    pub wasmtime_version: String,
    /// The engine its compiled components are for ([`crate::sandbox::Sandbox::engine_fingerprint`]:
    /// wasmtime version, target, CPU features, settings).
    pub engine: String,
    /// The target triple that host was built for; only the same one runs it.
    pub target: String,
    /// The tests.toml it was made from (for people; never read).
    pub source: String,
    /// The test packages: their component in the archive and their cases.
    pub packages: Vec<ArchivedPackage>,
    /// Every file but the manifest: path in the archive → SHA-256 (hex).
    pub files: BTreeMap<String, String>,
    /// Every directory that is in the archive for its own sake (an empty data directory).
    pub directories: Vec<String>,
}

/// A test package in an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedPackage {
    pub name: String,
    /// Its component, relative to the archive's root.
    pub path: String,
    /// What its `list-cases` returned when the archive was made.
    pub cases: Vec<String>,
}

/// This host's version, as manifests record it.
pub fn host_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The target triple this host was built for, as manifests record it.
pub fn target() -> &'static str {
    env!("HOST_TARGET_TRIPLE")
}

/// The wasmtime version this host was built with (from Cargo.lock).
pub fn wasmtime_version() -> &'static str {
    env!("HOST_WASMTIME_VERSION")
}

/// Refuse to run an archive whose components were compiled for another engine than
/// `found` (this host's, for the archive's tests.toml).
pub fn check_engine(expected: &str, found: &str) -> anyhow::Result<()> {
    if expected != found {
        anyhow::bail!(
            "the archive's components were compiled for another engine (fingerprint {}…; this host's is {}…: another \
             wasmtime build, CPU or HOST_POOLING setting); make the archive on a machine like this one",
            expected.chars().take(16).collect::<String>(),
            found.chars().take(16).collect::<String>()
        );
    }
    Ok(())
}
