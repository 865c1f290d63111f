//! Deferring Ctrl-C (and TERM, HUP) while a tool has something to clean up.
//! A handler, not SIG_IGN: ignored signals stay ignored across exec, and the
//! children (tar, cp, the runtimes) must still die of Ctrl-C so that the
//! tool notices, removes what it made, and only then exits.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// From now on INT, TERM and HUP are noted instead of ending the process.
pub fn defer() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                sig,
                note as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    }
}

/// Whether one of them arrived since `defer`.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}
