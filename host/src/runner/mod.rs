//! `runner`: orchestrates a run — prepare packages and runtimes, then for each test boot
//! its nodes, run its packages and scripts, tear down. It emits [`Event`]s and never
//! formats output: reporters do that.

mod boot;
mod prepare;
mod scratch;
mod scripts;
mod source_location;
mod test;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use futures::StreamExt;
use tokio::sync::watch;

pub use prepare::{Prepared, prepare};

use crate::config::{Plan, TestPlan};
use crate::events::{Event, EventBus, Outcome, Totals};
use crate::sandbox::Sandbox;
use crate::selection::{Item, Selection};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tests run at once (each with its own nodes and ports).
    pub jobs: usize,
    /// Times a failed case is run again; one that then passes is flaky.
    pub retries: u32,
    /// Run the whole selection this many times (flake hunting).
    pub repeat: u32,
    /// Stop starting anything after the first failure.
    pub fail_fast: bool,
    /// Run a test's later packages even after one failed (kit skips them).
    pub keep_going: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { jobs: 1, retries: 0, repeat: 1, fail_fast: false, keep_going: false }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunResult {
    pub totals: Totals,
    /// The run was interrupted (`cancel` became true) before every test ran.
    pub interrupted: bool,
}

/// Run the selected tests of `plan`, `options.jobs` at a time. When `cancel` becomes
/// true, running tests stop, their nodes are terminated gracefully, and no further test
/// starts.
pub async fn run(
    plan: &Plan,
    prepared: &Prepared,
    selection: &Selection,
    sandbox: &Sandbox,
    bus: &EventBus,
    options: &RunOptions,
    cancel: watch::Receiver<bool>,
) -> Result<RunResult> {
    let started = Instant::now();
    let scratch = scratch::create()?;
    let stop = AtomicBool::new(false);
    let tests: Vec<(usize, &TestPlan)> = plan.tests.iter().enumerate().filter(|(_, t)| selection.runs(&t.name)).collect();
    let mut totals = Totals::default();
    let iterations = options.repeat.max(1);
    for iteration in 1..=iterations {
        if *cancel.borrow() || stop.load(Ordering::SeqCst) {
            break;
        }
        bus.emit(Event::RunStarted { tests: tests.len(), cases: selection.items().len(), iteration, iterations });
        let runs = futures::stream::iter(tests.iter().map(|&(index, test)| {
            let dir = scratch.path().join(format!("{iteration}-{}-{}", index + 1, sanitize(&test.name)));
            let cancel = cancel.clone();
            let stop = &stop;
            async move {
                if *cancel.borrow() {
                    return Totals::default();
                }
                if let Err(error) = std::fs::create_dir_all(&dir) {
                    bus.emit(Event::Warning { message: format!("cannot create {}: {error}", dir.display()) });
                }
                if stop.load(Ordering::SeqCst) {
                    return skip_test(test, selection, bus, "--fail-fast: an earlier failure stopped the run");
                }
                let cx = test::TestContext { plan, prepared, sandbox, bus, selection, options, scratch: &dir, cancel, stop };
                test::run(test, &cx).await
            }
        }))
        .buffer_unordered(options.jobs.max(1))
        .collect::<Vec<Totals>>()
        .await;
        runs.into_iter().for_each(|run| totals.add(run));
    }
    let interrupted = *cancel.borrow();
    if plan.persist_home {
        let kept = scratch::keep(scratch);
        bus.emit(Event::Warning { message: format!("persist_home: node homes and logs kept in {}", kept.display()) });
    }
    bus.emit(Event::RunFinished { totals, duration: started.elapsed(), interrupted });
    Ok(RunResult { totals, interrupted })
}

/// Report the selected items of a test that will not start as skipped.
fn skip_test(test: &TestPlan, selection: &Selection, bus: &EventBus, reason: &str) -> Totals {
    let mut totals = Totals::default();
    let outcome = Outcome::Skipped { reason: reason.to_string() };
    for item in selection.items().iter().filter(|item| item.test() == test.name) {
        totals.count(&outcome);
        match item {
            Item::Case { test, package, case } => bus.emit(Event::CaseFinished {
                test: test.clone(),
                package: package.clone(),
                case: case.clone(),
                outcome: outcome.clone(),
                duration: std::time::Duration::ZERO,
                output: String::new(),
                attempts: 0,
                earlier_failures: Vec::new(),
            }),
            Item::Script { test, name } => bus.emit(Event::ScriptFinished {
                test: test.clone(),
                script: name.clone(),
                outcome: outcome.clone(),
                output: String::new(),
            }),
        }
    }
    totals
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}
