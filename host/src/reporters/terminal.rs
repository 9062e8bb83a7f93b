//! Human-readable output: a line per finished case, failures repeated at the end with
//! their location, message, captured output and the nodes' last log lines.

use std::io::Write;

use crate::events::{Event, FailureDetail, NodeLogTail, Outcome, Subscriber};

/// Lines of a failed case's captured output shown at the end (the last ones).
const OUTPUT_LINES_SHOWN: usize = 40;

/// Writes the run as text to a writer (stdout in the CLI).
pub struct TerminalReporter<W: Write + Send> {
    out: W,
    /// Failures to repeat at the end: (id, failure, output).
    failures: Vec<(String, FailureDetail, String)>,
    /// Node log tails of failed tests.
    node_logs: Vec<(String, Vec<NodeLogTail>)>,
}

impl<W: Write + Send> TerminalReporter<W> {
    pub fn new(out: W) -> Self {
        TerminalReporter { out, failures: Vec::new(), node_logs: Vec::new() }
    }

    fn line(&mut self, text: &str) {
        // Output errors (a closed pipe) must not stop the run.
        let _ = writeln!(self.out, "{text}");
    }

    fn summary(&mut self) {
        if !self.failures.is_empty() || !self.node_logs.is_empty() {
            self.line("\nfailures:");
        }
        for (id, failure, output) in std::mem::take(&mut self.failures) {
            self.line(&format!("\n--- {id}"));
            if failure.line > 0 {
                self.line(&format!("    at {}:{}:{}", failure.file, failure.line, failure.column));
            } else if !failure.file.is_empty() {
                self.line(&format!("    at {}", failure.file));
            }
            for text in failure.message.lines() {
                self.line(&format!("    {text}"));
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
}

/// `file:line:column: message` (first message line), or just the message.
fn short(failure: &FailureDetail) -> String {
    let first = failure.message.lines().next().unwrap_or_default();
    if failure.line > 0 {
        format!("{}:{}:{}: {first}", failure.file, failure.line, failure.column)
    } else {
        first.to_string()
    }
}

impl<W: Write + Send> Subscriber for TerminalReporter<W> {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::PackageBuilding { package, path } => self.line(&format!("   Building {package} ({path})")),
            Event::RunStarted { tests, packages } => {
                self.line(&format!("    Running {tests} test(s), {packages} package(s)"))
            }
            Event::TestStarted { test, nodes } => self.line(&format!("\n    Test {test} ({nodes} node(s))")),
            Event::NodeReady { node, after, .. } => {
                self.line(&format!("       Node {node} ready in {:.3}s", after.as_secs_f64()))
            }
            Event::CaseFinished { test, package, case, outcome, duration, output } => {
                let id = format!("{test}/{package}/{case}");
                let secs = duration.as_secs_f64();
                match outcome {
                    Outcome::Passed => self.line(&format!("       PASS [{secs:>7.3}s] {id}")),
                    Outcome::Failed { failure } => {
                        self.line(&format!("       FAIL [{secs:>7.3}s] {id}"));
                        self.line(&format!("            {}", short(failure)));
                        self.failures.push((id, failure.clone(), output.clone()));
                    }
                    Outcome::Skipped { reason } => self.line(&format!("       SKIP           {id} ({reason})")),
                }
            }
            Event::ScriptFinished { test, script, outcome, output } => {
                let id = format!("{test}/script {script}");
                match outcome {
                    Outcome::Passed => self.line(&format!("       PASS           {id}")),
                    Outcome::Failed { failure } => {
                        self.line(&format!("       FAIL           {id}: {}", short(failure)));
                        self.failures.push((id, failure.clone(), output.clone()));
                    }
                    Outcome::Skipped { reason } => self.line(&format!("       SKIP           {id} ({reason})")),
                }
            }
            Event::SetupFailed { test, failure } => {
                self.line(&format!("       FAIL           {test} (setup): {}", short(failure)));
                self.failures.push((format!("{test} (setup)"), failure.clone(), String::new()));
            }
            Event::TestFinished { test, node_logs, .. } => {
                if !node_logs.is_empty() {
                    self.node_logs.push((test.clone(), node_logs.clone()));
                }
            }
            Event::Warning { message } => self.line(&format!("    warning: {message}")),
            Event::RunFinished { totals, duration, interrupted } => {
                self.summary();
                if *interrupted {
                    self.line("\ninterrupted: tests after the running one were not started");
                }
                self.line(&format!("\nfinished in {:.2}s", duration.as_secs_f64()));
                self.line(&format!("{} passed, {} failed, {} skipped", totals.passed, totals.failed, totals.skipped));
            }
            Event::NodeStarted { .. } | Event::NodeExited { .. } | Event::PackageStarted { .. } | Event::PackageFinished { .. } => {}
        }
        let _ = self.out.flush();
    }
}
