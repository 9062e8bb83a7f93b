//! `runner`: orchestrates a run — prepare packages and runtimes, then for each test boot
//! its nodes, run its packages and scripts, tear down. It emits [`Event`]s and never
//! formats output: reporters do that.

mod boot;
mod breakpoint;
mod cases;
mod deadline;
mod fixtures;
mod lanes;
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

pub use breakpoint::BreakSettings;
pub use prepare::{Listed, Prepared, prepare};

use crate::config::{Plan, TestPlan};
use crate::events::{Event, EventBus, Outcome, Recorder, Totals};
use crate::sandbox::Sandbox;
use crate::suite::{Item, Selection};

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tests run at once (each with its own nodes and ports).
    pub jobs: usize,
    /// Times a failed case is run again; one that then passes is flaky.
    pub retries: u32,
    /// Run the whole selection this many times (flake hunting).
    pub repeat: u32,
    /// Stop repeating after the first round that failed or passed (`--until`).
    pub until: Option<Until>,
    /// Stop starting anything after the first failure.
    pub fail_fast: bool,
    /// Run a test's later packages even after one failed (kit skips them).
    pub keep_going: bool,
    /// Lines of each node's output kept with a failed test (the whole log is in the HTML
    /// report).
    pub log_lines: usize,
    /// Asked about every case that ran before it is reported (Common Test hooks).
    pub hooks: Hooks,
    /// `--break-on-failure`: how the first failing test's break ends (none: no break).
    pub break_on_failure: Option<BreakSettings>,
    /// How a break a case asks for (`breaks.break-here`) ends; none: nobody can be asked
    /// (no terminal, no continue file), and such breaks are skipped.
    pub case_breaks: Option<BreakSettings>,
    /// Whether a test has broken already (only the first failing test breaks).
    pub broke: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Held by the case break under way: one at a time in the whole run.
    pub breaking: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Which round ends a repeated run early (`--until`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The first round in which a case failed.
    Fail,
    /// The first round in which no case failed.
    Pass,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            jobs: 1,
            retries: 0,
            repeat: 1,
            until: None,
            fail_fast: false,
            keep_going: false,
            log_lines: 10,
            hooks: Hooks::default(),
            break_on_failure: None,
            case_breaks: None,
            broke: Default::default(),
            breaking: Default::default(),
        }
    }
}

/// The run's hooks, if it has any: what the runner asks before reporting a case (see
/// [`crate::events::apply_hooks`]).
#[derive(Clone, Default)]
pub struct Hooks(pub Option<std::sync::Arc<dyn crate::events::CaseHooks>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Hooks(installed)" } else { "Hooks(none)" })
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
    // The one place results are counted, from the events everything else reports.
    let recorder = Recorder::default();
    bus.subscribe(recorder.clone());
    let ports = FixedPorts::new(&tests);
    if options.jobs > 1 {
        for (port, names) in ports.shared() {
            bus.emit(Event::Warning {
                message: format!("tests {} all bind fixed port {port}: they run one at a time, whatever -j says", names.join(", ")),
            });
        }
    }
    let ports = &ports;
    let iterations = options.repeat.max(1);
    let mut rounds = 0;
    for iteration in 1..=iterations {
        if *cancel.borrow() || stop.load(Ordering::SeqCst) {
            break;
        }
        rounds = iteration;
        let failed_before = recorder.totals().failed;
        bus.emit(Event::RunStarted { tests: tests.len(), cases: selection.items().len(), iteration, iterations });
        futures::stream::iter(tests.iter().map(|&(index, test)| {
            let dir = scratch.path().join(format!("{iteration}-{}-{}", index + 1, sanitize(&test.name)));
            let cancel = cancel.clone();
            let stop = &stop;
            async move {
                if *cancel.borrow() {
                    return skip_test(test, selection, bus, Outcome::NotRun { reason: "the run was interrupted".into() });
                }
                // Tests that bind the same fixed port never overlap.
                let _ports = ports.lock(test).await;
                if *cancel.borrow() {
                    return skip_test(test, selection, bus, Outcome::NotRun { reason: "the run was interrupted".into() });
                }
                if let Err(error) = std::fs::create_dir_all(&dir) {
                    bus.emit(Event::Warning { message: format!("cannot create {}: {error}", dir.display()) });
                }
                if stop.load(Ordering::SeqCst) {
                    let reason = "--fail-fast: an earlier failure stopped the run".to_string();
                    return skip_test(test, selection, bus, Outcome::auto_skip(reason));
                }
                let cx = test::TestContext {
                    plan,
                    prepared,
                    sandbox,
                    bus,
                    selection,
                    options,
                    scratch: &dir,
                    cancel,
                    stop,
                    progress: Default::default(),
                };
                test::run(test, &cx).await
            }
        }))
        .buffer_unordered(options.jobs.max(1))
        .collect::<Vec<()>>()
        .await;
        let failed = recorder.totals().failed > failed_before;
        if matches!((options.until, failed), (Some(Until::Fail), true) | (Some(Until::Pass), false)) {
            break;
        }
    }
    // Every node and script has ended: whatever they left behind goes now.
    let strays = crate::nodes::groups::kill_strays();
    if strays > 0 {
        bus.emit(Event::Warning {
            message: format!("killed {strays} process(es) that nodes or scripts left running outside their process group"),
        });
    }
    let interrupted = *cancel.borrow();
    if plan.persist_home {
        let kept = scratch::keep(scratch);
        bus.emit(Event::Warning { message: format!("persist_home: node homes and logs kept in {}", kept.display()) });
    }
    if let Some(hooks) = &options.hooks.0 {
        for message in hooks.run_ending() {
            bus.emit(Event::Warning { message });
        }
    }
    let totals = recorder.totals();
    bus.emit(Event::RunFinished { totals, duration: started.elapsed(), interrupted, rounds });
    Ok(RunResult { totals, interrupted })
}

