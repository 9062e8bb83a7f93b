//! A 0.2 package's `init` and `end` (test_server's `init_per_suite` and `end_per_suite`):
//! `init` runs before the package's cases and its config goes to each of them; a failed
//! `init` auto-skips them with its failure as the reason (a skip user-skips them), and
//! `end` is then not called. `end` runs after the cases, also after a failure; a failed
//! `end` is reported on its own (`FixtureFailed`, one failure) and leaves the cases'
//! outcomes as they are. A 0.1 package has neither. Also here: a case's doc and comment
//! on their way to the reporters (`annotate_case`).

use std::sync::Arc;
use std::time::Duration;

use super::cases::finish_case;
use super::deadline::TestDeadline;
use super::test::TestContext;
use crate::config::TestPlan;
use crate::events::{Event, Fixture, Outcome};
use crate::sandbox::{CaseScope, Package, SuiteConfig};

/// The fixtures of one package run.
pub(super) struct Fixtures<'a> {
    cx: &'a TestContext<'a>,
    test: &'a TestPlan,
    package: &'a Package,
    deadline: TestDeadline,
    /// False when the package's cases cannot run at all (no scratch directory).
    enabled: bool,
    /// What the host gives `init`, then what `init` returned.
    config: std::sync::Mutex<SuiteConfig>,
}

impl<'a> Fixtures<'a> {
    pub(super) fn new(cx: &'a TestContext<'a>, test: &'a TestPlan, package: &'a Package, deadline: TestDeadline, enabled: bool) -> Self {
        let config = vec![("test".into(), test.name.clone()), ("package".into(), package.name.clone())];
        Fixtures { cx, test, package, deadline, enabled, config: std::sync::Mutex::new(config) }
    }

    /// Time for one fixture: what is left of the test, within `case_timeout`.
    fn timeout(&self, scope: &CaseScope) -> Duration {
        let remaining = self.deadline.remaining();
        scope.policy.case_timeout.map_or(remaining, |limit| limit.min(remaining))
    }

    fn config(&self) -> SuiteConfig {
        self.config.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Run `init` (a 0.2 package's); on success, `scope` carries its config. When it did
    /// not succeed, every case at `indices` is reported skipped and the package's outcome
    /// is returned as the error.
    pub(super) async fn init(&self, scope: &mut CaseScope, indices: &[usize]) -> Result<(), Outcome> {
        let (cx, test, package) = (self.cx, self.test, self.package);
        if !self.enabled {
            return Ok(());
        }
        let config = self.config();
        let Some(init) = cx.sandbox.case_runner().fixture(package, Fixture::Init, &config, scope.clone(), self.timeout(scope)).await
        else {
            return Ok(());
        };
        let (case_outcome, package_outcome) = match init.verdict.outcome {
            Outcome::Failed { failure } => {
                cx.failed();
                let reason = format!("init failed: {}", failure.summary());
                cx.bus.emit(Event::FixtureFailed {
                    test: test.name.clone(),
                    package: package.name.clone(),
                    fixture: Fixture::Init,
                    failure: failure.clone(),
                    output: init.verdict.output,
                });
                (Outcome::auto_skip(reason), Outcome::Failed { failure })
            }
            Outcome::Skipped { reason, .. } => {
                let reason = format!("init skipped the package: {reason}");
                (Outcome::user_skip(reason.clone()), Outcome::user_skip(reason))
            }
            _ => {
                let config = init.config.unwrap_or(config);
                scope.config = Arc::new(config.clone());
                *self.config.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
                return Ok(());
            }
        };
        for &index in indices {
            annotate_case(cx, &test.name, package, index, None);
            let case = &package.cases[index];
            finish_case(cx, &test.name, &package.name, case, case_outcome.clone());
        }
        Err(package_outcome)
    }

    /// Run `end` (a 0.2 package's) with `init`'s config; returns its failure, if it failed
    /// (reported already).
    pub(super) async fn end(&self, scope: &CaseScope) -> Option<Outcome> {
        let (cx, test, package) = (self.cx, self.test, self.package);
        if !self.enabled {
            return None;
        }
        let config = self.config();
        let end = cx.sandbox.case_runner().fixture(package, Fixture::End, &config, scope.clone(), self.timeout(scope)).await?;
        let Outcome::Failed { failure } = end.verdict.outcome else { return None };
        cx.failed();
        cx.bus.emit(Event::FixtureFailed {
            test: test.name.clone(),
            package: package.name.clone(),
            fixture: Fixture::End,
            failure: failure.clone(),
            output: end.verdict.output,
        });
        Some(Outcome::Failed { failure })
    }
}

/// Tell the reporters what a case says about itself (its doc, its comment), just before
/// its [`finish_case`], when it says anything.
pub(super) fn annotate_case(cx: &TestContext<'_>, test: &str, package: &Package, index: usize, comment: Option<String>) {
    let doc = package.doc(index).map(str::to_string);
    if comment.is_some() || doc.is_some() {
        cx.bus.emit(Event::CaseAnnotated {
            test: test.to_string(),
            package: package.name.clone(),
            case: package.cases[index].clone(),
            comment,
            doc,
        });
    }
}
