//! `events`: what happens during a run, as typed values on a bus.
//!
//! The runner only emits [`Event`]s; reporters (terminal, and later JSON, JUnit,
//! HTML) subscribe to the [`EventBus`] and never see the runner's internals. This is
//! Common Test's event manager: start/done events that any number of handlers receive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

mod hooks;

pub use hooks::{CaseHooks, CaseRef, HookVerdict, Rewritten, apply_hooks};

/// Where a case ended, and why it did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureDetail {
    /// What kind of failure: `fail`, `panic`, `trap`, `timeout`, `error`.
    pub kind: FailureKind,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl FailureDetail {
    /// `file:line:column: first message line`, or the first line alone when there is no
    /// line number: what one line of a report says about a failure.
    pub fn summary(&self) -> String {
        let first = self.message.lines().next().unwrap_or_default();
        if self.line > 0 { format!("{}:{}:{}: {first}", self.file, self.line, self.column) } else { first.to_string() }
    }
}

/// The kinds of failure a case can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The package returned a `fail-response` (`fail!`, `ensure!`, `?`).
    Fail,
    /// The package panicked (reported through `outcome.report-failure`).
    Panic,
    /// The package trapped without reporting anything.
    Trap,
    /// The case ran out of time.
    Timeout,
    /// The host could not run the case (instantiation, a script that would not start…).
    Error,
}

/// How a case, package, script or test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed { failure: FailureDetail },
    /// Did not run, and why; `kind` says who decided (Common Test's user and auto skips).
    Skipped {
        reason: String,
        #[serde(default)]
        kind: SkipKind,
    },
    /// Never started: the run was interrupted (Ctrl-C, SIGTERM) before it got there.
    NotRun { reason: String },
}

/// Who skipped a case: Common Test's `tc_user_skip` and `tc_auto_skip`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// The package skipped it (a case or an init returned `skip` with a reason).
    User,
    /// The host skipped it: a failed init, an earlier failure, `--fail-fast`, a failed setup.
    #[default]
    Auto,
}

/// A package's suite-level calls of the 0.2 world (test_server's `init_per_suite` and
/// `end_per_suite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fixture {
    Init,
    End,
}

impl Fixture {
    /// The call's name in the WIT (`init`, `end`).
    pub fn name(self) -> &'static str {
        match self {
            Fixture::Init => "init",
            Fixture::End => "end",
        }
    }
}

impl Outcome {
    /// Skipped by the host (see [`SkipKind::Auto`]).
    pub fn auto_skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skipped { reason: reason.into(), kind: SkipKind::Auto }
    }

    /// Skipped by the package (see [`SkipKind::User`]).
    pub fn user_skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skipped { reason: reason.into(), kind: SkipKind::User }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// Last lines of a node's output, shown when a test fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeLogTail {
    pub node: String,
    /// The last lines (`--log-lines`), oldest first.
    pub lines: Vec<String>,
    /// The node's whole log on this machine (a file the host made), for reporters that
    /// keep it (the HTML report links a copy).
    pub log_file: String,
}

/// How to reach a node kept up by `--break-on-failure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeAccess {
    pub node: String,
    /// Its process id, or none when it is not running.
    pub pid: Option<u32>,
    /// `host:port` of every port it listens on (the first is its `port`).
    pub addresses: Vec<String>,
    /// Its home directory on this machine.
    pub home: String,
    /// Its whole log on this machine.
    pub log_file: String,
}

/// Counts at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Of `skipped`, those the package skipped itself ([`SkipKind::User`]).
    pub user_skipped: usize,
    /// Of `skipped`, those the host skipped ([`SkipKind::Auto`]).
    pub auto_skipped: usize,
    /// Never started because the run was interrupted.
    pub not_run: usize,
    /// Passed only after failing first (`--retries`); also counted in `passed`.
    pub flaky: usize,
}

impl Totals {
    /// Count one finished case.
    pub fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Skipped { kind, .. } => {
                self.skipped += 1;
                match kind {
                    SkipKind::User => self.user_skipped += 1,
                    SkipKind::Auto => self.auto_skipped += 1,
                }
            }
            Outcome::NotRun { .. } => self.not_run += 1,
        }
    }
}

