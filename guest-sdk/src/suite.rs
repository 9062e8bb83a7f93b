//! Packages of the 0.2 world (`wit/v0.2/tester.wit`): fixtures with a config, skips with a
//! reason, comments, docs and timetraps — Erlang test_server's suite shape.
//!
//! The host drives the order of calls and does the accounting; this module only maps the
//! WIT calls to the package's functions (declared with [`test_suite!`](crate::test_suite)).

use std::time::Duration;

use crate::bindings::host::test::protocol::FailResponse;
use crate::{Context, Failure};

/// Bindings generated from `wit/v0.2/tester.wit`; its 0.1 imports are the 0.1 bindings.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v0.2",
        world: "suite-tester",
        pub_export_macro: true,
        default_bindings_module: "guest_sdk::suite::bindings",
        with: {
            "host:test/protocol@0.1.0": crate::bindings::host::test::protocol,
            "host:test/log@0.1.0": crate::bindings::host::test::log,
            "host:test/nodes@0.1.0": crate::bindings::host::test::nodes,
            "host:test/events@0.1.0": crate::bindings::host::test::events,
            "host:test/control@0.1.0": crate::bindings::host::test::control,
            "host:test/timing@0.1.0": crate::bindings::host::test::timing,
            "host:test/outcome@0.1.0": crate::bindings::host::test::outcome,
            "host:test/network-faults@0.1.0": crate::bindings::host::test::network_faults,
        },
    });
}

use bindings::host::test0_2_0::types::{CaseInfo, Stop as WitStop};

/// Why a 0.2 call did not end ok: a failure (from [`fail!`](crate::fail), the `ensure`
/// macros, `?`) or a user skip with its reason ([`skip!`](crate::skip)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Fail(Failure),
    Skip(String),
}

/// What 0.2 cases and fixtures return.
pub type SuiteResult<T = ()> = Result<T, Stop>;

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Stop {
        Stop::Fail(failure)
    }
}

/// `?` on an error fails the call at the `?`.
impl<E: std::error::Error> From<E> for Stop {
    #[track_caller]
    fn from(error: E) -> Stop {
        Stop::Fail(Failure::from(error))
    }
}

/// test_server's Config: key/value pairs, in order, from the host (`test`, `package`) and
/// from `init` and `init_case`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config(pub Vec<(String, String)>);

impl Config {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// This config with `key` set to `value` (replacing an earlier value).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Config {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value.into()));
        self
    }
}

/// Leave a comment on the running case, shown in every report (test_server's `comment/1`).
/// The last one wins.
pub fn comment(text: &str) {
    bindings::host::test0_2_0::annotate::comment(text);
}

/// Pause the running case until the person running the host says to go on (test_server's
/// `break/1`): the host shows `comment` with the test's nodes and how to go on, cancels
/// the timetrap, and stops the case's time meanwhile. Returns true once told to go on;
/// false at once when nobody can be asked (no terminal and no `--continue-file`, as in
/// CI), and the case's output says the break was skipped.
pub fn break_here(comment: &str) -> bool {
    bindings::host::test0_2_0::breaks::break_here(comment)
}

/// test_server's timetraps, from inside a case. The outer limits still bound everything.
pub mod timetrap {
    use std::time::Duration;

    /// The running case fails if it takes longer than `limit` (times the scale factor)
    /// from now. Replaces an earlier timetrap.
    pub fn set(limit: Duration) {
        super::bindings::host::test0_2_0::timetrap::set(limit.as_millis().min(u64::MAX as u128) as u64);
    }

    /// Remove the timetrap; the outer limits stay.
    pub fn cancel() {
        super::bindings::host::test0_2_0::timetrap::cancel();
    }

    /// The factor every timeout of the run is multiplied by.
    pub fn scale_factor() -> f64 {
        super::bindings::host::test0_2_0::timetrap::scale_factor()
    }
}

