//! Scratch directories for unit tests.

use std::path::PathBuf;

/// A directory of its own for one test, removed when the test ends, whatever
/// happened: `<tmp>/gk-<name>-<pid>`.
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(name: &str) -> Scratch {
    let p = std::env::temp_dir().join(format!("gk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    Scratch(p)
}
