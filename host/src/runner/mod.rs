//! `runner`: orchestrates a run — prepare packages and runtimes, then for each test boot
//! its nodes, run its packages and scripts, tear down. It emits [`Event`]s and never
//! formats output: reporters do that.

mod boot;
mod prepare;
mod scratch;
mod scripts;
mod test;

use std::time::Instant;

use anyhow::{Context as _, Result};
use tokio::sync::watch;

pub use prepare::{Prepared, prepare};

use crate::config::Plan;
use crate::events::{Event, EventBus, Totals};
use crate::sandbox::Sandbox;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunResult {
    pub totals: Totals,
    /// The run was interrupted (`cancel` became true) before every test ran.
    pub interrupted: bool,
}

/// Run every test of `plan` in order. When `cancel` becomes true, the running test
/// stops, its nodes are terminated gracefully, and no further test starts.
pub async fn run(plan: &Plan, sandbox: &Sandbox, bus: &EventBus, cancel: watch::Receiver<bool>) -> Result<RunResult> {
    let started = Instant::now();
    let prepared = prepare(plan, sandbox, bus, true).await?;
    let packages = plan.tests.iter().map(|t| t.test_packages.len() + t.setup_packages.len()).sum();
    bus.emit(Event::RunStarted { tests: plan.tests.len(), packages });
    let scratch = scratch::create()?;
    let mut totals = Totals::default();
    let mut interrupted = false;
    for (index, test) in plan.tests.iter().enumerate() {
        if *cancel.borrow() {
            interrupted = true;
            break;
        }
        let dir = scratch.path().join(format!("{}-{}", index + 1, sanitize(&test.name)));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let cx = test::TestContext { plan, prepared: &prepared, sandbox, bus, scratch: &dir, cancel: cancel.clone() };
        let test_totals = test::run(test, &cx).await;
        totals.passed += test_totals.passed;
        totals.failed += test_totals.failed;
        totals.skipped += test_totals.skipped;
    }
    interrupted |= *cancel.borrow();
    if plan.persist_home {
        let kept = scratch::keep(scratch);
        bus.emit(Event::Warning { message: format!("persist_home: node homes and logs kept in {}", kept.display()) });
    }
    bus.emit(Event::RunFinished { totals, duration: started.elapsed(), interrupted });
    Ok(RunResult { totals, interrupted })
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}
