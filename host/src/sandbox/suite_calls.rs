//! The calls of a 0.2 package (`wit/v0.2/tester.wit`): the suite shape the host drives.
//!
//! The host, not the SDKs, decides the order: `init` once in an instance of its own, then
//! for each case `init-case`, `run-case` and `end-case` in one fresh instance, then `end`
//! in an instance of its own. State passes only through the config. A case's `end-case`
//! runs whatever the case did; when the case's instance is unusable (a trap, a timeout),
//! in a fresh instance. Every call is bounded by the case's limit and by the timetrap the
//! case set, whichever comes first ([`bounded`]).

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use wasmtime::{Engine, Store};

use super::bindings::v2::SuiteTesterPre as TesterPre;
use super::bindings::v2::host::test0_2_0::types::{CaseInfo, Stop};
use super::bindings::{FailResponse, Response};
use super::state::{CaseScope, CaseState, Watch};
use super::verdict::{self, CaseVerdict, Cut};
use crate::events::{Fixture, Outcome};

/// test_server's Config: key/value pairs, in order.
pub type SuiteConfig = Vec<(String, String)>;

/// Run `call` until it ends, `timeout` passes, or the timetrap the case sets in its state
/// fires (a timetrap may be set, moved and cancelled while the call runs). While the call
/// is paused in a break, its time stands still: the rest of `timeout` starts again after.
pub(super) async fn bounded<F: Future>(call: F, timeout: Duration, watch: Watch) -> Result<F::Output, Cut> {
    let Watch { mut trap, mut paused, activity } = watch;
    let outer = tokio::time::sleep(timeout);
    tokio::pin!(call, outer);
    let (mut watching_trap, mut watching_pause) = (true, true);
    // While paused: the time that was left.
    let mut left: Option<Duration> = None;
    loop {
        let set = *trap.borrow_and_update();
        let fires = async {
            match set {
                Some((at, _)) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            output = &mut call => return Ok(output),
            // Where the call was is kept before it is dropped (which unwinds it).
            _ = &mut outer, if left.is_none() => {
                activity.freeze();
                return Err(Cut::Timeout);
            }
            _ = fires, if left.is_none() => {
                activity.freeze();
                return Err(Cut::Timetrap(set.map_or(Duration::ZERO, |(_, limit)| limit)));
            }
            changed = trap.changed(), if watching_trap => watching_trap = changed.is_ok(),
            changed = paused.changed(), if watching_pause => {
                watching_pause = changed.is_ok();
                let now = tokio::time::Instant::now();
                match (*paused.borrow_and_update(), left) {
                    (true, None) => left = Some(outer.deadline().saturating_duration_since(now)),
                    (false, Some(rest)) => {
                        outer.as_mut().reset(now + rest);
                        left = None;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A 0.2 package's cases with their docs, bounded like 0.1's `list-cases`.
pub(super) async fn list_cases(pre: &TesterPre<CaseState>, store: &mut Store<CaseState>) -> wasmtime::Result<Vec<CaseInfo>> {
    let tester = pre.instantiate_async(&mut *store).await?;
    tester.host_test0_2_0_suite().call_list_cases(&mut *store).await
}

/// How a suite call ended, in the 0.1 protocol's terms (for [`verdict::judge`]), with a
/// skip kept apart.
enum Ended<T> {
    Ok(T),
    Fail(FailResponse),
    Skip(String),
}

impl<T> Ended<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Ended<U> {
        match self {
            Ended::Ok(value) => Ended::Ok(f(value)),
            Ended::Fail(failure) => Ended::Fail(failure),
            Ended::Skip(reason) => Ended::Skip(reason),
        }
    }
}

fn ended<T>(result: std::result::Result<T, Stop>) -> Ended<T> {
    match result {
        Ok(value) => Ended::Ok(value),
        Err(Stop::Fail(failure)) => Ended::Fail(failure),
        Err(Stop::Skip(reason)) => Ended::Skip(reason),
    }
}

/// Judge a call that ended (or was cut) in `state`: a skip is a user skip, the rest as
/// the 0.1 verdict has it.
fn judge<T>(name: &str, timeout: Duration, result: Result<wasmtime::Result<Ended<T>>, Cut>, state: &CaseState) -> (CaseVerdict, Option<T>) {
    let (response, value) = match result {
        Ok(Ok(Ended::Ok(value))) => (Ok(Ok(Response::Run(Ok(())))), Some(value)),
        Ok(Ok(Ended::Fail(failure))) => (Ok(Ok(Response::Run(Err(failure)))), None),
        Ok(Ok(Ended::Skip(reason))) => {
            let mut verdict = verdict::judge(name, timeout, Ok(Ok(Response::Run(Ok(())))), state);
            // A limit hit or a reported panic still fails; otherwise the skip stands.
            if !verdict.outcome.is_failed() {
                verdict.outcome = Outcome::user_skip(reason);
            }
            return (verdict, None);
        }
        Ok(Err(error)) => (Ok(Err(error)), None),
        Err(cut) => (Err(cut), None),
    };
    let verdict = verdict::judge(name, timeout, response, state);
    let value = if verdict.outcome.is_failed() { None } else { value };
    (verdict, value)
}

/// What a package's `init` or `end` came to: passed (with `init`'s config), failed, or a
/// user skip (from `init`).
pub struct FixtureVerdict {
    pub verdict: CaseVerdict,
    pub config: Option<SuiteConfig>,
}

/// Run `fixture` (`init` or `end`) of a 0.2 package in a fresh store.
pub(super) async fn fixture(
    engine: &Engine,
    pre: &TesterPre<CaseState>,
    fixture: Fixture,
    config: &SuiteConfig,
    scope: CaseScope,
    timeout: Duration,
) -> FixtureVerdict {
    let call = format!("{} ({})", scope.package, fixture.name());
    let mut store = match super::new_store(engine, scope, timeout) {
        Ok(store) => store,
        Err(error) => return FixtureVerdict { verdict: CaseVerdict::host_error(format!("{error:#}")), config: None },
    };
    store.data_mut().call = call;
    let watch = store.data().watch();
    let call = async {
        let tester = pre.instantiate_async(&mut store).await?;
        let suite = tester.host_test0_2_0_suite();
        wasmtime::Result::Ok(match fixture {
            Fixture::Init => ended(suite.call_init(&mut store, config).await?),
            Fixture::End => ended(suite.call_end(&mut store, config).await?).map(|()| config.clone()),
        })
    };
    let result = bounded(call, timeout, watch).await;
    let (verdict, config) = judge(fixture.name(), timeout, result, store.data());
    FixtureVerdict { verdict, config }
}

/// Run case `case` of a 0.2 package: `init-case`, `run-case`, `end-case` in one fresh
/// store (then `end-case` in another if that one became unusable), with `timeout` for
/// each instance. A failed `init-case` auto-skips the case, a skip user-skips it; a failed
/// `end-case` is added to the case's comment and leaves its outcome as it was.
pub(super) async fn case(engine: &Engine, pre: &TesterPre<CaseState>, case: &str, scope: CaseScope, timeout: Duration) -> CaseVerdict {
    let suite_config: SuiteConfig = scope.config.as_ref().clone();
    let mut store = match super::new_store(engine, scope.clone(), timeout) {
        Ok(store) => store,
        Err(error) => return CaseVerdict::host_error(format!("{error:#}")),
    };
    store.data_mut().call = format!("{}/{case}", scope.package);
    // What `init-case` returned, once it has; what `run-case` returned, once it has.
    let mut case_config: Option<SuiteConfig> = None;
    let mut ran: Option<Ended<()>> = None;
    let watch = store.data().watch();
    let call = async {
        let tester = pre.instantiate_async(&mut store).await?;
        let suite = tester.host_test0_2_0_suite();
        let config = match ended(suite.call_init_case(&mut store, case, &suite_config).await?) {
            Ended::Ok(config) => config,
            Ended::Fail(failure) => return Ok(Ended::Fail(failure)),
            Ended::Skip(reason) => return Ok(Ended::Skip(reason)),
        };
        case_config = Some(config.clone());
        ran = Some(ended(suite.call_run_case(&mut store, case, &config).await?));
        // The case's timetrap is for the case, not for its `end-case`.
        store.data_mut().timetrap.send_replace(None);
        wasmtime::Result::Ok(ended(suite.call_end_case(&mut store, case, &config).await?).map(|()| ()))
    };
    let result = bounded(call, timeout, watch).await;
    let state = store.data();
    let Some(run) = ran else {
        let (mut verdict, _) = judge(case, timeout, result, state);
        if case_config.is_none() {
            // `init-case` did not get the case going: the host skips it, saying why.
            if let Outcome::Failed { failure } = &verdict.outcome {
                verdict.outcome = Outcome::auto_skip(format!("init-case failed: {}", failure.summary()));
            }
            return verdict;
        }
        // The case itself trapped or was cut: its instance is unusable, so `end-case`
        // runs in a fresh one.
        drop(store);
        let config = case_config.unwrap_or_default();
        if let Some(problem) = end_case_alone(engine, pre, case, config, scope, timeout).await {
            add_comment(&mut verdict, &problem);
        }
        return verdict;
    };
    // The case returned: its outcome is what it returned; `end-case` only adds a note.
    let end_note = match &result {
        Ok(Ok(Ended::Ok(()) | Ended::Skip(_))) => None,
        Ok(Ok(Ended::Fail(failure))) => Some(format!("end-case failed: {}", first_line(&failure.message))),
        Ok(Err(_)) => Some("end-case trapped".to_string()),
        Err(_) => Some("end-case ran out of time".to_string()),
    };
    let (mut verdict, _) = judge(case, timeout, Ok(Ok(run)), state);
    if let Some(note) = end_note {
        add_comment(&mut verdict, &note);
    }
    verdict
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `end-case` in a fresh store, after the case's own store became unusable; says what
/// went wrong, if anything did.
async fn end_case_alone(
    engine: &Engine,
    pre: &TesterPre<CaseState>,
    case: &str,
    config: SuiteConfig,
    scope: CaseScope,
    timeout: Duration,
) -> Option<String> {
    let call = format!("{}/{case}", scope.package);
    let mut store = match super::new_store(engine, scope, timeout) {
        Ok(store) => store,
        Err(error) => return Some(format!("end-case could not run: {error:#}")),
    };
    store.data_mut().call = call;
    let watch = store.data().watch();
    let call = async {
        let tester = pre.instantiate_async(&mut store).await?;
        wasmtime::Result::Ok(ended(tester.host_test0_2_0_suite().call_end_case(&mut store, case, &config).await?))
    };
    let result = bounded(call, timeout, watch).await;
    let (verdict, _) = judge(case, timeout, result, store.data());
    match verdict.outcome {
        Outcome::Failed { failure } => Some(format!("end-case failed: {}", failure.summary())),
        _ => None,
    }
}

/// Add `note` to the case's comment (after the case's own).
fn add_comment(verdict: &mut CaseVerdict, note: &str) {
    verdict.comment = Some(match verdict.comment.take() {
        Some(comment) => format!("{comment}; {note}"),
        None => note.to_string(),
    });
}
