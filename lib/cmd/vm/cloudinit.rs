//! The cloud-init flags of vm-create and vm-clone: the user, SSH keys,
//! address and name servers a cloud image sets itself up with on its
//! first boot.

use crate::cli::spec::{Complete, option, repeated};
use crate::error::{Error, Result};
use crate::pve::cloudinit;

crate::flags! {
    /// The cloud-init flags vm-create and vm-clone share.
    pub struct CloudInit {
        ciuser: Option<String> = option(
            "ciuser",
            None,
            "USER",
            "cloud-init: the user to make, with the SSH keys (default: the image's)",
            Complete::Nothing,
        ),
        sshkey: Vec<String> = repeated(
            "sshkey",
            None,
            "FILE",
            "cloud-init: a public key file (~/.ssh/id_ed25519.pub) the user may log in with (repeatable)",
            Complete::File,
        ),
        ip: Option<String> = option(
            "ip",
            None,
            "ADDRESS",
            "cloud-init: the first NIC's address: dhcp, auto (IPv6 autoconfiguration), or CIDR[,gw=GATEWAY] (IPv4 or IPv6)",
            Complete::Nothing,
        ),
        nameserver: Vec<String> = repeated(
            "nameserver",
            None,
            "IP",
            "cloud-init: a DNS server (repeatable; default: the node's)",
            Complete::Nothing,
        ),
    }
}

impl CloudInit {
    /// Whether no cloud-init flag was given.
    pub fn is_empty(&self) -> bool {
        self.ciuser.is_none()
            && self.sshkey.is_empty()
            && self.ip.is_none()
            && self.nameserver.is_empty()
    }

    /// The VM settings these flags make (`ciuser`, `sshkeys`, `ipconfig0`,
    /// `nameserver`), checked: the key files read, the addresses parsed.
    pub fn settings(&self) -> Result<Vec<(String, String)>> {
        let mut out = vec![];
        if let Some(u) = &self.ciuser {
            cloudinit::check_user(u)?;
            out.push(("ciuser".into(), u.clone()));
        }
        if !self.sshkey.is_empty() {
            let mut keys = vec![];
            for f in &self.sshkey {
                let text = std::fs::read_to_string(f).map_err(|e| {
                    Error::invalid(format!(
                        "cannot read --sshkey {f}: {}",
                        crate::error::plain_io(&e)
                    ))
                })?;
                keys.extend(cloudinit::keys(&text).map_err(|why| {
                    Error::invalid(format!("--sshkey {f}: {why}"))
                        .with_hint("give the public key (.pub), one OpenSSH key per line")
                })?);
            }
            out.push(("sshkeys".into(), cloudinit::encode_keys(&keys)));
        }
        if let Some(ip) = &self.ip {
            out.push(("ipconfig0".into(), cloudinit::ipconfig(ip)?));
        }
        if !self.nameserver.is_empty() {
            for n in &self.nameserver {
                if n.parse::<std::net::IpAddr>().is_err() {
                    return Err(Error::usage(format!(
                        "--nameserver {n}: expected an IP address"
                    )));
                }
            }
            out.push(("nameserver".into(), self.nameserver.join(" ")));
        }
        Ok(out)
    }
}
