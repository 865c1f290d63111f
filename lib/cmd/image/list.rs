//! image-list: the images pulled from registries, in the cache.

use super::{COLUMNS, records, users};
use crate::cli::spec::{Command, Effect, Prints};
use crate::error::Result;
use crate::guest::GuestKind;
use crate::run::Ctx;

/// image-list's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "image-list",
    kind: GuestKind::Container,
    about: "list the images pulled from registries",
    description: "Lists the images ctr-create and ctr-run pulled from registries into the cache, one record per reference they were pulled by: its digest, its size as the registry serves it, when it was built, and how many local containers (lxc, crun, runc) were made from it. An image no reference leads to any more (its tag was pulled again and moved) is listed with a null reference until image-prune removes it.\n\nNothing is asked of any registry.",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        ("image-list", "Every image in the cache, in a table."),
        (
            "image-list | jq -r 'select(.containers == 0) | .reference'",
            "The images no container uses.",
        ),
        (
            "image-list | from json --objects | where containers == 0",
            "The same in nushell.",
        ),
    ],
    prints: Prints::Images,
    effect: Effect::Reads,
};

/// No flags of its own: the common ones (--config, -o, -q, -v and so on).
pub type Args = crate::cli::args::NoFlags;

/// Prints one record per cached image and reference, sorted by reference.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    let users = users(ctx)?;
    ctx.out.records(&records(ctx, &users), COLUMNS);
    Ok(0)
}
