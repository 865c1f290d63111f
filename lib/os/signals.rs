//! Deferring Ctrl-C (and TERM, HUP) while a tool has something to clean up.
//! A handler, not SIG_IGN: ignored signals stay ignored across exec, and the
//! children (tar, cp, the runtimes) must still die of Ctrl-C so that the
//! tool notices, removes what it made, and only then exits. Signals sent to
//! guestkit alone (TERM, HUP from `kill`) are passed on to the child it is
//! waiting for, as the terminal passes Ctrl-C to the whole process group.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A TERM or HUP not yet passed on: it came while no child was waited
/// for (between a child's start and `forward_to`, say). Whoever swaps it
/// out first (the handler, or `forward_to`) sends it, so it is sent once.
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // Ctrl-C reaches the children from the terminal, as the whole group's.
    if sig == libc::SIGINT {
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

/// From now on INT, TERM and HUP are noted instead of ending the process;
/// a signal that was ignored on entry (nohup) stays ignored.
pub fn defer() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: sigaction with a null new action only reads the current one;
        // the handler only touches atomics and calls kill(2).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            libc::signal(
                sig,
                note as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
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
