//! The tools on a terminal: the picker an action tool offers when given no
//! targets, and the question a destructive verb asks before acting on more
//! than one guest. Driven in a real terminal (tmux), as a person would.

use crate::common::{Term, TestEnv};
use crate::require;

/// Names of the containers in `status`, one per line.
fn names(env: &TestEnv, status: &str) -> String {
    env.stdout("ctr-list", &["-o", "name", "--status", status])
}

/// Ctrl-C at a question: nothing is done, the screen is tidied, exit 130.
fn interrupt(t: &Term) {
    t.send(&["C-c"]);
    let s = t.wait("rc=130");
    assert!(s.contains(": interrupted; nothing was done\nrc=130"), "{s}");
}

fn fleet() -> TestEnv {
    let env = TestEnv::new();
    for name in ["gk-a", "gk-b"] {
        env.ok("ctr-create", &["-b", "crun", name, "--", "sleep", "1000"]);
    }
    env.ok(
        "ctr-create",
        &["-b", "crun", "gk-up", "--start", "--", "sleep", "1000"],
    );
    env
}

#[test]
fn the_picker_offers_what_the_verb_applies_to_and_acts_on_the_choice() {
    require!("crun");
    let env = fleet();
    let Some(t) = Term::new(&env) else { return };
    t.command("ctr-start -o json");
    let s = t.wait("Start which containers?");
    assert!(s.contains("gk-a") && s.contains("gk-b"), "{s}");
    assert!(
        !s.contains("gk-up"),
        "a running container is offered to start: {s}"
    );
    // Type to filter, choose the one left, act.
    t.send(&["b"]);
    t.wait("Start which containers? b");
    let s = t.screen();
    assert!(!s.contains("gk-a"), "the filter left gk-a in: {s}");
    t.send(&["Space"]);
    t.send(&["Enter"]);
    let s = t.wait("rc=0");
    assert!(s.contains(r#""name":"gk-b""#), "{s}");
    assert_eq!(names(&env, "running"), "gk-b\ngk-up\n");

    // Esc does nothing, and says so.
    t.clear();
    t.command("ctr-stop");
    let s = t.wait("Stop which containers?");
    assert!(
        s.contains("gk-b") && s.contains("gk-up") && !s.contains("gk-a"),
        "{s}"
    );
    t.send(&["Escape"]);
    let s = t.wait("rc=1");
    assert!(s.contains("ctr-stop: cancelled; nothing was done"), "{s}");
    assert_eq!(names(&env, "running"), "gk-b\ngk-up\n");

    // Enter with nothing chosen does nothing either.
    t.clear();
    t.command("ctr-stop");
    t.wait("Stop which containers?");
    t.send(&["Enter"]);
    let s = t.wait("rc=1");
    assert!(s.contains("no container chosen; nothing was done"), "{s}");

    // With nothing to offer, it says what it looked for.
    t.clear();
    t.command("ctr-resume");
    let s = t.wait("rc=3");
    assert!(
        s.contains("ctr-resume: no paused containers to thaw"),
        "{s}"
    );

    // Ctrl-C ends it as SIGINT does.
    t.clear();
    t.command("ctr-stop");
    t.wait("Stop which containers?");
    interrupt(&t);
    assert_eq!(names(&env, "running"), "gk-b\ngk-up\n");
}

#[test]
fn a_destructive_verb_asks_before_acting_on_more_than_one() {
    require!("crun");
    let env = fleet();
    let Some(t) = Term::new(&env) else { return };
    // Declined: nothing is done.
    t.command("ctr-delete gk-a gk-b");
    let s = t.wait("Delete these 2 containers?");
    assert!(
        s.contains("ctr-delete: delete 2 containers:\n  gk-a\n  gk-b\n"),
        "{s}"
    );
    t.send(&["n", "Enter"]);
    let s = t.wait("rc=1");
    assert!(
        s.contains("ctr-delete: not confirmed; nothing was done"),
        "{s}"
    );
    assert!(s.contains("hint: --yes acts without asking"), "{s}");
    assert_eq!(names(&env, "stopped"), "gk-a\ngk-b\n");

    // Ctrl-C: the same, as an interruption.
    t.clear();
    t.command("ctr-kill gk-up gk-a");
    t.wait("Kill these 2 containers?");
    interrupt(&t);
    assert_eq!(names(&env, "running"), "gk-up\n");

    // Confirmed: done.
    t.clear();
    t.command("ctr-delete -o json gk-a gk-b");
    t.wait("Delete these 2 containers?");
    t.send(&["y", "Enter"]);
    let s = t.wait("rc=0");
    assert!(
        s.contains(
            r#""name":"gk-b","backend":"crun","kind":"container","action":"delete","ok":true"#
        ),
        "{s}"
    );
    assert_eq!(names(&env, "stopped"), "");

    // --yes, one target, a dry run and a plain stop ask nothing.
    env.ok("ctr-create", &["-b", "crun", "gk-c", "--", "sleep", "1000"]);
    for line in [
        "ctr-stop --force --dry-run gk-up gk-c",
        "ctr-stop gk-up gk-c",
        "ctr-delete gk-c",
    ] {
        t.clear();
        t.command(&format!("{line} >/dev/null"));
        let s = t.wait("rc=0");
        assert!(!s.contains("these"), "{line} asked: {s}");
    }
    env.ok("ctr-start", &["gk-up"]);
    env.ok("ctr-create", &["-b", "crun", "gk-d", "--", "sleep", "1000"]);
    t.clear();
    t.command("ctr-delete --force --yes gk-up gk-d >/dev/null");
    let s = t.wait("rc=0");
    assert!(!s.contains("these"), "--yes asked: {s}");
    assert_eq!(names(&env, "running") + &names(&env, "stopped"), "");
}
