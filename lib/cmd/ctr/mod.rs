//! The container tools (ctr-*), and what they share: the flags of creating
//! tools, and their arguments.

pub mod create;
pub mod delete;
pub mod exec;
pub mod kill;
pub mod list;
pub mod logs;
pub mod run;
pub mod start;
pub mod state;
pub mod stop;

use crate::cli::spec::{Arg, Complete, Flag, option, repeated};

/// `NAME...`, completed with containers in the given status.
pub const fn names_arg(help: &'static str, status: Option<&'static str>) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: false,
        many: true,
        complete: Complete::Container(status),
    }
}

/// One required container name.
pub const fn name_arg(help: &'static str, complete: Complete) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: true,
        many: false,
        complete,
    }
}

pub const ENV: Flag = repeated(
    "env",
    Some('e'),
    "KEY=VALUE",
    "Set an environment variable (repeatable)",
    Complete::Nothing,
);

/// The flags ctr-create and ctr-run share.
pub const CREATE_FLAGS: [Flag; 6] = [
    option(
        "image",
        Some('i'),
        "IMAGE",
        "Root filesystem: busybox (built in, the default), a directory, an OCI bundle directory, or a tarball (.tar, .tar.gz, .tar.xz, .tar.zst)",
        Complete::Image,
    ),
    option(
        "memory",
        Some('m'),
        "SIZE",
        "Memory limit, e.g. 256M or 1G",
        Complete::Nothing,
    ),
    option(
        "cpus",
        None,
        "N",
        "CPU limit in CPUs, e.g. 0.5 or 2",
        Complete::Nothing,
    ),
    ENV,
    repeated(
        "mount",
        None,
        "SRC:DST[:ro]",
        "Bind-mount a host path into the container, read-only with :ro (repeatable)",
        Complete::File,
    ),
    option(
        "network",
        None,
        "NETWORK",
        "none (loopback only, the default) or bridge=BR for a veth on host bridge BR (lxc only)",
        Complete::Nothing,
    ),
];
