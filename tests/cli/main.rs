//! Whole CLI runs of every tool, snapshotted: exit code, stdout and stderr.

mod common;
use guestkit_sim as sim;
#[macro_use]
mod pve;

mod backends;
mod bad_input;
mod between;
mod cookbook;
mod creates;
mod doctor;
mod dry_run;
mod examples_run;
mod exec;
mod help;
mod images;
mod interactive;
mod lifecycle;
mod list;
mod network;
mod oci;
mod pve_ctr;
mod refusals;
mod registry;
mod run;
mod setup;
mod shells;
mod vm;
mod vm_config;
mod vm_manage;

/// Every file in tests/cli is wired in above, so no test is silently left out.
#[test]
fn every_test_file_is_a_module() {
    let main = include_str!("main.rs");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(m) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                main.contains(&format!("mod {m};")),
                "tests/cli/{name} is not a module of main.rs"
            );
        }
    }
}
