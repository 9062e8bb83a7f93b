//! An append-only record that can be awaited: every item gets a sequence number, and a
//! wait started after an item arrived still finds it (Tezt's missed-event pitfall, removed).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::watch;

/// One recorded item with its sequence number and arrival time.
#[derive(Debug)]
pub struct Entry<T> {
    pub seq: u64,
    pub at: SystemTime,
    pub item: T,
}

struct State<T> {
    /// Sequence number of `items[0]`.
    first_seq: u64,
    items: VecDeque<Arc<Entry<T>>>,
    /// Why no more items will come for now (the process exited), if so.
    closed: Option<String>,
    /// Bumped by every `reopen`, so a stale producer cannot close its successor's journal.
    generation: u64,
}

/// A journal of items of one kind (events or output lines) for a node's whole life.
pub struct Journal<T> {
    state: Mutex<State<T>>,
    /// Bumped on every change; waiters watch it.
    version: watch::Sender<u64>,
    /// Oldest items are dropped past this many (`None`: keep everything).
    capacity: Option<usize>,
}

/// Why a wait ended without a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd {
    /// The producer stopped before a matching item came; the reason (exit status).
    Closed(String),
}

impl<T> Journal<T> {
    /// An empty journal; `capacity` bounds memory for chatty sources.
    pub fn new(capacity: Option<usize>) -> Journal<T> {
        Journal {
            state: Mutex::new(State { first_seq: 0, items: VecDeque::new(), closed: None, generation: 0 }),
            version: watch::channel(0).0,
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Append an item; returns its sequence number.
    pub fn push(&self, item: T) -> u64 {
        let seq = {
            let mut state = self.lock();
            let seq = state.first_seq + state.items.len() as u64;
            state.items.push_back(Arc::new(Entry { seq, at: SystemTime::now(), item }));
            if let Some(capacity) = self.capacity {
                while state.items.len() > capacity {
                    state.items.pop_front();
                    state.first_seq += 1;
                }
            }
            seq
        };
        self.version.send_modify(|v| *v += 1);
        seq
    }

    /// Append several items at once: one lock and one wake-up for the whole batch.
    pub fn push_all(&self, items: impl IntoIterator<Item = T>) {
        {
            let mut state = self.lock();
            let now = SystemTime::now();
            for item in items {
                let seq = state.first_seq + state.items.len() as u64;
                state.items.push_back(Arc::new(Entry { seq, at: now, item }));
            }
            if let Some(capacity) = self.capacity {
                while state.items.len() > capacity {
                    state.items.pop_front();
                    state.first_seq += 1;
                }
            }
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// The sequence number the next item will get ("now", for waits from now on).
    pub fn next_seq(&self) -> u64 {
        let state = self.lock();
        state.first_seq + state.items.len() as u64
    }

    /// Mark the journal closed (the producer of `generation` stopped) with a reason, and
    /// end the waits. Does nothing if the journal was reopened since for a new producer.
    pub fn close(&self, generation: u64, reason: impl Into<String>) {
        {
            let mut state = self.lock();
            if state.generation != generation {
                return;
            }
            state.closed = Some(reason.into());
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// Open it again for a new producer (a restarted process); returns the producer's
    /// generation, for `close`.
    pub fn reopen(&self) -> u64 {
        let generation = {
            let mut state = self.lock();
            state.closed = None;
            state.generation += 1;
            state.generation
        };
        self.version.send_modify(|v| *v += 1);
        generation
    }

    /// Items with a sequence number of `from` or more that are still held.
    pub fn since(&self, from: u64) -> Vec<Arc<Entry<T>>> {
        let state = self.lock();
        let skip = from.saturating_sub(state.first_seq) as usize;
        state.items.iter().skip(skip).cloned().collect()
    }

    /// The last `n` items.
    pub fn last(&self, n: usize) -> Vec<Arc<Entry<T>>> {
        let state = self.lock();
        state.items.iter().skip(state.items.len().saturating_sub(n)).cloned().collect()
    }

    /// The first item at or after `from` that `matches`, waiting for it if needed.
    /// Ends with [`WaitEnd::Closed`] when the journal is closed with no match.
    pub async fn wait_for(
        &self,
        from: u64,
        matches: impl Fn(&T) -> bool,
    ) -> Result<Arc<Entry<T>>, WaitEnd> {
        let mut version = self.version.subscribe();
        let mut next = from;
        loop {
            {
                let state = self.lock();
                let skip = next.saturating_sub(state.first_seq) as usize;
                for entry in state.items.iter().skip(skip) {
                    if matches(&entry.item) {
                        return Ok(Arc::clone(entry));
                    }
                }
                next = state.first_seq + state.items.len() as u64;
                if let Some(reason) = &state.closed {
                    return Err(WaitEnd::Closed(reason.clone()));
                }
            }
            // The sender lives as long as `self`, so this cannot fail while we hold `self`.
            let _ = version.changed().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_wait_started_late_still_finds_the_item() {
        let journal = Journal::new(None);
        journal.push("boot");
        journal.push("ready");
        let found = journal.wait_for(0, |item| *item == "ready").await.unwrap();
        assert_eq!((found.seq, found.item), (1, "ready"));
    }

    #[tokio::test]
    async fn a_wait_from_now_ignores_the_past_and_sees_the_future() {
        let journal = Arc::new(Journal::new(None));
        journal.push("ready");
        let from = journal.next_seq();
        let waiter = {
            let journal = Arc::clone(&journal);
            tokio::spawn(async move { journal.wait_for(from, |item| *item == "ready").await.map(|e| e.seq) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        journal.push("ready");
        assert_eq!(waiter.await.unwrap(), Ok(1));
    }

    #[tokio::test]
    async fn closing_ends_waits_with_the_reason() {
        let journal = Arc::new(Journal::<&str>::new(None));
        let waiter = {
            let journal = Arc::clone(&journal);
            tokio::spawn(async move { journal.wait_for(0, |_| true).await.map(|e| e.seq) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        journal.close(0, "exit code 3");
        assert_eq!(waiter.await.unwrap(), Err(WaitEnd::Closed("exit code 3".into())));
    }

    #[test]
    fn capacity_drops_the_oldest_but_keeps_numbering() {
        let journal = Journal::new(Some(2));
        for line in ["a", "b", "c"] {
            journal.push(line);
        }
        let kept: Vec<_> = journal.since(0).iter().map(|e| (e.seq, e.item)).collect();
        assert_eq!(kept, [(1, "b"), (2, "c")]);
        assert_eq!(journal.next_seq(), 3);
    }
}

#[cfg(test)]
mod generation_tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_close_does_not_end_the_next_generation() {
        let journal = Journal::<&str>::new(None);
        let first = journal.reopen();
        let second = journal.reopen();
        journal.close(first, "old process exited");
        journal.push("ready");
        assert!(journal.wait_for(0, |item| *item == "ready").await.is_ok());
        journal.close(second, "exited");
        assert_eq!(journal.wait_for(1, |_| true).await.unwrap_err(), WaitEnd::Closed("exited".into()));
    }
}
