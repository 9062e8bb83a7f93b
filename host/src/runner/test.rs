//! One `[[tests]]` entry from boot to teardown.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};


use super::boot;
use super::breakpoint::CaseBreaker;
use super::deadline::TestDeadline;
use super::cases::{cases_to_run, finish_case, node_tails, run_package, skip_package};
use super::prepare::Prepared;
use super::RunOptions;
use super::scripts;
use crate::config::{PackageRef, Plan, TestPlan};
use crate::suite::{Selection, script_id, script_name};
use crate::events::{Event, EventBus, FailureDetail, FailureKind, Outcome};
use crate::netfault::Network;
use crate::nodes::{Node, NodeFactory, Roster};
use crate::sandbox::{CaseBreaks, CaseScope, Sandbox};

/// Lines of a node's output in the failure of a node that exited by itself.
const LOG_TAIL_LINES: usize = 30;

/// What a test needs from the run around it.
pub struct TestContext<'a> {
    pub plan: &'a Plan,
    pub prepared: &'a Prepared,
    pub sandbox: &'a Sandbox,
    pub bus: &'a EventBus,
    pub selection: &'a Selection,
    pub options: &'a RunOptions,
    /// The test's own scratch directory (event pipes, logs, default homes).
    pub scratch: &'a Path,
    /// Becomes true when the run is interrupted: the test stops and tears down.
    pub cancel: tokio::sync::watch::Receiver<bool>,
    /// Set when a failure happened under `--fail-fast`: nothing new starts.
    pub stop: &'a AtomicBool,
    /// Which cases and scripts of this test have been reported, and which case is running:
    /// what an interruption leaves is reported once, from this.
    pub progress: std::sync::Mutex<Progress>,
}

/// What of a test has been reported so far.
#[derive(Debug, Default)]
pub struct Progress {
    /// Ids of the cases and scripts reported (each exactly once).
    pub(super) reported: crate::suite::IdSet,
    /// The cases running now: (package, case) — several in a `parallel` test, whose lanes
    /// hold this list too.
    running: Running,
    /// The test script running now.
    running_script: Option<String>,
}

/// The cases running now, shared with the lanes of a `parallel` package.
pub(super) type Running = Arc<std::sync::Mutex<Vec<(String, String)>>>;

