//! man/ and completions/ are generated from the command specs and committed.
//! This test regenerates them in memory and fails when the committed files
//! differ or when a file exists for a tool that no longer does.
//! `GUESTKIT_REGENERATE=1 cargo test --test generated` rewrites them instead.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn committed_files() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["man", "completions"] {
        let mut stack = vec![Path::new(ROOT).join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.strip_prefix(ROOT).unwrap().display().to_string());
                }
            }
        }
    }
    out
}

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let generated = guestkit::cli::complete::all_files(guestkit::cmd::ALL);
    let rewrite = std::env::var_os("GUESTKIT_REGENERATE").is_some();
    let mut problems = Vec::new();
    let wanted: BTreeSet<String> = generated.iter().map(|(p, _)| p.clone()).collect();
    for (rel, text) in &generated {
        let path = Path::new(ROOT).join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if rewrite {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        } else {
            problems.push(format!("{rel} is stale or missing"));
        }
    }
    for extra in committed_files().difference(&wanted) {
        if rewrite {
            std::fs::remove_file(Path::new(ROOT).join(extra)).unwrap();
        } else {
            problems.push(format!("{extra} belongs to no tool"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nrun: GUESTKIT_REGENERATE=1 cargo test --test generated",
        problems.join("\n")
    );
}

fn have(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn require(program: &str, package: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
        panic!(
            "{program} is required here (GUESTKIT_REQUIRE_ALL) but not installed: apt-get install {package}"
        );
    }
    eprintln!("skipped: {program} is not installed (apt-get install {package})");
    false
}

#[test]
fn man_pages_pass_mandoc_lint() {
    if !require("mandoc", "mandoc") {
        return;
    }
    for (rel, text) in guestkit::cli::complete::all_files(guestkit::cmd::ALL) {
        if !rel.starts_with("man/") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(Path::new(&rel).file_name().unwrap());
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new("mandoc")
            .args(["-T", "lint", "-W", "all"])
            .arg(&file)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            report.trim().is_empty(),
            "mandoc -T lint -W all {rel}:\n{report}"
        );
    }
}

#[test]
fn man_pages_render_with_man() {
    if !require("man", "man-db") || !require("groff", "groff-base") {
        return;
    }
    for (rel, _) in guestkit::cli::complete::all_files(guestkit::cmd::ALL) {
        if !rel.starts_with("man/") {
            continue;
        }
        let out = std::process::Command::new("man")
            .args(["--warnings=all", "-l"])
            .arg(Path::new(ROOT).join(&rel))
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "man -l {rel}:\n{stderr}"
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("EXIT STATUS") || rel.contains("toml"),
            "{rel} rendered without its sections"
        );
    }
}

/// Every tool prints its own generated files with --generate, for packagers.
#[test]
fn tools_print_their_own_files_with_generate() {
    let files: std::collections::HashMap<String, String> =
        guestkit::cli::complete::all_files(guestkit::cmd::ALL)
            .into_iter()
            .collect();
    for cmd in guestkit::cmd::ALL {
        let n = cmd.name;
        for (kind, rel) in [
            ("man", format!("man/man1/{n}.1")),
            ("bash", format!("completions/bash/{n}")),
            ("zsh", format!("completions/zsh/_{n}")),
            ("fish", format!("completions/fish/{n}.fish")),
            ("nu", "completions/nushell/guestkit.nu".to_string()),
        ] {
            let out = std::process::Command::new(assert_cmd::cargo::cargo_bin(n))
                .args(["--generate", kind])
                .output()
                .unwrap();
            assert!(out.status.success(), "{n} --generate {kind}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                files[&rel],
                "{n} --generate {kind} differs from {rel}"
            );
        }
    }
}

