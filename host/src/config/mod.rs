//! `config`: tests.toml → a typed, validated [`Plan`].
//!
//! Parsing ([`raw`]) keeps the position of every value; validation turns raw values
//! into a plan or a [`ConfigError`] naming the file, line, column and key. Nothing is
//! silently ignored: unknown keys are errors, and keys that kit knows but host cannot
//! honour (`FetchVersion`, `fakechain_router`, `rpc`) are errors that say so.

mod addresses;
mod checks;
mod disk;
mod error;
mod handlers;
mod plan;
mod raw;
mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, ConfigErrors};
pub use handlers::{DEFAULT_HANDLER_QUEUE, DEFAULT_HANDLER_TIMEOUT, HandlerSource, HandlerSpec, package_at};
pub use plan::{
    BuildSpec, LogEvents, NodePlan, PackageKind, PackageRef, Plan, Program, Readiness, RunnerPlan, RuntimePlan, SandboxPolicy, Script,
    SetupPackage, TestPlan,
};
pub use addresses::{AddressBook, NodeAddress, ResolveError};
pub use template::{Key, Placeholder, Template, port_name_problem};
pub use checks::{env_problem, node_name_problem};
pub(crate) use validate::normalize;
pub use validate::resolve;

/// The manifest that makes a directory a package in any language.
pub const PACKAGE_MANIFEST: &str = "host-package.toml";

/// The file name looked for when the path given is a directory.
pub const DEFAULT_FILE: &str = "tests.toml";

/// The largest configuration file read (a tests.toml is a few kilobytes).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Find the configuration file: `path` itself, or `path/tests.toml` for a directory.
pub fn locate(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_dir() {
        let file = path.join(DEFAULT_FILE);
        // Whatever is there; `read` says so when it is not a regular file.
        if file.exists() {
            return Ok(file);
        }
        return Err(ConfigError::whole_file(&file, format!("no {DEFAULT_FILE} in directory {}", path.display())));
    }
    if !path.exists() {
        return Err(ConfigError::whole_file(path, "no such file"));
    }
    Ok(path.to_path_buf())
}

/// Read `file`: a regular file (never a device, FIFO or socket, which could block or
/// never end) of at most [`MAX_FILE_BYTES`], in UTF-8.
pub fn read(file: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let metadata = std::fs::metadata(file).map_err(|e| ConfigError::whole_file(file, format!("cannot read: {e}")))?;
    if !metadata.is_file() {
        return Err(ConfigError::whole_file(file, "not a regular file (a device, FIFO or socket is never read)"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ConfigError::whole_file(file, format!("too large: {} bytes (at most {MAX_FILE_BYTES})", metadata.len())));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| ConfigError::whole_file(file, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::whole_file(file, format!("too large: more than {MAX_FILE_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|e| ConfigError::whole_file(file, format!("not UTF-8: {e}")))
}

/// Read, parse and validate the configuration at `path` (a file or a directory).
pub fn load(path: &Path) -> Result<Plan, ConfigErrors> {
    let file = locate(path)?;
    let text = read(&file)?;
    parse(&file, &text)
}

/// Parse and validate `text`, the contents of `file`: every error found, in one pass.
pub fn parse(file: &Path, text: &str) -> Result<Plan, ConfigErrors> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => ConfigError::at(file, text, span, e.message().trim()),
        None => ConfigError::whole_file(file, e.message().trim()),
    })?;
    validate::Validator::new(file, text).plan(raw)
}
