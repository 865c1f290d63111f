//! A VM's configuration: as the server keeps it (a flat map of keys to
//! values, devices as property strings), read and changed.

use serde_json::{Map, Value};

/// The configuration as written in the VM's config file: every value a
/// string, however the server typed it (`2048` and `"2048"` alike, a
/// boolean as 1 or 0), so that records do not change with the server's
/// typing; without the digest, which is not configuration.
pub fn as_written(config: Map<String, Value>) -> Map<String, Value> {
    config
        .into_iter()
        .filter(|(k, _)| k != "digest")
        .filter_map(|(k, v)| text(&v).map(|t| (k, Value::String(t))))
        .collect()
}

/// A value as config text; none for null.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_alike_however_typed() {
        let numbers = serde_json::json!({"memory": 2048, "onboot": true, "cpulimit": 0.5, "name": "web", "digest": "ab", "x": null});
        let perl = serde_json::json!({"memory": "2048", "onboot": "1", "cpulimit": "0.5", "name": "web", "digest": "ab"});
        let a = as_written(numbers.as_object().unwrap().clone());
        let b = as_written(perl.as_object().unwrap().clone());
        assert_eq!(a, b);
        assert_eq!(a["memory"], "2048");
        assert!(!a.contains_key("digest") && !a.contains_key("x"));
    }
}
