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
