//! The guests a tool acts on: its arguments, or one per stdin line (a JSON
//! object as the list tools print it, a JSON string or number, or a bare
//! name). Every line is checked before anything is done, so a bad line never
//! leaves a run half-applied. What a target may be follows the kind of guest
//! the tool acts on: a container by its name, a VM by its name or VMID.

use super::names::{check_kind, check_vmid};
use super::{BackendKind, GuestKind};
use crate::error::{Error, Kind, Result};
use serde_json::{Map, Value};
use std::io::BufRead;

/// A guest as given: by name, by VMID, or both (a vm-list record), and the
/// backend an input record names, which wins over lookups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Target {
    /// Its name, when given.
    pub name: Option<String>,
    /// Its VMID, when given (VMs only).
    pub vmid: Option<u32>,
    /// The backend an input record names.
    pub backend: Option<BackendKind>,
}

impl Target {
    /// A guest given by name alone.
    pub fn named(name: &str) -> Target {
        Target {
            name: Some(name.to_string()),
            ..Target::default()
        }
    }

    /// How messages name it: its name, else its VMID.
    pub fn label(&self) -> String {
        match (&self.name, self.vmid) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "?".into(),
        }
    }
}

/// A target given as an argument: a name, or for VMs a VMID.
pub fn parse_arg(kind: GuestKind, s: &str) -> Result<Target> {
    if kind.has_vmids() && !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        let n: u64 = s
            .parse()
            .map_err(|_| Error::usage(format!("invalid VMID {}", super::names::quote(s))))?;
        return Ok(Target {
            vmid: Some(check_vmid(n)?),
            ..Target::default()
        });
    }
    check_kind(kind, s)?;
    Ok(Target::named(s))
}

/// What each stdin line must be, for the hint after bad lines.
fn line_hint(kind: GuestKind) -> String {
    match kind {
        GuestKind::Container => format!(
            "each line must be a JSON object with a \"name\" (as {} prints) or a bare name",
            kind.list_tool()
        ),
        GuestKind::Vm => format!(
            "each line must be a JSON object with a \"vmid\" or \"name\" (as {} prints), or a bare name or VMID",
            kind.list_tool()
        ),
    }
}

/// The fields that name a guest of this kind in a record.
fn id_fields(kind: GuestKind) -> &'static str {
    if kind.has_vmids() {
        "a \"vmid\" or \"name\""
    } else {
        "a \"name\""
    }
}

/// The longest stdin line read: a target is a short record, and a longer
/// line is refused without being held whole in memory.
pub const MAX_LINE: usize = 1 << 20;

/// Reads every line, reporting each bad one (through `report`) with its
/// number; any bad line refuses the whole input, so nothing is half-applied.
pub fn from_lines(
    kind: GuestKind,
    mut input: impl BufRead,
    report: &dyn Fn(&Error),
) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    let mut bad = 0;
    let mut buf = Vec::new();
    for n in 1.. {
        let line = match next_line(&mut input, &mut buf) {
            Ok(None) => break,
            Ok(Some(l)) => l,
            Err(why) => {
                report(&Error::invalid(format!("stdin line {n}: {why}")));
                bad += 1;
                continue;
            }
        };
        match parse_line(kind, line) {
            Ok(Some(t)) => targets.push(t),
            Ok(None) => {}
            Err(e) => {
                report(&Error::invalid(format!("stdin line {n}: {}", e.message)));
                bad += 1;
            }
        }
    }
    if bad > 0 {
        let lines = if bad == 1 { "line" } else { "lines" };
        return Err(
            Error::invalid(format!("{bad} bad stdin {lines}; nothing was done"))
                .with_hint(line_hint(kind)),
        );
    }
    Ok(targets)
}

/// The next line, without its end; `None` at the end of input. A line
/// longer than `MAX_LINE` is skipped to its end and refused.
fn next_line<'b>(
    input: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
) -> std::result::Result<Option<&'b str>, String> {
    use std::io::Read;
    buf.clear();
    let cannot = |e: std::io::Error| format!("cannot read: {}", crate::error::plain_io(&e));
    let read = input
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', buf)
        .map_err(cannot)?;
    if read == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
        // Skip the rest of the line without keeping it.
        loop {
            let chunk = input.fill_buf().map_err(cannot)?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    input.consume(i + 1);
                    break;
                }
                None => {
                    let all = chunk.len();
                    input.consume(all);
                }
            }
        }
        return Err(format!("longer than {} MiB", MAX_LINE >> 20));
    }
    let line = buf.strip_suffix(b"\n").unwrap_or(buf);
    std::str::from_utf8(line)
        .map(Some)
        .map_err(|_| "not valid UTF-8".to_string())
}

