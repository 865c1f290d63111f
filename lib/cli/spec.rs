//! Const data describing each tool: its flags, arguments, help text and how
//! each value completes. The parser, `--help`, man pages and completion
//! scripts are all derived from these tables, so they cannot disagree.

use crate::guest::{CONTAINER_BACKEND_NAMES, GuestKind, STATUS_NAMES, Status, VM_BACKEND_NAMES};

/// How a value completes in a shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complete {
    /// No completion: a number or free text.
    Nothing,
    /// A file's path.
    File,
    /// A directory's path.
    Dir,
    /// One of the flag's `values`.
    Values,
    /// A guest's name, from its kind's list tool (`ctr-list`, `vm-list`),
    /// filtered by status when given.
    Guest(GuestKind, Option<Status>),
    /// A container's `NAME:` (any status), or a path on the host (ctr-cp).
    ContainerPath,
    /// A container backend's name.
    Backend,
    /// An image: `busybox`, a directory or a tarball.
    Image,
    /// A signal's name: `TERM`, `KILL`.
    Signal,
}

/// A flag, as a tool's spec declares it: made with `switch`, `option`,
/// `choice` or `repeated`, or written out (`BACKEND`).
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Its long name, without the dashes: `timeout` for `--timeout`.
    pub long: &'static str,
    /// Its one-letter name (`t` for `-t`), if it has one.
    pub short: Option<char>,
    /// The value's placeholder (`SECONDS`); `None` for a switch.
    pub value: Option<&'static str>,
    /// One line saying what it does, for `--help`, the man page and the
    /// completions.
    pub help: &'static str,
    /// Accepted values, when the set is closed.
    pub values: &'static [&'static str],
    /// How its value completes in a shell (`Nothing` for a switch).
    pub complete: Complete,
    /// May be given more than once (each value kept).
    pub repeat: bool,
}

/// A positional argument, as a tool's spec declares it.
#[derive(Debug)]
pub struct Arg {
    /// Its placeholder in usage and help: `NAME`, `SRC`.
    pub name: &'static str,
    /// One line saying what it is, for `--help` and the man page.
    pub help: &'static str,
    /// Whether it must be given: without it, the parse fails ("no container
    /// name given").
    pub required: bool,
    /// Takes any number of values (`NAME...`).
    pub many: bool,
    /// How it completes in a shell.
    pub complete: Complete,
}

/// The command a tool runs inside a guest, after `--`.
#[derive(Debug)]
pub struct Trailing {
    /// Its placeholder in usage and help: `COMMAND`.
    pub name: &'static str,
    /// One line saying what it is, for `--help` and the man page.
    pub help: &'static str,
    /// It may also follow the name without `--` (`ctr-exec web ls -l`);
    /// where it may not, an extra word is refused rather than run.
    pub bare: bool,
}

/// A tool's spec: what its parser, `--help`, man page and completions are
/// all made from. Each tool has one, its module's `SPEC`.
#[derive(Debug)]
pub struct Command {
    /// The tool's name, as typed: `ctr-stop`.
    pub name: &'static str,
    /// The kind of guest it acts on.
    pub kind: GuestKind,
    /// One line, lower case, no full stop: "start containers".
    pub about: &'static str,
    /// Paragraphs for `--help` and the man page's DESCRIPTION.
    pub description: &'static str,
    /// Its positional arguments, in order.
    pub args: &'static [Arg],
    /// The command it runs in a guest, for the tools that run one (ctr-exec).
    pub trailing: Option<Trailing>,
    /// Its own flags, which may redefine common ones; `all_flags` adds the
    /// rest.
    pub flags: &'static [Flag],
    /// Whether the tool takes targets from stdin when given none as arguments.
    pub stdin_targets: bool,
    /// (command line, what it does), for help and the man page.
    pub examples: &'static [(&'static str, &'static str)],
    /// What the tool prints on stdout, for the man page.
    pub prints: Prints,
    /// What it does to the guests it acts on.
    pub effect: Effect,
}

/// What a tool does to the guests it acts on. It decides the flags and the
/// interactive help a tool has: a tool that changes guests takes --dry-run
/// and, on a terminal with no targets, offers a picker; one whose change
/// loses something also takes --yes, and on a terminal asks before acting
/// on more than one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Reads or waits; changes nothing (ctr-list, ctr-state, vm-wait), or
    /// runs a command whose effect cannot be told beforehand (ctr-exec).
    Reads,
    /// Changes guests in a way that can be undone (start, create, resize).
    Changes,
    /// Loses something, and may act on many guests at once: a guest
    /// (delete), its processes (kill, stop --force). (The tools that act
    /// on one VM, such as vm-snapshot-rollback, never ask: it is named.)
    Destroys,
}

