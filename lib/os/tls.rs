//! Trust anchors from a CA file, for the HTTPS clients (the Proxmox VE API,
//! image registries).

use crate::error::{Error, Result};
use std::path::Path;

/// The certificates of the PEM file `path`, as the roots a TLS client
/// verifies its server against; `key` names the setting in errors
/// (`proxmox.ca_file`).
pub fn ca_roots(path: &Path, key: &str) -> Result<ureq::tls::RootCerts> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read {key} {}: {}",
            path.display(),
            crate::error::plain_io(&e)
        ))
    })?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|p| match p {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{key} {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}
