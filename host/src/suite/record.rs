//! Records of past runs, read to balance shards: `host run --record FILE` writes one (a
//! [`Record`], modelled on Tezt's records: per test its mean duration and how many runs it
//! was measured over, per case its duration), and `--from-record FILE` reads it back — or
//! reads a JUnit report's `<testcase time=…>` instead (see [`junit_times`](super::junit_times)).
//!
//! Everything in such a file is data from another run (names a package chose, numbers
//! anyone could have edited): it is checked here, and named with `{:?}` (escaped) in
//! every error.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The marker and version at the top of a record: `{"host_record": 1, …}`.
pub const RECORD_VERSION: u32 = 1;

/// A record file is read whole; one larger than this is refused rather than read.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

/// What `host run --record FILE` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always [`RECORD_VERSION`]: marks the file as a record of this host.
    pub host_record: u32,
    /// The tests that ran, in the order they finished.
    pub tests: Vec<TestRecord>,
}

/// One test of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRecord {
    /// The test's name in tests.toml.
    pub test: String,
    /// Mean seconds over `runs`, from the test's start to its end: node boot, setup,
    /// packages, scripts and teardown.
    pub duration: f64,
    /// How many times the test ran (`--repeat`).
    pub runs: u32,
    /// Its cases and scripts that ran, each once (the mean over `runs`).
    pub cases: Vec<CaseRecord>,
}

/// One case or script of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRecord {
    /// `test/package/case` or `test/script:NAME`.
    pub id: String,
    /// Mean seconds the case (its attempts included) or script took.
    pub duration: f64,
}

/// Seconds per test name, from a record or a JUnit report: what `duration:K/N` balances.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Durations {
    /// The file they came from, for messages.
    pub source: String,
    tests: BTreeMap<String, f64>,
}

impl Durations {
    /// Durations from `tests` (name, seconds), read from `source`.
    pub fn new(source: impl Into<String>, tests: BTreeMap<String, f64>) -> Durations {
        Durations { source: source.into(), tests }
    }

    /// Read `path`: a host record (JSON) or a JUnit XML report, told apart by their first
    /// character. The error names the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Durations, String> {
        let shown = path.display();
        let size = std::fs::metadata(path).map_err(|e| format!("--from-record {shown}: {e}"))?.len();
        if size > MAX_RECORD_BYTES {
            return Err(format!("--from-record {shown}: {size} bytes, more than a record may have ({MAX_RECORD_BYTES})"));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("--from-record {shown}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|e| format!("--from-record {shown}: not UTF-8 text ({e})"))?;
        let tests = match text.trim_start().chars().next() {
            Some('{') => from_record(&text),
            Some('<') => super::junit_times::test_times(&text),
            _ => Err("neither a host record (JSON) nor a JUnit report (XML)".to_string()),
        }
        .map_err(|problem| format!("--from-record {shown}: {problem}"))?;
        Ok(Durations::new(shown.to_string(), tests))
    }

    /// The recorded seconds of `test`, if the record has it.
    pub fn get(&self, test: &str) -> Option<f64> {
        self.tests.get(test).copied()
    }

    /// What a test the record does not know is assumed to take: the median of the known
    /// tests among `tests`, or 1 s when none is known.
    pub fn default_estimate<'a>(&self, tests: impl IntoIterator<Item = &'a str>) -> f64 {
        let mut known: Vec<f64> = tests.into_iter().filter_map(|test| self.get(test)).collect();
        if known.is_empty() {
            return 1.0;
        }
        known.sort_by(f64::total_cmp);
        let middle = known.len() / 2;
        if known.len() % 2 == 1 { known[middle] } else { (known[middle - 1] + known[middle]) / 2.0 }
    }
}

/// Seconds per test from a host record, each checked.
fn from_record(text: &str) -> Result<BTreeMap<String, f64>, String> {
    let record: Record = serde_json::from_str(text).map_err(|e| format!("not a host record: {e}"))?;
    if record.host_record != RECORD_VERSION {
        return Err(format!("record version {}, this host reads version {RECORD_VERSION}", record.host_record));
    }
    let mut tests = BTreeMap::new();
    for entry in record.tests {
        let seconds = checked_seconds(entry.duration).map_err(|problem| format!("test {:?}: duration {problem}", entry.test))?;
        if tests.insert(entry.test.clone(), seconds).is_some() {
            return Err(format!("test {:?} is recorded twice", entry.test));
        }
    }
    Ok(tests)
}

/// `seconds` if it is a duration (finite, not negative, under a year), else why not.
pub fn checked_seconds(seconds: f64) -> Result<f64, String> {
    const YEAR: f64 = 365.0 * 24.0 * 3600.0;
    if seconds.is_finite() && (0.0..YEAR).contains(&seconds) { Ok(seconds) } else { Err(format!("{seconds} is not a number of seconds")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Durations, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record");
        std::fs::write(&path, text).unwrap();
        Durations::load(&path)
    }

    #[test]
    fn a_record_gives_each_test_its_duration() {
        let durations = load(r#"{"host_record": 1, "tests": [{"test": "a", "duration": 2.5, "runs": 1, "cases": [{"id": "a/p/c", "duration": 1.0}]}]}"#).unwrap();
        assert_eq!(durations.get("a"), Some(2.5));
        assert_eq!(durations.get("b"), None);
    }

    #[test]
    fn garbled_records_are_explained_with_the_file() {
        let problems = [
            ("", "neither a host record"),
            ("{", "not a host record"),
            (r#"{"host_record": 2, "tests": []}"#, "version 2"),
            (r#"{"host_record": 1, "tests": [{"test": "a", "duration": -1, "runs": 1, "cases": []}]}"#, "not a number of seconds"),
            (r#"{"host_record": 1, "tests": [{"test": "a", "duration": 1, "runs": 1, "cases": []}, {"test": "a", "duration": 1, "runs": 1, "cases": []}]}"#, "twice"),
            ("<testsuites><testcase", "JUnit"),
        ];
        for (text, expected) in problems {
            let error = load(text).unwrap_err();
            assert!(error.contains("--from-record") && error.contains(expected), "{text:?}: {error}");
        }
        assert!(Durations::load(Path::new("/no/such/record.json")).unwrap_err().contains("/no/such/record.json"));
    }

    #[test]
    fn unknown_tests_are_estimated_by_the_median_of_the_known_ones() {
        let durations = Durations::new("r", BTreeMap::from([("a".into(), 1.0), ("b".into(), 3.0), ("c".into(), 10.0)]));
        assert_eq!(durations.default_estimate(["a", "b", "c", "x"]), 3.0);
        assert_eq!(durations.default_estimate(["a", "b"]), 2.0);
        assert_eq!(durations.default_estimate(["x"]), 1.0);
    }
}
