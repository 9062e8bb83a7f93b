//! Turning what a case call returned (or how it ended) into a verdict with a location.

use std::time::Duration;

use wasmtime::WasmBacktrace;

use super::bindings::{FailResponse, Response};
use super::state::CaseState;
use crate::events::{FailureDetail, FailureKind, Outcome};

/// The result of one case and what it wrote.
#[derive(Debug, Clone)]
pub struct CaseVerdict {
    pub outcome: Outcome,
    pub output: String,
    /// The comment the case left (0.2 packages), with an `end-case` failure added.
    pub comment: Option<String>,
}

/// Why a call was cut short.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// The case's own limit (the test's timeout, `case_timeout`) ran out.
    Timeout,
    /// The timetrap the case set fired; it was this long.
    Timetrap(Duration),
}

impl CaseVerdict {
    /// The host could not set the case up.
    pub fn host_error(message: String) -> CaseVerdict {
        CaseVerdict {
            outcome: Outcome::Failed {
                failure: FailureDetail { kind: FailureKind::Error, file: String::new(), line: 0, column: 0, message },
            },
            output: String::new(),
            comment: None,
        }
    }
}

/// Longest failure message kept from a package, in bytes; the rest is cut and marked.
const MAX_MESSAGE: usize = 64 << 10;
/// Longest failure file name kept from a package, in bytes.
const MAX_FILE: usize = 4 << 10;

/// Judge a finished (or timed-out) case call. A case passes only when it returned Ok and
/// nothing recorded a failure on the way: a failure reported through `outcome`, a
/// resource limit hit, or output past the cap each turn the Ok into a failure. When
/// several went wrong, the first real failure is kept and the limits are named above it.
pub fn judge(
    case: &str,
    timeout: Duration,
    result: Result<wasmtime::Result<Response>, Cut>,
    state: &CaseState,
) -> CaseVerdict {
    let reported = || state.reported.clone().map(|failure| failed(FailureKind::Panic, failure));
    let outcome = match result {
        Ok(Ok(Response::Run(Ok(())))) => match (reported(), &state.limits.hit) {
            (Some(outcome), _) => with_prefix(
                "the case returned Ok after reporting a failure through `outcome.report-failure`",
                outcome,
            ),
            (None, Some(limit)) => {
                failure(FailureKind::Error, format!("{limit}\nthe case returned Ok after hitting this limit"))
            }
            // Named with the limit below.
            (None, None) if state.output_overflow().is_some() => {
                failure(FailureKind::Fail, "the case returned Ok after writing past the output limit".into())
            }
            (None, None) => Outcome::Passed,
        },
        // A failure reported before the case returned its own comes first.
        Ok(Ok(Response::Run(Err(failure)))) => reported().unwrap_or_else(|| failed(FailureKind::Fail, failure)),
        Ok(Err(error)) => match (reported(), &state.limits.hit) {
            (_, Some(limit)) => with_prefix(limit, trapped(&error)),
            (Some(outcome), None) => outcome,
            (None, None) => trapped(&error),
        },
        Err(Cut::Timetrap(limit)) => failure(
            FailureKind::Timeout,
            format!(
                "case {case}: its timetrap of {:.3}s fired while {}",
                limit.as_secs_f64(),
                state.activity()
            ),
        ),
        Err(Cut::Timeout) => failure(
            FailureKind::Timeout,
            format!(
                "case {case} timed out after {:.1}s while {}",
                timeout.as_secs_f64(),
                state.activity()
            ),
        ),
    };
    // Output past the cap is named first on every failure.
    let outcome = match state.output_overflow() {
        Some(overflow) => with_prefix(&overflow.to_string(), outcome),
        None => outcome,
    };
    CaseVerdict { outcome, output: state.output(), comment: state.comment.clone() }
}

/// A failure the host found, with no place in the package's source.
fn failure(kind: FailureKind, message: String) -> Outcome {
    Outcome::Failed { failure: FailureDetail { kind, file: String::new(), line: 0, column: 0, message } }
}

/// Put `reason` (a limit that was hit) first in the failure's message.
fn with_prefix(reason: &str, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Failed { mut failure } => {
            failure.message = format!("{reason}\n{}", failure.message);
            Outcome::Failed { failure }
        }
        other => other,
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked when cut.
fn bounded(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = text.len() - cut;
        text.truncate(cut);
        text.push_str(&format!(" … [{dropped} more bytes cut]"));
    }
    text
}

/// A failure the package reported, its text bounded.
fn failed(kind: FailureKind, failure: FailResponse) -> Outcome {
    Outcome::Failed {
        failure: FailureDetail {
            kind,
            file: bounded(failure.file, MAX_FILE),
            line: failure.line,
            column: failure.column,
            message: bounded(failure.message, MAX_MESSAGE),
        },
    }
}

/// Frames of a trap's wasm backtrace shown in the report.
const BACKTRACE_FRAMES: usize = 16;

/// A trap with nothing reported: its reason, the innermost wasm frame that has a source
/// location in the package's own code (DWARF line tables; the standard library's frames
/// are skipped when there is a better one) as its place, and the top of the backtrace.
fn trapped(error: &wasmtime::Error) -> Outcome {
    let backtrace = error.downcast_ref::<WasmBacktrace>();
    let locations: Vec<(String, u32, u32)> = backtrace
        .map(|backtrace| {
            backtrace
                .frames()
                .iter()
                .flat_map(|frame| frame.symbols())
                .filter_map(|symbol| Some((symbol.file()?.to_string(), symbol.line()?, symbol.column().unwrap_or(0))))
                .collect()
        })
        .unwrap_or_default();
    let is_std = |file: &str| file.starts_with("/rustc/") || file.contains("/.cargo/registry/");
    let (file, line, column) = locations
        .iter()
        .find(|(file, _, _)| !is_std(file))
        .or(locations.first())
        .cloned()
        .unwrap_or_default();
    let reason = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("trap: {trap}"),
        None => format!("error: {}", error.root_cause()),
    };
    let mut message = reason;
    if let Some(backtrace) = backtrace {
        let text = backtrace.to_string();
        let lines: Vec<&str> = text.lines().collect();
        message.push_str("\nwasm backtrace:");
        for line in lines.iter().take(BACKTRACE_FRAMES * 2) {
            message.push_str("\n  ");
            message.push_str(line.trim_end());
        }
        if lines.len() > BACKTRACE_FRAMES * 2 {
            message.push_str(&format!("\n  … {} more lines", lines.len() - BACKTRACE_FRAMES * 2));
        }
    }
    Outcome::Failed { failure: FailureDetail { kind: FailureKind::Trap, file, line, column, message } }
}
