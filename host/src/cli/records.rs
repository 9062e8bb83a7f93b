//! What `run` and `list` read from earlier runs: the durations `--partition duration:K/N`
//! balances (`--from-record`), and the last run's leftovers for `--rerun-failed`.

use std::path::Path;

use host::config::Plan;
use host::suite::last_run::{LastRun, last_run_path};
use host::suite::{Durations, Partition, Scheme};

use super::exit;

/// The durations for `partition`, read from `from_record`: both or neither.
pub fn durations(partition: Option<&Partition>, from_record: Option<&Path>) -> Result<Option<Durations>, String> {
    let by_duration = partition.is_some_and(|p| p.scheme == Scheme::Duration);
    match from_record {
        None if by_duration => Err("--partition duration:K/N needs --from-record FILE (a record from `host run --record FILE`, or a JUnit report)".into()),
        None => Ok(None),
        Some(file) if !by_duration => Err(format!("--from-record {}: only --partition duration:K/N reads a record", file.display())),
        Some(file) => Durations::load(file).map(Some),
    }
}

/// The ids the last run of `plan`'s suite left to do, for `--rerun-failed`. When there is
/// no last run (exit 2), or it left nothing (exit 0), says so and gives the exit code.
pub fn outstanding(plan: &Plan) -> Result<Vec<String>, u8> {
    let path = last_run_path(&plan.file);
    match LastRun::load(&path) {
        Err(problem) => {
            eprintln!("error: --rerun-failed: {problem}");
            Err(exit::USAGE)
        }
        Ok(None) => {
            eprintln!(
                "error: --rerun-failed: no last run of {} ({} does not exist: every `host run` of the suite leaves one)",
                plan.file.display(),
                path.display()
            );
            Err(exit::USAGE)
        }
        Ok(Some(last)) if last.outstanding.is_empty() => {
            eprintln!("nothing to rerun: the last run of {} passed all {} selected item(s)", plan.file.display(), last.selected);
            Err(exit::PASSED)
        }
        Ok(Some(last)) => {
            eprintln!("rerunning the {} item(s) that failed or did not run last time", last.outstanding.len());
            Ok(last.outstanding)
        }
    }
}
