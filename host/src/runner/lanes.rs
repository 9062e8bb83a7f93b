//! The cases of a `parallel` package. Lanes — as many as cases may run at once — each take
//! the next case from a shared queue and run it (with its retries) without waiting for
//! anyone; the runner reports each result, once.
//!
//! The runner is a lane itself: it runs cases of its own and, while one runs, receives and
//! reports what the other lanes (tasks of their own) send. So with one lane per core every
//! thread runs cases, and a result that arrives while the runner is busy costs no wake-up:
//! when the runner only waited for results, each case cost a hand-off between threads that
//! ate the second core's gain.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::cases::{CaseRun, finish_case};
use super::deadline::TestDeadline;
use super::test::Running;
use crate::events::{FailureDetail, Outcome};
use crate::sandbox::{CaseRunner, CaseScope, CaseVerdict, Package};

/// Results the lanes may have sent that the runner has not reported yet.
const RESULTS_AHEAD: usize = 64;

/// How a case ended in a lane.
struct Done {
    /// The case's position in the package's list.
    index: usize,
    verdict: CaseVerdict,
    /// The failures of the attempts before the last (`--retries`).
    earlier_failures: Vec<FailureDetail>,
    took: Duration,
}

/// Run the cases at `indices` of the package's list in `lanes` lanes and report each;
/// returns the package's outcome (its first failure, in the order cases ended).
pub(super) async fn run(run: &CaseRun<'_>, indices: Vec<usize>, lanes: usize) -> Outcome {
    let cx = run.cx;
    let cases = indices.len();
    // Positions, not names: a package may have 100,000 cases.
    let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new(indices.into()));
    let running = cx.running();
    // Bounded: lanes that get ahead of the reporting wait, rather than pile results up.
    let (sender, mut results) = tokio::sync::mpsc::channel(RESULTS_AHEAD);
    // Dropped with this future (an interrupted run): every lane stops, and the cases they
    // were running stay in `running`, to be reported as interrupted.
    let lane = || Lane {
        runner: cx.sandbox.case_runner(),
        package: run.package.clone(),
        scope: run.scope.clone(),
        queue: Arc::clone(&queue),
        running: Arc::clone(&running),
        deadline: run.deadline.clone(),
        retries: cx.options.retries as usize,
    };
    // The runner's own lane is the first; the others are tasks, aborted with this future.
    let _lanes: Vec<AbortOnDrop> =
        (1..lanes.min(cases)).map(|_| AbortOnDrop(tokio::spawn(lane().work(sender.clone())))).collect();
    drop(sender);
    let own = lane();
    let mut own_case = std::pin::pin!(own.next());
    let mut own_done = false;
    let mut first_failure: Option<Outcome> = None;
    loop {
        let done = tokio::select! {
            biased;
            Some(done) = results.recv() => done,
            done = &mut own_case, if !own_done => match done {
                Some(done) => {
                    own_case.set(own.next());
                    done
                }
                None => {
                    own_done = true;
                    continue;
                }
            },
            else => break,
        };
        report(run, &queue, &running, &mut first_failure, done);
    }
    first_failure.unwrap_or(Outcome::Passed)
}

/// Report a case a lane ran: its failures located in the package's sources, the hooks
/// asked, the result emitted and counted, the case no longer running; under `--fail-fast`, a failure skips
/// what is still queued.
fn report(
    run: &CaseRun<'_>,
    queue: &Mutex<VecDeque<usize>>,
    running: &Running,
    first_failure: &mut Option<Outcome>,
    Done { index, mut verdict, mut earlier_failures, took }: Done,
) {
    let cx = run.cx;
    let case = &run.package.cases[index];
    let failures = earlier_failures.iter_mut().chain(match &mut verdict.outcome {
        Outcome::Failed { failure } => Some(failure),
        _ => None,
    });
    for failure in failures {
        if let Some(path) = super::source_location::locate(run.source, &failure.file) {
            failure.file = path;
        }
    }
    // Hooks asked, the result reported and counted.
    let outcome = run.settle(index, verdict.outcome, took, verdict.output, earlier_failures, verdict.comment);
    if outcome.is_failed() {
        first_failure.get_or_insert(outcome);
    }
    // Reported: no longer running (a case that ended but was not received yet when the
    // run is interrupted is reported as interrupted — a failure, never a pass).
    lock(running).retain(|(package, other)| !(package == &run.package.name && other == case));
    if cx.stopping() {
        let left: Vec<usize> = lock(queue).drain(..).collect();
        for index in left {
            let outcome = Outcome::auto_skip("--fail-fast: an earlier failure stopped the run");
            let case = &run.package.cases[index];
            finish_case(cx, run.test, &run.package.name, case, outcome);
        }
    }
}

/// One lane: what it needs to run cases on a thread of its own.
struct Lane {
    runner: CaseRunner,
    package: Package,
    scope: CaseScope,
    queue: Arc<Mutex<VecDeque<usize>>>,
    running: Running,
    deadline: TestDeadline,
    retries: usize,
}

impl Lane {
    /// Take cases until the queue is empty (or nobody listens any more).
    async fn work(self, results: tokio::sync::mpsc::Sender<Done>) {
        while let Some(done) = self.next().await {
            if results.send(done).await.is_err() {
                return;
            }
        }
    }

    /// Run the next case of the queue, with its retries; `None` when the queue is empty.
    async fn next(&self) -> Option<Done> {
        let index = lock(&self.queue).pop_front()?;
        let case = &self.package.cases[index];
        lock(&self.running).push((self.package.name.clone(), case.clone()));
        let started = Instant::now();
        let mut earlier_failures = Vec::new();
        let verdict = loop {
            let remaining = self.deadline.remaining();
            let timeout = self.scope.policy.case_timeout.map_or(remaining, |limit| limit.min(remaining));
            let verdict = self.runner.run(&self.package, case, self.scope.clone(), timeout).await;
            match &verdict.outcome {
                Outcome::Failed { failure }
                    if earlier_failures.len() < self.retries
                        && !self.deadline.remaining().is_zero() =>
                {
                    earlier_failures.push(failure.clone());
                }
                _ => break verdict,
            }
        };
        Some(Done { index, verdict, earlier_failures, took: started.elapsed() })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A lane's task, aborted when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
