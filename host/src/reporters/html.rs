//! `--report DIR`: a static HTML report, written when the run finishes.
//!
//! The reporter folds every event into a [`model::Report`] as it arrives, stamped with the
//! time since the reporter was created, and on [`Event::RunFinished`] renders
//! `DIR/index.html`: a pass/fail summary, a timeline of nodes and packages (inline SVG),
//! the per-case results, and the node log tails. The page is one self-contained file
//! (CSS inlined, no JavaScript, nothing fetched), so it can be opened from disk or
//! attached to a CI run as is.
//!
//! The page is written with `maud` templates (`page`, `results`, `timeline`, and the
//! shared fragments in `assets`): Rust expressions checked at compile time, every
//! interpolated value HTML-escaped unless wrapped in `PreEscaped`, which only the page's
//! own stylesheet is. The model (`model`) is the data; the templates only read it. Text
//! from packages and nodes passes `reporters::escape` first (controls, bidi and line
//! separators in names made visible, bounded tails), and captured output loses its ANSI
//! sequences (`assets::plain_output`) before the templates escape it.

mod assets;
mod model;
mod page;
mod results;
mod timeline;

use std::path::PathBuf;
use std::time::Instant;

use crate::events::{Event, Subscriber};

/// Collects the run's events and writes `DIR/index.html` at the end of the run.
pub struct HtmlReporter {
    dir: PathBuf,
    started: Instant,
    report: model::Report,
    /// Why the page could not be written, if it could not.
    error: Option<String>,
    /// Long case outputs, written to `DIR/outputs/`.
    outputs: super::outputs::OutputFiles,
    /// Whole node logs of failed tests, copied to `DIR/node-logs/`.
    node_logs: super::outputs::LogCopies,
}

impl HtmlReporter {
    /// A reporter writing into `dir` (created if missing); times count from now.
    pub fn new(dir: PathBuf) -> HtmlReporter {
        let outputs = super::outputs::OutputFiles::new(dir.join("outputs"), "outputs");
        let node_logs = super::outputs::LogCopies::new(dir.join("node-logs"), "node-logs");
        HtmlReporter { dir, started: Instant::now(), report: model::Report::default(), error: None, outputs, node_logs }
    }

    /// Render the report and write it; a failure to write fails the run (see `finish`).
    fn write(&mut self) {
        let file = self.dir.join("index.html");
        let result = std::fs::create_dir_all(&self.dir).and_then(|()| std::fs::write(&file, page::render(&self.report)));
        if let Err(error) = result {
            self.error = Some(format!("cannot write HTML report {}: {error}", file.display()));
        }
    }
}

impl Subscriber for HtmlReporter {
    fn handle(&mut self, event: &Event) {
        // A case's whole output goes to a file of its own when it is long; the page keeps
        // a bounded tail of every text, controls visible in names (it escapes the rest).
        let mut event = event.clone();
        if let Event::CaseFinished { output, .. } = &mut event {
            *output = self.outputs.keep(output);
        }
        // Node logs live in the run's scratch space, removed at the end of the run: keep
        // a copy now, linked from the page (`log_file` becomes the link).
        if let Event::TestFinished { node_logs, .. } = &mut event {
            for tail in node_logs.iter_mut() {
                tail.log_file = self.node_logs.keep(std::path::Path::new(&tail.log_file)).unwrap_or_default();
            }
        }
        let event = super::escape::event_with(&event, &|name| super::escape::terminal_line(name).into_owned(), &|text| {
            super::escape::tail(text, super::escape::KEPT_TEXT).into_owned()
        });
        self.report.apply(self.started.elapsed().as_secs_f64(), &event);
        if let Event::RunFinished { .. } = event {
            self.write();
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        self.error.take().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests;
