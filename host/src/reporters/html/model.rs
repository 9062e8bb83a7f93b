//! What the HTML report shows, folded from the run's events as they arrive.
//!
//! Times are seconds since the reporter was created, taken when each event is handled.
//! With `--repeat`, each round's tests are separate records (a test name alone is not a key).

use std::time::Duration;

use crate::events::{Event, FailureDetail, NodeLogTail, Outcome, Totals};

/// The whole run as the page shows it.
#[derive(Default)]
pub struct Report {
    /// Tests in the order they started (or were first mentioned).
    pub tests: Vec<TestRecord>,
    pub warnings: Vec<String>,
    /// Set by [`Event::RunFinished`].
    pub finish: Option<Finish>,
    /// When the first round started: the timeline's origin.
    pub run_started: Option<f64>,
    /// The current round (from 1) and how many there are.
    pub iteration: u32,
    pub iterations: u32,
    /// When the latest event arrived.
    pub last: f64,
    /// Comment and doc of cases whose `CaseFinished` has not come yet.
    annotations: std::collections::HashMap<String, (Option<String>, Option<String>)>,
}

/// The end of the run.
pub struct Finish {
    pub totals: Totals,
    pub interrupted: bool,
    pub duration: Duration,
}

/// One test of one round.
pub struct TestRecord {
    pub name: String,
    pub iteration: u32,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    pub outcome: Option<Outcome>,
    pub duration: Option<Duration>,
    pub nodes: Vec<NodeLane>,
    pub packages: Vec<PackageRecord>,
    pub scripts: Vec<ScriptRecord>,
    /// Failures of the test itself, not of a case: its setup, or a node that exited by
    /// itself (what failed, e.g. "Setup failed", and how).
    pub test_failures: Vec<(String, FailureDetail)>,
    pub node_logs: Vec<NodeLogTail>,
    /// Network faults and heals (`network_faults`), in order.
    pub network: Vec<NetworkMark>,
}

/// One change of a test's network, at `at` seconds.
pub struct NetworkMark {
    pub at: f64,
    pub action: String,
    pub nodes: Vec<String>,
    pub detail: String,
}

/// A node's life within its test, from `NodeStarted` to `NodeExited`.
pub struct NodeLane {
    pub name: String,
    pub address: String,
    pub pid: u32,
    pub started: f64,
    pub ready: Option<f64>,
    pub exited: Option<f64>,
    pub status: Option<String>,
}

/// One run of a package and its cases.
pub struct PackageRecord {
    pub name: String,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    pub outcome: Option<Outcome>,
    pub cases: Vec<CaseRecord>,
}

/// A finished case.
pub struct CaseRecord {
    pub name: String,
    pub outcome: Outcome,
    pub duration: Duration,
    pub output: String,
    pub attempts: u32,
    pub earlier_failures: Vec<FailureDetail>,
    /// The comment the case left (0.2 packages), if any.
    pub comment: Option<String>,
    /// The case's one-line doc, if its package declared one.
    pub doc: Option<String>,
}

impl CaseRecord {
    /// Passed, but only after failing first.
    pub fn is_flaky(&self) -> bool {
        matches!(self.outcome, Outcome::Passed) && !self.earlier_failures.is_empty()
    }
}

/// A finished test script.
pub struct ScriptRecord {
    pub name: String,
    pub outcome: Outcome,
    pub output: String,
}

