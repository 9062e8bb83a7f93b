//! One `[[tests]]` entry from boot to teardown.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::boot;
use super::prepare::Prepared;
use super::scripts;
use crate::config::{PackageRef, Plan, TestPlan};
use crate::events::{Event, EventBus, FailureDetail, FailureKind, NodeLogTail, Outcome, Totals};
use crate::nodes::Node;
use crate::sandbox::{CaseScope, CaseVerdict, Package, Sandbox};

/// Lines of each node's output shown with a failed test.
const LOG_TAIL_LINES: usize = 30;

/// What a test needs from the run around it.
pub struct TestContext<'a> {
    pub plan: &'a Plan,
    pub prepared: &'a Prepared,
    pub sandbox: &'a Sandbox,
    pub bus: &'a EventBus,
    /// The test's own scratch directory (event pipes, logs, default homes).
    pub scratch: &'a Path,
    /// Becomes true when the run is interrupted: the test stops and tears down.
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// Run `test` and return its totals. Nodes are always torn down, whatever happened.
pub async fn run(test: &TestPlan, cx: &TestContext<'_>) -> Totals {
    let started = Instant::now();
    let name = test.name.clone();
    cx.bus.emit(Event::TestStarted { test: name.clone(), nodes: test.nodes.len() });
    let mut totals = Totals::default();
    let mut nodes: Vec<Arc<Node>> = Vec::new();
    let mut background = Vec::new();
    let body = async {
        let specs = boot::specs(cx.plan, test, cx.prepared, cx.scratch).map_err(setup_error)?;
        let (started_nodes, booted) = boot::start_all(&name, specs, cx.bus).await;
        nodes = started_nodes;
        booted.map_err(setup_error)?;
        for (index, script) in test.setup_scripts.iter().enumerate() {
            let log = cx.scratch.join(format!("setup-script-{}.log", index + 1));
            background.push(scripts::start_setup(script, &name, &nodes, &cx.plan.base_dir, &log).map_err(setup_error)?);
        }
        let scope = CaseScope {
            nodes: Arc::new(boot::node_infos(&nodes)),
            live: Arc::new(nodes.clone()),
            policy: Arc::new(test.sandbox.clone()),
            scratch: None,
            timeout_scale: cx.plan.timeout_scale,
        };
        let deadline = Instant::now() + test.timeout;
        let setup = test.setup_packages.iter().filter(|s| s.run).map(|s| &s.package);
        let mut failed: Option<Outcome> = None;
        let mut failed_package = String::new();
        for package in setup.chain(&test.test_packages) {
            let loaded = cx.prepared.package(package);
            if failed.is_some() {
                let reason = format!("package {failed_package} failed before it");
                skip_package(cx.bus, &name, loaded, &reason, &mut totals);
                continue;
            }
            let outcome = run_package(cx, &name, package, loaded, &scope, deadline, &mut totals).await;
            if outcome.is_failed() {
                failed = Some(outcome);
                failed_package = loaded.name.clone();
            }
        }
        if let Some(outcome) = failed {
            return Ok(outcome);
        }
        let mut outcome = Outcome::Passed;
        for script in &test.test_scripts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let (script_outcome, output) =
                scripts::run_test_script(script, &name, &nodes, &cx.plan.base_dir, remaining).await;
            totals.count(&script_outcome);
            if script_outcome.is_failed() {
                outcome = script_outcome.clone();
            }
            cx.bus.emit(Event::ScriptFinished {
                test: name.clone(),
                script: script.path.display().to_string(),
                outcome: script_outcome,
                output,
            });
        }
        Ok::<Outcome, Outcome>(outcome)
    };
    let mut cancel = cx.cancel.clone();
    let outcome = tokio::select! {
        outcome = body => outcome,
        _ = cancel.wait_for(|cancelled| *cancelled) => Err(Outcome::Failed {
            failure: FailureDetail {
                kind: FailureKind::Error,
                file: String::new(),
                line: 0,
                column: 0,
                message: "interrupted: the test was stopped and its nodes terminated".into(),
            },
        }),
    };
    let outcome = outcome.unwrap_or_else(|setup_failure| {
        // The test could not start: it counts as one failure, its cases as skipped.
        totals.failed += 1;
        if let Outcome::Failed { failure } = &setup_failure {
            cx.bus.emit(Event::SetupFailed { test: name.clone(), failure: failure.clone() });
        }
        for package in test.setup_packages.iter().map(|s| &s.package).chain(&test.test_packages) {
            skip_package(cx.bus, &name, cx.prepared.package(package), "the test's setup failed", &mut totals);
        }
        setup_failure
    });
    for child in background {
        scripts::stop(child).await;
    }
    let node_logs = if outcome.is_failed() {
        nodes.iter().map(|node| NodeLogTail { node: node.spec.name.clone(), lines: node.tail(LOG_TAIL_LINES) }).collect()
    } else {
        Vec::new()
    };
    teardown(&name, &nodes, cx.bus).await;
    if !cx.plan.persist_home {
        for node in &test.nodes {
            if let Some(home) = &node.home {
                let _ = std::fs::remove_dir_all(home);
            }
        }
    }
    cx.bus.emit(Event::TestFinished { test: name, outcome, duration: started.elapsed(), node_logs });
    totals
}

