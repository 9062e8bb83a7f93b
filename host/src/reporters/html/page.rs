//! The page around the parts: document head, summary banner and counts, warnings, a list
//! of failures linking to their rows, and the node log tails.

use super::assets::{CSS, escape, escape_output, seconds};
use super::model::{Finish, Report};
use super::{results, timeline};
use crate::events::Totals;

/// The whole `index.html`.
pub fn render(report: &Report) -> String {
    let mut html = String::from("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!("<title>{} · host test report</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n", verdict(report).1));
    html.push_str("<h1>host test report</h1>\n");
    html.push_str(r##"<nav><a href="#summary">Summary</a><a href="#timeline">Timeline</a><a href="#results">Results</a><a href="#logs">Node logs</a></nav>"##);
    html.push('\n');
    html.push_str(&summary(report));
    html.push_str(&warnings(&report.warnings));
    html.push_str(&format!("<h2 id=\"timeline\">Timeline</h2>\n<div class=\"panel timeline\">{}</div>\n", timeline::svg(report)));
    html.push_str(&results::section(report));
    html.push_str(&node_logs(report));
    html.push_str("</main>\n</body>\n</html>\n");
    html
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
fn summary(report: &Report) -> String {
    let (class, word) = verdict(report);
    let totals = report.finish.as_ref().map_or_else(Totals::default, |f| f.totals);
    let duration = report.finish.as_ref().map_or_else(|| "?".to_string(), |f| seconds(f.duration));
    let rounds = if report.repeated() { format!(" · {} rounds", report.iterations) } else { String::new() };
    let mut html = format!(
        "<section id=\"summary\">\n<div class=\"banner {class}\"><span>{word}</span><span class=\"sub\">{} passed · {} failed · {} skipped{} · {} flaky — in {duration}{rounds}</span></div>\n",
        totals.passed,
        totals.failed,
        totals.skipped,
        if totals.not_run > 0 { format!(" · {} not run", totals.not_run) } else { String::new() },
        totals.flaky
    );
    html.push_str("<div class=\"cards\">");
    let interrupted = report.finish.as_ref().is_some_and(|f| f.interrupted);
    let cards = [
        ("pass", "passed", totals.passed.to_string()),
        ("fail", "failed", totals.failed.to_string()),
        ("skip", "skipped", totals.skipped.to_string()),
        ("skip", "not run", totals.not_run.to_string()),
        ("flaky", "flaky", totals.flaky.to_string()),
        ("", "duration", duration),
        ("", "tests", report.tests.len().to_string()),
        (if interrupted { "fail" } else { "" }, "interrupted", if interrupted { "yes" } else { "no" }.to_string()),
    ];
    for (class, label, value) in cards {
        html.push_str(&format!(r#"<div class="card {class}"><div class="n">{value}</div><div class="l">{label}</div></div>"#));
    }
    html.push_str("</div>\n");
    html.push_str(&failure_links(report));
    html.push_str("</section>\n");
    html
}

/// Links to every failed case, script and setup, or nothing when none failed.
fn failure_links(report: &Report) -> String {
    let mut items = Vec::new();
    for (t, test) in report.tests.iter().enumerate() {
        let label = test.label(report.repeated());
        for (f, (what, failure)) in test.test_failures.iter().enumerate() {
            let first = failure.message.lines().next().unwrap_or_default();
            items.push((results::anchor_test_failure(t, f), format!("{label} ({})", what.to_lowercase()), first.to_string()));
        }
        for (p, package) in test.packages.iter().enumerate() {
            for (c, case) in package.cases.iter().enumerate().filter(|(_, c)| c.outcome.is_failed()) {
                items.push((results::anchor_case(t, p, c), format!("{label}/{}/{}", package.name, case.name), first_line(&case.outcome)));
            }
        }
        for (s, script) in test.scripts.iter().enumerate().filter(|(_, s)| s.outcome.is_failed()) {
            items.push((results::anchor_script(t, s), crate::suite::script_id(&label, &script.name), first_line(&script.outcome)));
        }
    }
    if items.is_empty() {
        return String::new();
    }
    let mut html = format!("<div class=\"panel\"><strong>Failures ({})</strong><ul class=\"failures-list\">", items.len());
    for (anchor, id, message) in items {
        html.push_str(&format!(r##"<li><a href="#{anchor}"><code>{}</code></a> <span class="muted">{}</span></li>"##, escape(&id), escape(&message)));
    }
    html.push_str("</ul></div>\n");
    html
}

/// The first line of a failure's message (empty for other outcomes).
fn first_line(outcome: &crate::events::Outcome) -> String {
    match outcome {
        crate::events::Outcome::Failed { failure } => failure.message.lines().next().unwrap_or_default().to_string(),
        _ => String::new(),
    }
}

/// The run's warnings, or nothing.
fn warnings(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let items: String = warnings.iter().map(|w| format!("<li>{}</li>", escape_output(w))).collect();
    format!("<h2 id=\"warnings\">Warnings ({})</h2>\n<div class=\"panel\"><ul class=\"warnings\">{items}</ul></div>\n", warnings.len())
}

/// The output tails of the nodes of failed tests, per test and node.
fn node_logs(report: &Report) -> String {
    let mut html = String::from("<h2 id=\"logs\">Node logs</h2>\n");
    let tests: Vec<_> = report.tests.iter().filter(|t| !t.node_logs.is_empty()).collect();
    if tests.is_empty() {
        html.push_str("<p class=\"muted\">No node logs: the last lines of each node are kept for failed tests only.</p>\n");
        return html;
    }
    for test in tests {
        html.push_str(&format!("<h3>{}</h3>\n", escape(&test.label(report.repeated()))));
        for tail in &test.node_logs {
            let lines = tail.lines.len();
            // `log_file` is the reporter's own copy (`node-logs/N.log`), or empty.
            let link = if tail.log_file.is_empty() {
                String::new()
            } else {
                format!(" — <a href=\"{}\">whole log</a>", escape(&tail.log_file))
            };
            html.push_str(&format!(
                "<details class=\"log\" open><summary>{} — last {lines} line{}{link}</summary><pre>{}</pre></details>\n",
                escape(&tail.node),
                if lines == 1 { "" } else { "s" },
                escape_output(&tail.lines.join("\n"))
            ));
        }
    }
    html
}