impl Report {
    /// Fold one event, handled `at` seconds after the reporter was created.
    pub fn apply(&mut self, at: f64, event: &Event) {
        self.last = self.last.max(at);
        match event {
            Event::RunStarted { iteration, iterations, .. } => {
                self.iteration = *iteration;
                self.iterations = *iterations;
                self.run_started.get_or_insert(at);
            }
            Event::TestStarted { test, .. } => self.test(test).started = Some(at),
            Event::NodeStarted { test, node, pid, address } => self.test(test).nodes.push(NodeLane {
                name: node.clone(),
                address: address.clone(),
                pid: *pid,
                started: at,
                ready: None,
                exited: None,
                status: None,
            }),
            Event::NodeReady { test, node, .. } => {
                if let Some(lane) = self.test(test).running_node(node) {
                    lane.ready = Some(at);
                }
            }
            Event::NodeExited { test, node, status, how, took } => {
                if let Some(lane) = self.test(test).running_node(node) {
                    lane.exited = Some(at);
                    lane.status = Some(format!("{status} ({how}, stopped in {:.3}s)", took.as_secs_f64()));
                }
            }
            Event::PackageStarted { test, package, .. } => self.test(test).packages.push(PackageRecord::new(package, Some(at))),
            Event::CaseFinished { test, package, case, outcome, duration, output, attempts, earlier_failures, .. } => {
                let annotation = self.annotations.remove(&crate::suite::case_id(test, package, case)).unwrap_or_default();
                self.test(test).package(package).cases.push(CaseRecord {
                    name: case.clone(),
                    outcome: outcome.clone(),
                    duration: *duration,
                    output: output.clone(),
                    attempts: *attempts,
                    earlier_failures: earlier_failures.clone(),
                    comment: annotation.0,
                    doc: annotation.1,
                })
            }
            Event::CaseAnnotated { test, package, case, comment, doc } => {
                // Its `CaseFinished` comes next.
                self.annotations.insert(crate::suite::case_id(test, package, case), (comment.clone(), doc.clone()));
            }
            Event::FixtureFailed { test, package, fixture, failure, .. } => self
                .test(test)
                .test_failures
                .push((format!("Package {package}: its {} failed", fixture.name()), failure.clone())),
            Event::PackageFinished { test, package, outcome } => {
                let record = self.test(test).package(package);
                record.finished = Some(at);
                record.outcome = Some(outcome.clone());
            }
            Event::ScriptFinished { test, script, outcome, output, .. } => {
                let record = ScriptRecord { name: script.clone(), outcome: outcome.clone(), output: output.clone() };
                self.test(test).scripts.push(record);
            }
            Event::SetupFailed { test, failure } => self.test(test).test_failures.push(("Setup failed".into(), failure.clone())),
            Event::NodeFailed { test, node, failure } => {
                self.test(test).test_failures.push((format!("Node {node} exited by itself"), failure.clone()))
            }
            Event::TestFinished { test, outcome, duration, node_logs } => {
                let record = self.test(test);
                record.finished = Some(at);
                record.outcome = Some(outcome.clone());
                record.duration = Some(*duration);
                record.node_logs = node_logs.clone();
            }
            Event::NetworkFault { test, action, nodes, detail } => {
                self.test(test).network.push(NetworkMark { at, action: action.clone(), nodes: nodes.clone(), detail: detail.clone() })
            }
            Event::Warning { message } => self.warnings.push(message.clone()),
            Event::RunFinished { totals, interrupted, duration, .. } => {
                self.finish = Some(Finish { totals: *totals, interrupted: *interrupted, duration: *duration })
            }
            Event::BreakStarted { .. } | Event::BreakEnded { .. } => {}
            Event::PackageBuilding { .. }
            | Event::PackageBuilt { .. }
            | Event::ComponentCompiling { .. }
            | Event::ComponentCompiled { .. }
            | Event::PreparationFailed { .. } => {}
        }
    }

    /// The record of test `name` in the current round, created on first mention.
    fn test(&mut self, name: &str) -> &mut TestRecord {
        let iteration = self.iteration;
        match self.tests.iter().position(|t| t.name == name && t.iteration == iteration) {
            Some(index) => &mut self.tests[index],
            None => {
                self.tests.push(TestRecord::new(name, iteration));
                self.tests.last_mut().unwrap()
            }
        }
    }

    /// Whether `--repeat` made several rounds (test labels then name the round).
    pub fn repeated(&self) -> bool {
        self.iterations > 1
    }
}

impl TestRecord {
    fn new(name: &str, iteration: u32) -> TestRecord {
        TestRecord {
            name: name.to_string(),
            iteration,
            started: None,
            finished: None,
            outcome: None,
            duration: None,
            nodes: Vec::new(),
            packages: Vec::new(),
            scripts: Vec::new(),
            test_failures: Vec::new(),
            node_logs: Vec::new(),
            network: Vec::new(),
        }
    }

    /// The latest lane of node `name` that has not exited yet.
    fn running_node(&mut self, name: &str) -> Option<&mut NodeLane> {
        self.nodes.iter_mut().rev().find(|lane| lane.name == name && lane.exited.is_none())
    }

    /// The latest run of package `name`, created if cases arrive without a start.
    fn package(&mut self, name: &str) -> &mut PackageRecord {
        match self.packages.iter().rposition(|p| p.name == name) {
            Some(index) => &mut self.packages[index],
            None => {
                self.packages.push(PackageRecord::new(name, None));
                self.packages.last_mut().unwrap()
            }
        }
    }

    /// `name`, or `name (round N)` when the run was repeated.
    pub fn label(&self, repeated: bool) -> String {
        if repeated { format!("{} (round {})", self.name, self.iteration) } else { self.name.clone() }
    }
}

impl PackageRecord {
    fn new(name: &str, started: Option<f64>) -> PackageRecord {
        PackageRecord { name: name.to_string(), started, finished: None, outcome: None, cases: Vec::new() }
    }
}
