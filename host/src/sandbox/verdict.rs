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
}

impl CaseVerdict {
    /// The host could not set the case up.
    pub fn host_error(message: String) -> CaseVerdict {
        CaseVerdict {
            outcome: Outcome::Failed {
                failure: FailureDetail { kind: FailureKind::Error, file: String::new(), line: 0, column: 0, message },
            },
            output: String::new(),
        }
    }
}

/// Judge a finished (or timed-out) case call.
pub fn judge(
    case: &str,
    timeout: Duration,
    result: Result<wasmtime::Result<Response>, tokio::time::error::Elapsed>,
    state: &CaseState,
) -> CaseVerdict {
    let outcome = match result {
        // A case that returned Ok after a failure was reported through a host call, or
        // after its output went past the cap, did not pass.
        Ok(Ok(Response::Run(Ok(())))) => match &state.reported {
            Some(failure) if state.output_capped() => with_prefix(&output_cap(state), failed(FailureKind::Fail, failure.clone())),
            Some(failure) => {
                let message = format!("the case returned ok after reporting a failure: {}", failure.message);
                failed(FailureKind::Fail, FailResponse { message, ..failure.clone() })
            }
            None if state.output_capped() => Outcome::Failed {
                failure: FailureDetail { kind: FailureKind::Fail, file: String::new(), line: 0, column: 0, message: output_cap(state) },
            },
            None => Outcome::Passed,
        },
        Ok(Ok(Response::Run(Err(failure)))) if state.output_capped() => {
            with_prefix(&output_cap(state), failed(FailureKind::Fail, failure))
        }
        Ok(Ok(Response::Run(Err(failure)))) => failed(FailureKind::Fail, failure),
        Ok(Err(error)) => match (&state.reported, &state.limits.hit) {
            (_, Some(limit)) => with_prefix(limit, trapped(&error)),
            (Some(failure), None) if state.output_capped() => with_prefix(&output_cap(state), failed(FailureKind::Panic, failure.clone())),
            (Some(failure), None) => failed(FailureKind::Panic, failure.clone()),
            (None, None) if state.output_capped() => with_prefix(&output_cap(state), trapped(&error)),
            (None, None) => trapped(&error),
        },
        Err(_) => Outcome::Failed {
            failure: FailureDetail {
                kind: FailureKind::Timeout,
                file: String::new(),
                line: 0,
                column: 0,
                message: format!(
                    "case {case} timed out after {:.1}s while {}",
                    timeout.as_secs_f64(),
                    state.current_call().unwrap_or_else(|| "running guest code (no host call)".into())
                ),
            },
        },
    };
    CaseVerdict { outcome, output: state.output() }
}

fn output_cap(state: &CaseState) -> String {
    format!(
        "output limit exceeded: the package wrote more than {} KiB to stdout/stderr or to its log (sandbox.output_kib); \
         what came after the limit was not kept",
        state.scope.policy.output >> 10
    )
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

fn failed(kind: FailureKind, failure: FailResponse) -> Outcome {
    Outcome::Failed {
        failure: FailureDetail {
            kind,
            file: failure.file,
            line: failure.line,
            column: failure.column,
            message: failure.message,
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
