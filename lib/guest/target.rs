//! The guests a tool acts on: its arguments, or one per stdin line (a JSON
//! object as the list tools print it, or a bare name). Every line is checked
//! before anything is done, so a bad line never leaves a run half-applied.

use crate::error::{Error, Kind, Result};
use crate::output::Output;
use serde_json::Value;
use std::io::{BufRead, IsTerminal};

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    /// The backend named by the input record, which wins over lookups.
    pub backend: Option<String>,
}

/// Targets from the arguments, else from stdin when it is not a terminal.
/// `Ok(None)` means none were given at all (stdin is a terminal).
pub fn collect(args: &[String], out: &Output) -> Result<Option<Vec<Target>>> {
    if !args.is_empty() {
        let mut targets = Vec::new();
        for a in args {
            crate::guest::names::check(a)?;
            targets.push(Target {
                name: a.clone(),
                backend: None,
            });
        }
        return Ok(Some(targets));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    from_lines(stdin.lock(), out).map(Some)
}

pub fn from_lines(input: impl BufRead, out: &Output) -> Result<Vec<Target>> {
    from_lines_with(
        input,
        out,
        parse_line,
        "each line must be a JSON object with a \"name\" (as ctr-list prints) or a bare name",
    )
}

/// Reads every line with `parse`, reporting each bad one with its number;
/// any bad line refuses the whole input, so nothing is half-applied.
pub fn from_lines_with<T>(
    input: impl BufRead,
    out: &Output,
    parse: impl Fn(&str) -> Result<Option<T>>,
    hint: &str,
) -> Result<Vec<T>> {
    let mut targets = Vec::new();
    let mut bad = 0;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                out.error(
                    None,
                    &Error::invalid(format!(
                        "stdin line {n}: cannot read: {}",
                        crate::error::plain_io(&e)
                    )),
                );
                bad += 1;
                break;
            }
        };
        match parse(&line) {
            Ok(Some(t)) => targets.push(t),
            Ok(None) => {}
            Err(e) => {
                out.error(
                    None,
                    &Error::new(Kind::InvalidInput, format!("stdin line {n}: {}", e.message)),
                );
                bad += 1;
            }
        }
    }
    if bad > 0 {
        let lines = if bad == 1 { "line" } else { "lines" };
        return Err(
            Error::invalid(format!("{bad} bad stdin {lines}; nothing was done")).with_hint(hint),
        );
    }
    Ok(targets)
}

fn parse_line(line: &str) -> Result<Option<Target>> {
    let text = line.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.starts_with(['{', '[', '"']) {
        crate::guest::names::check(text)?;
        return Ok(Some(Target {
            name: text.to_string(),
            backend: None,
        }));
    }
    let v: Value =
        serde_json::from_str(text).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?;
    let o = match v {
        Value::Object(o) => o,
        // `jq .name` without -r prints names as JSON strings.
        Value::String(name) => {
            crate::guest::names::check(&name)?;
            return Ok(Some(Target {
                name,
                backend: None,
            }));
        }
        _ => return Err(Error::invalid("expected a JSON object with a \"name\"")),
    };
    let name = match o.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Error::invalid("\"name\" must be a string")),
        None => return Err(Error::invalid("the object has no \"name\"")),
    };
    crate::guest::names::check(&name)?;
    let backend = match o.get("backend") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crate::backend::NAMES.contains(&s.as_str()) => Some(s.clone()),
        Some(Value::String(s)) if s == crate::pve::vm::BACKEND => {
            return Err(Error::invalid(
                "a Proxmox VM (backend \"proxmox\"): the vm-* tools act on VMs",
            ));
        }
        Some(Value::String(s)) => {
            return Err(Error::invalid(format!(
                "unknown backend {s:?}: expected one of {}",
                crate::backend::NAMES.join(", ")
            )));
        }
        Some(_) => return Err(Error::invalid("\"backend\" must be a string")),
    };
    Ok(Some(Target { name, backend }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out() -> Output {
        Output::new("test", Some("json"), Some("never"))
    }

    #[test]
    fn objects_and_bare_names() {
        let input =
            "{\"name\":\"web\",\"backend\":\"lxc\",\"status\":\"running\"}\n\n  db  \n\"quoted\"\n";
        let t = from_lines(input.as_bytes(), &out()).unwrap();
        assert_eq!(
            t[0],
            Target {
                name: "web".into(),
                backend: Some("lxc".into())
            }
        );
        assert_eq!(t[2].name, "quoted");
        assert_eq!(
            t[1],
            Target {
                name: "db".into(),
                backend: None
            }
        );
    }

    #[test]
    fn any_bad_line_refuses_all() {
        for input in [
            "{\"name\":\"web\",\"backend\":\"nope\"}\n",
            "web\n{\"nam\":1}\n",
            "web\n[1]\n",
            "{bad json\n",
            "a/b\n",
            "{\"name\":3}\n",
        ] {
            let e = from_lines(input.as_bytes(), &out()).unwrap_err();
            assert_eq!(e.kind, Kind::InvalidInput, "{input:?}");
        }
    }
}
