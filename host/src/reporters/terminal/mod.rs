//! Human-readable output: live progress on a terminal (what is being built, compiled or
//! booted and why, then a bar over the cases — see [`progress`]), a line per finished
//! case, failures repeated at the end with their location, message, captured output and
//! the nodes' last log lines, and the `N passed, N failed, N skipped` line. Lines are
//! written in batches ([`Batched`]).

mod progress;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use indicatif::ProgressDrawTarget;

use super::batch::{self, Batched};
use super::escape;
use crate::events::{Event, FailureDetail, NodeLogTail, Outcome, SkipKind, Subscriber};
pub use progress::DrawTarget;
use progress::Live;

/// Lines of a failed case's captured output shown at the end (the last ones).
const OUTPUT_LINES_SHOWN: usize = 40;

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Writes the run as text to a writer (stdout in the CLI).
pub struct TerminalReporter<W: Write + Send + 'static> {
    out: Batched<W>,
    color: bool,
    /// Lines about builds, compiles and boots even without a terminal (`--verbose`).
    verbose: bool,
    /// The live line on stderr, when stderr is a terminal.
    live: Live,
    running: BTreeSet<String>,
    /// Failures to repeat at the end: (id, failure, output).
    failures: Vec<(String, FailureDetail, String)>,
    /// Node log tails of failed tests.
    node_logs: Vec<(String, Vec<NodeLogTail>)>,
    /// Comments (and, with `--verbose`, docs) of cases whose line has not come yet.
    annotations: std::collections::HashMap<String, (Option<String>, Option<String>)>,
    /// The rounds `--repeat` asked for (from `RunStarted`).
    rounds_planned: u32,
}

