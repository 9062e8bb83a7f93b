//! The last run, remembered for `--rerun-failed`: which selected items failed or did not
//! run, written to `.host/last-run.json` beside tests.toml when the run is over (format:
//! [`suite::last_run::LastRun`](crate::suite::last_run::LastRun)). Only events say what
//! happened; the selection says what was asked for, so an item that was never reported
//! counts as not run.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::events::{Event, Outcome, Subscriber};
use crate::suite::last_run::{LAST_RUN_VERSION, LastRun};
use crate::suite::{Item, case_id, script_id};

/// Follows a run and writes what it left to do. Clones share their state: the command
/// line keeps one to [`write`](LastRunWriter::write) the file after the run, and warns
/// when it cannot.
#[derive(Clone)]
pub struct LastRunWriter {
    file: PathBuf,
    state: Arc<Mutex<State>>,
}

struct State {
    /// The selected items (test, id).
    selected: Vec<(String, String)>,
    /// Outstanding items of an earlier run that this one did not select (a rerun keeps them).
    carried: Vec<String>,
    passed: HashSet<String>,
    not_passed: HashSet<String>,
    /// Tests that failed as a whole (setup, a node that exited by itself).
    failed_tests: HashSet<String>,
    interrupted: bool,
}

impl LastRunWriter {
    /// Remember a run of `selected` in `file`, with `carried` (ids a `--rerun-failed` run
    /// did not select) still outstanding.
    pub fn new(file: PathBuf, selected: &[Item], carried: Vec<String>) -> LastRunWriter {
        let selected = selected.iter().map(|item| (item.test().to_string(), item.id())).collect();
        let state = State {
            selected,
            carried,
            passed: HashSet::new(),
            not_passed: HashSet::new(),
            failed_tests: HashSet::new(),
            interrupted: false,
        };
        LastRunWriter { file, state: Arc::new(Mutex::new(state)) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the run left to do so far.
    pub fn last_run(&self) -> LastRun {
        let state = self.lock();
        let mut outstanding: BTreeSet<String> = state.carried.iter().cloned().collect();
        for (test, id) in &state.selected {
            if state.not_passed.contains(id) || !state.passed.contains(id) || state.failed_tests.contains(test) {
                outstanding.insert(id.clone());
            }
        }
        LastRun {
            host_last_run: LAST_RUN_VERSION,
            selected: state.selected.len(),
            interrupted: state.interrupted,
            outstanding: outstanding.into_iter().collect(),
        }
    }

    /// Write the file (creating `.host/`), in one step. A file already there that is not
    /// a last-run record is left alone: the error says so.
    pub fn write(&self) -> Result<(), String> {
        let shown = self.file.display();
        crate::suite::last_run::LastRun::load(&self.file).map_err(|problem| format!("not replacing {problem}"))?;
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&self.last_run()).map_err(|e| format!("cannot write {shown}: {e}"))?;
        super::record::write_atomically(&self.file, text.as_bytes()).map_err(|e| format!("cannot write {shown}: {e}"))
    }
}

impl Subscriber for LastRunWriter {
    fn handle(&mut self, event: &Event) {
        let mut state = self.lock();
        let (id, outcome) = match event {
            Event::CaseFinished { test, package, case, outcome, .. } => (case_id(test, package, case), outcome),
            Event::ScriptFinished { test, script, outcome, .. } => (script_id(test, script), outcome),
            Event::SetupFailed { test, .. } | Event::NodeFailed { test, .. } | Event::FixtureFailed { test, .. } => {
                state.failed_tests.insert(test.clone());
                return;
            }
            Event::RunFinished { interrupted, .. } => {
                state.interrupted = *interrupted;
                return;
            }
            _ => return,
        };
        if matches!(outcome, Outcome::Passed) {
            state.passed.insert(id);
        } else {
            state.not_passed.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{FailureDetail, FailureKind};

    fn case(test: &str, name: &str) -> Item {
        Item::Case { test: test.into(), package: "p".into(), case: name.into() }
    }

    fn finished(test: &str, name: &str, outcome: Outcome) -> Event {
        Event::CaseFinished {
            test: test.into(),
            package: "p".into(),
            case: name.into(),
            outcome,
            duration: std::time::Duration::ZERO,
            output: String::new(),
            attempts: 1,
            earlier_failures: Vec::new(),
            rewritten: None,
        }
    }

    #[test]
    fn failed_skipped_unreported_and_whole_failed_tests_are_outstanding() {
        let failure = FailureDetail { kind: FailureKind::Fail, file: String::new(), line: 0, column: 0, message: "x".into() };
        let selected = [case("a", "ok"), case("a", "bad"), case("a", "skipped"), case("a", "silent"), case("b", "ok"), case("c", "flaky")];
        let mut writer = LastRunWriter::new(PathBuf::from("unused"), &selected, vec!["z/p/old".into()]);
        for event in [
            finished("a", "ok", Outcome::Passed),
            finished("a", "bad", Outcome::Failed { failure: failure.clone() }),
            finished("a", "skipped", Outcome::auto_skip("x")),
            finished("b", "ok", Outcome::Passed),
            Event::NodeFailed { test: "b".into(), node: "n".into(), failure },
            finished("c", "flaky", Outcome::Passed),
        ] {
            writer.handle(&event);
        }
        let last = writer.last_run();
        assert_eq!(last.outstanding, vec!["a/p/bad", "a/p/silent", "a/p/skipped", "b/p/ok", "z/p/old"]);
        assert_eq!(last.selected, 6);
    }

    #[test]
    fn a_file_that_is_not_a_last_run_record_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".host/last-run.json");
        let writer = LastRunWriter::new(file.clone(), &[case("a", "ok")], Vec::new());
        writer.write().unwrap();
        assert_eq!(LastRun::load(&file).unwrap().unwrap().outstanding, vec!["a/p/ok"]);
        std::fs::write(&file, "my notes").unwrap();
        assert!(writer.write().unwrap_err().contains("not replacing"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "my notes");
    }
}
