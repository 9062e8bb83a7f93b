//! The page's stylesheet and the small text helpers every part of the page uses:
//! HTML escaping, control-character cleanup, durations and outcome labels.

use std::time::Duration;

use crate::events::{FailureDetail, Outcome};

/// Colours shared by the stylesheet and the SVG timeline.
pub const GREEN: &str = "#1f9d55";
pub const RED: &str = "#d64545";
pub const GREY: &str = "#9aa1a9";
pub const BLUE: &str = "#4c7fd9";

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Captured output made fit for a `<pre>`: ANSI escape sequences removed, other control
/// characters (but newlines and tabs) shown as `\u{fffd}`, then escaped.
pub fn escape_output(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                // CSI: parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\n' | '\t' => plain.push(c),
            '\r' => {}
            c if c.is_control() => plain.push('\u{fffd}'),
            c => plain.push(c),
        }
    }
    escape(&plain)
}

/// `0.123s` under a minute, `2m 03.4s` above.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 60.0 { format!("{secs:.3}s") } else { format!("{}m {:04.1}s", (secs / 60.0).floor(), secs % 60.0) }
}

/// The CSS class and the badge text of an outcome (`flaky` for a pass after failures).
pub fn status(outcome: Option<&Outcome>, flaky: bool) -> (&'static str, &'static str) {
    match outcome {
        Some(Outcome::Passed) if flaky => ("flaky", "FLAKY"),
        Some(Outcome::Passed) => ("pass", "PASS"),
        Some(Outcome::Failed { .. }) => ("fail", "FAIL"),
        Some(Outcome::Skipped { .. }) => ("skip", "SKIP"),
        Some(Outcome::NotRun { .. }) => ("skip", "NOT RUN"),
        None => ("running", "UNFINISHED"),
    }
}

/// A status badge for an outcome.
pub fn badge(outcome: Option<&Outcome>, flaky: bool) -> String {
    let (class, text) = status(outcome, flaky);
    format!(r#"<span class="badge {class}">{text}</span>"#)
}

/// The timeline colour of an outcome (blue while unfinished).
pub fn colour(outcome: Option<&Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::Passed) => GREEN,
        Some(Outcome::Failed { .. }) => RED,
        Some(Outcome::Skipped { .. } | Outcome::NotRun { .. }) => GREY,
        None => BLUE,
    }
}

/// `file:line:column`, or an empty string when the failure has no location.
pub fn location(failure: &FailureDetail) -> String {
    if failure.line > 0 { format!("{}:{}:{}", failure.file, failure.line, failure.column) } else { failure.file.clone() }
}

/// A failure as HTML: kind, escaped location and the message with its newlines kept.
pub fn failure_block(failure: &FailureDetail) -> String {
    let kind = format!("{:?}", failure.kind).to_lowercase();
    let location = location(failure);
    let location = if location.is_empty() { String::new() } else { format!(r#" at <code class="loc">{}</code>"#, escape(&location)) };
    format!(
        r#"<div class="failure"><div class="where"><span class="kind">{kind}</span>{location}</div><pre class="message">{}</pre></div>"#,
        escape_output(&failure.message)
    )
}

/// Captured output in a collapsed `<details>`, or nothing when there is none.
pub fn output_details(label: &str, output: &str) -> String {
    if output.trim().is_empty() {
        return String::new();
    }
    let lines = output.lines().count();
    format!(
        r#"<details class="output"><summary>{} ({lines} line{})</summary><pre>{}</pre></details>"#,
        escape(label),
        if lines == 1 { "" } else { "s" },
        escape_output(output)
    )
}

/// The stylesheet, inlined in the page's `<head>`.
pub const CSS: &str = r#"
:root { --green: #1f9d55; --red: #d64545; --grey: #9aa1a9; --amber: #c98a00; --blue: #4c7fd9;
  --ink: #1d2430; --muted: #5f6b7a; --line: #dfe3e8; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
nav { font-size: 13px; margin-bottom: 14px; }
nav a { margin-right: 14px; color: var(--blue); text-decoration: none; }
code, pre { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.banner { border-radius: 8px; padding: 14px 18px; color: #fff; font-size: 20px; font-weight: 700;
  display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; }
.banner.pass { background: var(--green); } .banner.fail { background: var(--red); }
.banner .sub { font-size: 14px; font-weight: 500; opacity: .95; }
.cards { display: flex; gap: 10px; margin: 12px 0; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.card .n { font-size: 22px; font-weight: 700; } .card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; }
.card.pass .n { color: var(--green); } .card.fail .n { color: var(--red); }
.card.skip .n { color: var(--grey); } .card.flaky .n { color: var(--amber); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; overflow-x: auto; }
.warnings li { color: #7a5600; }
.failures-list { margin: 6px 0 0; padding-left: 20px; }
.failures-list a { color: var(--red); overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; background: #fff; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; font-weight: 600; }
col.c-id { width: auto; } col.c-status { width: 92px; } col.c-time { width: 92px; } col.c-tries { width: 96px; }
tr.pkg td { background: #eef1f5; font-weight: 600; }
tr.pkg .counts { color: var(--muted); font-weight: 400; margin-left: 8px; }
td.num { font-variant-numeric: tabular-nums; }
tr.detail td { background: #fffafa; padding-left: 24px; }
tr.detail.flaky td { background: #fffbf0; }
.flaky-note { color: var(--amber); font-weight: 600; }
.badge { display: inline-block; min-width: 48px; text-align: center; border-radius: 4px; padding: 0 6px;
  font-size: 11.5px; font-weight: 700; color: #fff; letter-spacing: .03em; }
.badge.pass { background: var(--green); } .badge.fail { background: var(--red); }
.badge.skip { background: var(--grey); } .badge.flaky { background: var(--amber); }
.badge.running { background: var(--blue); }
.muted { color: var(--muted); font-weight: 400; font-size: 13px; }
.failure .where { color: var(--muted); } .failure .kind { color: var(--red); font-weight: 700; }
.failure .message { color: #8a1f1f; font-weight: 600; }
.loc { color: var(--ink); }
details.output summary, details.log summary { cursor: pointer; color: var(--blue); font-size: 13px; }
details.output pre, details.log pre { background: #1e2430; color: #e6e9ee; padding: 8px 10px; border-radius: 6px;
  max-height: 420px; overflow: auto; }
.setup { border-left: 4px solid var(--red); background: #fff; padding: 6px 12px; margin: 6px 0; }
.timeline svg { display: block; max-width: 100%; height: auto; }
"#;
