//! `--junit FILE`: JUnit XML for CI test tabs — one `<testsuite>` per test package (named
//! `test/package`), one `<testcase>` per case, failures with message and location, the
//! captured output, and retried-then-passed cases as flaky runs. Test scripts and setup
//! failures go in a suite named after their test. Skips say who skipped (`<skipped
//! type="user_skip|auto_skip" message=…>`); a case's comment and doc are `<property>`s;
//! a failed `init` or `end` of a 0.2 package is a `<testcase>` of that name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::escape;
use crate::events::{Event, FailureDetail, Outcome, SkipKind, Subscriber};

/// Collects cases and writes the file when the run finishes.
pub struct JunitReporter {
    file: PathBuf,
    started: Instant,
    /// Suites by name, in first-seen order of their keys' insertion.
    suites: BTreeMap<(usize, String), TestSuite>,
    order: Vec<String>,
    /// Why the file could not be written, if it could not.
    error: Option<String>,
    /// Long case outputs, written to `FILE-outputs/` beside the report.
    outputs: super::outputs::OutputFiles,
    /// Comment and doc of cases whose `CaseFinished` has not come yet (`<property>`s).
    annotations: std::collections::HashMap<String, (Option<String>, Option<String>)>,
}

impl JunitReporter {
    pub fn new(file: PathBuf) -> JunitReporter {
        let stem = file.file_stem().map_or_else(|| "junit".to_string(), |s| s.to_string_lossy().into_owned());
        let dir = file.with_file_name(format!("{stem}-outputs"));
        let outputs = super::outputs::OutputFiles::new(dir, format!("{stem}-outputs"));
        JunitReporter {
            file,
            started: Instant::now(),
            suites: BTreeMap::new(),
            order: Vec::new(),
            error: None,
            outputs,
            annotations: Default::default(),
        }
    }

    fn suite(&mut self, name: &str) -> &mut TestSuite {
        let index = match self.order.iter().position(|n| n == name) {
            Some(index) => index,
            None => {
                self.order.push(name.to_string());
                self.order.len() - 1
            }
        };
        self.suites.entry((index, name.to_string())).or_insert_with(|| TestSuite::new(name))
    }

    fn write(&mut self, total: Duration) {
        let mut report = Report::new("host");
        report.set_time(total);
        report.add_test_suites(std::mem::take(&mut self.suites).into_values());
        let result = std::fs::File::create(&self.file)
            .map_err(|e| e.to_string())
            .and_then(|file| report.serialize(file).map_err(|e| e.to_string()));
        if let Err(error) = result {
            self.error = Some(format!("cannot write JUnit report {}: {error}", self.file.display()));
        }
    }
}

fn status(outcome: &Outcome, earlier: &[FailureDetail]) -> TestCaseStatus {
    let mut status = match outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed { failure } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(failure.summary()).set_type(format!("{:?}", failure.kind).to_lowercase()).set_description(
                format!("at {}:{}:{}\n{}", failure.file, failure.line, failure.column, failure.message),
            );
            status
        }
        Outcome::Skipped { reason, kind } => {
            // `type` keeps Common Test's user and auto skips apart.
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.as_str()).set_type(match kind {
                SkipKind::User => "user_skip",
                SkipKind::Auto => "auto_skip",
            });
            status
        }
        Outcome::NotRun { reason } => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not run: {reason}")).set_type("not_run");
            status
        }
    };
    status.add_reruns(earlier.iter().map(|failure| {
        let mut rerun = TestRerun::new(NonSuccessKind::Failure);
        rerun.set_message(failure.summary()).set_description(failure.message.as_str());
        rerun
    }));
    status
}

impl Subscriber for JunitReporter {
    fn handle(&mut self, event: &Event) {
        // A long output goes whole to a file beside the report; the XML keeps its tail.
        let mut event = event.clone();
        if let Event::CaseFinished { output, .. } = &mut event {
            *output = self.outputs.keep(output);
        }
        // Only characters XML allows, whatever a package or a node wrote.
        let event = &escape::event_with(&event, &|name| escape::xml_name(name).into_owned(), &|text| {
            escape::xml_text(&escape::tail(text, escape::KEPT_TEXT)).into_owned()
        });
        match event {
            Event::CaseFinished { test, package, case, outcome, duration, output, earlier_failures, .. } => {
                let classname = format!("{test}/{package}");
                let mut testcase = TestCase::new(case.as_str(), status(outcome, earlier_failures));
                testcase.set_classname(classname.as_str()).set_time(*duration);
                let (comment, doc) = self.annotations.remove(&crate::suite::case_id(test, package, case)).unwrap_or_default();
                for (name, value) in [("comment", comment), ("doc", doc)] {
                    if let Some(value) = value {
                        testcase.add_property(quick_junit::Property::new(name, value));
                    }
                }
                if !output.is_empty() {
                    testcase.set_system_out(output.as_str());
                }
                self.suite(&classname).add_test_case(testcase);
            }
            Event::ScriptFinished { test, script, outcome, output, duration } => {
                let mut testcase = TestCase::new(format!("script:{script}"), status(outcome, &[]));
                testcase.set_classname(test.as_str()).set_time(*duration);
                if !output.is_empty() {
                    testcase.set_system_out(output.as_str());
                }
                self.suite(test).add_test_case(testcase);
            }
            Event::CaseAnnotated { test, package, case, comment, doc } => {
                self.annotations.insert(crate::suite::case_id(test, package, case), (comment.clone(), doc.clone()));
            }
            Event::FixtureFailed { test, package, fixture, failure, output } => {
                let classname = format!("{test}/{package}");
                let mut testcase =
                    TestCase::new(fixture.name(), status(&Outcome::Failed { failure: failure.clone() }, &[]));
                testcase.set_classname(classname.as_str());
                if !output.is_empty() {
                    testcase.set_system_out(output.as_str());
                }
                self.suite(&classname).add_test_case(testcase);
            }
            Event::SetupFailed { test, failure } => {
                let mut testcase = TestCase::new("setup", status(&Outcome::Failed { failure: failure.clone() }, &[]));
                testcase.set_classname(test.as_str());
                self.suite(test).add_test_case(testcase);
            }
            Event::NodeFailed { test, node, failure } => {
                let mut testcase = TestCase::new(format!("node:{node}"), status(&Outcome::Failed { failure: failure.clone() }, &[]));
                testcase.set_classname(test.as_str());
                self.suite(test).add_test_case(testcase);
            }
            Event::RunFinished { .. } => {
                let total = self.started.elapsed();
                self.write(total);
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        self.error.take().map_or(Ok(()), Err)
    }
}
