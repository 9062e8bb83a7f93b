//! Configuration errors that point at the file, line and key at fault.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem in tests.toml (or a path it names). Always exits with code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// The text of that line, shown under the message.
    pub source_line: Option<String>,
    /// What is wrong, naming the key or path.
    pub message: String,
    /// Further problems found in the same pass (one per `[[tests]]` entry at most), so
    /// that `host check` shows them all at once.
    pub others: Vec<ConfigError>,
}

impl ConfigError {
    /// An error about the file as a whole (it cannot be read, say).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError { file: file.to_path_buf(), position: None, source_line: None, message: message.into(), others: Vec::new() }
    }

    /// An error at byte range `span` of `text`, the contents of `file`.
    pub fn at(file: &Path, text: &str, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let mut start = span.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        let source_line = text[line_start..].lines().next().map(str::to_string);
        ConfigError {
            file: file.to_path_buf(),
            position: Some((line, column)),
            source_line,
            message: message.into(),
            others: Vec::new(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let (Some((line, _)), Some(text)) = (self.position, &self.source_line) {
            write!(f, "\n {line:>4} | {text}")?;
        }
        for other in &self.others {
            write!(f, "\nerror: {other}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The process exit code for a configuration error: always 2 (bad input).
    pub const EXIT_CODE: u8 = 2;
}

/// Every error found in one file, in the order of the file: validation keeps going
/// after the first so that `host check` reports them all in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The process exit code: that of a configuration error, 2.
    pub fn exit_code(&self) -> u8 {
        ConfigError::EXIT_CODE
    }

    /// The errors, in order.
    pub fn iter(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> ConfigErrors {
        ConfigErrors(vec![error])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