/// What a tool prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prints {
    /// One container record per container.
    Containers,
    /// One detailed container record per container.
    ContainerStates,
    /// One result record per target.
    Results,
    /// The guest command's own output, or the log (not JSON).
    Raw,
    /// The command's own output; with --detach, one result record (ctr-run).
    RawOrResult,
    /// One VM record per VM.
    Vms,
    /// One detailed VM record per VM.
    VmStates,
    /// One VM result record per target.
    VmResults,
    /// One VM configuration record per VM; with changes, one result each.
    VmConfigs,
    /// One record per snapshot of each VM.
    Snapshots,
    /// One usage record per running container (per sample, with --follow).
    Stats,
    /// One record per check of the host (guestkit-doctor).
    Checks,
    /// One record of the configuration written (guestkit-setup).
    Setup,
    /// One record per image in the cache (image-list, image-delete, image-prune).
    Images,
}

impl Prints {
    /// Whether the tool runs when the configuration does not load: the
    /// doctor, which reports it, and the setup, which replaces it.
    pub fn runs_without_config(self) -> bool {
        matches!(self, Prints::Checks | Prints::Setup)
    }
}

/// A switch (a flag with no value).
pub const fn switch(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
    Flag {
        long,
        short,
        value: None,
        help,
        values: &[],
        complete: Complete::Nothing,
        repeat: false,
    }
}

/// A flag that takes a value.
pub const fn option(
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    help: &'static str,
    complete: Complete,
) -> Flag {
    Flag {
        long,
        short,
        value: Some(value),
        help,
        values: &[],
        complete,
        repeat: false,
    }
}

/// A flag whose value is one of a closed set.
pub const fn choice(
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    help: &'static str,
    values: &'static [&'static str],
) -> Flag {
    Flag {
        long,
        short,
        value: Some(value),
        help,
        values,
        complete: Complete::Values,
        repeat: false,
    }
}

/// A value flag that may be repeated.
pub const fn repeated(
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    help: &'static str,
    complete: Complete,
) -> Flag {
    Flag {
        long,
        short,
        value: Some(value),
        help,
        values: &[],
        complete,
        repeat: true,
    }
}

/// The flags every tool has, after its own in help and man pages: the
/// shell reads them into `cli::args::Common`.
pub const COMMON_FLAGS: &[Flag] = super::args::Common::FLAGS;

/// `-o, --output FORMAT`: json or table. The list tools use
/// `OUTPUT_WITH_NAMES` instead.
pub const OUTPUT: Flag = choice(
    "output",
    Some('o'),
    "FORMAT",
    "Output format: JSON lines, or an aligned table (default: table on a terminal, json otherwise)",
    &["json", "table"],
);
/// `--color WHEN`: whether the table is coloured (see `ColorWhen`).
pub const COLOR: Flag = choice(
    "color",
    None,
    "WHEN",
    "Colour the table: auto (default; honours NO_COLOR and CLICOLOR_FORCE), always or never",
    &["auto", "always", "never"],
);
/// `-q, --quiet`: no records on stdout; errors still go to stderr.
pub const QUIET: Flag = switch("quiet", Some('q'), "Print no result records, only errors");
/// `-v, --verbose`: traces on stderr (see `Output::trace`); it excludes
/// --quiet.
pub const VERBOSE: Flag = switch(
    "verbose",
    Some('v'),
    "Print the backend commands run, on stderr",
);
/// `--config FILE`: the configuration file to read instead of the default
/// locations.
pub const CONFIG: Flag = option(
    "config",
    None,
    "FILE",
    "Read configuration from FILE instead of the default locations",
    Complete::File,
);
/// The container tools' `--backend`.
pub const BACKEND: Flag = Flag {
    long: "backend",
    short: Some('b'),
    value: Some("NAME"),
    help: "Use this backend (default: the config's routing, then its default backend)",
    values: &CONTAINER_BACKEND_NAMES,
    complete: Complete::Backend,
    repeat: false,
};
/// `--generate KIND`: print a man page or a completion script instead of
/// running (see `Generate`).
pub const GENERATE: Flag = choice(
    "generate",
    None,
    "KIND",
    "Print this tool's man page or shell completion (for packagers) and exit",
    &["man", "bash", "zsh", "fish", "nu"],
);
/// `--dry-run`: check every target, change nothing; only for the tools
/// whose `effect` is not `Reads`.
pub const DRY_RUN: Flag = switch(
    "dry-run",
    None,
    "Find the targets and check them as a real run would, print the records it would print with \"dry_run\":true, and change nothing",
);
/// `-y, --yes`: no question before acting on several guests; only for the
/// tools whose `effect` is `Destroys`.
pub const YES: Flag = switch(
    "yes",
    Some('y'),
    "Do not ask before acting on more than one guest (asked only on a terminal)",
);
/// `-h, --help`: the parser stops at it (`Parsed::Help`).
pub const HELP: Flag = switch("help", Some('h'), "Print help and exit");
/// `-V, --version`: the parser stops at it (`Parsed::Version`).
pub const VERSION: Flag = switch("version", Some('V'), "Print the version and exit");

