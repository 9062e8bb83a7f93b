//! Untrusted text made safe for each output: what a package or a node controls (case
//! names, messages, file names, output, log lines) can never move the cursor, clear the
//! screen, set a title or a link, switch to the alternate screen, start a new line that
//! looks like the host's own, or break an XML file.
//!
//! Escapes are visible and reversible by eye: `\n`, `\r`, `\t`, `\u{1b}`.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::events::{Event, FailureDetail, NodeLogTail, Outcome};

/// `event` with every text a package or a node controls passed through `name` (names,
/// file names, one-line reasons) or `text` (messages, output, log lines, warnings).
/// Reporters print only what comes out of this.
pub fn event_with(event: &Event, name: &dyn Fn(&str) -> String, text: &dyn Fn(&str) -> String) -> Event {
    let failure = |f: &FailureDetail| FailureDetail { file: name(&f.file), message: text(&f.message), ..f.clone() };
    let outcome = |o: &Outcome| match o {
        Outcome::Passed => Outcome::Passed,
        Outcome::Failed { failure: f } => Outcome::Failed { failure: failure(f) },
        Outcome::Skipped { reason, kind } => Outcome::Skipped { reason: name(reason), kind: *kind },
        Outcome::NotRun { reason } => Outcome::NotRun { reason: name(reason) },
    };
    match event.clone() {
        Event::PackageBuilding { package, path, reason } => {
            Event::PackageBuilding { package: name(&package), path: name(&path), reason: name(&reason) }
        }
        Event::PackageBuilt { package, took } => Event::PackageBuilt { package: name(&package), took },
        Event::ComponentCompiling { package, reason } => Event::ComponentCompiling { package: name(&package), reason: name(&reason) },
        Event::ComponentCompiled { package, took, from_cache } => Event::ComponentCompiled { package: name(&package), took, from_cache },
        Event::PreparationFailed { message } => Event::PreparationFailed { message: text(&message) },
        Event::TestStarted { test, nodes } => Event::TestStarted { test: name(&test), nodes },
        Event::NodeStarted { test, node, pid, address } => {
            Event::NodeStarted { test: name(&test), node: name(&node), pid, address: name(&address) }
        }
        Event::NodeReady { test, node, after, signalled_at } => Event::NodeReady { test: name(&test), node: name(&node), after, signalled_at },
        Event::NodeExited { test, node, status, how, took } => {
            Event::NodeExited { test: name(&test), node: name(&node), status: name(&status), how, took }
        }
        Event::PackageStarted { test, package, cases } => Event::PackageStarted { test: name(&test), package: name(&package), cases },
        Event::CaseFinished { test, package, case, outcome: o, duration, output, attempts, earlier_failures, rewritten } => Event::CaseFinished {
            test: name(&test),
            package: name(&package),
            case: name(&case),
            outcome: outcome(&o),
            duration,
            output: text(&output),
            attempts,
            earlier_failures: earlier_failures.iter().map(failure).collect(),
            rewritten: rewritten.map(|r| crate::events::Rewritten { by: name(&r.by), original: failure(&r.original) }),
        },
        Event::PackageFinished { test, package, outcome: o } => Event::PackageFinished { test: name(&test), package: name(&package), outcome: outcome(&o) },
        Event::ScriptFinished { test, script, outcome: o, output, duration } => {
            Event::ScriptFinished { test: name(&test), script: name(&script), outcome: outcome(&o), output: text(&output), duration }
        }
        Event::CaseAnnotated { test, package, case, comment, doc } => Event::CaseAnnotated {
            test: name(&test),
            package: name(&package),
            case: name(&case),
            comment: comment.as_deref().map(name),
            doc: doc.as_deref().map(name),
        },
        Event::FixtureFailed { test, package, fixture, failure: f, output } => Event::FixtureFailed {
            test: name(&test),
            package: name(&package),
            fixture,
            failure: failure(&f),
            output: text(&output),
        },
        Event::SetupFailed { test, failure: f } => Event::SetupFailed { test: name(&test), failure: failure(&f) },
        Event::NodeFailed { test, node, failure: f } => Event::NodeFailed { test: name(&test), node: name(&node), failure: failure(&f) },
        Event::TestFinished { test, outcome: o, duration, node_logs } => Event::TestFinished {
            test: name(&test),
            outcome: outcome(&o),
            duration,
            node_logs: node_logs
                .iter()
                .map(|tail| NodeLogTail {
                    node: name(&tail.node),
                    lines: tail.lines.iter().map(|line| text(line)).collect(),
                    log_file: tail.log_file.clone(),
                })
                .collect(),
        },
        Event::NetworkFault { test, action, nodes, detail } => Event::NetworkFault {
            test: name(&test),
            action: name(&action),
            nodes: nodes.iter().map(|node| name(node)).collect(),
            detail: name(&detail),
        },
        Event::BreakStarted { test, case, comment, nodes, how_to_continue } => Event::BreakStarted {
            test: name(&test),
            case: case.as_deref().map(name),
            comment: comment.as_deref().map(name),
            nodes: nodes
                .into_iter()
                .map(|access| crate::events::NodeAccess {
                    node: name(&access.node),
                    addresses: access.addresses.iter().map(|a| name(a)).collect(),
                    home: name(&access.home),
                    log_file: name(&access.log_file),
                    ..access
                })
                .collect(),
            how_to_continue: name(&how_to_continue),
        },
        Event::BreakEnded { test, why } => Event::BreakEnded { test: name(&test), why },
        Event::Warning { message } => Event::Warning { message: text(&message) },
        event @ (Event::RunStarted { .. } | Event::RunFinished { .. }) => event,
    }
}

