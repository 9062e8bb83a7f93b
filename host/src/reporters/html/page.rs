//! The page around the parts: document head, summary banner and counts, warnings, a list
//! of failures linking to their rows, and the node log tails.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::assets::{CSS, plain_output, plural, seconds};
use super::model::{Finish, Report};
use super::{results, timeline};
use crate::events::{Outcome, Totals};

/// The whole `index.html`.
pub fn render(report: &Report) -> String {
    let (_, word) = verdict(report);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (word) " · host test report" }
                // The stylesheet is our own constant: inlined as is (escaping would break it).
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    h1 { "host test report" }
                    nav {
                        a href="#summary" { "Summary" }
                        a href="#timeline" { "Timeline" }
                        a href="#results" { "Results" }
                        a href="#logs" { "Node logs" }
                    }
                    (summary(report))
                    (warnings(&report.warnings))
                    section #timeline {
                        h2 { "Timeline" }
                        div.panel.timeline { (timeline::svg(report)) }
                    }
                    (results::section(report))
                    (node_logs(report))
                }
            }
        }
    };
    page.into_string()
}

/// The banner's class and word: `pass`/`PASSED`, or `fail` with FAILED or INTERRUPTED.
fn verdict(report: &Report) -> (&'static str, &'static str) {
    match &report.finish {
        Some(Finish { interrupted: true, .. }) => ("fail", "INTERRUPTED"),
        Some(Finish { totals, .. }) if totals.failed == 0 => ("pass", "PASSED"),
        Some(_) => ("fail", "FAILED"),
        None => ("fail", "UNFINISHED"),
    }
}

/// The banner, the count cards and the list of failures.
fn summary(report: &Report) -> Markup {
    let (class, word) = verdict(report);
    let totals = report.finish.as_ref().map_or_else(Totals::default, |f| f.totals);
    let duration = report.finish.as_ref().map_or_else(|| "?".to_string(), |f| seconds(f.duration));
    let interrupted = report.finish.as_ref().is_some_and(|f| f.interrupted);
    let cards = [
        ("pass", "passed", totals.passed.to_string()),
        ("fail", "failed", totals.failed.to_string()),
        ("skip", "skipped", totals.skipped.to_string()),
        ("skip", "user skipped", totals.user_skipped.to_string()),
        ("skip", "auto skipped", totals.auto_skipped.to_string()),
        ("skip", "not run", totals.not_run.to_string()),
        ("flaky", "flaky", totals.flaky.to_string()),
        ("", "duration", duration.clone()),
        ("", "tests", report.tests.len().to_string()),
        (if interrupted { "fail" } else { "" }, "interrupted", if interrupted { "yes" } else { "no" }.to_string()),
    ];
    html! {
        section #summary {
            div class={ "banner " (class) } {
                span { (word) }
                span.sub {
                    (totals.passed) " passed · " (totals.failed) " failed · " (totals.skipped) " skipped"
                    @if totals.not_run > 0 { " · " (totals.not_run) " not run" }
                    " · " (totals.flaky) " flaky — in " (duration)
                    @if report.repeated() {
                        " · "
                        @if report.iteration < report.iterations { (report.iteration) " of " }
                        (report.iterations) " rounds"
                    }
                }
            }
            div.cards {
                @for (class, label, value) in cards {
                    div class={ "card " (class) } { div.n { (value) } div.l { (label) } }
                }
            }
            (failure_links(report))
        }
    }
}

/// One entry of the failures list: the anchor of its row, its id, its first message line.
struct FailureLink {
    anchor: String,
    id: String,
    message: String,
}

/// Every failed case, script and test (setup, a node that exited), in page order.
fn failures(report: &Report) -> Vec<FailureLink> {
    let mut items = Vec::new();
    for (t, test) in report.tests.iter().enumerate() {
        let label = test.label(report.repeated());
        for (f, (what, failure)) in test.test_failures.iter().enumerate() {
            let message = failure.message.lines().next().unwrap_or_default().to_string();
            items.push(FailureLink { anchor: results::anchor_test_failure(t, f), id: format!("{label} ({})", what.to_lowercase()), message });
        }
        for (p, package) in test.packages.iter().enumerate() {
            for (c, case) in package.cases.iter().enumerate().filter(|(_, c)| c.outcome.is_failed()) {
                let id = format!("{label}/{}/{}", package.name, case.name);
                items.push(FailureLink { anchor: results::anchor_case(t, p, c), id, message: first_line(&case.outcome) });
            }
        }
        for (s, script) in test.scripts.iter().enumerate().filter(|(_, s)| s.outcome.is_failed()) {
            let id = crate::suite::script_id(&label, &script.name);
            items.push(FailureLink { anchor: results::anchor_script(t, s), id, message: first_line(&script.outcome) });
        }
    }
    items
}

/// Links to every failure, or nothing when none failed.
fn failure_links(report: &Report) -> Markup {
    let items = failures(report);
    html! {
        @if !items.is_empty() {
            div.panel.failures {
                strong { "Failures (" (items.len()) ")" }
                ul.failures-list {
                    @for item in &items {
                        li {
                            a href={ "#" (item.anchor) } { code { (item.id) } }
                            " "
                            span.muted { (plain_output(&item.message)) }
                        }
                    }
                }
            }
        }
    }
}

/// The first line of a failure's message (empty for other outcomes).
fn first_line(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed { failure } => failure.message.lines().next().unwrap_or_default().to_string(),
        _ => String::new(),
    }
}

/// The run's warnings, or nothing.
fn warnings(warnings: &[String]) -> Markup {
    html! {
        @if !warnings.is_empty() {
            h2 #warnings { "Warnings (" (warnings.len()) ")" }
            div.panel {
                ul.warnings { @for warning in warnings { li { (plain_output(warning)) } } }
            }
        }
    }
}

/// The output tails of the nodes of failed tests, per test and node; each links the
/// reporter's copy of the node's whole log (`node-logs/node-N.log`) when there is one.
fn node_logs(report: &Report) -> Markup {
    let tests: Vec<_> = report.tests.iter().filter(|t| !t.node_logs.is_empty()).collect();
    html! {
        section #logs {
            h2 { "Node logs" }
            @if tests.is_empty() {
                p.muted { "No node logs: the last lines of each node are kept for failed tests only." }
            }
            @for test in tests {
                h3 { (test.label(report.repeated())) }
                @for tail in &test.node_logs {
                    details.log open {
                        summary {
                            (tail.node) " — last " (tail.lines.len()) " line" (plural(tail.lines.len()))
                            @if !tail.log_file.is_empty() { " — " a href=(tail.log_file) { "whole log" } }
                        }
                        pre { (plain_output(&tail.lines.join("\n"))) }
                    }
                }
            }
        }
    }
}