/// Everything a reporter can learn about a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The selected tests are about to run (`iteration` counts from 1 with `--repeat`).
    RunStarted { tests: usize, cases: usize, iteration: u32, iterations: u32 },
    /// A package is being built from source; `reason` says why (it was never built, its
    /// sources changed…). A package whose last build is current gets no such event.
    PackageBuilding { package: String, path: String, reason: String },
    /// The build a `PackageBuilding` announced ended well, after `took`.
    PackageBuilt {
        package: String,
        #[serde(with = "secs")]
        took: Duration,
    },
    /// A package's component is being compiled to machine code; `reason` says why it is
    /// not taken from the compile cache (`cache miss`, `compile cache off`…).
    ComponentCompiling { package: String, reason: String },
    /// A package's component is ready to run: compiled (after a `ComponentCompiling`), or
    /// taken from the compile cache (`from_cache`); `took` is the whole of it.
    ComponentCompiled {
        package: String,
        #[serde(with = "secs")]
        took: Duration,
        from_cache: bool,
    },
    /// Building, compiling or loading the packages failed, so nothing runs: `message` is
    /// the error the host prints (and exits 2 with). Only a stream reporter's last line.
    PreparationFailed { message: String },
    TestStarted { test: String, nodes: usize },
    NodeStarted { test: String, node: String, pid: u32, address: String },
    NodeReady {
        test: String,
        node: String,
        /// From the node's start to ready.
        #[serde(with = "secs")]
        after: Duration,
        /// The node's own Unix timestamp of its ready event, when it has one.
        signalled_at: Option<f64>,
    },
    /// A node's process ended while the host was stopping it (`how`: `teardown`, or the
    /// package's `kill`, `terminate`, `restart`); `took` is from the first signal to its exit.
    NodeExited {
        test: String,
        node: String,
        status: String,
        how: String,
        #[serde(with = "secs")]
        took: Duration,
    },
    PackageStarted { test: String, package: String, cases: usize },
    CaseFinished {
        test: String,
        package: String,
        case: String,
        outcome: Outcome,
        #[serde(with = "secs")]
        duration: Duration,
        /// Logs and stdout/stderr the package wrote during the (last) attempt.
        output: String,
        /// How many times the case ran (more than 1 with `--retries`).
        attempts: u32,
        /// Why the attempts before the last one failed; a passed case with any is flaky.
        earlier_failures: Vec<FailureDetail>,
        /// Set when a hook rewrote the case's failure into a skip: which hook, and the
        /// failure it was.
        #[serde(skip_serializing_if = "Option::is_none")]
        rewritten: Option<Rewritten>,
    },
    PackageFinished { test: String, package: String, outcome: Outcome },
    /// What a case says about itself, sent just before its `CaseFinished` when it has
    /// either: the one-line doc its package declared, the last comment it set (0.2
    /// packages; an `end-case` that failed adds its failure to the comment).
    CaseAnnotated { test: String, package: String, case: String, comment: Option<String>, doc: Option<String> },
    /// A 0.2 package's `init` or `end` failed (or trapped, or timed out). It counts as one
    /// failure; after an `init` the package's cases are auto-skipped with this as the
    /// reason, after an `end` the cases keep their outcomes.
    FixtureFailed { test: String, package: String, fixture: Fixture, failure: FailureDetail, output: String },
    /// A test script ended; `script` is its file name, `duration` how long it ran (zero
    /// when it did not run).
    ScriptFinished {
        test: String,
        script: String,
        outcome: Outcome,
        output: String,
        #[serde(with = "secs")]
        duration: Duration,
    },
    /// The test could not get going (a node did not boot, a setup script would not start);
    /// it counts as one failure and its cases are skipped.
    SetupFailed { test: String, failure: FailureDetail },
    /// A node exited by itself while its test ran — not stopped by the host's teardown or
    /// by a package's `control` call, not started again, not declared `may_exit`. The test
    /// fails; this counts as one failure.
    NodeFailed { test: String, node: String, failure: FailureDetail },
    TestFinished {
        test: String,
        outcome: Outcome,
        #[serde(with = "secs")]
        duration: Duration,
        /// Output tails of the test's nodes, filled when the test failed.
        node_logs: Vec<NodeLogTail>,
    },
    /// The test's network changed (`network_faults`): a package cut, partitioned or healed
    /// links, or armed or cleared a fault; the host heals everything at the test's end
    /// (`action` `heal`, `detail` saying so). `action` is the `network` call's name
    /// (`partition`, `isolate`, `cut`, `heal`, `heal-link`, `add-fault`, `clear-faults`),
    /// `nodes` the nodes it names, `detail` the change in words.
    NetworkFault { test: String, action: String, nodes: Vec<String>, detail: String },
    /// A break (test_server's `break/1`): the host keeps the test's nodes running until it
    /// is told to go on (`how_to_continue` says how; then `BreakEnded`). With `case`
    /// `None`, `--break-on-failure`: the test had the run's first failure, and its nodes
    /// are torn down after. With `case` (`package/case`, or `package (init)`…), that call
    /// asked for the break (`breaks.break-here`) with `comment`, and goes on after.
    BreakStarted { test: String, case: Option<String>, comment: Option<String>, nodes: Vec<NodeAccess>, how_to_continue: String },
    /// The break ended; `why`: `continue file created`, `a line on stdin`, `interrupted`.
    BreakEnded { test: String, why: String },
    /// Something the user should know that is not a failure.
    Warning { message: String },
    RunFinished {
        totals: Totals,
        /// Ctrl-C or SIGTERM stopped the run early.
        interrupted: bool,
        #[serde(with = "secs")]
        duration: Duration,
        /// The rounds that started (`--repeat`); fewer than planned when `--until`, an
        /// interrupt or `--fail-fast` stopped the run.
        rounds: u32,
    },
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Receives every event of a run, in order.
pub trait Subscriber: Send {
    fn handle(&mut self, event: &Event);

