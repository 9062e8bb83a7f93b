//! The packages of a test and their cases: which cases run, each in a fresh store (with
//! its retries, its fixtures for 0.2 packages, the run's hooks), one after another or in
//! lanes, and how each is reported — once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::deadline::TestDeadline;
use super::test::TestContext;
use crate::config::{PackageRef, TestPlan};
use crate::events::{CaseRef, Event, FailureDetail, HookVerdict, NodeLogTail, Outcome, Rewritten, apply_hooks};
use crate::nodes::Node;
use crate::sandbox::{CaseScope, CaseVerdict, Package};
use crate::suite::case_id;

/// The cases of `package` that run: all of a setup package's, the selected ones otherwise.
pub(super) fn cases_to_run<'p>(cx: &TestContext<'_>, test: &str, package: &'p Package, setup: bool) -> Vec<&'p String> {
    case_indices(cx, test, package, setup).into_iter().map(|index| &package.cases[index]).collect()
}

/// The positions in `package.cases` of [`cases_to_run`].
fn case_indices(cx: &TestContext<'_>, test: &str, package: &Package, setup: bool) -> Vec<usize> {
    (0..package.cases.len())
        .filter(|&index| setup || cx.selection.contains(&case_id(test, &package.name, &package.cases[index])))
        .collect()
}

/// Run the cases of `package`, each in a fresh store, retrying failures up to
/// `--retries` times; the package fails if any case does. A test package of a `parallel`
/// test runs that many cases at once; a setup package runs them one after another.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_package(
    cx: &TestContext<'_>,
    test: &TestPlan,
    source: &PackageRef,
    package: &Package,
    setup: bool,
    scope: &CaseScope,
    deadline: TestDeadline,
) -> Outcome {
    let indices = case_indices(cx, &test.name, package, setup);
    cx.bus.emit(Event::PackageStarted { test: test.name.clone(), package: package.name.clone(), cases: indices.len() });
    // A fresh scratch directory per package (Common Test's priv_dir), shared by its cases.
    let scratch = cx.scratch.join("packages").join(&package.name);
    let scratch_error = std::fs::create_dir_all(&scratch)
        .err()
        .map(|error| format!("cannot create scratch directory {}: {error}", scratch.display()));
    let mut scope = scope.clone();
    scope.scratch = Some(scratch);
    scope.package = package.name.clone();
    // A 0.2 package's `init` first: its config goes to every case, its failure skips them.
    let fixtures = super::fixtures::Fixtures::new(cx, test, package, deadline.clone(), scratch_error.is_none());
    if let Err(package_outcome) = fixtures.init(&mut scope, &indices).await {
        cx.bus.emit(Event::PackageFinished { test: test.name.clone(), package: package.name.clone(), outcome: package_outcome.clone() });
        return package_outcome;
    }
    let at_once = if setup { 1 } else { test.parallel.max(1) };
    let run = CaseRun { cx, test: &test.name, source, package, scope: &scope, deadline, scratch_error: scratch_error.as_deref() };
    // The package's outcome is its first failure (in the order cases ended).
    let mut package_outcome = if at_once > 1 && run.scratch_error.is_none() {
        super::lanes::run(&run, indices, at_once).await
    } else {
        let mut first = Outcome::Passed;
        for index in indices {
            let outcome = run.case(index).await;
            if !first.is_failed() {
                first = outcome;
            }
        }
        first
    };
    // Then its `end`, also after a failure; its own failure leaves the cases as they are.
    if let Some(failure) = fixtures.end(&scope).await
        && !package_outcome.is_failed()
    {
        package_outcome = failure;
    }
    cx.bus.emit(Event::PackageFinished { test: test.name.clone(), package: package.name.clone(), outcome: package_outcome.clone() });
    package_outcome
}

/// What every case of one package run shares.
pub(super) struct CaseRun<'a> {
    pub(super) cx: &'a TestContext<'a>,
    pub(super) test: &'a str,
    pub(super) source: &'a PackageRef,
    pub(super) package: &'a Package,
    pub(super) scope: &'a CaseScope,
    pub(super) deadline: TestDeadline,
    /// Why the package's scratch directory could not be made: every case fails with it.
    scratch_error: Option<&'a str>,
}

