//! Structured events in Tezt's `fd-sink-item.v0` shape, one JSON object per line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Where events go; a no-op when the node was started without `--events`.
pub struct EventSink {
    file: Option<Mutex<File>>,
    name: String,
}

impl EventSink {
    /// Open the event pipe for writing (a FIFO the supervisor created, or a plain file).
    pub fn open(path: Option<&Path>, name: &str) -> Result<EventSink, String> {
        let file = match path {
            Some(path) => Some(Mutex::new(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|e| format!("cannot open event pipe {}: {e}", path.display()))?,
            )),
            None => None,
        };
        Ok(EventSink { file, name: name.to_string() })
    }

    /// Write one event `{name: value}` with a timestamp.
    pub fn emit(&self, event: &str, value: Value) {
        let Some(file) = &self.file else { return };
        let time_stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let item = json!({ "fd-sink-item.v0": {
            "hostname": self.name,
            "time_stamp": time_stamp,
            "section": ["kvnode"],
            "event": { event: value },
        }});
        let mut line = item.to_string();
        line.push('\n');
        // One write per line keeps lines whole on a pipe (they stay under PIPE_BUF).
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            eprintln!("event pipe write failed: {e}");
        }
    }
}
