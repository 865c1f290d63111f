//! Guest names: checked before any backend is asked, so that a bad name can
//! never reach a command line or a path.

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
            "invalid container name {name:?}: a new container's name is its hostname, at most {MAX_NEW} bytes"
        )));
    }
    Ok(())
}

/// A container name: letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit, at most 128 bytes, so never `.`, `..` or a path.
pub fn check(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::usage(format!(
            "invalid container name {name:?}: {why}"
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
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return bad("it must start with a letter or digit");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return bad(&format!(
            "{c:?} is not allowed (use letters, digits, '-', '_' and '.')"
        ));
    }
    Ok(())
}

/// A suggestion for a name that was not found, from the names that exist.
pub fn suggest<'a>(name: &str, existing: impl Iterator<Item = &'a str>) -> Option<String> {
    existing
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d > 0 && *d <= 2.max(name.len() / 4) && *d < c.len().max(name.len()))
        .min()
        .map(|(_, c)| format!("did you mean '{c}'?"))
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
