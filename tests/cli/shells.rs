//! The generated completions, exercised in the real shells: flags complete,
//! container names come from the live system filtered by status, and the
//! nushell module loads.

use crate::common::{TestEnv, which};
use crate::require;
use std::path::Path;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Whether a shell is installed; under GUESTKIT_REQUIRE_ALL (CI) it must be.
fn have(program: &str, package: &str) -> bool {
    if which(program).is_some() {
        return true;
    }
    if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
        panic!("{program} is required here (GUESTKIT_REQUIRE_ALL) but not installed ({package})");
    }
    eprintln!("skipped: {program} is not installed ({package})");
    false
}

fn have_file(path: &str, package: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    if std::env::var_os("GUESTKIT_REQUIRE_ALL").is_some() {
        panic!("{path} is required here (GUESTKIT_REQUIRE_ALL) but missing ({package})");
    }
    eprintln!("skipped: {path} is missing ({package})");
    false
}

/// One running and one stopped container.
fn fleet() -> TestEnv {
    let env = TestEnv::new();
    env.ok("ctr-create", &["gk-up", "--start", "--", "sleep", "1000"]);
    env.ok("ctr-create", &["gk-down", "--", "sleep", "1000"]);
    env
}

fn out(env: &TestEnv, program: &str, args: &[&str]) -> String {
    let o = crate::common::output(env.shell(program).args(args));
    assert!(
        o.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn cleanup(env: &TestEnv) {
    env.ok("ctr-delete", &["--force", "gk-up", "gk-down"]);
}

#[test]
fn bash_completion() {
    require!("lxc");
    if !have("bash", "bash")
        || !have_file(
            "/usr/share/bash-completion/bash_completion",
            "bash-completion",
        )
    {
        return;
    }
    let env = fleet();
    // Installed as bash-completion looks files up: by command name, loaded on demand.
    let dir = env.path().join("bc/completions");
    std::fs::create_dir_all(&dir).unwrap();
    for tool in ["ctr-stop", "ctr-start", "ctr-list", "ctr-cp"] {
        std::fs::copy(
            Path::new(ROOT).join("completions/bash").join(tool),
            dir.join(tool),
        )
        .unwrap();
    }
    let script = r#"
        export BASH_COMPLETION_USER_DIR="$1"
        source /usr/share/bash-completion/bash_completion
        
        try() { # words... -> completions of the last word
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _completion_loader "$1" >/dev/null 2>&1
            local f; f=$(complete -p "$1" | sed -E 's/.*-F ([^ ]+).*/\1/')
            COMPREPLY=(); "$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            echo "$* => ${COMPREPLY[*]}"
        }
        try ctr-stop ''
        try ctr-start ''
        try ctr-stop --ti
        try ctr-list --status ''
        try ctr-list -o ''
        try ctr-cp gk-u
    "#;
    let got = out(
        &env,
        "bash",
        &[
            "-c",
            script,
            "bash",
            env.path().join("bc").to_str().unwrap(),
        ],
    );
    assert_eq!(
        got,
        "ctr-stop  => gk-up\nctr-start  => gk-down\nctr-stop --ti => --timeout\nctr-list --status  => running stopped paused created unknown\nctr-list -o  => json table name\nctr-cp gk-u => gk-up:\n"
    );
    cleanup(&env);
}

#[test]
fn fish_completion() {
    require!("lxc");
    if !have("fish", "fish") {
        return;
    }
    let env = fleet();
    let dir = Path::new(ROOT).join("completions/fish");
    let script = format!(
        "set fish_complete_path {} $fish_complete_path
         complete -C 'ctr-stop '; complete -C 'ctr-start '; complete -C 'ctr-stop --for'; complete -C 'ctr-kill --signal KI'; complete -C 'ctr-cp gk-d'",
        dir.display()
    );
    let got = out(&env, "fish", &["--no-config", "-c", &script]);
    let firsts: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(
        firsts,
        ["gk-up", "gk-down", "--force", "KILL", "gk-down:"],
        "{got}"
    );
    cleanup(&env);
}

#[test]
fn zsh_completion() {
    require!("lxc");
    if !have("zsh", "zsh") || !have("tmux", "tmux") {
        return;
    }
    let env = fleet();
    let session = format!("gk{}", std::process::id());
    let tmux = |args: &[&str]| {
        let o = crate::common::output(env.shell("tmux").args(["-L", &session]).args(args));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    tmux(&["new-session", "-d", "-x", "200", "-y", "40", "zsh", "-f"]);
    let fpath = Path::new(ROOT).join("completions/zsh");
    tmux(&[
        "send-keys",
        &format!(
            "fpath=({} $fpath); autoload -Uz compinit; compinit -u -D; PS1='> '; clear",
            fpath.display()
        ),
        "Enter",
    ]);
    // Types a line and Tab, and waits for the screen's last line to settle on `want`.
    let complete = |line: &str, want: &str| {
        tmux(&["send-keys", "C-u", line, "Tab"]);
        let start = Instant::now();
        loop {
            let screen = tmux(&["capture-pane", "-p"]);
            if screen.contains(want) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(10) {
                tmux(&["kill-server"]);
                panic!("zsh: `{line}<Tab>` never showed {want:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let s = complete("ctr-stop ", "> ctr-stop gk-up");
    assert!(!s.contains("gk-down"), "{s}");
    complete("ctr-start ", "> ctr-start gk-down");
    complete("ctr-stop --for", "> ctr-stop --force");
    complete("ctr-list --output=ta", "> ctr-list --output=table");
    complete("ctr-cp gk-u", "> ctr-cp gk-up:");
    tmux(&["kill-server"]);
    cleanup(&env);
}

#[test]
fn nushell_module() {
    require!("lxc");
    if !have("nu", "npm install -g nushell") {
        return;
    }
    let env = fleet();
    let module = Path::new(ROOT).join("completions/nushell/guestkit.nu");
    let script = format!(
        "source {m}
         print (nu-complete guestkit containers running | get value | to json -r)
         print (nu-complete guestkit containers stopped | get value | to json -r)
         print (scope commands | where name == ctr-stop | get 0.signatures.any | where parameter_name == name | get 0.completion | to json -r)
         print (ctr-list | from json --objects | where status == running | get name | to json -r)
         print (ctr-stop gk-up --timeout 5 | from json | get changed)
         print (nu-complete guestkit container-paths | get value | where ($it | str starts-with gk-) | sort | to json -r)",
        m = module.display()
    );
    let got = out(&env, "nu", &["--no-config-file", "-c", &script]);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "[\"gk-up\"]", "{got}");
    assert_eq!(lines[1], "[\"gk-down\"]", "{got}");
    assert!(
        lines[2].contains("nu-complete guestkit containers running"),
        "{got}"
    );
    assert_eq!(
        &lines[3..],
        ["[\"gk-up\"]", "true", "[\"gk-down:\",\"gk-up:\"]"],
        "{got}"
    );
    // The module also loads with `use`, as users load it.
    out(
        &env,
        "nu",
        &[
            "--no-config-file",
            "-c",
            &format!("use {} *; help ctr-exec | ignore", module.display()),
        ],
    );
    // And from a vendor autoload directory, where scripts/install puts it.
    let autoload = env.path().join("share/nushell/vendor/autoload");
    std::fs::create_dir_all(&autoload).unwrap();
    std::fs::copy(&module, autoload.join("guestkit.nu")).unwrap();
    let o = crate::common::output(
        env.shell("nu")
            .env("XDG_DATA_DIRS", env.path().join("share"))
            .args(["-e", "print (help ctr-stop | lines | first); exit"]),
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stop containers"),
        "autoload: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    cleanup(&env);
}