/// The container tools' paragraph on targets from stdin, which
/// `paragraphs` adds when `stdin_targets` is set.
pub const STDIN_TARGETS: &str = "With no NAME, the targets are read from stdin, one per line: a JSON object as the list tools print it (its \"name\" and \"backend\" are used), or a bare name. Every line is checked before anything is done: a bad line is reported with its number, exit code 8, and no target is acted on.";

/// The vm-* tools' paragraph on targets from stdin: VMIDs too, and names
/// looked up across the cluster.
pub const VM_STDIN_TARGETS: &str = "With no NAME, the targets are read from stdin, one per line: a JSON object as vm-list prints it (its \"vmid\", else its \"name\"), or a bare name or VMID. Every line is checked before anything is done: a bad line is reported with its number, exit code 8, and no target is acted on. Names are looked up in one /cluster/resources request, so a VM is found on whichever node holds it; a name that two VMs share is refused with both listed.";

/// The paragraph on the picker, for the tools that take targets from stdin
/// and change guests.
pub const PICKER: &str = "Run on a terminal with no NAME and nothing piped in, it offers a picker of the guests it applies to (type to filter, Space to choose, Enter to act on those chosen, Esc or Ctrl-C to do nothing); off a terminal, no NAME is a usage error (exit 2).";

/// The paragraph on the question asked before acting on several guests,
/// for the tools whose `effect` is `Destroys`.
pub const CONFIRM: &str = "Before it deletes or kills more than one guest on a terminal, it lists them and asks (a stop asks only when it kills: with --force, or vm-stop's --hard); --yes skips the question, and off a terminal (a script, cron, targets piped in) nothing is asked. Declining does nothing and exits 1; Ctrl-C exits 130.";

/// The paragraph on `--dry-run`, for every tool that changes guests.
pub const DRY_RUN_TEXT: &str = "With --dry-run, it finds and checks every target as a real run would (a missing guest, or one in the wrong state, fails the same way), prints the record a real run would print with \"dry_run\":true and \"would\" (the action, or null when there is nothing to do), and changes nothing.";

/// The same for the image tools, whose records are images.
pub const IMAGES_DRY_RUN_TEXT: &str = "With --dry-run, it checks what it would remove as a real run would, prints the records of those images, and changes nothing.";

/// The vm-* tools' `--backend`: Proxmox VE is the one backend with VMs.
pub const VM_BACKEND: Flag = Flag {
    long: "backend",
    short: Some('b'),
    value: Some("NAME"),
    help: "The backend: proxmox, the only one with VMs",
    values: &VM_BACKEND_NAMES,
    complete: Complete::Values,
    repeat: false,
};

/// `--no-wait`, of the vm-* tools that start a Proxmox VE task: return
/// with its UPID rather than follow it to the end.
pub const NO_WAIT: Flag = switch(
    "no-wait",
    None,
    "Return once the server has accepted the task, with its UPID in the record, instead of following it to the end",
);

/// The list tools' `--output`, which also prints names alone.
pub const OUTPUT_WITH_NAMES: Flag = choice(
    "output",
    Some('o'),
    "FORMAT",
    "Output format: JSON lines, an aligned table, or names only (default: table on a terminal, json otherwise)",
    &["json", "table", "name"],
);

/// `NAME...`: guests of a kind, completed with those in the given status.
pub const fn guests_arg(kind: GuestKind, help: &'static str, status: Option<Status>) -> Arg {
    Arg {
        name: "NAME",
        help,
        required: false,
        many: true,
        complete: Complete::Guest(kind, status),
    }
}

/// A `--status` filter of the list tools.
pub const fn status_filter(help: &'static str) -> Flag {
    choice("status", Some('s'), "STATUS", help, &STATUS_NAMES)
}

/// The `--jobs` flag of tools that act on many targets.
pub const JOBS: Flag = option(
    "jobs",
    Some('j'),
    "N",
    "Act on up to N targets at once (default: 1); results stay in input order",
    Complete::Nothing,
);

impl Command {
    /// The tool's own flags, then the common ones it does not redefine
    /// (ctr-list's `--output` also accepts `name`). A tool that prints no
    /// records (ctr-exec, ctr-logs) has no --output or --quiet; --dry-run
    /// and --yes are for the tools whose `effect` calls for them.
    pub fn all_flags(&self) -> impl Iterator<Item = &Flag> {
        let own = self.flags;
        let records = self.prints != Prints::Raw;
        let effect = self.effect;
        own.iter().chain(COMMON_FLAGS.iter().filter(move |c| {
            !own.iter().any(|f| f.long == c.long)
                && (records || (c.long != OUTPUT.long && c.long != QUIET.long))
                && (c.long != DRY_RUN.long || effect != Effect::Reads)
                && (c.long != YES.long || effect == Effect::Destroys)
        }))
    }

