//! Perl's typing: Proxmox VE's JSON encoder writes a scalar as a number or
//! a string depending on how Perl last used it (API-NOTES, "Types in
//! answers"). With `Options::perl` every answer is sent as the worst case
//! of that: every number a string, and a false flag the empty string
//! (`template: ""`), so that a client that reads one answer this way reads
//! them all.

use serde_json::Value;

/// Flags that Perl leaves as "" when false.
const FLAGS: &[&str] = &[
    "template", "vmstate", "exited", "active", "enabled", "shared",
];

pub(crate) fn perl(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(if b { "1" } else { "" }.into()),
        Value::Array(a) => Value::Array(a.into_iter().map(perl).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n)
                            if FLAGS.contains(&k.as_str()) && n.as_u64() == Some(0) =>
                        {
                            Value::String(String::new())
                        }
                        v => perl(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_become_strings_and_false_flags_empty() {
        let v = perl(
            json!({"vmid": 100, "template": 0, "cpu": 0.25, "ha": {"managed": 1}, "l": [1], "name": "web"}),
        );
        assert_eq!(
            v,
            json!({"vmid": "100", "template": "", "cpu": "0.25", "ha": {"managed": "1"}, "l": ["1"], "name": "web"})
        );
    }
}
