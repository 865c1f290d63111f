//! Deferring Ctrl-C (and TERM, HUP) while a tool has something to clean up.
//! A handler, not SIG_IGN: ignored signals stay ignored across exec, and the
//! children (tar, cp, the runtimes) must still die of Ctrl-C so that the
//! tool notices, removes what it made, and only then exits. Signals sent to
//! guestkit alone (TERM, HUP from `kill`) are passed on to the child it is
//! waiting for, as the terminal passes Ctrl-C to the whole process group.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
    let child = CHILD.load(Ordering::Relaxed);
    if child > 0 && sig != libc::SIGINT {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(child, sig) };
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
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The child to pass TERM and HUP on to while guestkit waits for it; 0 for none.
pub fn forward_to(pid: u32) {
    CHILD.store(pid as i32, Ordering::Relaxed);
}
