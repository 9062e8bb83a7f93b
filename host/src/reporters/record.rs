//! `--record FILE`: how long each test and each case took, for `--partition duration:K/N
//! --from-record FILE` to balance the next run's shards — Tezt's records, in JSON (the
//! format is [`suite::record::Record`](crate::suite::record::Record)).
//!
//! A test's duration runs from its start to its end, node boot and teardown included; with
//! `--repeat` each test and case gets its mean. Cases and scripts that did not run
//! (skipped, not run) have no duration and are left out. The file is written when the
//! run is over — passed, failed or interrupted — in one step (a temporary file renamed
//! over it), so a reader never sees half a record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::events::{Event, Outcome, Subscriber};
use crate::suite::record::{CaseRecord, RECORD_VERSION, Record, TestRecord};
use crate::suite::{case_id, script_id};

/// Sums and counts, for a mean.
#[derive(Default)]
struct Mean {
    total: f64,
    runs: u32,
}

impl Mean {
    fn add(&mut self, duration: Duration) {
        self.total += duration.as_secs_f64();
        self.runs += 1;
    }

    fn get(&self) -> f64 {
        if self.runs == 0 { 0.0 } else { self.total / f64::from(self.runs) }
    }
}

#[derive(Default)]
struct TestDurations {
    test: Mean,
    /// Case and script ids, in the order they first finished.
    cases: Vec<(String, Mean)>,
}

/// Collects test and case durations and writes the record when the run is over.
pub struct RecordWriter {
    file: PathBuf,
    /// Tests in the order they first finished (or first reported a case).
    tests: Vec<(String, TestDurations)>,
    index: BTreeMap<String, usize>,
    written: bool,
}

impl RecordWriter {
    /// A record to be written to `file`.
    pub fn new(file: PathBuf) -> RecordWriter {
        RecordWriter { file, tests: Vec::new(), index: BTreeMap::new(), written: false }
    }

    fn test(&mut self, name: &str) -> &mut TestDurations {
        let position = *self.index.entry(name.to_string()).or_insert_with(|| {
            self.tests.push((name.to_string(), TestDurations::default()));
            self.tests.len() - 1
        });
        &mut self.tests[position].1
    }

    fn case(&mut self, test: &str, id: String, outcome: &Outcome, duration: Duration) {
        if matches!(outcome, Outcome::Skipped { .. } | Outcome::NotRun { .. }) {
            return;
        }
        let cases = &mut self.test(test).cases;
        match cases.iter_mut().find(|(known, _)| *known == id) {
            Some((_, mean)) => mean.add(duration),
            None => {
                let mut mean = Mean::default();
                mean.add(duration);
                cases.push((id, mean));
            }
        }
    }

    /// The record of what was seen: tests that finished, with their cases.
    fn record(&self) -> Record {
        let tests = self
            .tests
            .iter()
            .filter(|(_, durations)| durations.test.runs > 0)
            .map(|(test, durations)| TestRecord {
                test: test.clone(),
                duration: durations.test.get(),
                runs: durations.test.runs,
                cases: durations.cases.iter().map(|(id, mean)| CaseRecord { id: id.clone(), duration: mean.get() }).collect(),
            })
            .collect();
        Record { host_record: RECORD_VERSION, tests }
    }
}

impl Subscriber for RecordWriter {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::CaseFinished { test, package, case, outcome, duration, .. } => {
                self.case(test, case_id(test, package, case), outcome, *duration);
            }
            Event::ScriptFinished { test, script, outcome, duration, .. } => {
                self.case(test, script_id(test, script), outcome, *duration);
            }
            Event::TestFinished { test, duration, .. } => self.test(test).test.add(*duration),
            _ => {}
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        if std::mem::replace(&mut self.written, true) {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(&self.record()).map_err(|e| e.to_string());
        text.and_then(|text| write_atomically(&self.file, text.as_bytes()))
            .map_err(|error| format!("cannot write the record {}: {error}", self.file.display()))
    }
}

/// Write `bytes` to `path` in one step: a temporary file in the same directory, renamed
/// over `path` once complete (removed if anything fails).
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    file.write_all(bytes).and_then(|()| file.as_file().sync_all()).map_err(|e| e.to_string())?;
    file.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_and_cases_get_their_mean_durations_and_skipped_cases_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("record.json");
        let mut writer = RecordWriter::new(file.clone());
        let case = |name: &str, outcome: Outcome, millis: u64| Event::CaseFinished {
            test: "t".into(),
            package: "p".into(),
            case: name.into(),
            outcome,
            duration: Duration::from_millis(millis),
            output: String::new(),
            attempts: 1,
            earlier_failures: Vec::new(),
            rewritten: None,
        };
        let finished = |millis: u64| Event::TestFinished { test: "t".into(), outcome: Outcome::Passed, duration: Duration::from_millis(millis), node_logs: Vec::new() };
        for event in [
            case("a", Outcome::Passed, 100),
            case("b", Outcome::auto_skip("x"), 0),
            finished(1000),
            case("a", Outcome::Passed, 300),
            finished(2000),
        ] {
            writer.handle(&event);
        }
        writer.finish().unwrap();
        let record: Record = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(record.tests.len(), 1);
        assert_eq!((record.tests[0].duration, record.tests[0].runs), (1.5, 2));
        assert_eq!(record.tests[0].cases.len(), 1);
        assert_eq!(record.tests[0].cases[0].id, "t/p/a");
        assert!((record.tests[0].cases[0].duration - 0.2).abs() < 1e-9);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }
}
