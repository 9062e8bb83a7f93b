//! Event handlers and hooks (`[[event_handlers]]` in tests.toml, `host run
//! --event-handler`): what to start, with which arguments, how it is called and what it
//! may touch. Running them is the `handlers` module's job.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::plan::{PackageKind, PackageRef};

/// How long one call of a handler may take by default (`timeout_secs`).
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(10);
/// Events an asynchronous handler may fall behind by before events are dropped (`queue`).
pub const DEFAULT_HANDLER_QUEUE: usize = 10_000;

/// One event handler of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerSpec {
    /// Its name in reports: `name`, else the package's name, else the command's program.
    pub name: String,
    pub source: HandlerSource,
    /// Passed to `init`.
    pub args: Vec<String>,
    /// Awaited before the run goes on (Common Test's `sync_notify`).
    pub sync: bool,
    /// Also a hook: asked about every case that ran, before it is reported.
    pub hooks: bool,
    /// Hooks run in ascending priority (ties in the order given).
    pub priority: i64,
    /// The one directory the handler may read and write, mounted at `/data`.
    pub dir: Option<PathBuf>,
    /// Longest one call (`init`, an event, a hook, `terminate`) may take.
    pub timeout: Duration,
    /// Events an asynchronous handler may have waiting; more are dropped and counted.
    pub queue: usize,
}

/// What runs the handler.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerSource {
    /// A component of the `event-handler` world (`wit/handler/handler.wit`): a `.wasm`
    /// file or a package directory, built as test packages are.
    Component(PackageRef),
    /// A native command (`cmd:COMMAND`, split on whitespace) reading `--format json`
    /// lines on its stdin.
    Command(Vec<String>),
}

impl HandlerSpec {
    /// A handler with the defaults, from `source`.
    pub fn new(source: HandlerSource) -> HandlerSpec {
        let name = match &source {
            HandlerSource::Component(package) => package.name.clone(),
            HandlerSource::Command(argv) => {
                argv.first().and_then(|p| Path::new(p).file_name()).map_or("command".into(), |n| n.to_string_lossy().into_owned())
            }
        };
        HandlerSpec {
            name,
            source,
            args: Vec::new(),
            sync: false,
            hooks: false,
            priority: 0,
            dir: None,
            timeout: DEFAULT_HANDLER_TIMEOUT,
            queue: DEFAULT_HANDLER_QUEUE,
        }
    }

    /// `--event-handler PATH[=ARGS]` or `--event-handler cmd:COMMAND`: ARGS split on
    /// commas; a relative PATH from the current directory.
    pub fn parse_flag(text: &str) -> Result<HandlerSpec, String> {
        if let Some(command) = text.strip_prefix("cmd:") {
            let argv: Vec<String> = command.split_whitespace().map(str::to_string).collect();
            if argv.is_empty() {
                return Err(format!("--event-handler {text:?}: cmd: needs a command"));
            }
            return Ok(HandlerSpec::new(HandlerSource::Command(argv)));
        }
        let (path, args) = match text.split_once('=') {
            Some((path, args)) => (path, args.split(',').map(str::to_string).collect()),
            None => (text, Vec::new()),
        };
        let package = package_at(Path::new(path)).map_err(|e| format!("--event-handler {path}: {e}"))?;
        Ok(HandlerSpec { args, ..HandlerSpec::new(HandlerSource::Component(package)) })
    }
}

/// The package at `path`: a `.wasm` component, a cargo package directory, or a directory
/// with a `host-package.toml`.
pub fn package_at(path: &Path) -> Result<PackageRef, String> {
    let resolved = std::path::absolute(path).map_err(|e| e.to_string())?;
    let resolved = super::normalize(&resolved);
    let name = resolved.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    let kind = if resolved.is_dir() {
        let manifest = resolved.join(super::PACKAGE_MANIFEST);
        if manifest.is_file() {
            PackageKind::Declared(super::validate::package_manifest(&manifest).map_err(|e| e.to_string())?)
        } else if resolved.join("Cargo.toml").is_file() {
            PackageKind::Cargo
        } else {
            return Err(format!("{} is a directory without Cargo.toml or {}", resolved.display(), super::PACKAGE_MANIFEST));
        }
    } else if !resolved.exists() {
        return Err(format!("no such file or directory: {}", resolved.display()));
    } else if resolved.extension().is_some_and(|ext| ext == "wasm") {
        PackageKind::Component
    } else {
        return Err(format!("{} is neither a .wasm component nor a package directory", resolved.display()));
    };
    Ok(PackageRef { name, path: resolved, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_a_command_or_a_component_with_its_arguments() {
        let command = HandlerSpec::parse_flag("cmd:tee  -a out.jsonl").unwrap();
        assert_eq!(command.source, HandlerSource::Command(vec!["tee".into(), "-a".into(), "out.jsonl".into()]));
        assert_eq!(command.name, "tee");
        assert!(HandlerSpec::parse_flag("cmd: ").unwrap_err().contains("cmd: needs a command"));
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("probe.wasm");
        std::fs::write(&wasm, b"").unwrap();
        let spec = HandlerSpec::parse_flag(&format!("{}=a,b=c", wasm.display())).unwrap();
        assert_eq!((spec.name.as_str(), spec.args.clone(), spec.sync, spec.hooks), ("probe", vec!["a".to_string(), "b=c".to_string()], false, false));
        assert!(matches!(&spec.source, HandlerSource::Component(p) if p.kind == PackageKind::Component && p.path == wasm));
        let error = HandlerSpec::parse_flag(&dir.path().display().to_string()).unwrap_err();
        assert!(error.contains("is a directory without Cargo.toml"), "{error}");
        assert!(HandlerSpec::parse_flag("no/such.wasm").unwrap_err().starts_with("--event-handler no/such.wasm: no such file or directory"));
    }
}