/// One stdin line: a record as the list tools print it, a JSON string
/// (`jq .name` without -r), a JSON number (a VMID), or a bare name; `None`
/// for a blank line.
pub fn parse_line(kind: GuestKind, line: &str) -> Result<Option<Target>> {
    let text = line.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.starts_with(['{', '[', '"']) {
        return parse_arg(kind, text).map(Some);
    }
    let v: Value =
        serde_json::from_str(text).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?;
    match v {
        Value::Object(o) => from_record(kind, &o).map(Some),
        Value::String(s) => parse_arg(kind, &s).map(Some),
        Value::Number(n) if kind.has_vmids() => Ok(Some(Target {
            vmid: Some(check_vmid(n.as_u64().unwrap_or(0))?),
            ..Target::default()
        })),
        _ => Err(Error::invalid(format!(
            "expected a JSON object with {}",
            id_fields(kind)
        ))),
    }
}

/// A record as a list tool prints it: its `vmid` (for kinds that have
/// them), else its `name`, and its `backend`.
fn from_record(kind: GuestKind, o: &Map<String, Value>) -> Result<Target> {
    // A record says what it describes: a VM and a container may share a
    // backend (proxmox), and one is never taken for the other.
    match o.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(k)) if k == kind.as_str() => {}
        Some(Value::String(k)) if k == GuestKind::Vm.as_str() => {
            return Err(Error::invalid(
                "a VM (kind \"vm\"): the ctr-* tools act on containers, the vm-* tools on VMs",
            ));
        }
        Some(Value::String(k)) if k == GuestKind::Container.as_str() => {
            return Err(Error::invalid(
                "a container (kind \"container\"): the vm-* tools act on VMs, the ctr-* tools on containers",
            ));
        }
        Some(other) => {
            return Err(Error::invalid(format!(
                "\"kind\" must be container or vm, not {other}"
            )));
        }
    }
    let backend = backend_of(kind, o.get("backend"))?;
    let vmid = match o.get("vmid") {
        _ if !kind.has_vmids() => None,
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(check_vmid(n.as_u64().unwrap_or(0))?),
        Some(Value::String(s)) if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() => {
            Some(check_vmid(s.parse().unwrap_or(0))?)
        }
        Some(_) => return Err(Error::invalid("\"vmid\" must be a number")),
    };
    let name = match o.get("name") {
        None | Some(Value::Null) => None,
        // With a VMID, the name only labels the result: one that is not a
        // valid name (`VM 100`, as Proxmox shows unnamed VMs) is dropped.
        Some(Value::String(s)) if vmid.is_some() => check_kind(kind, s).ok().map(|_| s.clone()),
        Some(Value::String(s)) => {
            check_kind(kind, s)?;
            Some(s.clone())
        }
        Some(_) => return Err(Error::invalid("\"name\" must be a string")),
    };
    if vmid.is_none() && name.is_none() {
        return Err(Error::invalid(if kind.has_vmids() {
            "the object has neither \"vmid\" nor \"name\"".to_string()
        } else {
            "the object has no \"name\"".to_string()
        }));
    }
    Ok(Target {
        name,
        vmid,
        backend,
    })
}

