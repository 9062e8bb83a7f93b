//! Long case outputs in files of their own: a report that keeps a bounded tail of each
//! case's output (HTML, JUnit) writes the whole output next to itself and names the file.

use std::path::PathBuf;

use super::escape::{KEPT_TEXT, tail};

/// Numbered output files in one directory, created when the first one is written.
pub struct OutputFiles {
    dir: PathBuf,
    /// What the report calls the directory (relative to the report itself).
    shown_as: String,
    written: usize,
}

impl OutputFiles {
    /// Files in `dir`, named in reports as `shown_as/case-N.txt`.
    pub fn new(dir: PathBuf, shown_as: impl Into<String>) -> OutputFiles {
        OutputFiles { dir, shown_as: shown_as.into(), written: 0 }
    }

    /// `output` as the report keeps it: itself when short; otherwise written whole to the
    /// next file, and what the report shows instead — a line naming the file, then the
    /// output's tail.
    pub fn keep(&mut self, output: &str) -> String {
        if output.len() <= KEPT_TEXT {
            return output.to_string();
        }
        self.written += 1;
        let name = format!("case-{}.txt", self.written);
        let file = self.dir.join(&name);
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| std::fs::write(&file, output));
        let note = match written {
            Ok(()) => format!("[{} bytes in all: the whole output is in {}/{name}]", output.len(), self.shown_as),
            Err(error) => format!("[{} bytes in all; cannot write {}: {error}]", output.len(), file.display()),
        };
        format!("{note}\n{}", tail(output, KEPT_TEXT - 256))
    }
}

/// The most of one node log a report copies: the end of a bigger log (a node flooding its
/// output) is copied, with a first line saying how much was left out.
const LOG_COPY_CAP: u64 = 8 << 20;

/// Copies of node logs in one directory, `node-N.log`, created when the first is copied.
pub struct LogCopies {
    dir: PathBuf,
    shown_as: String,
    copied: usize,
}

impl LogCopies {
    /// Copies in `dir`, linked from reports as `shown_as/node-N.log`.
    pub fn new(dir: PathBuf, shown_as: impl Into<String>) -> LogCopies {
        LogCopies { dir, shown_as: shown_as.into(), copied: 0 }
    }

    /// Copy the log at `source` (a file the host made; at most its last 8 MiB) and return
    /// the link to the copy, or `None` when it cannot be read or written.
    pub fn keep(&mut self, source: &std::path::Path) -> Option<String> {
        use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
        let mut log = std::fs::File::open(source).ok()?;
        let size = log.metadata().ok()?.len();
        let skipped = size.saturating_sub(LOG_COPY_CAP);
        log.seek(SeekFrom::Start(skipped)).ok()?;
        self.copied += 1;
        let name = format!("node-{}.log", self.copied);
        std::fs::create_dir_all(&self.dir).ok()?;
        let mut copy = std::fs::File::create(self.dir.join(&name)).ok()?;
        if skipped > 0 {
            writeln!(copy, "[the first {skipped} bytes of this {size}-byte log are not copied]").ok()?;
        }
        std::io::copy(&mut log.take(LOG_COPY_CAP), &mut copy).ok()?;
        Some(format!("{}/{name}", self.shown_as))
    }
}