/// Report the selected items of a test that will not start, with `outcome` (skipped, or
/// not run).
fn skip_test(test: &TestPlan, selection: &Selection, bus: &EventBus, outcome: Outcome) {
    for item in selection.items().iter().filter(|item| item.test() == test.name) {
        match item {
            Item::Case { test, package, case } => bus.emit(Event::CaseFinished {
                test: test.to_string(),
                package: package.to_string(),
                case: case.clone(),
                outcome: outcome.clone(),
                duration: std::time::Duration::ZERO,
                output: String::new(),
                attempts: 0,
                earlier_failures: Vec::new(),
                rewritten: None,
            }),
            Item::Script { test, name } => bus.emit(Event::ScriptFinished {
                test: test.clone(),
                script: name.clone(),
                outcome: outcome.clone(),
                output: String::new(),
                duration: std::time::Duration::ZERO,
            }),
        }
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The fixed ports (`port = N` on a node) of the selected tests, one lock each: a test
/// holds the locks of all its fixed ports while it runs, so two tests that would bind the
/// same port are serialised under `-j`.
struct FixedPorts {
    locks: std::collections::BTreeMap<u16, (Vec<String>, tokio::sync::Mutex<()>)>,
}

impl FixedPorts {
    fn new(tests: &[(usize, &TestPlan)]) -> FixedPorts {
        let mut locks: std::collections::BTreeMap<u16, (Vec<String>, tokio::sync::Mutex<()>)> = Default::default();
        for (_, test) in tests {
            for port in test.nodes.iter().filter_map(|node| node.port) {
                let entry = locks.entry(port).or_insert_with(|| (Vec::new(), tokio::sync::Mutex::new(())));
                if !entry.0.contains(&test.name) {
                    entry.0.push(test.name.clone());
                }
            }
        }
        FixedPorts { locks }
    }

    /// Ports that more than one test binds, with those tests' names.
    fn shared(&self) -> impl Iterator<Item = (u16, &Vec<String>)> {
        self.locks.iter().filter(|(_, (names, _))| names.len() > 1).map(|(port, (names, _))| (*port, names))
    }

    /// Take the locks of `test`'s fixed ports, in port order (so two tests never wait on
    /// each other crosswise).
    async fn lock(&self, test: &TestPlan) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let mut mine: Vec<u16> = test.nodes.iter().filter_map(|node| node.port).collect();
        mine.sort_unstable();
        mine.dedup();
        let mut guards = Vec::new();
        for port in mine {
            if let Some((_, lock)) = self.locks.get(&port) {
                guards.push(lock.lock().await);
            }
        }
        guards
    }
}
