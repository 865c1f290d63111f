//! Commands on a cluster node over SSH, with the system's OpenSSH client:
//! what the Proxmox VE API cannot do for a container (run a command in it,
//! read its log) is done by `pct` on its node.

use crate::config::ProxmoxConfig;
use crate::error::{Error, Result};
use crate::os::process::{Tool, interactive};
use crate::output::Output;
use std::ffi::OsString;

/// The system's OpenSSH client, which reaches the nodes.
pub const SSH: Tool = Tool::new("ssh", "openssh-client");

/// The ssh destination for `node`, from `proxmox.ssh` (`root@{node}`).
fn destination(cfg: &ProxmoxConfig, node: &str, what: &str) -> Result<String> {
    let template = cfg.ssh.as_deref().ok_or_else(|| {
        Error::unavailable(format!(
            "{what} on backend proxmox runs over SSH on the container's node, and proxmox.ssh is not set"
        ))
        .with_hint("set it in the config's [proxmox] section, e.g. ssh = \"root@{node}\" (with a key the node accepts; ssh_options for -i, -p …)")
    })?;
    Ok(template.replace("{node}", node))
}

/// Runs `remote` (one shell command line) on `node`, with the caller's
/// stdin, stdout and stderr (a terminal for it when `tty`): its exit code,
/// which is the remote command's, or 255 when ssh itself failed.
pub fn run(
    cfg: &ProxmoxConfig,
    node: &str,
    remote: &str,
    tty: bool,
    what: &str,
    out: &Output,
) -> Result<i32> {
    let dest = destination(cfg, node, what)?;
    let mut args: Vec<OsString> = vec![if tty { "-t" } else { "-T" }.into()];
    args.extend(cfg.ssh_options.iter().map(OsString::from));
    args.extend(["--".into(), dest.into(), remote.into()]);
    interactive(&SSH.find()?, args, &|m| out.trace(m))
}
