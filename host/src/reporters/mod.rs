//! `reporters`: subscribers that turn run events into output. They only consume
//! [`Event`](crate::events::Event)s.

pub mod escape;
mod html;
mod json;
mod junit;
mod outputs;
mod terminal;

pub use html::HtmlReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use terminal::TerminalReporter;