impl TestContext<'_> {
    /// The list of cases running now.
    pub(super) fn running(&self) -> Running {
        Arc::clone(&self.progress().running)
    }

    pub(super) fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Note a failure: under `--fail-fast` it stops the run.
    pub(super) fn failed(&self) {
        if self.options.fail_fast {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// Run `test`, reporting every case and script once (the [`Recorder`](crate::events::Recorder)
/// counts them). Nodes are always torn down, whatever happened.
pub async fn run(test: &TestPlan, cx: &TestContext<'_>) {
    let started = Instant::now();
    let name = test.name.clone();
    cx.bus.emit(Event::TestStarted { test: name.clone(), nodes: test.nodes.iter().filter(|n| !n.template).count() });
    // Every node of the test, those packages add included: teardown sees them all.
    // `network_faults`: proxies in front of every node port, healed and closed below.
    let network = test.network_faults.then(|| Arc::new(Network::new()));
    let templates = boot::Templates::of(cx.plan, test, cx.prepared, cx.scratch, network.clone());
    let roster = Roster::new(templates.map(|t| Arc::new(t) as Arc<dyn NodeFactory>));
    if let Some(network) = &network {
        let roster = roster.clone();
        network.identify_with(Arc::new(move || {
            roster.snapshot().iter().filter_map(|node| Some((node.spec.name.clone(), node.pid().ok()?))).collect()
        }));
    }
    let mut background = Vec::new();
    // Setup packages always run; test packages only for their selected cases.
    let setup = test.setup_packages.iter().filter(|s| s.run).map(|s| (&s.package, true));
    let selected = test
        .test_packages
        .iter()
        .map(|p| (p, false))
        .filter(|(p, _)| !cases_to_run(cx, &name, cx.prepared.package(p), false).is_empty());
    let packages: Vec<(&PackageRef, bool)> = setup.chain(selected).collect();
    let body = async {
        let boots = boot::specs(cx.plan, test, cx.prepared, cx.scratch, network.as_deref()).map_err(setup_error)?;
        boot::start_all(&name, boots, &roster, cx.bus).await.map_err(setup_error)?;
        let nodes = roster.snapshot();
        for (index, script) in test.setup_scripts.iter().enumerate() {
            let log = cx.scratch.join(format!("setup-script-{}.log", index + 1));
            background.push(scripts::start_setup(script, &name, &nodes, &cx.plan.base_dir, &log).map_err(setup_error)?);
        }
        let deadline = TestDeadline::after(test.timeout);
        let breaks = cx.options.case_breaks.as_ref().map(|settings| {
            Arc::new(CaseBreaker {
                settings: settings.clone(),
                test: name.clone(),
                nodes: roster.clone(),
                bus: cx.bus.clone(),
                cancel: cx.cancel.clone(),
                deadline: deadline.clone(),
                one_at_a_time: cx.options.breaking.clone(),
            }) as Arc<dyn CaseBreaks>
        });
        let scope = CaseScope {
            live: roster.clone(),
            bus: cx.bus.clone(),
            test: name.clone(),
            policy: Arc::new(test.sandbox.clone()),
            scratch: None,
            timeout_scale: cx.plan.timeout_scale,
            network: network.clone(),
            config: Arc::default(),
            package: String::new(),
            breaks,
        };
        let mut failed: Option<Outcome> = None;
        let mut failed_package = String::new();
        for &(package, setup) in &packages {
            let loaded = cx.prepared.package(package);
            let skip = if cx.stopping() {
                Some("--fail-fast: an earlier failure stopped the run".to_string())
            } else if failed.is_some() && !cx.options.keep_going {
                Some(format!("package {failed_package} failed before it"))
            } else {
                None
            };
            if let Some(reason) = skip {
                skip_package(cx, &name, loaded, setup, &reason);
                continue;
            }
            let outcome = run_package(cx, test, package, loaded, setup, &scope, deadline.clone()).await;
            if outcome.is_failed() && failed.is_none() {
                failed = Some(outcome);
                failed_package = loaded.name.clone();
            }
        }
        let mut outcome = failed.clone().unwrap_or(Outcome::Passed);
        for script in test.test_scripts.iter().filter(|s| cx.selection.contains(&script_id(&name, &script_name(s)))) {
            let script_name = script_name(script);
            let started = Instant::now();
            let (script_outcome, output) = if cx.stopping() {
                (Outcome::auto_skip("--fail-fast: an earlier failure stopped the run"), String::new())
            } else if failed.is_some() && !cx.options.keep_going {
                (Outcome::auto_skip(format!("package {failed_package} failed")), String::new())
            } else {
                let remaining = deadline.remaining();
                cx.progress().running_script = Some(script_name.clone());
                let ran = scripts::run_test_script(script, &name, &roster.snapshot(), &cx.plan.base_dir, remaining).await;
                cx.progress().running_script = None;
                ran
            };
            cx.progress().reported.insert(&["script", &name, &script_name]);
            if script_outcome.is_failed() {
                cx.failed();
                if !outcome.is_failed() {
                    outcome = script_outcome.clone();
                }
            }
            let duration = started.elapsed();
            cx.bus.emit(Event::ScriptFinished { test: name.clone(), script: script_name, outcome: script_outcome, output, duration });
        }
        for failure in nodes_that_exited(&roster.snapshot()) {
            cx.failed();
            cx.bus.emit(Event::NodeFailed { test: name.clone(), node: failure.0, failure: failure.1.clone() });
            if !outcome.is_failed() {
                outcome = Outcome::Failed { failure: failure.1 };
            }
        }
        Ok::<Outcome, Outcome>(outcome)
    };
    let mut cancel = cx.cancel.clone();
    let outcome = tokio::select! {
        outcome = body => Some(outcome),
        _ = cancel.wait_for(|cancelled| *cancelled) => None,
    };
    let outcome = match outcome {
        Some(outcome) => outcome,
        // Interrupted: what was reported stays as it is; the case that was running failed
        // ("interrupted"), everything else of the test was not run. Each counted once.
        None => Ok(report_interrupted(cx, test, &packages)),
    };
    let outcome = outcome.unwrap_or_else(|setup_failure| {
        // The test could not start: it counts as one failure, its cases as skipped.
        cx.failed();
        if let Outcome::Failed { failure } = &setup_failure {
            cx.bus.emit(Event::SetupFailed { test: name.clone(), failure: failure.clone() });
        }
        for &(package, setup) in &packages {
            skip_package(cx, &name, cx.prepared.package(package), setup, "the test's setup failed");
        }
        setup_failure
    });
    let nodes = roster.snapshot();
    if outcome.is_failed()
        && let Some(settings) = &cx.options.break_on_failure
    {
        // Nodes (and setup scripts) still up: the user looks at them, then says to go on.
        super::breakpoint::break_here(settings, &cx.options.broke, &name, &nodes, cx.bus, cx.cancel.clone()).await;
    }
    for child in background {
        scripts::stop(child).await;
    }
    let node_logs = if outcome.is_failed() {
        node_tails(&nodes, cx.options.log_lines)
    } else {
        Vec::new()
    };
    if let Some(network) = &network {
        // Whatever happened (a failure, a timeout, Ctrl-C): every link flows again before
        // the nodes are stopped, and no proxy outlives the test.
        if network.heal() {
            let names = nodes.iter().map(|node| node.spec.name.clone()).collect();
            cx.bus.emit(Event::NetworkFault { test: name.clone(), action: "heal".into(), nodes: names, detail: "the test ended: every cut and fault healed".into() });
        }
    }
    teardown(&name, &nodes, cx.bus).await;
    if let Some(network) = &network {
        network.shutdown().await;
    }
    if !cx.plan.persist_home {
        for home in test.nodes.iter().filter_map(|node| node.home.as_ref()) {
            // Only a home this run made: anything else of the user's stays.
            if let Err(error) = super::scratch::remove_if_host_made(home) {
                cx.bus.emit(Event::Warning { message: format!("cannot remove home {}: {error}", home.display()) });
            }
        }
    }
    cx.bus.emit(Event::TestFinished { test: name, outcome, duration: started.elapsed(), node_logs });
}

/// Report what an interruption left of `test`: the running case as failed, every case and
/// script not reported yet as not run. Returns the test's outcome.
fn report_interrupted(cx: &TestContext<'_>, test: &TestPlan, packages: &[(&PackageRef, bool)]) -> Outcome {
    let name = &test.name;
    let running = std::mem::take(&mut *cx.running().lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    let running_script = cx.progress().running_script.take();
    let interrupted = || FailureDetail {
        kind: FailureKind::Error,
        file: String::new(),
        line: 0,
        column: 0,
        message: "interrupted while it ran: the run was stopped and the test's nodes terminated".into(),
    };
    let not_run = Outcome::NotRun { reason: "the run was interrupted".into() };
    let mut outcome = Outcome::NotRun { reason: "the run was interrupted".into() };
    for &(package, setup) in packages {
        let loaded = cx.prepared.package(package);
        for case in cases_to_run(cx, name, loaded, setup) {
            if cx.progress().reported.contains(&["case", name, &loaded.name, case]) {
                continue;
            }
            let case_outcome = if running.iter().any(|(p, c)| p == &loaded.name && c == case) {
                outcome = Outcome::Failed { failure: interrupted() };
                Outcome::Failed { failure: interrupted() }
            } else {
                not_run.clone()
            };
            finish_case(cx, name, &loaded.name, case, case_outcome);
        }
    }
    for script in test.test_scripts.iter().filter(|s| cx.selection.contains(&script_id(name, &script_name(s)))) {
        let script = script_name(script);
        if cx.progress().reported.insert(&["script", name, &script]) {
            let script_outcome = if running_script.as_ref() == Some(&script) {
                outcome = Outcome::Failed { failure: interrupted() };
                Outcome::Failed { failure: interrupted() }
            } else {
                not_run.clone()
            };
            cx.bus.emit(Event::ScriptFinished {
                test: name.clone(),
                script,
                outcome: script_outcome,
                output: String::new(),
                duration: Duration::ZERO,
            });
        }
    }
    outcome
}

/// Nodes that exited by themselves while the test ran (not `may_exit`), each with a
/// failure that says how, and their last output lines.
fn nodes_that_exited(nodes: &[Arc<Node>]) -> Vec<(String, FailureDetail)> {
    nodes
        .iter()
        .filter(|node| !node.spec.may_exit)
        .filter_map(|node| {
            let exit = node.exited_by_itself()?;
            let tail = node.tail(LOG_TAIL_LINES).join("\n    ");
            let message = format!(
                "node {} {exit} while the test ran: nothing stopped it (not the host, not a package's control call); \
                 set may_exit = true on the node if that is expected\n  last output lines:\n    {tail}",
                node.spec.name
            );
            Some((node.spec.name.clone(), FailureDetail { kind: FailureKind::Error, file: String::new(), line: 0, column: 0, message }))
        })
        .collect()
}

fn setup_error(error: anyhow::Error) -> Outcome {
    Outcome::Failed {
        failure: FailureDetail {
            kind: FailureKind::Error,
            file: String::new(),
            line: 0,
            column: 0,
            message: format!("{error:#}"),
        },
    }
}

/// Stop every node (SIGTERM to all first, so grace periods overlap), then report exits.
async fn teardown(test: &str, nodes: &[Arc<Node>], bus: &EventBus) {
    let stops = nodes.iter().map(|node| {
        let node = Arc::clone(node);
        tokio::spawn(async move {
            // A node that already exited (a package killed it) was reported then.
            let running = node.pid().is_ok();
            let started = Instant::now();
            let exit = node.terminate(node.spec.stop_timeout).await;
            (node.spec.name.clone(), exit.filter(|_| running), started.elapsed())
        })
    });
    let stops: Vec<_> = stops.collect();
    for stop in stops {
        if let Ok((node, Some(exit), took)) = stop.await {
            bus.emit(Event::NodeExited { test: test.to_string(), node, status: exit.to_string(), how: "teardown".into(), took });
        }
    }
}
