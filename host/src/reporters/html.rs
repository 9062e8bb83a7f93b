//! `--report DIR`: a static HTML report, written when the run finishes.
//!
//! The reporter folds every event into a [`model::Report`] as it arrives, stamped with the
//! time since the reporter was created, and on [`Event::RunFinished`] renders
//! `DIR/index.html`: a pass/fail summary, a timeline of nodes and packages (inline SVG),
//! the per-case results, and the node log tails. The page is one self-contained file
//! (CSS inlined, no JavaScript, nothing fetched), so it can be opened from disk or
//! attached to a CI run as is.

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
    /// Case outputs written to files of their own so far.
    outputs: usize,
}

impl HtmlReporter {
    /// A reporter writing into `dir` (created if missing); times count from now.
    pub fn new(dir: PathBuf) -> HtmlReporter {
        HtmlReporter { dir, started: Instant::now(), report: model::Report::default(), error: None, outputs: 0 }
    }

    /// Write `output` to `DIR/outputs/case-N.txt`; what the page shows instead: a line that
    /// names the file, then the output's tail.
    fn keep_whole_output(&mut self, output: &str) -> String {
        self.outputs += 1;
        let relative = format!("outputs/case-{}.txt", self.outputs);
        let file = self.dir.join(&relative);
        let written = file.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&file, output));
        let note = match written {
            Ok(()) => format!("[{} bytes in all: the whole output is in {relative}]", output.len()),
            Err(error) => format!("[{} bytes in all; cannot write {}: {error}]", output.len(), file.display()),
        };
        format!("{note}\n{}", super::escape::tail(output, super::escape::KEPT_TEXT - 256))
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
            if output.len() > super::escape::KEPT_TEXT {
                *output = self.keep_whole_output(output);
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
