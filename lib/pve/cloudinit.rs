//! cloud-init settings as the API takes them: `sshkeys` percent-encoded
//! (the schema's `urlencoded` format: the server unescapes it, then
//! checks each key), `ipconfig0` as `ip=…,gw=…` or `ip6=…,gw6=…`.

use crate::error::{Error, Result};
use std::net::IpAddr;

/// Checks a `--ciuser` name: 1 to 32 lower-case letters, digits, `_` and
/// `-`, starting with a letter or `_` (exit 2 otherwise).
pub fn check_user(u: &str) -> Result<()> {
    let ok = !u.is_empty()
        && u.len() <= 32
        && u.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--ciuser {}: a user name is lower-case letters, digits, _ and - (at most 32)",
            crate::guest::names::quote(u)
        )))
    }
}

/// The public keys of a key file: one OpenSSH key per line, blank lines
/// and comments skipped. A private key, or anything else, is refused.
pub fn keys(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = vec![];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains("PRIVATE KEY") {
            return Err("this is a private key; give the public one (.pub)".into());
        }
        let kind = line.split_whitespace().next().unwrap_or("");
        let known =
            kind.starts_with("ssh-") || kind.starts_with("ecdsa-sha2-") || kind.starts_with("sk-");
        if !known || line.split_whitespace().count() < 2 {
            return Err(format!(
                "not an OpenSSH public key: {}",
                crate::guest::names::quote(line)
            ));
        }
        out.push(line.to_string());
    }
    if out.is_empty() {
        return Err("no key in it".into());
    }
    Ok(out)
}

/// Keys, one per line, percent-encoded as the schema's `urlencoded`
/// format allows (`[-%a-zA-Z0-9_.!~*'()]`): everything else escaped,
/// spaces and line breaks included.
pub fn encode_keys(keys: &[String]) -> String {
    let text = keys.join("\n");
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `dhcp`, `auto` (IPv6 autoconfiguration) or `CIDR[,gw=GATEWAY]` →
/// `ipconfig0`'s value.
pub fn ipconfig(s: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::usage(format!("--ip {s}: {why}")).with_hint(
            "give dhcp, auto, or an address with its prefix length: 192.0.2.10/24,gw=192.0.2.1",
        )
    };
    match s {
        "dhcp" => return Ok("ip=dhcp".into()),
        "auto" => return Ok("ip6=auto".into()),
        _ => {}
    }
    let (cidr, gw) = match s.split_once(',') {
        Some((c, g)) => (
            c,
            Some(
                g.strip_prefix("gw=")
                    .ok_or_else(|| bad("expected ,gw=GATEWAY after the address"))?,
            ),
        ),
        None => (s, None),
    };
    let (addr, prefix) = cidr
        .split_once('/')
        .ok_or_else(|| bad("the address needs its prefix length (/24)"))?;
    let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let _: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or_else(|| bad("the prefix length is out of range"))?;
    let v6 = addr.is_ipv6();
    let mut out = format!("{}={cidr}", if v6 { "ip6" } else { "ip" });
    if let Some(g) = gw {
        let g: IpAddr = g
            .parse()
            .map_err(|_| bad("the gateway is not an IP address"))?;
        if g.is_ipv6() != v6 {
            return Err(bad("the gateway is not of the address's family"));
        }
        out.push_str(&format!(",{}={g}", if v6 { "gw6" } else { "gw" }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_and_encoded_as_the_schema_demands() {
        let k = keys("# mine\nssh-ed25519 AAAAC3Nza me@host\n\necdsa-sha2-nistp256 AAAAE2 x\n")
            .unwrap();
        assert_eq!(k.len(), 2);
        let e = encode_keys(&k);
        assert!(
            e.starts_with("ssh-ed25519%20AAAAC3Nza%20me%40host%0Aecdsa-sha2"),
            "{e}"
        );
        assert!(
            e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-%_.!~*'()".contains(&b))
        );
        assert!(keys("-----BEGIN OPENSSH PRIVATE KEY-----\n").is_err());
        assert!(keys("hello\n").is_err());
        assert!(keys("\n").is_err());
    }

    #[test]
    fn addresses_become_ipconfig() {
        assert_eq!(ipconfig("dhcp").unwrap(), "ip=dhcp");
        assert_eq!(
            ipconfig("192.0.2.10/24,gw=192.0.2.1").unwrap(),
            "ip=192.0.2.10/24,gw=192.0.2.1"
        );
        assert_eq!(ipconfig("2001:db8::5/64").unwrap(), "ip6=2001:db8::5/64");
        for bad in [
            "192.0.2.10",
            "192.0.2.10/33",
            "x/24",
            "192.0.2.10/24,via=1.2.3.4",
            "192.0.2.10/24,gw=2001:db8::1",
        ] {
            assert!(ipconfig(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is given as --ip or a key file, it is taken or refused
        /// with a usage error, and what is taken is as the schema wants it.
        #[test]
        fn ip_and_keys_are_taken_or_refused(ip in "\\PC{0,40}", text in "\\PC{0,200}") {
            if let Ok(v) = ipconfig(&ip) {
                prop_assert!(v.starts_with("ip=") || v.starts_with("ip6="));
            }
            if let Ok(k) = keys(&text) {
                prop_assert!(encode_keys(&k).bytes().all(|b| b.is_ascii_alphanumeric() || b"-%_.~".contains(&b)));
            }
        }
    }
}
