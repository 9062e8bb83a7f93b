//! 0.2's `breaks` interface (test_server's `break/1`): a case pauses itself for a person.
//!
//! The sandbox owns the case's side: the comment bounded, the timetrap cancelled, the
//! call's clock stopped while the break lasts (`suite_calls::bounded` watches
//! [`CaseState::paused`]) and its deadlines moved by as long. What a break shows and how
//! it ends (a line on stdin, a continue file, Ctrl-C) is the runner's, behind
//! [`CaseBreaks`]: the sandbox knows only that trait.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use super::state::CaseState;

/// Pauses a running case until a person says to go on. The runner implements it and puts
/// it in the [`CaseScope`](super::CaseScope) when the run has a way to go on.
pub trait CaseBreaks: Send + Sync {
    /// Announce the break of `call` (`package/case`, or `package (init)`…) in its test,
    /// with the package's `comment`, and resolve when the person says to go on (or the
    /// run is interrupted). The time it takes is not counted against the test.
    fn pause<'a>(&'a self, call: &'a str, comment: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

impl super::bindings::v2::host::test0_2_0::breaks::Host for CaseState {
    async fn break_here(&mut self, comment: String) -> bool {
        let comment = super::interfaces::comment_bounded(&comment);
        let Some(breaks) = self.scope.breaks.clone() else {
            self.output.line("[BREAK] ", &format!("skipped (no terminal on the host's stdin and no --continue-file): {comment}"));
            return false;
        };
        // test_server's break cancels the timetraps; the call's time stops meanwhile.
        self.timetrap.send_replace(None);
        self.paused.send_replace(true);
        let started = Instant::now();
        breaks.pause(&self.call, comment).await;
        let took = started.elapsed();
        self.outer_deadline += took;
        self.deadline = self.outer_deadline;
        self.paused.send_replace(false);
        true
    }
}