impl<W: Write + Send + 'static> TerminalReporter<W> {
    /// A reporter writing to `out`, with ANSI colours when `color`, and a live line on
    /// stderr when stderr is a terminal.
    pub fn new(out: W, color: bool) -> Self {
        let target: Option<DrawTarget> = std::io::stderr().is_terminal().then(|| Box::new(ProgressDrawTarget::stderr) as DrawTarget);
        TerminalReporter {
            out: Batched::new(out),
            color,
            verbose: false,
            live: Live::new(target),
            running: BTreeSet::new(),
            failures: Vec::new(),
            node_logs: Vec::new(),
            annotations: Default::default(),
            rounds_planned: 1,
        }
    }

    /// With `verbose`, builds, compiles and node boots get a line each, terminal or not.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Draw the live line on what `target` makes (`None`: no live line), whatever stderr is.
    pub fn live_on(mut self, target: Option<DrawTarget>) -> Self {
        self.live.clear();
        self.live = Live::new(target);
        self
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{style}{text}{style:#}") } else { text.to_string() }
    }

    fn line(&mut self, text: &str) {
        self.out.line(text);
    }

    /// A line only with `--verbose`.
    fn detail(&mut self, text: &str) {
        if self.verbose {
            self.line(text);
        }
    }

    /// Lines are written while the live line (if any) is hidden.
    fn sync_live(&self) {
        self.out.draw_around(self.live.bar().cloned());
    }

    /// Builds, compiles and boots: the live line and, with `--verbose`, a line each.
    fn long_work(&mut self, event: &Event) {
        match event {
            Event::PackageBuilding { package, path, reason } => {
                self.line(&format!("   Building {package} ({path}): {reason}"));
                self.live.begin(format!("build\0{package}"), format!("building {package}: {reason}"));
            }
            Event::PackageBuilt { package, took } => {
                self.live.end(&format!("build\0{package}"));
                self.detail(&format!("      Built {package} in {:.2}s", took.as_secs_f64()));
            }
            Event::ComponentCompiling { package, reason } => {
                self.detail(&format!("  Compiling {package} ({reason})"));
                self.live.begin(format!("compile\0{package}"), format!("compiling {package} ({reason})"));
            }
            Event::ComponentCompiled { package, took, from_cache } => {
                self.live.end(&format!("compile\0{package}"));
                let secs = took.as_secs_f64();
                if *from_cache {
                    self.detail(&format!("     Loaded {package} from the compile cache in {secs:.2}s"));
                } else {
                    self.detail(&format!("   Compiled {package} in {secs:.2}s"));
                }
            }
            Event::NodeStarted { test, node, pid, address } => {
                self.detail(&format!("    Booting node {node} (test {test}), pid {pid}, at {address}"));
                self.live.begin(format!("boot\0{test}\0{node}"), format!("booting node {node} (test {test})"));
            }
            Event::NodeReady { test, node, .. } | Event::NodeExited { test, node, .. } | Event::NodeFailed { test, node, .. } => {
                self.live.end(&format!("boot\0{test}\0{node}"))
            }
            Event::SetupFailed { test, .. } | Event::TestFinished { test, .. } => self.live.end_all(&format!("boot\0{test}\0")),
            // A break holds the run: the live line says so, and how to go on.
            Event::BreakStarted { test, case, how_to_continue, .. } => {
                let what = case.as_ref().map_or_else(|| format!("test {test}"), |case| format!("{test}/{case}"));
                self.live.begin(format!("break\0{test}"), format!("paused in {what}: {how_to_continue}"));
            }
            Event::BreakEnded { test, .. } => self.live.end(&format!("break\0{test}")),
            // The CLI prints the error, on a terminal the live line no longer covers.
            Event::PreparationFailed { .. } => self.live.clear(),
            _ => return,
        }
        // The live line may have come or gone.
        self.sync_live();
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
            Outcome::Skipped { reason, kind } => {
                let label = self.paint(YELLOW, " SKIP");
                let who = match kind {
                    SkipKind::User => "by the package",
                    SkipKind::Auto => "by the host",
                };
                let reason = self.paint(DIM, &format!("({who}: {reason})"));
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

impl<W: Write + Send + 'static> Subscriber for TerminalReporter<W> {
    fn handle(&mut self, event: &Event) {
        let event = &for_terminal(event);
        self.long_work(event);
        match event {
            Event::RunStarted { tests, cases, iteration, iterations } => {
                self.rounds_planned = *iterations;
                let round = if *iterations > 1 { format!(" (round {iteration} of {iterations})") } else { String::new() };
                let text = self.paint(BOLD, &format!("    Running {cases} case(s) in {tests} test(s){round}"));
                self.line(&text);
                self.live.cases((*cases as u64) * u64::from(*iterations));
                self.sync_live();
            }
            Event::TestStarted { test, nodes } => {
                self.running.insert(test.clone());
                self.live.running(&self.running);
                self.line(&format!("    Test {test} ({nodes} node(s))"));
            }
            Event::NodeReady { test, node, after, .. } => {
                // Under -j, several tests' nodes interleave: say whose node it is.
                let whose = if self.running.len() > 1 { format!(" (test {test})") } else { String::new() };
                self.line(&format!("       Node {node} ready in {:.3}s{whose}", after.as_secs_f64()))
            }
            Event::CaseFinished { test, package, case, outcome, duration, output, attempts, .. } => {
                self.live.advance();
                let id = crate::suite::case_id(test, package, case);
                self.result(id.clone(), outcome, Some(duration.as_secs_f64()), *attempts, output);
                if let Some((comment, doc)) = self.annotations.remove(&id) {
                    // Untrusted text never starts a line: it follows a marker.
                    if let Some(doc) = doc {
                        self.line(&format!("            doc: {doc}"));
                    }
                    if let Some(comment) = comment {
                        self.line(&format!("            comment: {comment}"));
                    }
                }
            }
            Event::CaseAnnotated { test, package, case, comment, doc } => {
                // Shown under the case's own line, once it comes.
                let doc = doc.clone().filter(|_| self.verbose);
                if comment.is_some() || doc.is_some() {
                    self.annotations.insert(crate::suite::case_id(test, package, case), (comment.clone(), doc));
                }
            }
            Event::FixtureFailed { test, package, fixture, failure, output } => {
                let label = self.paint(RED, " FAIL");
                let what = format!("{test}/{package} ({})", fixture.name());
                self.line(&format!("      {label}            {what}: {}", failure.summary()));
                self.failures.push((what, failure.clone(), output.clone()));
            }
            Event::ScriptFinished { test, script, outcome, output, duration } => {
                self.live.advance();
                let ran = !matches!(outcome, Outcome::Skipped { .. } | Outcome::NotRun { .. });
                self.result(crate::suite::script_id(test, script), outcome, ran.then_some(duration.as_secs_f64()), 1, output);
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
                self.live.running(&self.running);
                if !node_logs.is_empty() {
                    self.node_logs.push((test.clone(), node_logs.clone()));
                }
            }
            Event::NetworkFault { test, action, detail, .. } => {
                let whose = if self.running.len() > 1 { format!(" (test {test})") } else { String::new() };
                self.line(&format!("    Network {action}: {detail}{whose}"));
            }
            Event::BreakStarted { test, case, comment, nodes, how_to_continue } => {
                let label = self.paint(YELLOW, "BREAK");
                match case {
                    None => self.line(&format!("      {label} test {test} failed: its nodes stay up until you continue")),
                    Some(case) => {
                        self.line(&format!("      {label} {test}/{case} paused itself: its time stops until you continue"));
                        self.line(&format!("            {}", comment.as_deref().unwrap_or_default()));
                    }
                }
                for access in nodes {
                    let pid = access.pid.map_or_else(|| "not running".to_string(), |pid| format!("pid {pid}"));
                    self.line(&format!("            node {} ({pid}) at {}", access.node, access.addresses.join(", ")));
                    self.line(&format!("              home {}", access.home));
                    self.line(&format!("              log  {}", access.log_file));
                }
                self.line(&format!("            to continue: {how_to_continue}"));
            }
            Event::BreakEnded { test, why } => {
                self.line(&format!("   Continue test {test} ({why})"));
            }
            Event::Warning { message } => {
                let label = self.paint(YELLOW, "warning:");
                self.line(&format!("    {label} {}", message.replace('\n', "\n           | ")));
            }
            Event::RunFinished { totals, duration, interrupted, rounds } => {
                self.out.flush();
                self.live.clear();
                self.sync_live();
                self.summary();
                if *interrupted {
                    self.line("\ninterrupted: tests that had not started were not run");
                }
                let rounds = if *rounds < self.rounds_planned {
                    format!(" ({rounds} of {} rounds)", self.rounds_planned)
                } else {
                    String::new()
                };
                self.line(&format!("\nfinished in {:.2}s{rounds}", duration.as_secs_f64()));
                let flaky = if totals.flaky > 0 { format!(" ({} flaky)", totals.flaky) } else { String::new() };
                let style = if totals.failed > 0 { RED } else { GREEN };
                let not_run = if totals.not_run > 0 { format!(", {} not run", totals.not_run) } else { String::new() };
                let skips = if totals.skipped > 0 {
                    format!(" ({} by the package, {} by the host)", totals.user_skipped, totals.auto_skipped)
                } else {
                    String::new()
                };
                let text = format!(
                    "{} passed, {} failed, {} skipped{skips}{not_run}{flaky}",
                    totals.passed, totals.failed, totals.skipped
                );
                // The summary line stays uncoloured text at the start of its line, for parsers.
                let text = if self.color { format!("{style}{text}{style:#}") } else { text };
                self.line(&text);
            }
            Event::PackageBuilding { .. }
            | Event::PackageBuilt { .. }
            | Event::ComponentCompiling { .. }
            | Event::ComponentCompiled { .. }
            | Event::PreparationFailed { .. }
            | Event::NodeStarted { .. }
            | Event::NodeExited { .. }
            | Event::PackageStarted { .. }
            | Event::PackageFinished { .. } => {}
        }
        if batch::is_routine(event) { self.out.flush_if_due() } else { self.out.flush() }
    }

    fn finish(&mut self) -> Result<(), String> {
        self.out.flush();
        self.live.clear();
        self.sync_live();
        Ok(())
    }
}
