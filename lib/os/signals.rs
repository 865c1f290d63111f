//! Deferring Ctrl-C (and TERM, HUP) while a tool has something to clean up.
//! A handler, not SIG_IGN: ignored signals stay ignored across exec, and the
//! children (tar, cp, the runtimes) must still die of Ctrl-C so that the
//! tool notices, removes what it made, and only then exits. Signals sent to
//! guestkit alone (TERM, HUP from `kill`) are passed on to the child it is
//! waiting for, as the terminal passes Ctrl-C to the whole process group.
//!
//! The handlers are installed without SA_RESTART, so that a wait for a
//! child (`process::wait`) returns at each signal: a foreground run counts
//! Ctrl-C and escalates (a second stops the container, a third kills it).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// How many times Ctrl-C (SIGINT) came.
static INTERRUPTS: AtomicU32 = AtomicU32::new(0);
/// Whether the alarm set by `alarm_in` went off.
static ALARMED: AtomicBool = AtomicBool::new(false);
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A TERM or HUP not yet passed on: it came while no child was waited
/// for (between a child's start and `forward_to`, say). Whoever swaps it
/// out first (the handler, or `forward_to`) sends it, so it is sent once.
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(sig: libc::c_int) {
    // A child ended: only to wake `block_while_waiting`'s sigsuspend.
    if sig == libc::SIGCHLD {
        return;
    }
    if sig == libc::SIGALRM {
        ALARMED.store(true, Ordering::SeqCst);
        return;
    }
    INTERRUPTED.store(true, Ordering::SeqCst);
    // Ctrl-C reaches the children from the terminal, as the whole group's.
    if sig == libc::SIGINT {
        INTERRUPTS.fetch_add(1, Ordering::SeqCst);
        return;
    }
    PENDING.store(sig, Ordering::SeqCst);
    pass_on(CHILD.load(Ordering::SeqCst));
}

/// Sends the pending signal, if any, to `child`.
fn pass_on(child: i32) {
    if child > 0 {
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if sig != 0 {
            // SAFETY: kill(2) is async-signal-safe.
            unsafe { libc::kill(child, sig) };
        }
    }
}

/// Runs `f` with Ctrl-C (SIGINT) noted instead of ending the process, then
/// puts SIGINT's handling back as it was; and whether Ctrl-C came. For a
/// question read from a raw terminal, where Ctrl-C is a key that the
/// prompt library turns into SIGINT itself: noted, the question ends as an
/// error, so that the screen is tidied before the tool exits 130.
pub fn noting_interrupts<T>(f: impl FnOnce() -> T) -> (T, bool) {
    let before = interrupts();
    // SAFETY: an all-zero sigaction is a valid value to read into.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `old`.
    unsafe { libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) };
    handle(libc::SIGINT, true);
    let r = f();
    // SAFETY: puts back the action read above, unchanged.
    unsafe { libc::sigaction(libc::SIGINT, &old, std::ptr::null_mut()) };
    (r, interrupts() != before)
}

/// From now on INT, TERM and HUP are noted instead of ending the process;
/// a signal that was ignored on entry (nohup) stays ignored.
pub fn defer() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        handle(sig, false);
    }
}

/// Installs `note` for `sig`, unless it was ignored on entry and `always`
/// is false.
fn handle(sig: libc::c_int, always: bool) {
    // SAFETY: sigaction with a null new action only reads the current one;
    // the handler only touches atomics and calls kill(2). No SA_RESTART: a
    // blocking wait returns at the signal (see the module's comment).
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if !always
            && libc::sigaction(sig, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
        {
            return;
        }
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut new.sa_mask);
        libc::sigaction(sig, &new, std::ptr::null_mut());
    }
}

/// The signals a foreground wait is about, blocked until `unblock` gives
/// back the mask this returns: then they come only inside `sigsuspend`.
/// SIGCHLD gets a handler, so that a child's end wakes the wait.
pub fn block_while_waiting() -> libc::sigset_t {
    handle(libc::SIGCHLD, true);
    // SAFETY: building a signal set and changing this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [
            libc::SIGCHLD,
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGALRM,
        ] {
            libc::sigaddset(&mut set, sig);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

/// Gives back the mask `block_while_waiting` returned.
pub fn unblock(old: &mut libc::sigset_t) {
    // SAFETY: restoring this thread's own former mask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

/// How many times Ctrl-C came since `defer`.
pub fn interrupts() -> u32 {
    INTERRUPTS.load(Ordering::SeqCst)
}

/// Sets an alarm `secs` from now, which `alarmed` then tells of (and
/// which ends a `process::wait` as a signal does).
pub fn alarm_in(secs: u32) {
    handle(libc::SIGALRM, true);
    // SAFETY: alarm(2) has no preconditions.
    unsafe { libc::alarm(secs.max(1)) };
}

/// Whether the alarm set by `alarm_in` went off.
pub fn alarmed() -> bool {
    ALARMED.load(Ordering::SeqCst)
}

/// Whether one of them arrived since `defer`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The child to pass TERM and HUP on to while guestkit waits for it; 0 for
/// none. One that came since the child started, before this call, is
/// passed on now: a foreground run killed in that instant must still end.
pub fn forward_to(pid: u32) {
    CHILD.store(pid as i32, Ordering::SeqCst);
    pass_on(pid as i32);
}
