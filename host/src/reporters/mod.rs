//! `reporters`: subscribers that turn run events into output — and into the records a
//! later run reads (`--record`, the last run for `--rerun-failed`). They only consume
//! [`Event`](crate::events::Event)s.

mod batch;
pub mod escape;
mod html;
mod json;
mod junit;
mod last_run;
mod outputs;
mod record;
mod terminal;

pub use html::HtmlReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use last_run::LastRunWriter;
pub use record::RecordWriter;
pub use terminal::{DrawTarget, TerminalReporter};
