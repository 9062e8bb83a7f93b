//! A test's deadline: its `timeout` from the start of its packages, moved later by the
//! time its cases spent paused in breaks (`breaks.break-here`), which a person, not the
//! test, took.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When a test's time is up. Clones share the time added by breaks.
#[derive(Debug, Clone)]
pub(super) struct TestDeadline {
    at: Instant,
    breaks: Arc<Mutex<Duration>>,
}

impl TestDeadline {
    /// `timeout` from now.
    pub(super) fn after(timeout: Duration) -> TestDeadline {
        TestDeadline { at: Instant::now() + timeout, breaks: Arc::default() }
    }

    /// The time left (zero once it passed).
    pub(super) fn remaining(&self) -> Duration {
        let breaks = *self.breaks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Past what an Instant holds: no deadline to speak of.
        self.at.checked_add(breaks).map_or(Duration::MAX, |at| at.saturating_duration_since(Instant::now()))
    }

    /// Move the deadline later by `paused`, the length of a break.
    pub(super) fn extend(&self, paused: Duration) {
        let mut breaks = self.breaks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *breaks = breaks.saturating_add(paused);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_break_moves_every_clone_of_the_deadline() {
        let deadline = TestDeadline::after(Duration::ZERO);
        let clone = deadline.clone();
        assert_eq!(clone.remaining(), Duration::ZERO);
        deadline.extend(Duration::from_secs(3600));
        assert!(clone.remaining() > Duration::from_secs(3500), "{:?}", clone.remaining());
        deadline.extend(Duration::MAX);
        assert!(clone.remaining() > Duration::ZERO, "an absurd break saturates, it does not wrap");
    }
}
