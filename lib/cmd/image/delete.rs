//! image-delete: removes images from the cache, unless a container uses them.

use super::{COLUMNS, for_removal};
use crate::backend::pull;
use crate::cli::spec::{Arg, Command, Complete, Effect, Prints};
use crate::error::{Error, Result, exit_code_of};
use crate::guest::GuestKind;
use crate::registry::reference::Reference;
use crate::run::Ctx;

/// image-delete's spec: its flags, help, man page and completions.
pub const SPEC: Command = Command {
    name: "image-delete",
    kind: GuestKind::Container,
    about: "remove images pulled from registries",
    description: "Removes each named image from the cache: the reference (as --image takes it: alpine:3.20 is docker.io/library/alpine:3.20), then the image and the layers no other image has. An image a local container was made from is refused (exit 4), naming the containers; delete them first. An image not in the cache is exit 3. Prints the record of each image removed, as image-list shows it.",
    args: &[Arg {
        name: "IMAGE",
        help: "The images to remove, as --image names them",
        required: true,
        many: true,
        complete: Complete::Nothing,
    }],
    trailing: None,
    flags: Args::FLAGS,
    stdin_targets: false,
    examples: &[
        (
            "image-delete alpine:3.20",
            "Remove an image no container uses.",
        ),
        (
            "image-list | jq -r 'select(.containers == 0) | .reference' | xargs -r image-delete",
            "Remove every image no container uses (image-prune does the same).",
        ),
        (
            "image-delete alpine:3.20 | from json --objects | get digest",
            "The digest of what was removed, in nushell.",
        ),
    ],
    prints: Prints::Images,
    effect: Effect::Changes,
};

/// No flags of its own: the common ones (--config, -o, -q, -v and so on).
pub type Args = crate::cli::args::NoFlags;

/// Removes each image no container uses; the exit code is that of the
/// worst failure.
pub fn run(ctx: &Ctx, _: Args) -> Result<u8> {
    let cache = ctx.cfg.cache_dir();
    let (_lock, users, all) = for_removal(ctx)?;
    let mut removed = Vec::new();
    let mut codes = Vec::new();
    for given in &ctx.positionals {
        let r = Reference::parse(given).map_err(|why| {
            Error::invalid(format!(
                "image {}: {why}",
                crate::guest::names::quote(given)
            ))
        });
        let found = r.and_then(|r| {
            let full = r.to_string();
            let record = all
                .iter()
                .find(|i| i.reference.as_deref() == Some(full.as_str()))
                .ok_or_else(|| Error::not_found(format!("image {full} is not in the cache")))?;
            if let Some(names) = users.get(&record.digest) {
                return Err(Error::conflict(format!(
                    "image {full} is used by {} container{}: {}",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ))
                .with_hint("delete them first with ctr-delete"));
            }
            if !ctx.dry_run() {
                pull::forget(&cache, &full)?;
            }
            Ok(record.clone())
        });
        match found {
            Ok(record) => removed.push(record),
            Err(e) => {
                ctx.out.error(Some(given), &e);
                codes.push(e.exit_code());
            }
        }
    }
    if !ctx.dry_run() && !removed.is_empty() {
        pull::collect(&cache, &users.keys().cloned().collect())?;
    }
    ctx.out.records(&removed, COLUMNS);
    Ok(exit_code_of(codes))
}
