//! The `host` command line: arguments and the three commands.

pub mod args;
pub mod commands;
mod records;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOTHING_SELECTED: u8 = 3;
    /// Interrupted by SIGINT (Ctrl-C): 128 + 2.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM: 128 + 15.
    pub const TERMINATED: u8 = 143;
}
