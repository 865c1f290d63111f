//! The tools of the image cache: image-list, image-delete and image-prune,
//! for the images pulled from registries (`crate::backend::pull`).

pub mod delete;
pub mod list;
pub mod prune;

use crate::backend::{self, pull};
use crate::error::Result;
use crate::guest::record::Image;
use crate::guest::{BackendKind, CONTAINER_BACKENDS, Status};
use crate::output::{Column, col};
use crate::run::{Choice, Ctx};
use std::collections::BTreeMap;

/// These tools act on no guest: their picker has nothing to offer.
pub fn choices(_: &Ctx, _: Option<Status>) -> Result<Vec<Choice>> {
    Ok(Vec::new())
}

/// The columns of an image record in a table.
pub const COLUMNS: &[Column] = &[
    col("REFERENCE", "reference"),
    col("DIGEST", "digest"),
    col("SIZE", "size_bytes"),
    col("CREATED", "created"),
    col("CONTAINERS", "containers"),
];

/// Container names by the digest of the image they were made from.
pub type Users = BTreeMap<String, Vec<String>>;

/// The local containers (lxc, crun, runc) made from each image, by the
/// digest their records name (`REFERENCE@sha256:…`, as ctr-create records
/// a pulled image), so that a tag pulled again does not take them along.
pub fn users(ctx: &Ctx) -> Result<Users> {
    let mut users: Users = BTreeMap::new();
    let listers: Vec<_> = CONTAINER_BACKENDS
        .into_iter()
        .filter(|k| *k != BackendKind::Proxmox)
        // Not installed: it holds no container.
        .filter_map(|kind| {
            backend::listers(&ctx.cfg, Some(kind))
                .ok()?
                .into_iter()
                .next()
        })
        .collect();
    // Every listing is started before any is waited for, as ctr-list does.
    let listings = listers
        .iter()
        .map(|l| l.list_start(&ctx.out))
        .collect::<Result<Vec<_>>>()?;
    for finish in listings {
        for c in finish()? {
            if let Some((_, digest)) = c.image.as_deref().and_then(|i| i.rsplit_once('@')) {
                users.entry(digest.to_string()).or_default().push(c.name);
            }
        }
    }
    Ok(users)
}

/// One record per reference of each cached image (one for an image no
/// reference leads to).
pub fn records(ctx: &Ctx, users: &Users) -> Vec<Image> {
    let mut out = Vec::new();
    for c in pull::cached(&ctx.cfg.cache_dir()) {
        let refs: Vec<Option<String>> = match c.references.is_empty() {
            true => vec![None],
            false => c.references.iter().cloned().map(Some).collect(),
        };
        for reference in refs {
            let containers = users.get(&c.digest).map_or(0, Vec::len);
            out.push(Image {
                reference,
                digest: c.digest.clone(),
                size_bytes: c.size_bytes,
                created: c.created.clone(),
                containers,
            });
        }
    }
    out
}

/// What image-delete and image-prune start from: the cache's lock, held
/// exclusively so that no pull makes anything meanwhile, the containers
/// of each image, and the images.
pub fn for_removal(ctx: &Ctx) -> Result<(std::fs::File, Users, Vec<Image>)> {
    let lock = pull::lock(&ctx.cfg.cache_dir(), true)?;
    let users = users(ctx)?;
    let images = records(ctx, &users);
    Ok((lock, users, images))
}
