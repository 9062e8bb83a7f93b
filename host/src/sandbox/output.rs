//! What a case logs through the `log` interface (and the sandbox's refusal notes), kept
//! up to a byte budget. Past the budget lines are counted, not kept: a package that logs
//! a million lines costs the host no more memory than the budget.

/// Log lines of one case, at most `cap` bytes of them.
#[derive(Debug)]
pub struct CappedLog {
    lines: Vec<String>,
    bytes: usize,
    cap: usize,
    /// Bytes of lines not kept (past the cap).
    dropped: u64,
}

impl CappedLog {
    /// An empty log that keeps at most `cap` bytes.
    pub fn new(cap: usize) -> CappedLog {
        CappedLog { lines: Vec::new(), bytes: 0, cap, dropped: 0 }
    }

    /// Keep `line` if it fits in what is left of the budget; count it otherwise.
    pub fn push(&mut self, line: String) {
        let size = line.len() + 1;
        if self.dropped == 0 && self.bytes + size <= self.cap {
            self.bytes += size;
            self.lines.push(line);
        } else {
            self.dropped += size as u64;
        }
    }

    /// Count a line of `size` bytes that is not kept.
    pub fn push_dropped(&mut self, size: usize) {
        self.dropped += size as u64 + 1;
    }

    /// Bytes logged past the budget (0: everything was kept).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept lines, one per line.
    pub fn joined(&self) -> String {
        self.lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_budget_are_counted_not_kept_and_nothing_after_the_first_drop_is_kept() {
        let mut log = CappedLog::new(10);
        log.push("12345".into());
        log.push("1234567".into());
        log.push("1".into());
        assert_eq!(log.joined(), "12345");
        assert_eq!(log.dropped(), 8 + 2);
    }
}
