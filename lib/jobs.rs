//! Runs independent targets on a bounded number of threads, handing results
//! back in input order so output stays one line per target, as given, and
//! each line comes as soon as it and those before it are done.
//!
//! A slot per target and one condition variable, rather than a channel:
//! std's channels are several times the code, and every tool binary carries
//! this. When the system refuses a thread (a task limit), the workers that
//! did start carry on, and with none the targets run one by one here.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// Runs `work` on every item, up to `jobs` at a time (at least one, at
/// most one per item), and calls `emit` on this thread with each item and
/// its result, in input order, as soon as it and those before it are
/// done. With one job, all runs here. A panic in `work` stops the emitting
/// and is passed on to the caller.
pub fn run_ordered<T, R>(
    items: Vec<T>,
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(&T, R),
) where
    T: Sync,
    R: Send,
{
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        for item in &items {
            let r = work(item);
            emit(item, r);
        }
        return;
    }
    let slots: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let filled = Condvar::new();
    let next = AtomicUsize::new(0);
    // Set by a worker that panics, so the loop below stops waiting for it
    // (the scope then passes the panic on).
    let broken = AtomicBool::new(false);
    let lock = || slots.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::scope(|s| {
        let worker = || {
            let guard = Broken(&broken, &filled);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = work(&items[i]);
                lock()[i] = Some(r);
                filled.notify_one();
            }
            std::mem::forget(guard);
        };
        let started = (0..jobs)
            .filter(|_| std::thread::Builder::new().spawn_scoped(s, worker).is_ok())
            .count();
        if started == 0 {
            worker();
        }
        for (i, item) in items.iter().enumerate() {
            let mut done = lock();
            let r = loop {
                if let Some(r) = done[i].take() {
                    break Some(r);
                }
                if broken.load(Ordering::Relaxed) {
                    break None;
                }
                done = filled.wait(done).unwrap_or_else(PoisonError::into_inner);
            };
            drop(done);
            match r {
                Some(r) => emit(item, r),
                None => return,
            }
        }
    });
}

/// Dropped only when its worker unwinds: says so, and wakes the emitter.
struct Broken<'a>(&'a AtomicBool, &'a Condvar);

impl Drop for Broken<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        self.1.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_order() {
        let items: Vec<u64> = (0..50).collect();
        let mut seen = Vec::new();
        super::run_ordered(
            items,
            8,
            |&i| {
                std::thread::sleep(std::time::Duration::from_millis((50 - i) % 7));
                i * 2
            },
            |&i, r| seen.push((i, r)),
        );
        assert_eq!(seen, (0..50).map(|i| (i, i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_worker_ends_the_run_with_its_panic() {
        let r = std::panic::catch_unwind(|| {
            super::run_ordered(
                (0..20).collect::<Vec<u32>>(),
                4,
                |&i| {
                    assert!(i != 7, "worker panics on 7");
                    i
                },
                |_, _| {},
            )
        });
        assert!(r.is_err());
    }
}
