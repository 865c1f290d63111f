//! The library's layers import only downward (docs/design.md has the
//! picture): this test reads every module under lib/ and fails on an
//! import of a layer it may not use. Run it alone with
//! `cargo test --test layers`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module, and the modules it may import. Everything may
/// use `error`; a module may always use its own submodules.
const MAY_USE: &[(&str, &[&str])] = &[
    (
        "cmd",
        &[
            "run", "cli", "output", "jobs", "backend", "pve", "registry", "config", "guest", "os",
        ],
    ),
    ("run", &["cli", "output", "jobs", "config", "guest"]),
    // Questions on a terminal note Ctrl-C (os::signals) while they ask.
    ("cli", &["output", "config", "guest", "os"]),
    // The proxmox container backend is made of the Proxmox client.
    (
        "backend",
        &["pve", "registry", "output", "config", "guest", "os"],
    ),
    // os::tls: the CA file's certificates, as the registry client reads them.
    ("pve", &["output", "config", "guest", "os"]),
    ("registry", &["output", "config", "guest", "os"]),
    ("output", &["config", "guest"]),
    ("jobs", &[]),
    ("config", &["guest"]),
    ("guest", &[]),
    ("os", &[]),
    ("error", &[]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a source file names as `crate::NAME`, leaving out
/// its unit tests and its comments.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        for (i, _) in line.match_indices("crate::") {
            let rest = &line[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            // `crate::flags!` is cli's macro, exported at the crate's root.
            let macro_call = rest[name.len()..].starts_with('!');
            if !name.is_empty() && !macro_call {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("lib");
    let mut files = Vec::new();
    rust_files(&lib, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&lib).unwrap();
        if rel == Path::new("lib.rs") {
            continue;
        }
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let allowed = MAY_USE
            .iter()
            .find(|(m, _)| *m == top)
            .unwrap_or_else(|| panic!("lib/{} is in no layer: add {top} to MAY_USE", rel.display()))
            .1;
        for used in imports(&std::fs::read_to_string(f).unwrap()) {
            if used != top && used != "error" && !allowed.contains(&used.as_str()) {
                wrong.push(format!("lib/{} uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run upward or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_layer_is_a_module_of_the_crate() {
    let root = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/lib/lib.rs")).unwrap();
    for (m, _) in MAY_USE {
        assert!(root.contains(&format!("pub mod {m};")), "lib.rs has no {m}");
    }
}
