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

/// Judge a finished (or timed-out) case call.
pub fn judge(
    case: &str,
    timeout: Duration,
    result: Result<wasmtime::Result<Response>, tokio::time::error::Elapsed>,
    state: &CaseState,
) -> CaseVerdict {
    let outcome = match result {
        Ok(Ok(Response::Run(Ok(())))) => Outcome::Passed,
        Ok(Ok(Response::Run(Err(failure)))) => failed(FailureKind::Fail, failure),
        Ok(Err(error)) => match &state.reported {
            Some(failure) => failed(FailureKind::Panic, failure.clone()),
            None => trapped(&error),
        },
        Err(_) => Outcome::Failed {
            failure: FailureDetail {
                kind: FailureKind::Timeout,
                file: String::new(),
                line: 0,
                column: 0,
                message: match state.current_call() {
                    Some(call) => format!("case {case} timed out after {:.1}s while {call}", timeout.as_secs_f64()),
                    None => format!("case {case} timed out after {:.1}s", timeout.as_secs_f64()),
                },
            },
        },
    };
    CaseVerdict { outcome, output: state.output() }
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

/// A trap with nothing reported: its reason, and the innermost wasm frame that has a
/// source location (from DWARF line tables) as its place.
fn trapped(error: &wasmtime::Error) -> Outcome {
    let location = error.downcast_ref::<WasmBacktrace>().and_then(|backtrace| {
        backtrace.frames().iter().find_map(|frame| {
            frame.symbols().iter().find_map(|symbol| {
                Some((symbol.file()?.to_string(), symbol.line()?, symbol.column().unwrap_or(0)))
            })
        })
    });
    let (file, line, column) = location.unwrap_or_default();
    let reason = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("trap: {trap}"),
        None => format!("error: {}", error.root_cause()),
    };
    Outcome::Failed {
        failure: FailureDetail { kind: FailureKind::Trap, file, line, column, message: format!("{reason}\n{error:?}") },
    }
}
