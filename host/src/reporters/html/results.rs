//! The results section: per test, a table of its packages and their cases (`test/package/case`,
//! status, duration, attempts), failures with location, message and collapsible output,
//! then its scripts; a setup failure goes above the table.

use maud::{Markup, html};

use super::assets::{badge, failure_block, output_details, plural, seconds};
use super::model::{CaseRecord, PackageRecord, Report, ScriptRecord, TestRecord};
use crate::events::{Outcome, SkipKind};

/// The anchor of case `c` of package `p` of test `t` (indices, so no escaping is needed).
pub fn anchor_case(t: usize, p: usize, c: usize) -> String {
    format!("t{t}-p{p}-c{c}")
}

/// The anchor of script `s` of test `t`.
pub fn anchor_script(t: usize, s: usize) -> String {
    format!("t{t}-s{s}")
}

/// The anchor of test `t`'s own failure `f` (setup, a node that exited).
pub fn anchor_test_failure(t: usize, f: usize) -> String {
    format!("t{t}-failure{f}")
}

/// The results section: a heading and one block per test.
pub fn section(report: &Report) -> Markup {
    html! {
        section #results {
            h2 { "Results" }
            @if report.tests.is_empty() { p.muted { "No test ran." } }
            @for (t, test) in report.tests.iter().enumerate() { (test_block(report, t, test)) }
        }
    }
}

/// One test: heading with its outcome, setup failure, then the table of its results.
fn test_block(report: &Report, t: usize, test: &TestRecord) -> Markup {
    let label = test.label(report.repeated());
    let nodes = test.nodes.len();
    html! {
        h3 {
            (label) " " (badge(test.outcome.as_ref(), false))
            span.muted {
                (nodes) " node" (plural(nodes))
                @if let Some(duration) = test.duration { " in " (seconds(duration)) }
            }
        }
        @for (f, (what, failure)) in test.test_failures.iter().enumerate() {
            div.setup id=(anchor_test_failure(t, f)) { strong { (what) } (failure_block(failure)) }
        }
        @if test.packages.is_empty() && test.scripts.is_empty() {
            p.muted { "No case ran." }
        } @else {
            table {
                colgroup { col.c-id; col.c-status; col.c-time; col.c-tries; }
                thead { tr { th { "test/package/case" } th { "status" } th { "duration" } th { "attempts" } } }
                tbody {
                    @for (p, package) in test.packages.iter().enumerate() {
                        (package_row(package))
                        @for (c, case) in package.cases.iter().enumerate() {
                            (case_rows(&anchor_case(t, p, c), &format!("{label}/{}/{}", package.name, case.name), case))
                        }
                    }
                    @if !test.scripts.is_empty() {
                        tr.pkg { td colspan="4" { "test scripts" } }
                        @for (s, script) in test.scripts.iter().enumerate() {
                            (script_rows(&anchor_script(t, s), &crate::suite::script_id(&label, &script.name), script))
                        }
                    }
                }
            }
        }
    }
}

/// Who skipped a case, in words.
fn skip_who(kind: SkipKind) -> &'static str {
    match kind {
        SkipKind::User => "skipped by the package",
        SkipKind::Auto => "skipped by the host",
    }
}

/// A package's header row: name, outcome, counts and how long it ran.
fn package_row(package: &PackageRecord) -> Markup {
    let count = |f: fn(&Outcome) -> bool| package.cases.iter().filter(|c| f(&c.outcome)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let failed = count(Outcome::is_failed);
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let took = match (package.started, package.finished) {
        (Some(start), Some(end)) => Some(seconds(std::time::Duration::from_secs_f64((end - start).max(0.0)))),
        _ => None,
    };
    html! {
        tr.pkg {
            td colspan="4" {
                (package.name) " " (badge(package.outcome.as_ref(), false))
                span.counts {
                    (passed) " passed · " (failed) " failed · " (skipped) " skipped"
                    @if let Some(took) = took { " · " (took) }
                }
            }
        }
    }
}

/// A case's row, plus a detail row for a failure or for the failures before a flaky pass.
fn case_rows(anchor: &str, id: &str, case: &CaseRecord) -> Markup {
    let flaky = case.is_flaky();
    let ran = case.attempts > 0 && !matches!(case.outcome, Outcome::Skipped { .. } | Outcome::NotRun { .. });
    let failure = match &case.outcome {
        Outcome::Failed { failure } => Some(failure),
        _ => None,
    };
    let detail = failure.is_some() || !case.earlier_failures.is_empty();
    html! {
        tr id=(anchor) {
            td {
                code { (id) }
                @if let Some(doc) = &case.doc { " " span.doc { (doc) } }
                @if let Some(comment) = &case.comment { " " span.comment { "" (comment) } }
                @match &case.outcome {
                    Outcome::Skipped { reason, kind } => {
                        " " span.muted { "— " (skip_who(*kind)) ": " (reason) }
                    }
                    Outcome::NotRun { reason } => { " " span.muted { "— " (reason) } }
                    Outcome::Passed => { (output_details("output", &case.output)) }
                    Outcome::Failed { .. } => {}
                }
            }
            td { (badge(Some(&case.outcome), flaky)) }
            td.num { @if ran { (seconds(case.duration)) } @else { "—" } }
            td.num {
                @if !ran { "—" }
                @else if flaky { span.flaky-note { (case.attempts) " (flaky)" } }
                @else { (case.attempts) }
            }
        }
        @if detail {
            tr class=(if flaky { "detail flaky" } else { "detail" }) {
                td colspan="4" {
                    @if let Some(failure) = failure {
                        (failure_block(failure))
                        (output_details("captured output", &case.output))
                    }
                    (earlier_failures(case))
                }
            }
        }
    }
}

/// The failures of the attempts before the last one, collapsed.
fn earlier_failures(case: &CaseRecord) -> Markup {
    html! {
        @if !case.earlier_failures.is_empty() {
            details.output {
                summary { "earlier attempts (" (case.earlier_failures.len()) ")" }
                @for failure in &case.earlier_failures { (failure_block(failure)) }
            }
        }
    }
}

/// A script's row, plus a detail row with its failure and output.
fn script_rows(anchor: &str, id: &str, script: &ScriptRecord) -> Markup {
    let failure = match &script.outcome {
        Outcome::Failed { failure } => Some(failure),
        _ => None,
    };
    let detail = failure.is_some() || !script.output.trim().is_empty();
    html! {
        tr id=(anchor) {
            td {
                code { (id) }
                @if let Outcome::Skipped { reason, .. } | Outcome::NotRun { reason } = &script.outcome {
                    " " span.muted { "— " (reason) }
                }
            }
            td { (badge(Some(&script.outcome), false)) }
            td.num { "—" }
            td.num { "—" }
        }
        @if detail {
            tr.detail {
                td colspan="4" {
                    @if let Some(failure) = failure { (failure_block(failure)) }
                    (output_details("output", &script.output))
                }
            }
        }
    }
}