impl CaseRun<'_> {
    /// Run the case at `index` of the package's list (with its retries) and report it;
    /// returns how it ended.
    async fn case(&self, index: usize) -> Outcome {
        let (cx, package) = (self.cx, self.package);
        let case = &package.cases[index];
        if cx.stopping() {
            let outcome = Outcome::auto_skip("--fail-fast: an earlier failure stopped the run");
            finish_case(cx, self.test, &package.name, case, outcome.clone());
            return outcome;
        }
        let started = Instant::now();
        let mut earlier_failures = Vec::new();
        let verdict = loop {
            let remaining = self.deadline.remaining();
            let timeout = self.scope.policy.case_timeout.map_or(remaining, |limit| limit.min(remaining));
            let mut verdict = match self.scratch_error {
                Some(error) => CaseVerdict::host_error(error.to_string()),
                None => {
                    let running = (package.name.clone(), case.to_string());
                    let list = cx.running();
                    list.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(running.clone());
                    let verdict = cx.sandbox.run_case(package, case, self.scope.clone(), timeout).await;
                    list.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).retain(|other| other != &running);
                    verdict
                }
            };
            if let Outcome::Failed { failure } = &mut verdict.outcome {
                if let Some(path) = super::source_location::locate(self.source, &failure.file) {
                    failure.file = path;
                }
                if earlier_failures.len() < cx.options.retries as usize && !self.deadline.remaining().is_zero() {
                    earlier_failures.push(failure.clone());
                    continue;
                }
            }
            break verdict;
        };
        self.settle(index, verdict.outcome, started.elapsed(), verdict.output, earlier_failures, verdict.comment)
    }

    /// Ask the run's hooks about the case at `index` that ran (before anything counts it),
    /// note a failure for `--fail-fast`, and report it with its comment and doc; returns
    /// how it finally ended.
    pub(super) fn settle(
        &self,
        index: usize,
        outcome: Outcome,
        duration: Duration,
        output: String,
        earlier: Vec<FailureDetail>,
        comment: Option<String>,
    ) -> Outcome {
        let case = &self.package.cases[index];
        let verdict = match &self.cx.options.hooks.0 {
            Some(hooks) => {
                let at = CaseRef { test: self.test, package: &self.package.name, case };
                let nodes = || node_tails(&self.scope.live.snapshot(), self.cx.options.log_lines);
                apply_hooks(hooks.as_ref(), at, outcome, &nodes)
            }
            None => HookVerdict { outcome, rewritten: None },
        };
        if verdict.outcome.is_failed() {
            self.cx.failed();
        }
        let outcome = verdict.outcome.clone();
        super::fixtures::annotate_case(self.cx, self.test, self.package, index, comment);
        report_case(self.cx, self.test, &self.package.name, case, verdict.outcome, duration, output, earlier, verdict.rewritten);
        outcome
    }
}

/// The last `lines` lines of each of `nodes`, with where its whole log is.
pub(super) fn node_tails(nodes: &[Arc<Node>], lines: usize) -> Vec<NodeLogTail> {
    nodes
        .iter()
        .map(|node| NodeLogTail { node: node.spec.name.clone(), lines: node.tail(lines), log_file: node.log_file().display().to_string() })
        .collect()
}

/// Report a case that did not run to its end (skipped, not run, interrupted): no time, no
/// output, no hooks asked.
pub(super) fn finish_case(cx: &TestContext<'_>, test: &str, package: &str, case: &str, outcome: Outcome) {
    report_case(cx, test, package, case, outcome, Duration::ZERO, String::new(), Vec::new(), None);
}

/// Tell the reporters (and so the recorder) how a case ended — once per case.
#[allow(clippy::too_many_arguments)]
fn report_case(
    cx: &TestContext<'_>,
    test: &str,
    package: &str,
    case: &str,
    outcome: Outcome,
    duration: Duration,
    output: String,
    earlier_failures: Vec<FailureDetail>,
    rewritten: Option<Rewritten>,
) {
    if !cx.progress().reported.insert(&["case", test, package, case]) {
        // Reported already: a case is reported once, whatever path reaches here again.
        return;
    }
    let attempts = if matches!(outcome, Outcome::NotRun { .. }) { 0 } else { earlier_failures.len() as u32 + 1 };
    cx.bus.emit(Event::CaseFinished {
        test: test.to_string(),
        package: package.to_string(),
        case: case.to_string(),
        outcome,
        duration,
        output,
        attempts,
        earlier_failures,
        rewritten,
    });
}

pub(super) fn skip_package(cx: &TestContext<'_>, test: &str, package: &Package, setup: bool, reason: &str) {
    let cases = cases_to_run(cx, test, package, setup);
    let outcome = Outcome::auto_skip(reason.to_string());
    cx.bus.emit(Event::PackageStarted { test: test.to_string(), package: package.name.clone(), cases: cases.len() });
    for case in cases {
        finish_case(cx, test, &package.name, case, outcome.clone());
    }
    cx.bus.emit(Event::PackageFinished { test: test.to_string(), package: package.name.clone(), outcome });
}