/// lib/pve/qemu-config.json is the official schema's VM settings (the
/// parameters of `PUT /nodes/{node}/qemu/{vmid}/config`), cut down to what
/// vm-config checks before sending: types, enums, ranges, lengths, the
/// keys of property strings, and how many numbered devices there may be.
#[test]
fn qemu_settings_are_extracted_from_the_official_schema() {
    use serde_json::{Map, Value};
    fn compact(v: &Value) -> Value {
        let mut out = Map::new();
        for k in ["type", "enum", "minimum", "maximum", "maxLength", "alias"] {
            if let Some(x) = v.get(k) {
                out.insert(k.into(), x.clone());
            }
        }
        if v.get("default_key").and_then(Value::as_i64) == Some(1) {
            out.insert("default_key".into(), 1.into());
        }
        match v.get("format") {
            Some(Value::String(f)) => {
                out.insert("format".into(), f.clone().into());
            }
            Some(Value::Object(fields)) => {
                let sub: Map<String, Value> = fields
                    .iter()
                    .map(|(k, f)| (k.clone(), compact(f)))
                    .collect();
                out.insert("format".into(), sub.into());
            }
            _ => {}
        }
        // "(n is 0 to 4, …, n can be up to 14)": the highest device number
        // any machine takes.
        if let Some(d) = v.get("description").and_then(Value::as_str) {
            let highest = ["n is 0 to ", "n can be up to "]
                .iter()
                .flat_map(|p| d.split(p).skip(1))
                .filter_map(|rest| {
                    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    n.parse::<u64>().ok()
                })
                .max();
            if let Some(n) = highest {
                out.insert("max_index".into(), n.into());
            }
        }
        out.into()
    }
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("sim/pve-api-schema.json")).unwrap(),
    )
    .unwrap();
    let props = schema
        .pointer("/~1nodes~1{node}~1qemu~1{vmid}~1config/PUT/parameters/properties")
        .and_then(Value::as_object)
        .unwrap();
    let settings: Map<String, Value> = props.iter().map(|(k, v)| (k.clone(), compact(v))).collect();
    let text = serde_json::to_string_pretty(&Value::from(settings)).unwrap() + "\n";
    let path = Path::new(ROOT).join("lib/pve/qemu-config.json");
    if std::env::var_os("GUESTKIT_REGENERATE").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).ok() == Some(text),
        "lib/pve/qemu-config.json is stale\nrun: GUESTKIT_REGENERATE=1 cargo test --test generated"
    );
}

/// The cookbook's recipes, in the page's order: the file under
/// docs/cookbook/, and the snapshots of its runs (tests/cli/cookbook.rs).
const RECIPES: &[(&str, &[&str])] = &[
    ("start-matching.sh", &["cookbook-start-matching"]),
    ("before-reboot.sh", &[]),
    ("after-reboot.sh", &["cookbook-reboot"]),
    ("restart-dead.sh", &["cookbook-restart-dead"]),
    ("nightly-snapshots.sh", &["cookbook-nightly-snapshots"]),
    ("ci-cleanup.sh", &["cookbook-ci-cleanup"]),
    ("guests-by-status.nu", &["cookbook-guests-by-status-nu"]),
    ("guests-by-status.sh", &["cookbook-guests-by-status-sh"]),
    ("cluster-memory.nu", &["cookbook-cluster-memory-nu"]),
    ("cluster-memory.sh", &["cookbook-cluster-memory-sh"]),
    (
        "backend-tour.sh",
        &[
            "cookbook-backend-tour-lxc",
            "cookbook-backend-tour-crun",
            "cookbook-backend-tour-runc",
        ],
    ),
    ("vm-tour.sh", &["cookbook-vm-tour"]),
    ("pve-container-tour.sh", &["cookbook-pve-container-tour"]),
];

/// docs/cookbook.md: each recipe's text and the output its test run gave,
/// so that neither can drift from the tools.
fn cookbook_page() -> String {
    let dir = Path::new(ROOT).join("docs/cookbook");
    let mut page = String::from(
        "# Cookbook\n\n\
         Recipes for the jobs guestkit's users do, each a complete script in\n\
         [docs/cookbook/](cookbook/), shown with the output it gave when the test\n\
         suite last ran it (`cargo test --test cli cookbook`: real lxc, crun and\n\
         runc, and the Proxmox VE simulator; the scripts run with dash and bash,\n\
         or nu, and pass shellcheck). Times, process IDs and temporary paths in\n\
         the outputs are shown as [TIME], [PID] and [TEMP]. This page is\n\
         generated: `GUESTKIT_REGENERATE=1 cargo test --test generated`.\n",
    );
    for (file, snaps) in RECIPES {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let lang = if file.ends_with(".nu") { "nu" } else { "sh" };
        page.push_str(&format!("\n## {file}\n\n```{lang}\n{text}```\n"));
        for snap in *snaps {
            let path = Path::new(ROOT).join(format!("tests/cli/snapshots/{snap}.snap"));
            let shot = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{snap}: {e}"));
            // After insta's header: the run's exit code, stdout and stderr.
            let body = shot.splitn(3, "---\n").nth(2).unwrap_or(&shot);
            page.push_str(&format!("\nIts run (`{snap}`):\n\n```\n{body}```\n"));
        }
    }
    page
}

#[test]
fn the_cookbook_page_is_up_to_date() {
    let page = cookbook_page();
    let path = Path::new(ROOT).join("docs/cookbook.md");
    if std::env::var_os("GUESTKIT_REGENERATE").is_some() {
        std::fs::write(&path, &page).unwrap();
        return;
    }
    let listed: BTreeSet<&str> = RECIPES.iter().map(|(f, _)| *f).collect();
    for e in std::fs::read_dir(Path::new(ROOT).join("docs/cookbook")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            listed.contains(name.as_str()),
            "docs/cookbook/{name} is not on the page (RECIPES)"
        );
    }
    assert!(
        std::fs::read_to_string(&path).ok().as_deref() == Some(page.as_str()),
        "docs/cookbook.md is stale; run: GUESTKIT_REGENERATE=1 cargo test --test generated"
    );
}
