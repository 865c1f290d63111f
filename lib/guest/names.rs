//! Guest names: checked before any backend is asked, so that a bad name can
//! never reach a command line or a path.

use super::GuestKind;
use crate::error::{Error, Result};

/// New containers' names are their hostnames, so at most 63 bytes.
pub const MAX_NEW: usize = 63;
/// Existing containers made by other tools may have longer names (podman's
/// IDs are 64 hex digits).
pub const MAX_LEN: usize = 128;

/// The name of a container to create: as `check`, and at most 63 bytes.
pub fn check_new(name: &str) -> Result<()> {
    check(name)?;
    if name.len() > MAX_NEW {
        return Err(Error::usage(format!(
            "invalid container name {}: a new container's name is its hostname, at most {MAX_NEW} bytes",
            quote(name)
        )));
    }
    Ok(())
}

/// A network's name: letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit, at most 64 bytes (what CNI allows), and not `none`.
pub fn check_network(name: &str) -> std::result::Result<(), String> {
    let ok = name.len() <= 64 && starts_plain(name) && plain_char(name).is_none();
    match (ok, name) {
        (_, "none") => Err("none means no network, and cannot name one".into()),
        (true, _) => Ok(()),
        _ => Err(format!(
            "invalid network name {}: letters, digits, -, _ and . are allowed, starting with a letter or digit, at most 64 bytes",
            quote(name)
        )),
    }
}