    /// The flag of `all_flags` with this long name (no dashes), if any.
    pub fn find_long(&self, long: &str) -> Option<&Flag> {
        self.all_flags().find(|f| f.long == long)
    }

    /// The flag of `all_flags` with this one-letter name, if any.
    pub fn find_short(&self, short: char) -> Option<&Flag> {
        self.all_flags().find(|f| f.short == Some(short))
    }

    /// The description's paragraphs, with the stdin convention where it applies.
    pub fn paragraphs(&self) -> Vec<&'static str> {
        let mut p: Vec<&'static str> = self.description.split("\n\n").map(str::trim).collect();
        if self.stdin_targets {
            p.push(match self.kind {
                GuestKind::Vm => VM_STDIN_TARGETS,
                GuestKind::Container => STDIN_TARGETS,
            });
            if self.effect != Effect::Reads {
                p.push(PICKER);
            }
        }
        if self.effect == Effect::Destroys {
            p.push(CONFIRM);
        }
        if self.effect != Effect::Reads {
            p.push(match self.prints {
                Prints::Images => IMAGES_DRY_RUN_TEXT,
                _ => DRY_RUN_TEXT,
            });
        }
        p
    }

    /// `ctr-stop [OPTIONS] NAME...`
    pub fn synopsis(&self) -> String {
        let mut s = format!("{} [OPTIONS]", self.name);
        for arg in self.args {
            let mut a = arg.name.to_string();
            if arg.many {
                a.push_str("...");
            }
            if arg.required {
                s.push(' ');
                s.push_str(&a);
            } else {
                s.push_str(&format!(" [{a}]"));
            }
        }
        match &self.trailing {
            Some(t) if t.bare => s.push_str(&format!(" [--] {}...", t.name)),
            Some(t) => s.push_str(&format!(" [-- {}...]", t.name)),
            None => {}
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::ALL;
    use std::collections::HashSet;

    #[test]
    fn no_tool_repeats_a_flag_name() {
        for cmd in ALL {
            let mut longs = HashSet::new();
            let mut shorts = HashSet::new();
            for f in cmd.all_flags() {
                assert!(longs.insert(f.long), "{}: --{} twice", cmd.name, f.long);
                if let Some(s) = f.short {
                    assert!(shorts.insert(s), "{}: -{s} twice", cmd.name);
                }
            }
        }
    }

    #[test]
    fn every_value_flag_names_its_value_and_choices_are_listed() {
        for cmd in ALL {
            for f in cmd.all_flags() {
                if f.complete == Complete::Values {
                    assert!(
                        !f.values.is_empty(),
                        "{}: --{} lists no values",
                        cmd.name,
                        f.long
                    );
                }
                if !f.values.is_empty() {
                    assert!(
                        f.value.is_some(),
                        "{}: --{} has values but no value name",
                        cmd.name,
                        f.long
                    );
                }
                if let Some(v) = f.value {
                    assert!(
                        v.starts_with(|c: char| c.is_ascii_uppercase())
                            && !v.contains(char::is_whitespace),
                        "{}: --{} value name {v:?}",
                        cmd.name,
                        f.long
                    );
                }
                assert!(
                    !f.help.is_empty() && !f.help.ends_with('.'),
                    "{}: --{} help",
                    cmd.name,
                    f.long
                );
                assert!(
                    f.long.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                    "{}: --{}",
                    cmd.name,
                    f.long
                );
            }
        }
    }

    #[test]
    fn tools_are_documented() {
        let mut names = HashSet::new();
        for cmd in ALL {
            assert!(names.insert(cmd.name), "{} listed twice", cmd.name);
            assert!(!cmd.about.is_empty() && !cmd.about.ends_with('.'));
            assert!(
                !cmd.description.is_empty(),
                "{} has no description",
                cmd.name
            );
            assert!(!cmd.examples.is_empty(), "{} has no examples", cmd.name);
            // Man pages promise jq and nushell pipelines for every tool.
            assert!(
                cmd.examples.iter().any(|(l, _)| l.contains("jq ")),
                "{} has no jq example",
                cmd.name
            );
            assert!(
                cmd.examples
                    .iter()
                    .any(|(l, _)| l.contains("| from json") || l.contains("| lines")),
                "{} has no nushell example",
                cmd.name
            );
            // Only the last argument may take many values.
            for arg in cmd.args.iter().rev().skip(1) {
                assert!(
                    !arg.many,
                    "{}: {} takes many but is not last",
                    cmd.name, arg.name
                );
            }
        }
    }
}