/// Source paths in failures are as the guest's compiler saw them (for cargo, relative
/// to the workspace root). Find the file next to the package and show it relative to
/// the working directory, so `file:line` can be opened as printed.
fn locate_source(package: &PackageRef, file: &str) -> Option<String> {
    let given = Path::new(file);
    if file.is_empty() {
        return None;
    }
    let found = if given.is_absolute() {
        given.is_file().then(|| given.to_path_buf())?
    } else {
        package.path.ancestors().map(|dir| dir.join(given)).find(|candidate| candidate.is_file())?
    };
    let found = found.canonicalize().ok()?;
    let shown = std::env::current_dir().ok().and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf));
    Some(shown.unwrap_or(found).display().to_string())
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

/// Run every case of `package`, each in a fresh store; the package fails if any case does.
async fn run_package(
    cx: &TestContext<'_>,
    test: &str,
    source: &PackageRef,
    package: &Package,
    scope: &CaseScope,
    deadline: Instant,
    totals: &mut Totals,
) -> Outcome {
    cx.bus.emit(Event::PackageStarted { test: test.to_string(), package: package.name.clone(), cases: package.cases.len() });
    // A fresh scratch directory per package (Common Test's priv_dir), shared by its cases.
    let scratch = cx.scratch.join("packages").join(&package.name);
    let mut scope = scope.clone();
    let scratch_error = std::fs::create_dir_all(&scratch).err();
    scope.scratch = Some(scratch.clone());
    let mut package_outcome = Outcome::Passed;
    for case in &package.cases {
        let started = Instant::now();
        let remaining = deadline.saturating_duration_since(started);
        let timeout = scope.policy.case_timeout.map_or(remaining, |limit| limit.min(remaining));
        let mut verdict = match &scratch_error {
            Some(error) => CaseVerdict::host_error(format!("cannot create scratch directory {}: {error}", scratch.display())),
            None => cx.sandbox.run_case(package, case, scope.clone(), timeout).await,
        };
        if let Outcome::Failed { failure } = &mut verdict.outcome {
            if let Some(path) = locate_source(source, &failure.file) {
                failure.file = path;
            }
        }
        totals.count(&verdict.outcome);
        if verdict.outcome.is_failed() && !package_outcome.is_failed() {
            package_outcome = verdict.outcome.clone();
        }
        cx.bus.emit(Event::CaseFinished {
            test: test.to_string(),
            package: package.name.clone(),
            case: case.clone(),
            outcome: verdict.outcome,
            duration: started.elapsed(),
            output: verdict.output,
        });
    }
    cx.bus.emit(Event::PackageFinished { test: test.to_string(), package: package.name.clone(), outcome: package_outcome.clone() });
    package_outcome
}

fn skip_package(bus: &EventBus, test: &str, package: &Package, reason: &str, totals: &mut Totals) {
    let outcome = Outcome::Skipped { reason: reason.to_string() };
    bus.emit(Event::PackageStarted { test: test.to_string(), package: package.name.clone(), cases: package.cases.len() });
    for case in &package.cases {
        totals.count(&outcome);
        bus.emit(Event::CaseFinished {
            test: test.to_string(),
            package: package.name.clone(),
            case: case.clone(),
            outcome: outcome.clone(),
            duration: Duration::ZERO,
            output: String::new(),
        });
    }
    bus.emit(Event::PackageFinished { test: test.to_string(), package: package.name.clone(), outcome });
}

/// Stop every node (SIGTERM to all first, so grace periods overlap), then report exits.
async fn teardown(test: &str, nodes: &[Arc<Node>], bus: &EventBus) {
    let stops = nodes.iter().map(|node| {
        let node = Arc::clone(node);
        tokio::spawn(async move {
            let exit = node.terminate(node.spec.stop_timeout).await;
            (node.spec.name.clone(), exit)
        })
    });
    let stops: Vec<_> = stops.collect();
    for stop in stops {
        if let Ok((node, Some(exit))) = stop.await {
            bus.emit(Event::NodeExited { test: test.to_string(), node, status: exit.to_string() });
        }
    }
}
