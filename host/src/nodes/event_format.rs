//! Parsing one line of a node's event pipe into a named event.
//!
//! Accepted shapes, one JSON object per line:
//! - Tezt's `{"fd-sink-item.v0": {"time_stamp": …, "section": […], "event": {NAME: VALUE}}}`;
//! - `{"event": {NAME: VALUE}}` and `{"event": "NAME", …rest}` / `{"name": "NAME", …rest}`;
//! - a single-key object `{NAME: VALUE}`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The fd-sink shape, typed: serde skips the fields we do not keep (`hostname`, …)
/// without building values for them — the common case on a busy event pipe.
#[derive(Deserialize)]
struct FdSinkLine {
    #[serde(rename = "fd-sink-item.v0")]
    item: FdSinkItem,
}

#[derive(Deserialize)]
struct FdSinkItem {
    time_stamp: Option<f64>,
    #[serde(default)]
    section: Vec<Value>,
    event: Map<String, Value>,
}

/// A structured event of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEvent {
    pub name: String,
    pub value: Value,
    /// The `section` list of fd-sink items (empty for other shapes).
    pub section: Vec<String>,
    /// When the node says it emitted the event (`time_stamp`, Unix seconds), if it says.
    pub time_stamp: Option<f64>,
}

/// Parse one line; `Err` says why the line is not an event (the line is kept as output).
pub fn parse_line(line: &str) -> Result<NodeEvent, String> {
    if line.contains("\"fd-sink-item.v0\"")
        && let Ok(FdSinkLine { item }) = serde_json::from_str::<FdSinkLine>(line)
    {
        let (name, value) = single_entry(item.event)?;
        let section = item.section.into_iter().map(|p| p.as_str().map_or_else(|| p.to_string(), String::from)).collect();
        return Ok(NodeEvent { name, value, section, time_stamp: item.time_stamp });
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else { return Err("not a JSON object".into()) };
    if let Some(Value::Object(mut item)) = object.remove("fd-sink-item.v0") {
        let section = match item.remove("section") {
            Some(Value::Array(parts)) => parts.into_iter().map(|p| p.as_str().map_or_else(|| p.to_string(), String::from)).collect(),
            _ => Vec::new(),
        };
        let time_stamp = item.get("time_stamp").and_then(Value::as_f64);
        let (name, value) = match item.remove("event") {
            Some(Value::Object(event)) => single_entry(event)?,
            _ => return Err("fd-sink item without an `event` object".into()),
        };
        return Ok(NodeEvent { name, value, section, time_stamp });
    }
    let (name, value) = match (object.remove("event"), object.remove("name")) {
        (Some(Value::Object(event)), None) if object.is_empty() => single_entry(event)?,
        (Some(Value::String(name)), None) | (None, Some(Value::String(name))) => (name, Value::Object(object)),
        (None, None) => single_entry(object)?,
        _ => return Err("unrecognised event shape".into()),
    };
    Ok(NodeEvent { name, value, section: Vec::new(), time_stamp: None })
}

fn single_entry(object: Map<String, Value>) -> Result<(String, Value), String> {
    let mut entries = object.into_iter();
    match (entries.next(), entries.next()) {
        (Some((name, value)), None) => Ok((name, value)),
        _ => Err("an event object must have exactly one key, the event's name".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tezt_fd_sink_items() {
        let line = r#"{"fd-sink-item.v0":{"hostname":"n","time_stamp":1.5,"section":["node","p2p"],"event":{"ready":{"port":7}}}}"#;
        let event = parse_line(line).unwrap();
        assert_eq!(event.name, "ready");
        assert_eq!(event.value, json!({"port": 7}));
        assert_eq!(event.section, ["node", "p2p"]);
        assert_eq!(event.time_stamp, Some(1.5));
    }

    #[test]
    fn reads_plain_json_lines() {
        assert_eq!(parse_line(r#"{"event":"head","level":3}"#).unwrap().value, json!({"level": 3}));
        assert_eq!(parse_line(r#"{"name":"head","level":3}"#).unwrap().name, "head");
        assert_eq!(parse_line(r#"{"event":{"head":3}}"#).unwrap().value, json!(3));
        assert_eq!(parse_line(r#"{"ready":null}"#).unwrap().name, "ready");
    }

    #[test]
    fn rejects_what_is_not_an_event() {
        assert!(parse_line("plain text").is_err());
        assert!(parse_line("[1]").is_err());
        assert!(parse_line(r#"{"a":1,"b":2}"#).is_err());
    }
}
