//! The official Proxmox VE API schema (pve-docs' apidata.js, April 2026,
//! copied to sim/pve-api-schema.json) and request validation against it, with
//! the error texts the real server gives (see docs/proxmox.md). This is the
//! first piece of the Proxmox simulator: every request the tools make is
//! checked here, so a request the real API would refuse fails the test.

use regex::Regex;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub struct Schema {
    paths: Map<String, Value>,
}

/// One endpoint of the API: its definition and the values of its path
/// templates (`{node}`, `{vmid}`).
pub struct Endpoint<'a> {
    pub path: &'a str,
    pub def: &'a Value,
    pub path_params: Vec<(String, String)>,
}

/// Why the server refuses a request, as it says it.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// 501 `Method 'GET /foo' not implemented`.
    NotImplemented(String),
    /// 400 `Parameter verification failed.` with one message per parameter.
    Parameters(BTreeMap<String, String>),
}

impl Schema {
    pub fn load(text: &str) -> Schema {
        let v: Value = serde_json::from_str(text).expect("the bundled schema is JSON");
        Schema {
            paths: v.as_object().expect("an object of paths").clone(),
        }
    }

    /// The bundled schema.
    pub fn official() -> Schema {
        Schema::load(include_str!("pve-api-schema.json"))
    }

    /// The endpoint for a method and a path under /api2/json.
    pub fn find(&self, method: &str, path: &str) -> Result<Endpoint<'_>, Refusal> {
        let want: Vec<&str> = path.trim_matches('/').split('/').collect();
        for (template, methods) in &self.paths {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            if parts.len() != want.len() {
                continue;
            }
            let mut params = Vec::new();
            let matched = parts.iter().zip(&want).all(|(t, w)| {
                match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) => {
                        params.push((name.to_string(), percent_decode(w)));
                        !w.is_empty()
                    }
                    None => t == w,
                }
            });
            if !matched {
                continue;
            }
            return match methods.get(method) {
                Some(def) => Ok(Endpoint {
                    path: template,
                    def,
                    path_params: params,
                }),
                None => Err(Refusal::NotImplemented(format!(
                    "Method '{method} {path}' not implemented"
                ))),
            };
        }
        Err(Refusal::NotImplemented(format!(
            "Method '{method} {path}' not implemented"
        )))
    }
}

impl Endpoint<'_> {
    /// Checks the path and request parameters as the server does.
    pub fn validate(&self, params: &[(String, String)]) -> Result<(), Refusal> {
        let empty = Map::new();
        let spec = self
            .def
            .pointer("/parameters/properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let additional = self
            .def
            .pointer("/parameters/additionalProperties")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            != 0;
        let mut errors = BTreeMap::new();
        let all: Vec<&(String, String)> = self.path_params.iter().chain(params).collect();
        for (name, value) in &all {
            match lookup(spec, name) {
                Some(prop) => {
                    if let Err(e) = check_value(prop, value) {
                        errors.insert(name.clone(), e);
                    }
                }
                None if additional => {}
                None => {
                    errors.insert(
                        name.clone(),
                        "property is not defined in schema and the schema does not allow additional properties".into(),
                    );
                }
            }
        }
        for (name, prop) in spec {
            let optional = prop.get("optional").and_then(Value::as_i64).unwrap_or(0) != 0;
            if !optional && !all.iter().any(|(n, _)| n == name) {
                errors.insert(
                    name.clone(),
                    "property is missing and it is not optional".into(),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Parameters(errors))
        }
    }
}

/// A parameter's schema; numbered device keys (`net0`, `scsi1`) are `net[n]`.
fn lookup<'a>(spec: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    spec.get(name).or_else(|| {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        (base.len() < name.len())
            .then(|| spec.get(&format!("{base}[n]")))
            .flatten()
    })
}

