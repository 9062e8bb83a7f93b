//! The host's events as the handler contract types them — the one place that maps
//! [`Event`] to WIT (a new event is one match arm here; until it has one, handlers get it
//! as `other` with its JSON). Common Test's names for each are in the README's table.

use super::bindings::{
    CaseFinished, CaseId, EventKind, Failure, NodeEvent, PackageFinished, PackageStarted, RunFinished, RunStarted, ScriptFinished,
    TestFinished, TestStarted, WitEvent, WitOutcome, WitTotals,
};
use crate::events::{Event, FailureDetail, Outcome, Totals};

/// `event` for a handler, `time` seconds after the handlers started.
pub fn event(event: &Event, time: f64) -> WitEvent {
    let json = serde_json::to_string(event).unwrap_or_default();
    WitEvent { time, kind: kind(event, &json), json }
}

/// Common Test's `test_stats`: the counts after a finished case.
pub fn stats(totals: &Totals, time: f64) -> WitEvent {
    let kind = EventKind::Stats(self::totals(totals));
    let json = serde_json::json!({ "type": "stats", "totals": totals }).to_string();
    WitEvent { time, kind, json }
}

fn kind(event: &Event, json: &str) -> EventKind {
    match event {
        Event::RunStarted { tests, cases, iteration, iterations } => EventKind::RunStarted(RunStarted {
            tests: *tests as u64,
            cases: *cases as u64,
            iteration: *iteration,
            iterations: *iterations,
        }),
        Event::TestStarted { test, nodes } => EventKind::TestStarted(TestStarted { test: test.clone(), nodes: *nodes as u64 }),
        Event::PackageStarted { test, package, cases } => {
            EventKind::PackageStarted(PackageStarted { test: test.clone(), package: package.clone(), cases: *cases as u64 })
        }
        Event::CaseFinished { test, package, case, outcome: o, duration, attempts, rewritten, .. } => EventKind::CaseFinished(CaseFinished {
            id: CaseId { test: test.clone(), package: package.clone(), case: case.clone() },
            outcome: outcome(o),
            duration_secs: duration.as_secs_f64(),
            attempts: *attempts,
            rewritten_from: rewritten.as_ref().map(|r| WitOutcome::Failed(failure(&r.original))),
        }),
        Event::PackageFinished { test, package, outcome: o } => {
            EventKind::PackageFinished(PackageFinished { test: test.clone(), package: package.clone(), outcome: outcome(o) })
        }
        Event::ScriptFinished { test, script, outcome: o, duration, .. } => EventKind::ScriptFinished(ScriptFinished {
            test: test.clone(),
            script: script.clone(),
            outcome: outcome(o),
            duration_secs: duration.as_secs_f64(),
        }),
        Event::TestFinished { test, outcome: o, duration, .. } => {
            EventKind::TestFinished(TestFinished { test: test.clone(), outcome: outcome(o), duration_secs: duration.as_secs_f64() })
        }
        Event::NodeReady { test, node, .. } => EventKind::NodeReady(NodeEvent { test: test.clone(), node: node.clone() }),
        Event::NodeFailed { test, node, .. } => EventKind::NodeFailed(NodeEvent { test: test.clone(), node: node.clone() }),
        Event::RunFinished { totals: t, interrupted, duration, .. } => {
            EventKind::RunFinished(RunFinished { totals: totals(t), duration_secs: duration.as_secs_f64(), interrupted: *interrupted })
        }
        _ => EventKind::Other(type_name(json)),
    }
}

/// The `type` of an event's JSON (`node_started`, `warning`…).
fn type_name(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|value| value.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default()
}

pub fn outcome(outcome: &Outcome) -> WitOutcome {
    match outcome {
        Outcome::Passed => WitOutcome::Passed,
        Outcome::Failed { failure: f } => WitOutcome::Failed(failure(f)),
        Outcome::Skipped { reason, .. } => WitOutcome::Skipped(reason.clone()),
        Outcome::NotRun { reason } => WitOutcome::NotRun(reason.clone()),
    }
}

pub fn failure(failure: &FailureDetail) -> Failure {
    let kind = serde_json::to_value(failure.kind).ok().and_then(|k| k.as_str().map(str::to_string)).unwrap_or_default();
    Failure { kind, file: failure.file.clone(), line: failure.line, column: failure.column, message: failure.message.clone() }
}

fn totals(totals: &Totals) -> WitTotals {
    WitTotals {
        passed: totals.passed as u64,
        failed: totals.failed as u64,
        skipped: totals.skipped as u64,
        not_run: totals.not_run as u64,
        flaky: totals.flaky as u64,
    }
}