/// What a reporter keeps of one text (a case's output, a message): its last 64 KiB. The
/// whole output is in the JSON stream; memory per case stays bounded in the others.
pub const KEPT_TEXT: usize = 64 << 10;

/// The last `max` bytes of `text` (at a character boundary), after a note of how much was
/// left out.
pub fn tail(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    Cow::Owned(format!("[{start} bytes before this not shown]\n{}", &text[start..]))
}

/// Characters that reorder or hide text on a terminal without being controls: bidi
/// embeddings, overrides and isolates, marks, and the Unicode line separators.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
            | '\u{fff9}'..='\u{fffb}' | '\u{fffe}' | '\u{ffff}'
    )
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn escape_where(text: &str, needs: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) { escape_char(&mut out, c) } else { out.push(c) }
    }
    Cow::Owned(out)
}

/// A name or a one-line message for a terminal: every control character (C0, DEL, C1,
/// including newline, carriage return and tab) and every bidi or line-separator format
/// character escaped, so the text stays on its one line, as written.
pub fn terminal_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control() || is_invisible_format(c))
}

/// One line of captured output or of a node's log for a terminal: as
/// [`terminal_line`], but a tab stays a tab.
pub fn terminal_output_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| (c.is_control() && c != '\t') || is_invisible_format(c))
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production).
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Text for an XML document (JUnit): characters XML 1.0 forbids (C0 controls but tab,
/// newline and carriage return; U+FFFE, U+FFFF) and the escape character are escaped, so
/// the file always parses and terminal sequences arrive as text. Markup characters are
/// left to the XML writer.
pub fn xml_text(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| !xml_allowed(c) || c == '\u{1b}' || ('\u{7f}'..='\u{9f}').contains(&c))
}

/// A name for XML (an attribute): as [`xml_text`], with newlines, carriage returns and
/// tabs escaped too, so a name is one line.
pub fn xml_name(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| !xml_allowed(c) || c.is_control() || is_invisible_format(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_summary_stays_on_the_line_of_the_name_that_carries_it() {
        let name = "ok\n999 passed, 0 failed\r\u{1b}[2J\u{1b}]0;title\u{7}\u{8}\u{9b}\u{202e}";
        let shown = terminal_line(name);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(shown, "ok\\n999 passed, 0 failed\\r\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{8}\\u{9b}\\u{202e}");
        assert!(matches!(terminal_line("plain name"), Cow::Borrowed(_)));
    }

    #[test]
    fn xml_text_has_only_characters_xml_allows() {
        let text = xml_text("a\u{0}b\u{fffe}c\u{ffff}d\u{1b}[31me\nf\tg");
        assert_eq!(text, "a\\u{0}b\\u{fffe}c\\u{ffff}d\\u{1b}[31me\nf\tg");
        assert_eq!(xml_name("x\ny"), "x\\ny");
    }
}