/// A network interface's name, as the kernel allows it: 1 to 15 bytes,
/// none of them `/`, `:` or white space.
pub fn check_interface(name: &str) -> std::result::Result<(), String> {
    let ok = (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && !name.contains(|c: char| c == '/' || c == ':' || c.is_whitespace());
    match ok {
        true => Ok(()),
        false => Err(format!(
            "invalid interface name {}: 1 to 15 bytes, without /, : or spaces",
            quote(name)
        )),
    }
}

/// Whether a name starts as container and network names must: with a
/// letter or digit.
fn starts_plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// The first character a container or network name may not hold (they hold
/// letters, digits, `-`, `_` and `.`).
fn plain_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

/// A container name: letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit, at most 128 bytes, so never `.`, `..` or a path.
pub fn check(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::usage(format!(
            "invalid container name {}: {why}",
            quote(name)
        )))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_LEN {
        return bad(&format!("it is longer than {MAX_LEN} bytes"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return bad(&format!("it contains the control character {:?}", c));
    }
    if name.contains('/') {
        return bad("it contains '/'");
    }
    if !starts_plain(name) {
        return bad("it must start with a letter or digit");
    }
    if let Some(c) = plain_char(name) {
        return bad(&format!(
            "{c:?} is not allowed (use letters, digits, '-', '_' and '.')"
        ));
    }
    Ok(())
}

/// Input as messages quote it: Rust's `{:?}` quoting, of at most the first
/// 200 characters, so that a megabyte of bad input is never echoed whole.
pub fn quote(s: &str) -> String {
    const MAX: usize = 200;
    match s.char_indices().nth(MAX) {
        None => format!("{s:?}"),
        Some((i, _)) => format!("{:?}… ({} bytes)", &s[..i], s.len()),
    }
}

/// The candidate nearest to `given`, when one is near enough to suggest:
/// the one measure behind every "did you mean" (flags, their values,
/// backends, guest names). Near is a few edits for the length (`--timout`,
/// `jsn`, `lcx` with its swapped letters, `web` for `web1`), or the start of
/// the candidate (`--time`); the fewest edits win, then the longest shared
/// start (Jaro-Winkler).
pub fn nearest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .filter(|c| *c != given)
        .filter_map(|c| {
            let edits = strsim::osa_distance(given, c);
            let longer = given.len().max(c.len());
            let near = (edits <= 2.max(longer / 4) && edits < c.len())
                || (given.len() >= 3 && c.starts_with(given));
            near.then(|| (edits, strsim::jaro_winkler(given, c), c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// "did you mean 'web1'?", for the nearest candidate.
pub fn suggest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    nearest(given, candidates).map(|c| format!("did you mean '{c}'?"))
}

/// A VMID, as Proxmox VE allows them.
pub fn check_vmid(n: u64) -> Result<u32> {
    if (100..=999_999_999).contains(&n) {
        Ok(n as u32)
    } else {
        Err(Error::usage(format!(
            "invalid VMID {n}: VMIDs are 100 to 999999999"
        )))
    }
}

/// A VM name is a DNS name: labels of letters, digits and inner hyphens,
/// joined by dots.
pub fn check_vm(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid VM name {}: a VM name is a DNS name (letters, digits, inner '-', labels joined by '.')",
            quote(name)
        )))
    }
}

/// The name of a guest of this kind.
pub fn check_kind(kind: GuestKind, name: &str) -> Result<()> {
    match kind {
        GuestKind::Container => check(name),
        GuestKind::Vm => check_vm(name),
    }
}

/// Words as one POSIX shell command line, each quoted only when it needs
/// it: what a remote shell (ssh) splits back into the same words.
pub fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `*` and `?` glob matching, for routing rules and name filters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_a_remote_shell() {
        let w = |v: &[&str]| shell_words(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(w(&["ls", "-l", "/tmp"]), "ls -l /tmp");
        assert_eq!(
            w(&["sh", "-c", "echo $HOME; it's"]),
            r#"sh -c 'echo $HOME; it'\''s'"#
        );
        assert_eq!(w(&["", "a b"]), "'' 'a b'");
    }

    #[test]
    fn good_and_bad_names() {
        for good in ["web", "web-1", "a", "db_2.old", "9lives"] {
            check(good).unwrap();
        }
        assert!(check(&"f".repeat(64)).is_ok(), "podman-style ids are names");
        assert!(check_new(&"f".repeat(64)).is_err());
        for bad in [
            "",
            "-x",
            "a/b",
            "..",
            ".",
            "a b",
            "tab\there",
            "é",
            &"x".repeat(129),
        ] {
            assert!(check(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn suggestions_are_near_names_only() {
        let names = ["web1", "db", "cache"];
        assert_eq!(
            suggest("web", names.iter().copied()).as_deref(),
            Some("did you mean 'web1'?")
        );
        assert_eq!(suggest("zzzzzz", names.iter().copied()), None);
        assert_eq!(suggest("web1", names.iter().copied()), None);
        assert_eq!(nearest("gk-exec-nope", ["gk-exec"].into_iter()), None);
        assert_eq!(
            nearest("lcx", ["lxc", "crun", "runc"].into_iter()),
            Some("lxc")
        );
        assert_eq!(
            nearest("time", ["timeout", "jobs"].into_iter()),
            Some("timeout")
        );
        assert_eq!(nearest("jsn", ["json", "table"].into_iter()), Some("json"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("kube-ovn-*", "kube-ovn-cni"));
        assert!(!glob_match("kube-ovn-*", "kube-ov"));
        assert!(glob_match("*", ""));
        assert!(glob_match("w?b*", "web-1"));
        assert!(glob_match("*-db", "a-b-db"));
        assert!(!glob_match("web", "web1"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn names_never_panic_and_accept_only_safe_names(s in "\\PC{0,140}") {
            if check(&s).is_ok() {
                prop_assert!(!s.is_empty() && s.len() <= MAX_LEN);
                prop_assert!(!s.contains('/') && s != "." && s != "..");
                prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
            }
            if check_new(&s).is_ok() {
                prop_assert!(s.len() <= MAX_NEW);
            }
            let _ = check_vm(&s);
            let _ = glob_match(&s, "web-1");
            let _ = glob_match("w*b?", &s);
        }

        #[test]
        fn quotes_are_short(s in "\\PC{0,600}") {
            // 200 characters, each escaped to at most `\u{10ffff}`.
            prop_assert!(quote(&s).len() <= 200 * 10 + 40);
        }

        #[test]
        fn suggestions_come_from_the_candidates(given in "[a-z-]{0,12}", cands in prop::collection::vec("[a-z-]{1,12}", 0..6)) {
            if let Some(n) = nearest(&given, cands.iter().map(String::as_str)) {
                prop_assert!(cands.iter().any(|c| c == n) && n != given);
            }
        }
    }
}
