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

/// The manifest that makes a directory a package in any language.
pub const PACKAGE_MANIFEST: &str = "host-package.toml";

/// The file name looked for when the path given is a directory.
pub const DEFAULT_FILE: &str = "tests.toml";

/// Find the configuration file: `path` itself, or `path/tests.toml` for a directory.
pub fn locate(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_dir() {
        let file = path.join(DEFAULT_FILE);
        if file.is_file() {
            return Ok(file);
        }
        return Err(ConfigError::whole_file(&file, format!("no {DEFAULT_FILE} in directory {}", path.display())));
    }
    if !path.exists() {
        return Err(ConfigError::whole_file(path, "no such file"));
    }
    Ok(path.to_path_buf())
}

/// Read, parse and validate the configuration at `path` (a file or a directory).
pub fn load(path: &Path) -> Result<Plan, ConfigError> {
    let file = locate(path)?;
    let text = std::fs::read_to_string(&file)
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
