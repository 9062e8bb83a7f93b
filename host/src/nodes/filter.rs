//! Conditions on event values: `level >= 10`, `peer.id == "a"`.

use std::cmp::Ordering;

use serde_json::Value;

/// How a field compares with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One condition: the value at `path` compared with `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field, as a JSON pointer (`peer.id` → `/peer/id`), looked up with serde_json.
    pointer: String,
    op: Comparison,
    value: Value,
}

impl Condition {
    /// A condition from its parts; `value` is JSON text. The error says what is malformed.
    pub fn new(path: &str, op: Comparison, value: &str) -> Result<Condition, String> {
        let value: Value =
            serde_json::from_str(value).map_err(|e| format!("condition on `{path}`: value {value:?} is not JSON: {e}"))?;
        let pointer = if path.is_empty() {
            String::new()
        } else {
            path.split('.').map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1"))).collect()
        };
        Ok(Condition { pointer, op, value })
    }

    /// Whether `event` meets the condition. A missing field meets only `ne`.
    pub fn matches(&self, event: &Value) -> bool {
        let Some(field) = event.pointer(&self.pointer) else { return self.op == Comparison::Ne };
        match self.op {
            Comparison::Eq => equal(field, &self.value),
            Comparison::Ne => !equal(field, &self.value),
            op => match order(field, &self.value) {
                Some(ordering) => match op {
                    Comparison::Lt => ordering == Ordering::Less,
                    Comparison::Le => ordering != Ordering::Greater,
                    Comparison::Gt => ordering == Ordering::Greater,
                    _ => ordering != Ordering::Less,
                },
                None => false,
            },
        }
    }
}

/// Numbers are equal by value (`1` and `1.0`), everything else structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

/// Numbers order as numbers, strings as strings; anything else does not order.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(path: &str, op: Comparison, value: &str, event: Value) -> bool {
        Condition::new(path, op, value).unwrap().matches(&event)
    }

    #[test]
    fn compares_numbers_by_value() {
        assert!(check("level", Comparison::Ge, "10", json!({"level": 10})));
        assert!(check("level", Comparison::Ge, "10", json!({"level": 12.5})));
        assert!(!check("level", Comparison::Ge, "10", json!({"level": 9})));
        assert!(check("level", Comparison::Eq, "3", json!({"level": 3.0})));
        assert!(check("level", Comparison::Lt, "3", json!({"level": 2})));
    }

    #[test]
    fn follows_paths_into_objects_and_arrays() {
        let event = json!({"peer": {"id": "a"}, "items": [5, 6]});
        assert!(check("peer.id", Comparison::Eq, "\"a\"", event.clone()));
        assert!(check("items.1", Comparison::Gt, "5", event.clone()));
        assert!(check("", Comparison::Eq, r#"{"peer":{"id":"a"},"items":[5,6]}"#, event.clone()));
    }

    #[test]
    fn missing_fields_and_mixed_types_do_not_match() {
        assert!(!check("level", Comparison::Eq, "1", json!({})));
        assert!(check("level", Comparison::Ne, "1", json!({})));
        assert!(!check("level", Comparison::Gt, "1", json!({"level": "high"})));
    }

    #[test]
    fn malformed_values_are_errors() {
        let error = Condition::new("level", Comparison::Eq, "ten").unwrap_err();
        assert!(error.contains("value \"ten\" is not JSON"), "{error}");
    }
}
