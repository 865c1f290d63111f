//! image-prune: removes every image no container uses.

use super::{COLUMNS, for_removal};
use crate::backend::pull;
use crate::cli::spec::{Command, Effect, Prints};
use crate::error::Result;
use crate::guest::GuestKind;
use crate::run::Ctx;

/// image-prune's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "image-prune",
    kind: GuestKind::Container,
    about: "remove the images no container uses",
    description: "Removes from the cache every image pulled from a registry that no local container (lxc, crun, runc) was made from, the layers no image left has, and what pulls that were killed left behind. Prints the record of each image removed, as image-list shows it. The next ctr-create or ctr-run of a removed image pulls it again.",
    args: &[],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "image-prune",
            "Free the room of the images no container uses.",
        ),
        (
            "image-prune --dry-run -o json | jq -s 'map(.size_bytes) | add'",
            "How many bytes that would free (an image counted once per reference).",
        ),
        (
            "image-prune | from json --objects | get reference",
            "What was removed, in nushell.",
        ),
    ],
    prints: Prints::Images,
    effect: Effect::Changes,
};

/// No flags of its own: the common ones (--config, -o, -q, -v and so on).
pub type Args = crate::cli::args::NoFlags;

/// Removes the images no container uses, and prints them.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    let cache = ctx.cfg.cache_dir();
    let (_lock, users, images) = for_removal(ctx)?;
    let unused: Vec<_> = images.into_iter().filter(|i| i.containers == 0).collect();
    if !ctx.dry_run() {
        for i in &unused {
            if let Some(r) = &i.reference {
                pull::forget(&cache, r)?;
            }
        }
        pull::collect(&cache, &users.keys().cloned().collect())?;
    }
    ctx.out.records(&unused, COLUMNS);
    Ok(0)
}
