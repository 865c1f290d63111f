//! The VM settings a server knows, from the official API schema
//! (`qemu-config.json`, extracted by tests/generated.rs), and the checks
//! vm-config makes before sending a change: the key exists, the value has
//! its type, enum, range and length, and a property string's keys are its
//! own. The server checks again (patterns and named formats are left to
//! it); checking here gives the error before anything is sent, with a
//! "did you mean" for a mistyped key.

use serde_json::{Map, Value};
use std::sync::OnceLock;

fn all() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(include_str!("qemu-config.json")).expect("bundled JSON"))
}

/// Keys that are parameters of the write, not settings.
const NOT_SETTINGS: &[&str] = &[
    "delete",
    "revert",
    "digest",
    "force",
    "skiplock",
    "node",
    "vmid",
    "background_delay",
    "import-working-storage",
];

/// The schema of a setting: `memory`, or `net3` as `net[n]`.
fn spec(key: &str) -> Option<&'static Value> {
    if NOT_SETTINGS.contains(&key) {
        return None;
    }
    if let Some(s) = all().get(key) {
        return Some(s);
    }
    let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let n: u64 = key[base.len()..].parse().ok()?;
    let s = all().get(&format!("{base}[n]"))?;
    match s.get("max_index").and_then(Value::as_u64) {
        Some(max) if n > max => None,
        _ => Some(s),
    }
}

/// Whether the key is a VM setting.
pub fn known(key: &str) -> bool {
    spec(key).is_some()
}

/// Every setting's name, numbered ones as their first (`net0`), for
/// suggestions.
pub fn names() -> impl Iterator<Item = String> {
    all()
        .keys()
        .filter(|k| !NOT_SETTINGS.contains(&k.as_str()))
        .map(|k| k.replace("[n]", "0"))
}

/// The setting's type: `integer`, `number`, `boolean` or `string`.
pub fn kind(key: &str) -> Option<&'static str> {
    spec(key)?.get("type")?.as_str()
}

/// Checks a value for a setting, as the server would; says what is wrong.
pub fn check(key: &str, value: &str) -> Result<(), String> {
    let s = spec(key).ok_or_else(|| format!("{key} is not a VM setting"))?;
    check_value(s, value)?;
    if let Some(Value::Object(fields)) = s.get("format") {
        check_property_string(fields, value)?;
    }
    Ok(())
}

fn check_value(s: &Value, value: &str) -> Result<(), String> {
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    match s.get("type").and_then(Value::as_str).unwrap_or("string") {
        "integer" => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("expected a whole number, not {value:?}"))?;
            range(n as f64, num("minimum"), num("maximum"))
        }
        "number" => {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| format!("expected a number, not {value:?}"))?;
            range(n, num("minimum"), num("maximum"))
        }
        "boolean" => match value {
            "0" | "1" => Ok(()),
            _ => Err(format!("expected 0 or 1, not {value:?}")),
        },
        _ => {
            if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                && value.chars().count() as u64 > max
            {
                return Err(format!("at most {max} characters"));
            }
            if let Some(vals) = s.get("enum").and_then(Value::as_array)
                && !vals.iter().any(|v| v.as_str() == Some(value))
            {
                let names: Vec<&str> = vals.iter().filter_map(Value::as_str).collect();
                return Err(format!(
                    "expected one of {}, not {value:?}",
                    names.join(", ")
                ));
            }
            Ok(())
        }
    }
}

fn range(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    match (min, max) {
        (Some(lo), _) if n < lo => Err(format!("at least {lo}, not {n}")),
        (_, Some(hi)) if n > hi => Err(format!("at most {hi}, not {n}")),
        _ => Ok(()),
    }
}

/// `virtio,bridge=vmbr0,tag=20`: each key one of the format's (or a bare
/// value for its default key), each value of its kind. Booleans inside a
/// property string may also be on/off, yes/no, true/false, as the server
/// reads them there.
fn check_property_string(fields: &Map<String, Value>, value: &str) -> Result<(), String> {
    let default_key = fields
        .iter()
        .find(|(_, f)| f.get("default_key").is_some())
        .map(|(k, _)| k.as_str());
    for part in value.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, v),
            None => match default_key {
                Some(d) => (d, part),
                None => return Err(format!("{part:?} needs a KEY= before it")),
            },
        };
        let Some(mut f) = fields.get(k) else {
            let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(
                match crate::guest::names::nearest(k, known.iter().copied()) {
                    Some(near) => format!("{k} is not one of its keys (did you mean {near}?)"),
                    None => format!("{k} is not one of its keys ({})", known.join(", ")),
                },
            );
        };
        if let Some(target) = f.get("alias").and_then(Value::as_str) {
            f = fields.get(target).unwrap_or(f);
        }
        let v = match (f.get("type").and_then(Value::as_str), v) {
            (Some("boolean"), "on" | "yes" | "true") => "1",
            (Some("boolean"), "off" | "no" | "false") => "0",
            (_, v) => v,
        };
        check_value(f, v).map_err(|e| format!("{k}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_as_the_server_would() {
        assert!(check("memory", "4096").is_ok());
        assert!(check("memory", "current=4096").is_ok());
        assert!(check("cores", "4").is_ok());
        assert!(check("cores", "four").unwrap_err().contains("whole number"));
        assert!(check("cores", "0").unwrap_err().contains("at least 1"));
        assert!(check("onboot", "1").is_ok());
        assert!(check("onboot", "yes").is_err());
        assert!(check("ostype", "l26").is_ok());
        assert!(
            check("ostype", "linux")
                .unwrap_err()
                .contains("expected one of")
        );
        assert!(check("net0", "virtio,bridge=vmbr0,tag=20,firewall=1").is_ok());
        assert!(check("net1", "virtio=BC:24:11:00:00:01,bridge=vmbr1").is_ok());
        assert!(
            check("net0", "virtio,bridge=vmbr0,tag=5000")
                .unwrap_err()
                .contains("tag")
        );
        assert!(
            check("net0", "virtio,brige=vmbr0")
                .unwrap_err()
                .contains("did you mean bridge")
        );
        assert!(check("scsi30", "local-lvm:10").is_ok());
        assert!(check("scsi31", "local-lvm:10").is_err());
        assert!(check("agent", "enabled=1,fstrim_cloned_disks=on").is_ok());
        assert!(
            check("memroy", "4096")
                .unwrap_err()
                .contains("not a VM setting")
        );
        assert!(check("digest", "abc").is_err());
        assert!(known("ipconfig0") && known("sshkeys") && !known("vmid"));
        // "n is 0 to 4, …, n can be up to 14": the higher bound.
        assert!(known("usb14") && !known("usb15"));
        assert_eq!(kind("onboot"), Some("boolean"));
        assert!(names().any(|n| n == "net0"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any key and value is checked without a panic.
        #[test]
        fn any_setting_is_checked(k in "[a-z]{1,8}[0-9]{0,2}", v in "\\PC{0,40}") {
            let _ = check(&k, &v);
            for name in ["memory", "net0", "scsi3", "agent", "ostype", "cores", "onboot"] {
                let _ = check(name, &v);
            }
        }
    }
}
