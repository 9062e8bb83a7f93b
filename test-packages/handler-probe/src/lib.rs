//! An event handler (and hook) for host's tests, and an example: it writes every event's
//! kind to `/data/events.txt` and each case's duration to `/data/durations.csv` in its
//! granted directory. Its `init` arguments add behaviour:
//!
//! - `sleep-ms=N`: take N ms over each finished case (to show a sync handler holds the run);
//! - `trap`, `hang`, `flood`: on the first finished case, trap, loop for an hour, or write
//!   output without end;
//! - `skip=CASE`: as a hook, turn a failure of CASE into a skip;
//! - `diagnose`: as a hook, attach the last lines of every node (`--log-lines`, e.g. 20)
//!   to a failure;
//! - `read=PATH`: try to read PATH at init and write what happened to `/data/read.txt`;
//! - `connect=ADDRESS`: try a TCP connection at init, and say what happened and how many
//!   environment variables it sees in `/data/connect.txt`.

use std::io::Write;

use guest_sdk::handler::{CaseId, Event, EventKind, Failure, Handler, NodeLog, Outcome};

struct Probe {
    args: Vec<String>,
    events: Option<std::fs::File>,
    durations: Option<std::fs::File>,
}

impl Probe {
    fn arg(&self, key: &str) -> Option<&str> {
        self.args.iter().find_map(|arg| arg.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }

    fn has(&self, flag: &str) -> bool {
        self.args.iter().any(|arg| arg == flag)
    }
}

impl Handler for Probe {
    fn init(args: Vec<String>) -> Result<Self, String> {
        let granted = std::path::Path::new(guest_sdk::handler::DIR).is_dir();
        let create = |name: &str| granted.then(|| std::fs::File::create(format!("/data/{name}"))).transpose().map_err(|e| e.to_string());
        let mut durations = create("durations.csv")?;
        if let Some(file) = durations.as_mut() {
            writeln!(file, "case,outcome,seconds").map_err(|e| e.to_string())?;
        }
        let probe = Probe { events: create("events.txt")?, durations, args };
        if let Some(path) = probe.arg("read") {
            let what = match std::fs::read_to_string(path) {
                Ok(text) => format!("read {} bytes: {text}", text.len()),
                Err(error) => format!("denied: {error}"),
            };
            std::fs::write("/data/read.txt", what).map_err(|e| e.to_string())?;
        }
        if let Some(address) = probe.arg("connect") {
            let what = match std::net::TcpStream::connect(address) {
                Ok(_) => "connected".to_string(),
                Err(error) => format!("denied: {error}"),
            };
            std::fs::write("/data/connect.txt", format!("{what}; {} environment variable(s)", std::env::vars().count())).map_err(|e| e.to_string())?;
        }
        Ok(probe)
    }

    fn handle(&mut self, event: Event) -> Result<(), String> {
        // The event's JSON type (`run_started`, `case_finished`…), or `stats P F S` with
        // the counts so far.
        let name = match &event.kind {
            EventKind::Stats(totals) => format!("stats {} {} {}", totals.passed, totals.failed, totals.skipped),
            _ => event.json.split("\"type\":\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_string(),
        };
        if let Some(file) = self.events.as_mut() {
            writeln!(file, "{name}").map_err(|e| e.to_string())?;
        }
        if let EventKind::CaseFinished(case) = &event.kind {
            let outcome = match &case.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed(_) => "failed",
                Outcome::Skipped(_) => "skipped",
                Outcome::NotRun(_) => "not-run",
            };
            if let Some(file) = self.durations.as_mut() {
                writeln!(file, "{},{outcome},{}", case.id.case, case.duration_secs).map_err(|e| e.to_string())?;
            }
            if let Some(ms) = self.arg("sleep-ms").and_then(|ms| ms.parse().ok()) {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            if self.has("trap") {
                panic!("the probe traps on purpose");
            }
            if self.has("hang") {
                let until = std::time::Instant::now() + std::time::Duration::from_secs(3600);
                let mut spins = 0u64;
                while std::time::Instant::now() < until {
                    spins = spins.wrapping_add(1);
                }
                return Err(format!("spun {spins} times"));
            }
            if self.has("flood") {
                loop {
                    println!("flood flood flood flood flood flood flood flood flood flood flood flood");
                }
            }
        }
        Ok(())
    }

    fn terminate(&mut self) {
        if let Some(file) = self.events.as_mut() {
            let _ = writeln!(file, "terminate");
        }
    }

    fn post_case(&mut self, case: &CaseId, outcome: &Outcome) -> Option<String> {
        let skip = self.arg("skip")?;
        (matches!(outcome, Outcome::Failed(_)) && case.case == skip).then(|| format!("{skip} is known to fail (quarantined)"))
    }

    fn on_failure(&mut self, case: &CaseId, failure: &Failure, nodes: &[NodeLog]) -> Option<String> {
        if !self.has("diagnose") {
            return None;
        }
        let mut text = format!("probe saw {} fail ({}) with {} node(s)", case.case, failure.kind, nodes.len());
        for node in nodes {
            text.push_str(&format!("\n[{}] last {} line(s):", node.node, node.lines.len()));
            for line in &node.lines {
                text.push_str(&format!("\n  {line}"));
            }
        }
        Some(text)
    }
}

guest_sdk::event_handler!(Probe);
