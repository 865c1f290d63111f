//! One module per tool: its spec and its `run`. `ALL` lists every tool, so
//! generators (help, man pages, completions) can walk them.

pub mod ctr_create;
pub mod ctr_delete;
pub mod ctr_exec;
pub mod ctr_kill;
pub mod ctr_list;
pub mod ctr_logs;
pub mod ctr_run;
pub mod ctr_start;
pub mod ctr_state;
pub mod ctr_stop;
pub mod vm_clone;
pub mod vm_create;
pub mod vm_delete;
pub mod vm_list;
pub mod vm_restart;
pub mod vm_start;
pub mod vm_state;
pub mod vm_stop;
pub mod vm_wait;

use crate::cli::spec::{Arg, Command, Complete, Flag, option, repeated};

pub const ALL: &[&Command] = &[
    &ctr_list::SPEC,
    &ctr_create::SPEC,
    &ctr_start::SPEC,
    &ctr_stop::SPEC,
    &ctr_delete::SPEC,
    &ctr_kill::SPEC,
    &ctr_state::SPEC,
    &ctr_exec::SPEC,
    &ctr_run::SPEC,
    &ctr_logs::SPEC,
    &vm_list::SPEC,
    &vm_create::SPEC,
    &vm_clone::SPEC,
    &vm_start::SPEC,
    &vm_stop::SPEC,
    &vm_restart::SPEC,
    &vm_delete::SPEC,
    &vm_state::SPEC,
    &vm_wait::SPEC,
];

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

/// `NAME...` of VMs (names or VMIDs), completed with VMs in the given status.
pub const fn vm_names_arg(help: &'static str, status: Option<&'static str>) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: false,
        many: true,
        complete: Complete::Vm(status),
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
