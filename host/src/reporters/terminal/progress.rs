//! The live line on a terminal (stderr): a spinner saying what is being built, compiled
//! or booted and why, which becomes a bar over the cases once they run (with the running
//! tests and the nodes still booting). Only text the reporter has escaped reaches it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where the live line is drawn, made when it first appears (stderr in the CLI; an
/// in-memory terminal in tests).
pub type DrawTarget = Box<dyn Fn() -> ProgressDrawTarget + Send>;

/// How often the spinner turns.
const TICK: Duration = Duration::from_millis(120);
/// The line before the cases run: what is under way.
const SPINNER: &str = "{spinner} [{elapsed_precise}] {wide_msg}";
/// The line once they run.
const BAR: &str = "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}";

/// The live line: none without a terminal to draw on.
pub struct Live {
    target: Option<DrawTarget>,
    bar: Option<ProgressBar>,
    /// Whether the cases have started (the line is a bar, not a spinner).
    counting: bool,
    running: Vec<String>,
    /// What is under way, by key (`build\0PACKAGE`, `boot\0TEST\0NODE`…): its text.
    busy: BTreeMap<String, String>,
}

impl Live {
    /// A live line drawn on `target`; `None`: no live line at all.
    pub fn new(target: Option<DrawTarget>) -> Live {
        Live { target, bar: None, counting: false, running: Vec::new(), busy: BTreeMap::new() }
    }

    /// The line drawn now, if any: output is written while it is hidden.
    pub fn bar(&self) -> Option<&ProgressBar> {
        self.bar.as_ref()
    }

    /// The line, made with `template` and `length` if there is none yet.
    fn ensure(&mut self, template: &str, length: Option<u64>) {
        if self.bar.is_some() {
            return;
        }
        let Some(target) = &self.target else { return };
        let bar = ProgressBar::with_draw_target(length, target()).with_style(style(template));
        bar.enable_steady_tick(TICK);
        self.bar = Some(bar);
    }

    /// `text` (escaped) is under way, under `key`.
    pub fn begin(&mut self, key: String, text: String) {
        if self.target.is_none() {
            return;
        }
        self.busy.insert(key, text);
        self.ensure(SPINNER, None);
        self.refresh();
    }

    /// The work under `key` is over.
    pub fn end(&mut self, key: &str) {
        if self.busy.remove(key).is_some() {
            self.refresh();
        }
    }

    /// Every work whose key starts with `prefix` is over (a test's boots when it ends).
    pub fn end_all(&mut self, prefix: &str) {
        let before = self.busy.len();
        self.busy.retain(|key, _| !key.starts_with(prefix));
        if self.busy.len() != before {
            self.refresh();
        }
    }

    /// The cases start: `total` of them.
    pub fn cases(&mut self, total: u64) {
        if self.counting {
            return;
        }
        self.ensure(BAR, Some(total));
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_style(style(BAR));
            self.counting = true;
        }
    }

    /// One more case or script finished.
    pub fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// The tests running now (escaped names).
    pub fn running(&mut self, tests: &BTreeSet<String>) {
        self.running = tests.iter().cloned().collect();
        self.refresh();
    }

    /// Take the line off the terminal for good.
    pub fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.counting = false;
    }

    /// The message: the running tests, then what is under way. Before the cases, a
    /// spinner with nothing under way goes away.
    fn refresh(&mut self) {
        if !self.counting && self.busy.is_empty() {
            self.clear();
            return;
        }
        let Some(bar) = &self.bar else { return };
        let mut parts: Vec<String> = Vec::new();
        if !self.running.is_empty() {
            parts.push(format!("running: {}", self.running.join(", ")));
        }
        parts.extend(self.busy.values().cloned());
        bar.set_message(parts.join(" · "));
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}
