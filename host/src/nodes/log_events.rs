//! Structured log lines as events: a node that logs one JSON object per line on stdout or
//! stderr (zap, slog, tracing-subscriber's JSON format — etcd, most Go daemons) gets
//! events without an event pipe. The event's name is the value of a configured key
//! (`msg` by default); the rest of the object is its value, usable by wait filters.
//! Messages that carry values in their text ("elected leader 8e9e at term 3") can be
//! given a stable name by a pattern whose named groups join the value.

use regex::Regex;
use serde_json::{Map, Value};

use super::NodeEvent;
use crate::config::LogEvents;

/// The longest log line looked at as an event; longer lines stay plain output.
const LOG_EVENT_LINE_CAP: usize = 64 << 10;

/// Turns log lines into events, by one node's `log_events` settings.
#[derive(Debug, Clone)]
pub struct LogEventParser {
    key: String,
    names: Vec<(Regex, String)>,
}

impl LogEventParser {
    /// A parser for `settings` (whose patterns validation has compiled once already).
    pub fn new(settings: &LogEvents) -> Result<LogEventParser, regex::Error> {
        let names = settings
            .names
            .iter()
            .map(|(pattern, name)| Ok((Regex::new(pattern)?, name.clone())))
            .collect::<Result<_, regex::Error>>()?;
        Ok(LogEventParser { key: settings.key.clone(), names })
    }

    /// The event in `line`, if it is a JSON object with a string under the key. Plain text,
    /// other JSON and over-long lines are not events (they stay log lines).
    pub fn parse(&self, line: &str) -> Option<NodeEvent> {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('{') || line.len() > LOG_EVENT_LINE_CAP {
            return None;
        }
        let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(trimmed) else { return None };
        let Some(Value::String(message)) = object.remove(&self.key) else { return None };
        let name = match self.names.iter().find_map(|(regex, name)| regex.captures(&message).map(|c| (regex, c, name))) {
            Some((regex, captures, name)) => {
                for group in regex.capture_names().flatten() {
                    if let Some(found) = captures.name(group) {
                        object.insert(group.to_string(), typed(found.as_str()));
                    }
                }
                object.insert(self.key.clone(), Value::String(message.clone()));
                name.clone()
            }
            None => message,
        };
        let time_stamp = timestamp(&object);
        Some(NodeEvent { name, value: Value::Object(object), section: Vec::new(), time_stamp })
    }
}

/// A captured value as JSON: a number when it reads as one, so `term >= 3` compares numbers.
fn typed(text: &str) -> Value {
    if let Ok(number) = text.parse::<i64>() {
        return Value::from(number);
    }
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() && text.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') => Value::from(number),
        _ => Value::String(text.to_string()),
    }
}

/// The node's own time of the line, when its `ts`/`time`/`timestamp` is Unix seconds.
fn timestamp(object: &Map<String, Value>) -> Option<f64> {
    ["ts", "time", "timestamp"].iter().find_map(|key| object.get(*key).and_then(Value::as_f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(names: &[(&str, &str)]) -> LogEventParser {
        let settings = LogEvents {
            key: "msg".into(),
            names: names.iter().map(|(p, n)| (p.to_string(), n.to_string())).collect(),
        };
        LogEventParser::new(&settings).unwrap()
    }

    #[test]
    fn a_zap_line_becomes_an_event_named_by_its_message() {
        let line = r#"{"level":"info","ts":"2026-12-04T05:28:47.776Z","caller":"embed/serve.go:139","msg":"ready to serve client requests"}"#;
        let event = parser(&[]).parse(line).unwrap();
        assert_eq!(event.name, "ready to serve client requests");
        assert_eq!(event.value["level"], "info");
        assert!(event.value.get("msg").is_none());
    }

    #[test]
    fn a_pattern_gives_a_stable_name_and_its_groups_join_the_value() {
        let line = r#"{"level":"info","msg":"raft.node: 2e12 elected leader 8e9e at term 3"}"#;
        let event = parser(&[(r"elected leader (?P<leader>\w+) at term (?P<term>\d+)", "leader-elected")]).parse(line).unwrap();
        assert_eq!(event.name, "leader-elected");
        assert_eq!(event.value["leader"], "8e9e");
        assert_eq!(event.value["term"], 3);
        assert_eq!(event.value["msg"], "raft.node: 2e12 elected leader 8e9e at term 3");
    }

    #[test]
    fn plain_text_other_json_and_a_missing_key_are_not_events() {
        let parser = parser(&[]);
        assert!(parser.parse("2026-12-04 starting").is_none());
        assert!(parser.parse("[1, 2]").is_none());
        assert!(parser.parse(r#"{"message":"other key"}"#).is_none());
        assert!(parser.parse(r#"{"msg": 3}"#).is_none());
        assert!(parser.parse(r#"{"msg":"#).is_none());
    }
}