    /// The run is over (or abandoned): flush, clear progress bars. An error says what
    /// could not be written (a report file): the run then fails.
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// The one place a run's results are counted: a subscriber that folds the events into
/// [`Totals`] — each case and script once per round (`--repeat`), whatever path reported
/// it, a test's own failure (setup, a node that exited by itself) as one failure.
#[derive(Clone, Default)]
pub struct Recorder {
    state: Arc<Mutex<RecorderState>>,
}

#[derive(Default)]
struct RecorderState {
    totals: Totals,
    iteration: u32,
    /// (round, kind, test, package or script, case) of what was counted.
    seen: crate::suite::IdSet,
}

impl Recorder {
    /// The counts so far.
    pub fn totals(&self) -> Totals {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).totals
    }
}

impl Subscriber for Recorder {
    #[allow(clippy::collapsible_match, reason = "counting in a match guard would hide the one place cases are counted")]
    fn handle(&mut self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = &mut *state;
        match event {
            Event::RunStarted { iteration, .. } => state.iteration = *iteration,
            Event::CaseFinished { test, package, case, outcome, attempts, .. } => {
                if state.seen.insert(&[&state.iteration.to_string(), "case", test, package, case]) {
                    state.totals.count(outcome);
                    if *attempts > 1 && matches!(outcome, Outcome::Passed) {
                        state.totals.flaky += 1;
                    }
                }
            }
            Event::ScriptFinished { test, script, outcome, .. } => {
                if state.seen.insert(&[&state.iteration.to_string(), "script", test, script]) {
                    state.totals.count(outcome);
                }
            }
            Event::SetupFailed { .. } | Event::NodeFailed { .. } | Event::FixtureFailed { .. } => state.totals.failed += 1,
            _ => {}
        }
    }
}

/// Delivers events to subscribers, one at a time and in emission order.
#[derive(Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<Box<dyn Subscriber>>>>,
}

impl EventBus {
    pub fn new() -> EventBus {
        EventBus::default()
    }

    /// Add a subscriber; it sees events emitted from now on.
    pub fn subscribe(&self, subscriber: impl Subscriber + 'static) {
        self.lock().push(Box::new(subscriber));
    }

    /// Hand `event` to every subscriber.
    pub fn emit(&self, event: Event) {
        for subscriber in self.lock().iter_mut() {
            subscriber.handle(&event);
        }
    }

    /// Tell every subscriber the run is over; returns what could not be written.
    pub fn finish(&self) -> Vec<String> {
        self.lock().iter_mut().filter_map(|subscriber| subscriber.finish().err()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Subscriber>>> {
        self.subscribers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: Outcome, attempts: u32) -> Event {
        Event::CaseFinished {
            test: "t".into(),
            package: "p".into(),
            case: name.into(),
            outcome,
            duration: Duration::ZERO,
            output: String::new(),
            attempts,
            earlier_failures: Vec::new(),
            rewritten: None,
        }
    }

    fn round(iteration: u32) -> Event {
        Event::RunStarted { tests: 1, cases: 2, iteration, iterations: 2 }
    }

    #[test]
    fn the_recorder_counts_each_case_once_per_round_and_a_tests_own_failures() {
        let failure = FailureDetail { kind: FailureKind::Error, file: String::new(), line: 0, column: 0, message: "x".into() };
        let mut recorder = Recorder::default();
        for event in [
            round(1),
            case("a", Outcome::Passed, 2),
            case("a", Outcome::Failed { failure: failure.clone() }, 1),
            case("b", Outcome::NotRun { reason: "interrupted".into() }, 0),
            Event::NodeFailed { test: "t".into(), node: "n".into(), failure: failure.clone() },
            round(2),
            case("a", Outcome::auto_skip("fail-fast"), 0),
            Event::SetupFailed { test: "t".into(), failure },
        ] {
            recorder.handle(&event);
        }
        let totals = recorder.totals();
        assert_eq!((totals.passed, totals.failed, totals.skipped, totals.not_run, totals.flaky), (1, 2, 1, 1, 1));
    }
}
