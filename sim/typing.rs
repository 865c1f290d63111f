//! Perl's typing: Proxmox VE's JSON encoder writes a scalar as a number or
//! a string depending on how Perl last used it (API-NOTES, "Types in
//! answers"). With `Options::perl` every answer is sent as the worst case
//! of that: every number a string, and a false flag the empty string
//! (`template: ""`), so that a client that reads one answer this way reads
//! them all. It is applied as the answer is written, without building a
//! second tree, so that the simulator itself costs the same in both
//! typings and the benchmark measures the client.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// Flags that Perl leaves as "" when false.
const FLAGS: &[&str] = &[
    "template", "vmstate", "exited", "active", "enabled", "shared",
];

/// `v` as Perl may type it, when serialized.
pub(crate) struct Perl<'a>(pub &'a Value);

impl Serialize for Perl<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) => s.collect_str(n),
            Value::Bool(b) => s.serialize_str(if *b { "1" } else { "" }),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Perl(v))?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    match v {
                        Value::Number(n)
                            if FLAGS.contains(&k.as_str()) && n.as_u64() == Some(0) =>
                        {
                            map.serialize_entry(k, "")?
                        }
                        v => map.serialize_entry(k, &Perl(v))?,
                    }
                }
                map.end()
            }
            v => v.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_become_strings_and_false_flags_empty() {
        let v = json!({"vmid": 100, "template": 0, "cpu": 0.25, "ha": {"managed": 1}, "l": [1], "name": "web"});
        let typed: Value =
            serde_json::from_str(&serde_json::to_string(&Perl(&v)).unwrap()).unwrap();
        assert_eq!(
            typed,
            json!({"vmid": "100", "template": "", "cpu": "0.25", "ha": {"managed": "1"}, "l": ["1"], "name": "web"})
        );
    }
}
