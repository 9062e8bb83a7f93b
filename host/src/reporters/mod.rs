//! `reporters`: subscribers that turn run events into output. They only consume
//! [`Event`](crate::events::Event)s.

mod terminal;

pub use terminal::TerminalReporter;
