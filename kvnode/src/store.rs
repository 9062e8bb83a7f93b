//! The key-value map and its append-only log in the node's home.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use serde_json::json;

/// Keys and values, persisted line by line.
pub struct Store {
    inner: Mutex<(HashMap<String, String>, File)>,
}

impl Store {
    /// Replay `path` (if it exists) and keep it open for appends.
    pub fn open(path: &Path) -> Result<Store, String> {
        let mut map = HashMap::new();
        if let Ok(file) = File::open(path) {
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
                let entry: serde_json::Value = serde_json::from_str(&line)
                    .map_err(|e| format!("{}:{}: {e}", path.display(), index + 1))?;
                if let (Some(k), Some(v)) = (entry["k"].as_str(), entry["v"].as_str()) {
                    map.insert(k.to_string(), v.to_string());
                }
            }
        }
        let log = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(Store { inner: Mutex::new((map, log)) })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.lock().0.len()
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().0.get(key).cloned()
    }

    /// Persist, then apply, a write.
    pub fn set(&self, key: &str, value: &str) -> Result<(), String> {
        let mut guard = self.lock();
        let (map, log) = &mut *guard;
        writeln!(log, "{}", json!({ "k": key, "v": value })).map_err(|e| e.to_string())?;
        log.flush().map_err(|e| e.to_string())?;
        map.insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, String>, File)> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
