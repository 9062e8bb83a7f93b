//! The results section: per test, a table of its packages and their cases (`test/package/case`,
//! status, duration, attempts), failures with location, message and collapsible output,
//! then its scripts; a setup failure goes above the table.

use super::assets::{badge, escape, failure_block, output_details, seconds};
use super::model::{CaseRecord, PackageRecord, Report, ScriptRecord, TestRecord};
use crate::events::Outcome;

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

/// `<h2>Results</h2>` and one block per test.
pub fn section(report: &Report) -> String {
    let mut html = String::from("<h2 id=\"results\">Results</h2>\n");
    if report.tests.is_empty() {
        html.push_str("<p class=\"muted\">No test ran.</p>\n");
    }
    for (t, test) in report.tests.iter().enumerate() {
        html.push_str(&test_block(report, t, test));
    }
    html
}

/// One test: heading with its outcome, setup failure, then the table of its results.
fn test_block(report: &Report, t: usize, test: &TestRecord) -> String {
    let label = test.label(report.repeated());
    let duration = test.duration.map(seconds).map_or_else(String::new, |d| format!(" in {d}"));
    let nodes = test.nodes.len();
    let mut html = format!(
        "<h3>{} {}<span class=\"muted\">{} node{}{duration}</span></h3>\n",
        escape(&label),
        badge(test.outcome.as_ref(), false),
        nodes,
        if nodes == 1 { "" } else { "s" }
    );
    for (f, (what, failure)) in test.test_failures.iter().enumerate() {
        html.push_str(&format!(
            "<div class=\"setup\" id=\"{}\"><strong>{}</strong>{}</div>\n",
            anchor_test_failure(t, f),
            escape(what),
            failure_block(failure)
        ));
    }
    if test.packages.is_empty() && test.scripts.is_empty() {
        html.push_str("<p class=\"muted\">No case ran.</p>\n");
        return html;
    }
    html.push_str("<table>\n<colgroup><col class=\"c-id\"><col class=\"c-status\"><col class=\"c-time\"><col class=\"c-tries\"></colgroup>\n");
    html.push_str("<thead><tr><th>test/package/case</th><th>status</th><th>duration</th><th>attempts</th></tr></thead>\n<tbody>\n");
    for (p, package) in test.packages.iter().enumerate() {
        html.push_str(&package_row(package));
        for (c, case) in package.cases.iter().enumerate() {
            html.push_str(&case_rows(&anchor_case(t, p, c), &format!("{label}/{}/{}", package.name, case.name), case));
        }
    }
    if !test.scripts.is_empty() {
        html.push_str("<tr class=\"pkg\"><td colspan=\"4\">test scripts</td></tr>\n");
        for (s, script) in test.scripts.iter().enumerate() {
            html.push_str(&script_rows(&anchor_script(t, s), &crate::suite::script_id(&label, &script.name), script));
        }
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// A package's header row: name, outcome, counts and how long it ran.
fn package_row(package: &PackageRecord) -> String {
    let count = |f: fn(&Outcome) -> bool| package.cases.iter().filter(|c| f(&c.outcome)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let failed = count(Outcome::is_failed);
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let took = match (package.started, package.finished) {
        (Some(start), Some(end)) => format!(" · {}", seconds(std::time::Duration::from_secs_f64((end - start).max(0.0)))),
        _ => String::new(),
    };
    format!(
        "<tr class=\"pkg\"><td colspan=\"4\">{} {}<span class=\"counts\">{passed} passed · {failed} failed · {skipped} skipped{took}</span></td></tr>\n",
        escape(&package.name),
        badge(package.outcome.as_ref(), false)
    )
}

/// A case's row, plus a detail row for a failure or for the failures before a flaky pass.
fn case_rows(anchor: &str, id: &str, case: &CaseRecord) -> String {
    let flaky = case.is_flaky();
    let mut cell = format!("<code>{}</code>", escape(id));
    match &case.outcome {
        Outcome::Skipped { reason } | Outcome::NotRun { reason } => {
            cell.push_str(&format!(" <span class=\"muted\">— {}</span>", escape(reason)))
        }
        Outcome::Passed => cell.push_str(&output_details("output", &case.output)),
        Outcome::Failed { .. } => {}
    }
    let ran = case.attempts > 0 && !matches!(case.outcome, Outcome::Skipped { .. } | Outcome::NotRun { .. });
    let attempts = match case.attempts {
        _ if !ran => "—".to_string(),
        n if flaky => format!("<span class=\"flaky-note\">{n} (flaky)</span>"),
        n => n.to_string(),
    };
    let duration = if ran { seconds(case.duration) } else { "—".to_string() };
    let mut html = format!(
        "<tr id=\"{anchor}\"><td>{cell}</td><td>{}</td><td class=\"num\">{duration}</td><td class=\"num\">{attempts}</td></tr>\n",
        badge(Some(&case.outcome), flaky)
    );
    let mut detail = String::new();
    if let Outcome::Failed { failure } = &case.outcome {
        detail.push_str(&failure_block(failure));
        detail.push_str(&output_details("captured output", &case.output));
    }
    detail.push_str(&earlier_failures(case));
    if !detail.is_empty() {
        let class = if flaky { "detail flaky" } else { "detail" };
        html.push_str(&format!("<tr class=\"{class}\"><td colspan=\"4\">{detail}</td></tr>\n"));
    }
    html
}

/// The failures of the attempts before the last one, collapsed.
fn earlier_failures(case: &CaseRecord) -> String {
    if case.earlier_failures.is_empty() {
        return String::new();
    }
    let blocks: String = case.earlier_failures.iter().map(failure_block).collect();
    format!("<details class=\"output\"><summary>earlier attempts ({})</summary>{blocks}</details>", case.earlier_failures.len())
}

/// A script's row, plus a detail row with its failure and output.
fn script_rows(anchor: &str, id: &str, script: &ScriptRecord) -> String {
    let mut cell = format!("<code>{}</code>", escape(id));
    if let Outcome::Skipped { reason } | Outcome::NotRun { reason } = &script.outcome {
        cell.push_str(&format!(" <span class=\"muted\">— {}</span>", escape(reason)));
    }
    let mut html = format!(
        "<tr id=\"{anchor}\"><td>{cell}</td><td>{}</td><td class=\"num\">—</td><td class=\"num\">—</td></tr>\n",
        badge(Some(&script.outcome), false)
    );
    let mut detail = String::new();
    if let Outcome::Failed { failure } = &script.outcome {
        detail.push_str(&failure_block(failure));
    }
    detail.push_str(&output_details("output", &script.output));
    if !detail.is_empty() {
        html.push_str(&format!("<tr class=\"detail\"><td colspan=\"4\">{detail}</td></tr>\n"));
    }
    html
}
