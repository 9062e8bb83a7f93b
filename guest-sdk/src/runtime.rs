//! Dispatch of `handle` requests to the declared cases, and the panic hook.

use std::cell::RefCell;
use std::sync::Once;
use std::time::Duration;

use crate::bindings::host::test::outcome;
use crate::bindings::host::test::protocol::{FailResponse, Request, Response};
use crate::{Context, Failure, TestResult};

/// One named case of a package (built by [`test_package!`](crate::test_package)).
pub struct Case {
    pub name: &'static str,
    pub run: fn(&Context) -> TestResult,
}

thread_local! {
    /// The case running now, so a panic can be attributed to it.
    static CURRENT_CASE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The names of `cases`, in order (the `list-cases` export).
pub fn list_cases(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|case| case.name.to_string()).collect()
}

/// Run the cases a request names (all when it names none), stopping at the first failure.
pub fn handle(cases: &[Case], request: Request) -> Response {
    install_panic_hook();
    let Request::Run(run) = request;
    let context = Context {
        node_names: run.input_node_names,
        timeout: Duration::from_secs(run.test_timeout),
    };
    let selected: Vec<&Case> = if run.test_names.is_empty() {
        cases.iter().collect()
    } else {
        let mut selected = Vec::new();
        for name in &run.test_names {
            match cases.iter().find(|case| case.name == name) {
                Some(case) => selected.push(case),
                None => {
                    let known = list_cases(cases).join(", ");
                    return Response::Run(Err(fail_response(
                        name,
                        Failure::at("<request>", 0, 0, format!("no case named {name:?} (cases: {known})")),
                    )));
                }
            }
        }
        selected
    };
    for case in selected {
        CURRENT_CASE.with(|current| *current.borrow_mut() = case.name.to_string());
        if let Err(failure) = (case.run)(&context) {
            return Response::Run(Err(fail_response(case.name, failure)));
        }
    }
    Response::Run(Ok(()))
}

fn fail_response(case: &str, failure: Failure) -> FailResponse {
    FailResponse {
        test: case.to_string(),
        file: failure.file,
        line: failure.line,
        column: failure.column,
        message: failure.message,
    }
}

/// The panic hook is in place and attributes a panic to `name` (0.2 calls).
pub(crate) fn enter_case(name: &str) {
    install_panic_hook();
    CURRENT_CASE.with(|current| *current.borrow_mut() = name.to_string());
}

/// Report panics to the host (message and location) before the package traps.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = if let Some(text) = info.payload().downcast_ref::<&str>() {
                (*text).to_string()
            } else if let Some(text) = info.payload().downcast_ref::<String>() {
                text.clone()
            } else {
                "panic with a non-string payload".to_string()
            };
            let (file, line, column) = info
                .location()
                .map(|l| (l.file().to_string(), l.line(), l.column()))
                .unwrap_or_else(|| ("<unknown>".to_string(), 0, 0));
            let test = CURRENT_CASE.with(|current| current.borrow().clone());
            outcome::report_failure(&FailResponse {
                test,
                file,
                line,
                column,
                message: format!("panicked: {message}"),
            });
        }));
    });
}