/// One case of a 0.2 package.
pub struct SuiteCase {
    pub name: &'static str,
    /// One line saying what the case checks; may be empty.
    pub doc: &'static str,
    pub run: fn(&Context, &Config) -> SuiteResult,
}

/// A 0.2 package: its cases and fixtures (what [`test_suite!`](crate::test_suite) builds).
pub struct Suite {
    pub cases: &'static [SuiteCase],
    pub init: fn(&Context, Config) -> SuiteResult<Config>,
    pub end: fn(&Context, &Config) -> SuiteResult,
    pub init_case: fn(&str, &Context, Config) -> SuiteResult<Config>,
    pub end_case: fn(&str, &Context, &Config) -> SuiteResult,
}

/// The default `init` and `init_case`: the config as it came.
pub fn keep_config(_: &Context, config: Config) -> SuiteResult<Config> {
    Ok(config)
}

/// The default `init_case`.
pub fn keep_case_config(_: &str, _: &Context, config: Config) -> SuiteResult<Config> {
    Ok(config)
}

/// The default `end`: nothing.
pub fn nothing_to_end(_: &Context, _: &Config) -> SuiteResult {
    Ok(())
}

/// The default `end_case`: nothing.
pub fn nothing_to_end_case(_: &str, _: &Context, _: &Config) -> SuiteResult {
    Ok(())
}

type WitConfig = Vec<(String, String)>;

impl Suite {
    #[doc(hidden)]
    pub fn list_cases(&self) -> Vec<CaseInfo> {
        self.cases.iter().map(|case| CaseInfo { name: case.name.to_string(), doc: case.doc.to_string() }).collect()
    }

    #[doc(hidden)]
    pub fn init(&self, config: WitConfig) -> Result<WitConfig, WitStop> {
        enter("init");
        wit((self.init)(&context(), Config(config)).map(|config| config.0), "init")
    }

    #[doc(hidden)]
    pub fn init_case(&self, name: &str, config: WitConfig) -> Result<WitConfig, WitStop> {
        enter(name);
        wit((self.init_case)(name, &context(), Config(config)).map(|config| config.0), name)
    }

    #[doc(hidden)]
    pub fn run_case(&self, name: &str, config: WitConfig) -> Result<(), WitStop> {
        enter(name);
        // The host asks only for listed names; this is a last line of defence.
        let Some(case) = self.cases.iter().find(|case| case.name == name) else {
            return Err(WitStop::Fail(fail_response(name, Failure::at("<request>", 0, 0, format!("no case named {name:?}")))));
        };
        wit((case.run)(&context(), &Config(config)), name)
    }

    #[doc(hidden)]
    pub fn end_case(&self, name: &str, config: WitConfig) -> Result<(), WitStop> {
        enter(name);
        wit((self.end_case)(name, &context(), &Config(config)), name)
    }

    #[doc(hidden)]
    pub fn end(&self, config: WitConfig) -> Result<(), WitStop> {
        enter("end");
        wit((self.end)(&context(), &Config(config)), "end")
    }
}

/// The context of a 0.2 call: the test's nodes; no request timeout (the host bounds each
/// call, and a case sets its own limit with [`timetrap`]).
fn context() -> Context {
    let node_names = crate::bindings::host::test::nodes::all().into_iter().map(|node| node.name).collect();
    Context { node_names, timeout: Duration::MAX }
}

/// The panic hook is in place and attributes a panic to `name`.
fn enter(name: &str) {
    crate::runtime::enter_case(name);
}

fn wit<T>(result: SuiteResult<T>, name: &str) -> Result<T, WitStop> {
    result.map_err(|stop| match stop {
        Stop::Fail(failure) => WitStop::Fail(fail_response(name, failure)),
        Stop::Skip(reason) => WitStop::Skip(reason),
    })
}

fn fail_response(name: &str, failure: Failure) -> FailResponse {
    FailResponse { test: name.to_string(), file: failure.file, line: failure.line, column: failure.column, message: failure.message }
}