/// A record's `backend`: one of this kind's, or a clear refusal of a record
/// of another kind of guest.
fn backend_of(kind: GuestKind, v: Option<&Value>) -> Result<Option<BackendKind>> {
    let s = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(Error::invalid(match kind {
                GuestKind::Container => "\"backend\" must be a string".to_string(),
                GuestKind::Vm => {
                    format!("backend {other} is not proxmox: the vm-* tools act on Proxmox VE VMs")
                }
            }));
        }
    };
    match BackendKind::named(s) {
        Some(b) if kind.backends().contains(&b) => Ok(Some(b)),
        Some(b) if kind == GuestKind::Container => Err(Error::invalid(format!(
            "a Proxmox VM (backend {:?}): the vm-* tools act on VMs",
            b.as_str()
        ))),
        _ if kind == GuestKind::Vm => Err(Error::invalid(format!(
            "backend {} is not proxmox: the vm-* tools act on Proxmox VE VMs",
            super::names::quote(s)
        ))),
        _ => Err(BackendKind::parse(s, kind.backends())
            .unwrap_err()
            .with_kind(Kind::InvalidInput)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GuestKind::{Container, Vm};

    fn lines(kind: GuestKind, input: &str) -> Result<Vec<Target>> {
        from_lines(kind, input.as_bytes(), &|_| {})
    }

    #[test]
    fn objects_and_bare_names() {
        let input =
            "{\"name\":\"web\",\"backend\":\"lxc\",\"status\":\"running\"}\n\n  db  \n\"quoted\"\n";
        let t = lines(Container, input).unwrap();
        assert_eq!(
            t[0],
            Target {
                name: Some("web".into()),
                backend: Some(BackendKind::Lxc),
                vmid: None,
            }
        );
        assert_eq!(t[1], Target::named("db"));
        assert_eq!(t[2].name.as_deref(), Some("quoted"));
    }

    #[test]
    fn any_bad_line_refuses_all() {
        for input in [
            "{\"name\":\"web\",\"backend\":\"nope\"}\n",
            "{\"name\":\"web\",\"backend\":\"proxmox\",\"kind\":\"vm\"}\n",
            "{\"name\":\"web\",\"kind\":\"box\"}\n",
            "web\n{\"nam\":1}\n",
            "web\n[1]\n",
            "{bad json\n",
            "a/b\n",
            "{\"name\":3}\n",
        ] {
            let e = lines(Container, input).unwrap_err();
            assert_eq!(e.kind, crate::error::Kind::InvalidInput, "{input:?}");
        }
    }

    #[test]
    fn vms_by_vmid_name_and_record() {
        assert_eq!(parse_arg(Vm, "101").unwrap().vmid, Some(101));
        assert!(parse_arg(Vm, "99").is_err());
        assert!(parse_arg(Vm, "bad_name").is_err());
        // A container may be called 101.
        assert_eq!(parse_arg(Container, "101").unwrap(), Target::named("101"));
        let t = parse_line(
            Vm,
            r#"{"vmid":100,"name":"web","node":"pve1","backend":"proxmox"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!((t.vmid, t.name.as_deref()), (Some(100), Some("web")));
        assert!(parse_line(Vm, r#"{"name":"web","backend":"lxc"}"#).is_err());
        assert!(parse_line(Vm, r#"{"status":"running"}"#).is_err());
        assert_eq!(parse_line(Vm, "  ").unwrap(), None);
        let unnamed = parse_line(Vm, r#"{"vmid":102,"name":"VM 102"}"#)
            .unwrap()
            .unwrap();
        assert_eq!((unnamed.vmid, unnamed.name), (Some(102), None));
        assert_eq!(parse_line(Vm, "105").unwrap().unwrap().vmid, Some(105));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::guest::arbitrary::{json, text};
    use proptest::prelude::*;

    fn refused_as_input(e: &Error) -> bool {
        matches!(e.kind, Kind::InvalidInput | Kind::Usage)
    }

    proptest! {
        #[test]
        fn any_line_is_a_target_or_a_refusal(line in text(), vm in any::<bool>()) {
            let kind = if vm { GuestKind::Vm } else { GuestKind::Container };
            if let Err(e) = parse_line(kind, &line) {
                prop_assert!(refused_as_input(&e), "{e:?}");
            }
        }

        #[test]
        fn any_record_is_a_target_or_a_refusal(v in json(), vm in any::<bool>()) {
            let kind = if vm { GuestKind::Vm } else { GuestKind::Container };
            match parse_line(kind, &v.to_string()) {
                Ok(Some(t)) => prop_assert!(t.name.is_some() || t.vmid.is_some()),
                Ok(None) => {}
                Err(e) => prop_assert!(refused_as_input(&e), "{e:?}"),
            }
        }

        #[test]
        fn any_input_is_read_or_refused_whole(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            match from_lines(GuestKind::Container, &bytes[..], &|_| {}) {
                Ok(ts) => prop_assert!(ts.iter().all(|t| t.name.is_some())),
                Err(e) => prop_assert_eq!(e.kind, Kind::InvalidInput),
            }
        }
    }
}
