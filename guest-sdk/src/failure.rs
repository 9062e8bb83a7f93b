//! The failure a case ends with, and where it happened.

use std::fmt;
use std::panic::Location;

/// Why and where a case failed. Build one with [`fail!`](crate::fail), the `ensure`
/// macros, or `?` on any `std::error::Error` (which records the location of the `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// What every case returns.
pub type TestResult = Result<(), Failure>;

impl Failure {
    /// A failure at an explicit location (what the macros expand to).
    pub fn at(file: &str, line: u32, column: u32, message: impl Into<String>) -> Failure {
        Failure { file: file.to_string(), line, column, message: message.into() }
    }

    /// A failure at the location of the caller (functions marked `#[track_caller]`
    /// pass their own caller's location through).
    #[track_caller]
    pub fn here(message: impl Into<String>) -> Failure {
        let location = Location::caller();
        Failure::at(location.file(), location.line(), location.column(), message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// `?` on an error fails the case at the `?`, with the error (and its sources) as message.
impl<E: std::error::Error> From<E> for Failure {
    #[track_caller]
    fn from(error: E) -> Failure {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Failure::here(message)
    }
}