/// One value against its property schema; the server's message when it fails.
pub fn check_value(prop: &Value, value: &str) -> Result<(), String> {
    let num = |k: &str| prop.get(k).and_then(Value::as_f64);
    match prop.get("type").and_then(Value::as_str).unwrap_or("string") {
        "integer" => {
            // The server's is_integer: ^[+-]?\d+$.
            let n: i64 = value
                .parse()
                .ok()
                .filter(|_| {
                    value
                        .trim_start_matches(['+', '-'])
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .ok_or_else(|| format!("type check ('integer') failed - got '{value}'"))?;
            range(n as f64, num("minimum"), num("maximum"))?;
        }
        "number" => {
            // Finite decimal numbers only: Rust would also read "inf" and "NaN".
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && value.bytes().any(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("type check ('number') failed - got '{value}'"))?;
            range(n, num("minimum"), num("maximum"))?;
        }
        // Form bodies carry booleans as 1 and 0; "true" fails the type check.
        "boolean" => {
            if value != "1" && value != "0" {
                return Err(format!("type check ('boolean') failed - got '{value}'"));
            }
        }
        _ => check_string(prop, value)?,
    }
    Ok(())
}

fn range(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    if let Some(m) = min.filter(|m| n < *m) {
        return Err(format!("value must have a minimum value of {m}"));
    }
    if let Some(m) = max.filter(|m| n > *m) {
        return Err(format!("value must have a maximum value of {m}"));
    }
    Ok(())
}

fn check_string(prop: &Value, value: &str) -> Result<(), String> {
    if let Some(max) = prop.get("maxLength").and_then(Value::as_u64)
        && value.chars().count() as u64 > max
    {
        return Err(format!("value may only be {max} characters long"));
    }
    if let Some(min) = prop.get("minLength").and_then(Value::as_u64)
        && (value.chars().count() as u64) < min
    {
        return Err(format!("value must be at least {min} characters long"));
    }
    if let Some(values) = prop.get("enum").and_then(Value::as_array) {
        let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        if !names.contains(&value) {
            return Err(format!(
                "value '{value}' does not have a value in the enumeration '{}'",
                names.join(", ")
            ));
        }
    }
    if let Some(p) = prop.get("pattern").and_then(Value::as_str)
        && !anchored(p).is_match(value)
    {
        return Err("value does not match the regex pattern".into());
    }
    match prop.get("format") {
        Some(Value::String(f)) => check_format(f, value),
        Some(Value::Object(fields)) => check_property_string(fields, value),
        _ => Ok(()),
    }
}

/// The server anchors schema patterns at both ends.
fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$"))
        .unwrap_or_else(|_| Regex::new("^.*$").expect("trivial regex"))
}

/// The named formats the guest tools meet; others are accepted as strings.
fn check_format(format: &str, value: &str) -> Result<(), String> {
    let (ok, what) = match format {
        "pve-node" => (re(r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?").is_match(value), "node name"),
        "pve-vmid" => (re(r"[1-9][0-9]{2,8}").is_match(value), "VM ID"),
        "pve-configid" => (re(r"[a-z][a-z0-9_\-]+").is_match(value), "configuration ID"),
        "pve-storage-id" => (re(r"[a-z][a-z0-9\-_.]*[a-z0-9]").is_match(value), "storage ID"),
        "pve-poolid" => (re(r"[A-Za-z0-9_\-]+").is_match(value), "pool ID"),
        "dns-name" => (
            re(r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)(\.([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?))*").is_match(value),
            "DNS name",
        ),
        "pve-tag-list" => (
            value.split([',', ';', ' ']).filter(|t| !t.is_empty()).all(|t| re(r"[a-z0-9_][a-z0-9_\-+.]*").is_match(t)),
            "tag list",
        ),
        "urlencoded" => (
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-%_.!~*'()".contains(&b)),
            "urlencoded string",
        ),
        "pve-vmid-list" => (
            value.split([',', ';', ' ']).filter(|t| !t.is_empty()).all(|t| re(r"[1-9][0-9]{2,8}").is_match(t)),
            "VM ID list",
        ),
        _ => (true, ""),
    };
    if ok {
        Ok(())
    } else if format == "pve-vmid" {
        Err("invalid format - value does not look like a valid VM ID".into())
    } else {
        Err(format!(
            "invalid format - value does not look like a valid {what}"
        ))
    }
}

fn re(p: &str) -> Regex {
    anchored(p)
}

/// `key=value,key=value`, with an optional bare value for the default key.
fn check_property_string(fields: &Map<String, Value>, value: &str) -> Result<(), String> {
    let default_key = fields
        .iter()
        .find(|(_, f)| f.get("default_key").and_then(Value::as_i64) == Some(1))
        .map(|(k, _)| k);
    let mut seen = Vec::new();
    for part in value.split(',').filter(|p| !p.is_empty()) {
        let (key, v) = match part.split_once('=') {
            Some((k, v)) => (k.to_string(), v),
            None => match default_key {
                Some(k) => (k.clone(), part),
                None => {
                    return Err(format!(
                        "invalid format - value without key, but schema does not define a default key in '{value}'"
                    ));
                }
            },
        };
        let Some(field) = fields.get(&key) else {
            return Err(format!(
                "invalid format - property '{key}' not allowed in '{value}'"
            ));
        };
        check_value(field, v).map_err(|e| format!("invalid format - {key}: {e}"))?;
        // `virtio=AA:BB:…` sets the alias' target (macaddr) and names the
        // default key's value (the model).
        if let Some(target) = field.get("alias").and_then(Value::as_str) {
            seen.push(target.to_string());
            seen.extend(default_key.cloned());
        }
        seen.push(key);
    }
    for (key, field) in fields {
        let optional = field.get("optional").and_then(Value::as_i64).unwrap_or(0) != 0
            || field.get("alias").is_some();
        if !optional && !seen.contains(key) {
            return Err(format!(
                "invalid format - property '{key}' is missing in '{value}'"
            ));
        }
    }
    Ok(())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
