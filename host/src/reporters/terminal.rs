//! Human-readable output: live progress (what is running now) on a terminal, a line per
//! finished case, failures repeated at the end with their location, message, captured
//! output and the nodes' last log lines, and the `N passed, N failed, N skipped` line.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::escape;
use crate::events::{Event, FailureDetail, NodeLogTail, Outcome, Subscriber};

/// Lines of a failed case's captured output shown at the end (the last ones).
const OUTPUT_LINES_SHOWN: usize = 40;

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Writes the run as text to a writer (stdout in the CLI).
pub struct TerminalReporter<W: Write + Send> {
    out: W,
    color: bool,
    /// Live progress on stderr, when stderr is a terminal.
    progress: Option<ProgressBar>,
    running: BTreeSet<String>,
    /// Failures to repeat at the end: (id, failure, output).
    failures: Vec<(String, FailureDetail, String)>,
    /// Node log tails of failed tests.
    node_logs: Vec<(String, Vec<NodeLogTail>)>,
}

impl<W: Write + Send> TerminalReporter<W> {
    /// A reporter writing to `out`, with ANSI colours when `color`.
    pub fn new(out: W, color: bool) -> Self {
        TerminalReporter { out, color, progress: None, running: BTreeSet::new(), failures: Vec::new(), node_logs: Vec::new() }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{style}{text}{style:#}") } else { text.to_string() }
    }

    fn line(&mut self, text: &str) {
        // Output errors (a closed pipe) must not stop the run.
        match &self.progress {
            Some(bar) => bar.suspend(|| {
                let _ = writeln!(self.out, "{text}");
            }),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    fn start_progress(&mut self, total: u64) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.progress = Some(bar);
    }

    fn update_running(&self) {
        if let Some(bar) = &self.progress {
            let running: Vec<&str> = self.running.iter().map(String::as_str).collect();
            bar.set_message(format!("running: {}", running.join(", ")));
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
    }

    fn summary(&mut self) {
        if !self.failures.is_empty() || !self.node_logs.is_empty() {
            let title = self.paint(BOLD, "failures:");
            self.line(&format!("\n{title}"));
        }
        for (id, failure, output) in std::mem::take(&mut self.failures) {
            let id = self.paint(RED, &id);
            self.line(&format!("\n--- {id}"));
            if failure.line > 0 {
                self.line(&format!("    at {}:{}:{}", failure.file, failure.line, failure.column));
            } else if !failure.file.is_empty() {
                self.line(&format!("    at {}", failure.file));
            }
            for text in failure.message.lines() {
                self.line(&format!("    > {text}"));
            }
            if !output.is_empty() {
                let lines: Vec<&str> = output.lines().collect();
                let skipped = lines.len().saturating_sub(OUTPUT_LINES_SHOWN);
                if skipped > 0 {
                    self.line(&format!("    output (last {OUTPUT_LINES_SHOWN} of {} lines):", lines.len()));
                } else {
                    self.line("    output:");
                }
                for text in &lines[skipped..] {
                    self.line(&format!("      | {text}"));
                }
            }
        }
        for (test, tails) in std::mem::take(&mut self.node_logs) {
            for tail in tails {
                self.line(&format!("\n--- {test}: last {} lines of node {}", tail.lines.len(), tail.node));
                for text in &tail.lines {
                    self.line(&format!("      | {text}"));
                }
            }
        }
    }

    fn result(&mut self, id: String, outcome: &Outcome, seconds: Option<f64>, attempts: u32, output: &str) {
        let time = seconds.map_or_else(|| " ".repeat(10), |secs| format!("[{secs:>7.3}s]"));
        match outcome {
            Outcome::Passed if attempts > 1 => {
                let label = self.paint(YELLOW, "FLAKY");
                self.line(&format!("      {label} {time} {id} (passed on attempt {attempts})"));
            }
            Outcome::Passed => {
                let label = self.paint(GREEN, " PASS");
                self.line(&format!("      {label} {time} {id}"));
            }
            Outcome::Failed { failure } => {
                let label = self.paint(RED, " FAIL");
                let tries = if attempts > 1 { format!(" (failed {attempts} attempts)") } else { String::new() };
                self.line(&format!("      {label} {time} {id}{tries}"));
                // Untrusted text never starts a line: it follows a marker.
                self.line(&format!("            --> {}", failure.summary()));
                self.failures.push((id, failure.clone(), output.to_string()));
            }
            Outcome::NotRun { reason } => {
                let label = self.paint(DIM, "NOT RUN");
                let reason = self.paint(DIM, &format!("({reason})"));
                self.line(&format!("    {label} {time} {id} {reason}"));
            }
            Outcome::Skipped { reason } => {
                let label = self.paint(YELLOW, " SKIP");
                let reason = self.paint(DIM, &format!("({reason})"));
                self.line(&format!("      {label} {time} {id} {reason}"));
            }
        }
    }
}

/// Everything a package or a node controls, escaped for a terminal: names on one line,
/// messages and output line by line (see [`escape`]). The reporter prints only this.
fn for_terminal(event: &Event) -> Event {
    escape::event_with(event, &|name| escape::terminal_line(name).into_owned(), &|text| {
        let line = |line: &str| escape::terminal_output_line(line.strip_suffix('\r').unwrap_or(line)).into_owned();
        escape::tail(text, escape::KEPT_TEXT).split('\n').map(line).collect::<Vec<_>>().join("\n")
    })
}

impl<W: Write + Send> Subscriber for TerminalReporter<W> {
    fn handle(&mut self, event: &Event) {
        let event = &for_terminal(event);
        match event {
            Event::PackageBuilding { package, path, reason } => self.line(&format!("   Building {package} ({path}): {reason}")),
            Event::RunStarted { tests, cases, iteration, iterations } => {
                let round = if *iterations > 1 { format!(" (round {iteration} of {iterations})") } else { String::new() };
                let text = self.paint(BOLD, &format!("    Running {cases} case(s) in {tests} test(s){round}"));
                self.line(&text);
                if self.progress.is_none() {
                    self.start_progress((*cases as u64) * u64::from(*iterations));
                }
            }
            Event::TestStarted { test, nodes } => {
                self.running.insert(test.clone());
                self.update_running();
                self.line(&format!("    Test {test} ({nodes} node(s))"));
            }
            Event::NodeReady { test, node, after, .. } => {
                // Under -j, several tests' nodes interleave: say whose node it is.
                let whose = if self.running.len() > 1 { format!(" (test {test})") } else { String::new() };
                self.line(&format!("       Node {node} ready in {:.3}s{whose}", after.as_secs_f64()))
            }
            Event::CaseFinished { test, package, case, outcome, duration, output, attempts, .. } => {
                self.advance();
                self.result(crate::suite::case_id(test, package, case), outcome, Some(duration.as_secs_f64()), *attempts, output);
            }
            Event::ScriptFinished { test, script, outcome, output, duration } => {
                self.advance();
                let ran = !matches!(outcome, Outcome::Skipped { .. } | Outcome::NotRun { .. });
                self.result(crate::suite::script_id(test, script), outcome, ran.then(|| duration.as_secs_f64()), 1, output);
            }
            Event::SetupFailed { test, failure } => {
                let label = self.paint(RED, " FAIL");
                self.line(&format!("      {label}            {test} (setup): {}", failure.summary()));
                self.failures.push((format!("{test} (setup)"), failure.clone(), String::new()));
            }
            Event::NodeFailed { test, node, failure } => {
                let label = self.paint(RED, " FAIL");
                self.line(&format!("      {label}            {test} (node {node}): {}", failure.summary()));
                self.failures.push((format!("{test} (node {node})"), failure.clone(), String::new()));
            }
            Event::TestFinished { test, node_logs, .. } => {
                self.running.remove(test);
                self.update_running();
                if !node_logs.is_empty() {
                    self.node_logs.push((test.clone(), node_logs.clone()));
                }
            }
            Event::Warning { message } => {
                let label = self.paint(YELLOW, "warning:");
                self.line(&format!("    {label} {}", message.replace('\n', "\n           | ")));
            }
            Event::RunFinished { totals, duration, interrupted } => {
                if let Some(bar) = self.progress.take() {
                    bar.finish_and_clear();
                }
                self.summary();
                if *interrupted {
                    self.line("\ninterrupted: tests that had not started were not run");
                }
                self.line(&format!("\nfinished in {:.2}s", duration.as_secs_f64()));
                let flaky = if totals.flaky > 0 { format!(" ({} flaky)", totals.flaky) } else { String::new() };
                let style = if totals.failed > 0 { RED } else { GREEN };
                let not_run = if totals.not_run > 0 { format!(", {} not run", totals.not_run) } else { String::new() };
                let text = format!("{} passed, {} failed, {} skipped{not_run}{flaky}", totals.passed, totals.failed, totals.skipped);
                // The summary line stays uncoloured text at the start of its line, for parsers.
                let text = if self.color { format!("{style}{text}{style:#}") } else { text };
                self.line(&text);
            }
            Event::NodeStarted { .. } | Event::NodeExited { .. } | Event::PackageStarted { .. } | Event::PackageFinished { .. } => {}
        }
        let _ = self.out.flush();
    }

    fn finish(&mut self) -> Result<(), String> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        Ok(())
    }
}
