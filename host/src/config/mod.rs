//! `config`: tests.toml → a typed, validated [`Plan`].
//!
//! Parsing ([`raw`]) keeps the position of every value; validation turns raw values
//! into a plan or a [`ConfigError`] naming the file, line, column and key. Nothing is
//! silently ignored: unknown keys are errors, and keys that kit knows but host cannot
//! honour (`FetchVersion`, `fakechain_router`, `rpc`) are errors that say so.

mod error;
mod plan;
mod raw;
mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use plan::{
    BuildSpec, NodePlan, PackageKind, PackageRef, Plan, Program, Readiness, RuntimePlan, SandboxPolicy, Script,
    SetupPackage, TestPlan,
};
pub use template::{Key, Template};
pub(crate) use validate::normalize;

/// The manifest that makes a directory a package in any language.
pub const PACKAGE_MANIFEST: &str = "host-package.toml";

/// The file name looked for when the path given is a directory.
pub const DEFAULT_FILE: &str = "tests.toml";

/// The largest configuration file read: a tests.toml is text someone wrote.
pub const MAX_FILE_SIZE: u64 = 4 << 20;

/// Find the configuration file: `path` itself, or `path/tests.toml` for a directory.
/// Only a regular file: a FIFO, a device (`/dev/zero`) or a socket is refused before it
/// is opened, so reading can neither block nor run forever.
pub fn locate(path: &Path) -> Result<PathBuf, ConfigError> {
    let file = if path.is_dir() { path.join(DEFAULT_FILE) } else { path.to_path_buf() };
    let Ok(meta) = std::fs::metadata(&file) else {
        if path.is_dir() {
            return Err(ConfigError::whole_file(&file, format!("no {DEFAULT_FILE} in directory {}", path.display())));
        }
        return Err(ConfigError::whole_file(&file, "no such file"));
    };
    if !meta.is_file() {
        return Err(ConfigError::whole_file(&file, "not a regular file (a configuration is a text file, not a directory, FIFO or device)"));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(ConfigError::whole_file(&file, format!("{} bytes: over the {} MiB a configuration file may have", meta.len(), MAX_FILE_SIZE >> 20)));
    }
    Ok(file)
}

/// Read, parse and validate the configuration at `path` (a file or a directory).
pub fn load(path: &Path) -> Result<Plan, ConfigError> {
    use std::io::Read as _;
    let file = locate(path)?;
    let mut text = String::new();
    std::fs::File::open(&file)
        .and_then(|f| f.take(MAX_FILE_SIZE + 1).read_to_string(&mut text))
        .map_err(|e| ConfigError::whole_file(&file, format!("cannot read: {e}")))?;
    parse(&file, &text)
}

/// Parse and validate `text`, the contents of `file`.
pub fn parse(file: &Path, text: &str) -> Result<Plan, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => ConfigError::at(file, text, span, e.message().trim()),
        None => ConfigError::whole_file(file, e.message().trim()),
    })?;
    validate::Validator::new(file, text).plan(raw)
}
