//! `--format json`: one JSON object per event per line, each with a `type`, a `time`
//! (seconds since the run started) and a `unix_time`; the last line (`run_finished`)
//! carries the totals. Lines are written in batches ([`Batched`]): a failure, a warning
//! or a test starting at once, passing cases at most every 100 ms.

use std::io::Write;
use std::time::Instant;

use super::batch::{self, Batched};
use crate::events::{Event, Subscriber};

/// Writes events as JSON lines.
pub struct JsonReporter<W: Write + Send + 'static> {
    out: Batched<W>,
    started: Instant,
}

impl<W: Write + Send + 'static> JsonReporter<W> {
    /// A reporter writing to `out` (stdout in the CLI).
    pub fn new(out: W) -> Self {
        JsonReporter { out: Batched::new(out), started: Instant::now() }
    }
}

impl<W: Write + Send + 'static> Subscriber for JsonReporter<W> {
    fn handle(&mut self, event: &Event) {
        let mut value = serde_json::to_value(event).unwrap_or_else(|e| serde_json::json!({ "type": "error", "message": e.to_string() }));
        if let Some(object) = value.as_object_mut() {
            object.insert("time".into(), serde_json::json!(self.started.elapsed().as_secs_f64()));
            let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
            object.insert("unix_time".into(), serde_json::json!(unix));
        }
        self.out.line(&value.to_string());
        if batch::is_routine(event) { self.out.flush_if_due() } else { self.out.flush() }
    }

    fn finish(&mut self) -> Result<(), String> {
        self.out.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Outcome;
    use crate::reporters::batch::tests::Counting;

    #[test]
    fn passing_cases_are_written_in_batches_and_a_warning_at_once() {
        let out = Counting::default();
        let mut reporter = JsonReporter::new(out.clone());
        reporter.handle(&Event::TestStarted { test: "t".into(), nodes: 0 });
        let before = out.writes();
        for case in 0..1000 {
            reporter.handle(&Event::CaseFinished {
                test: "t".into(),
                package: "p".into(),
                case: format!("c{case}"),
                outcome: Outcome::Passed,
                duration: std::time::Duration::ZERO,
                output: String::new(),
                attempts: 1,
                earlier_failures: Vec::new(),
                rewritten: None,
            });
        }
        let writes = out.writes() - before;
        assert!(writes < 20, "1,000 passing cases took {writes} writes");
        reporter.handle(&Event::Warning { message: "look".into() });
        let text = out.text();
        assert_eq!(text.lines().count(), 1002, "everything is out once a warning comes");
        assert!(text.lines().last().is_some_and(|line| line.contains("\"warning\"")));
    }
}
