//! The page's stylesheet and the small pieces every part of the page uses: cleaning of
//! captured output, durations, outcome labels and colours, and the shared fragments
//! (badge, failure, collapsed output).
//!
//! Fragments are `maud` templates: every `(expression)` in them is HTML-escaped, so text
//! a package or a node controls can only ever be text. Nothing untrusted is ever wrapped
//! in `PreEscaped`; the one pre-escaped string of the page is [`CSS`], a constant.

use std::time::Duration;

use maud::{Markup, html};

use crate::events::{FailureDetail, Outcome};

/// Colours shared by the stylesheet and the SVG timeline.
pub const GREEN: &str = "#1f9d55";
/// Failed, in the stylesheet and the timeline.
pub const RED: &str = "#d64545";
/// Skipped or not run.
pub const GREY: &str = "#9aa1a9";
/// Still running (no outcome yet).
pub const BLUE: &str = "#4c7fd9";
/// Network faults on the timeline.
pub const ORANGE: &str = "#e08a1e";

/// The stylesheet, inlined in the page's `<head>` (a constant of ours, not user text).
pub const CSS: &str = include_str!("report.css");

/// Captured output made fit for a `<pre>`: ANSI escape sequences removed, other control
/// characters (but newlines and tabs) and characters that reorder or hide text (bidi
/// overrides, U+FFFE…) shown as `\u{fffd}`. The template escapes the
/// markup characters of the result.
pub fn plain_output(text: &str) -> String {
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
            // Controls, and characters that reorder or hide text (bidi overrides, U+FFFE…):
            // shown as U+FFFD, so a package cannot make its output read as something else.
            c if c.is_control() || crate::reporters::escape::is_invisible_format(c) => plain.push('\u{fffd}'),
            c => plain.push(c),
        }
    }
    plain
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

/// The timeline colour of an outcome (blue while unfinished).
pub fn colour(outcome: Option<&Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::Passed) => GREEN,
        Some(Outcome::Failed { .. }) => RED,
        Some(Outcome::Skipped { .. } | Outcome::NotRun { .. }) => GREY,
        None => BLUE,
    }
}

/// `file:line:column`, or the file alone (perhaps empty) when the failure has no line.
pub fn location(failure: &FailureDetail) -> String {
    if failure.line > 0 { format!("{}:{}:{}", failure.file, failure.line, failure.column) } else { failure.file.clone() }
}

/// `s` when `count` is not one, for "1 line" / "2 lines".
pub fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// A status badge for an outcome.
pub fn badge(outcome: Option<&Outcome>, flaky: bool) -> Markup {
    let (class, text) = status(outcome, flaky);
    html! { span class={ "badge " (class) } { (text) } }
}

/// A failure: its kind, its location (when it has one) and its message, newlines kept.
pub fn failure_block(failure: &FailureDetail) -> Markup {
    let kind = format!("{:?}", failure.kind).to_lowercase();
    let location = location(failure);
    html! {
        div.failure {
            div.where {
                span.kind { (kind) }
                @if !location.is_empty() { " at " code.loc { (location) } }
            }
            pre.message { (plain_output(&failure.message)) }
        }
    }
}

/// Captured output in a collapsed `<details>`, or nothing when there is none.
pub fn output_details(label: &str, output: &str) -> Markup {
    let lines = output.lines().count();
    html! {
        @if !output.trim().is_empty() {
            details.output {
                summary { (label) " (" (lines) " line" (plural(lines)) ")" }
                pre { (plain_output(output)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_loses_ansi_sequences_and_shows_other_controls() {
        assert_eq!(plain_output("\u{1b}[31mred\u{1b}[0m\r\n\ta\u{0}b\u{7}"), "red\n\ta\u{fffd}b\u{fffd}");
        assert_eq!(plain_output("pass\u{202e}liaf\u{2066}x\u{fffe}"), "pass\u{fffd}liaf\u{fffd}x\u{fffd}");
    }

    #[test]
    fn markup_in_a_failure_is_escaped_by_the_template() {
        let failure = FailureDetail {
            kind: crate::events::FailureKind::Panic,
            file: "a<b>.rs".into(),
            line: 3,
            column: 9,
            message: "<i>x</i> & \"y\"".into(),
        };
        let html = failure_block(&failure).into_string();
        assert!(html.contains("<code class=\"loc\">a&lt;b&gt;.rs:3:9</code>"), "{html}");
        assert!(html.contains("&lt;i&gt;x&lt;/i&gt; &amp; &quot;y&quot;"), "{html}");
        assert!(html.contains("<span class=\"kind\">panic</span>"), "{html}");
    }
}
