//! Keeping the pool's other threads awake between fused calls.
//!
//! A training step makes four fused calls with serial work between them (the rest of burn's
//! graph, the optimiser, the next batch), and embedding makes one per batch. Rayon puts an
//! idle thread to sleep within microseconds; on the 2-core virtual machine of
//! docs/BENCHMARKS.md a sleeping thread woke up to 3.6 ms after a call had work for it, when
//! the call takes 2-3 ms, so one thread ran most of the call alone. After each call the pool's
//! other threads therefore spin until the next call starts, for [`SPIN`] at most, as OpenMP
//! runtimes do between parallel regions (Intel's `KMP_BLOCKTIME` is 200 ms).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a thread spins waiting for the next call.
pub(super) const SPIN: Duration = Duration::from_millis(5);

/// Parallel sections of fused calls started so far (in this process).
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` as one parallel section of a fused call: spinning threads stop spinning and take
/// part, and when it is done the pool's other threads spin until the next section starts.
pub(super) fn section<T>(f: impl FnOnce() -> T) -> T {
    STARTED.fetch_add(1, Ordering::AcqRel);
    let out = f();
    let seen = STARTED.load(Ordering::Acquire);
    for _ in 1..rayon::current_num_threads() {
        rayon::spawn(move || {
            spin_until_next(seen);
        });
    }
    out
}

/// Spins until a section after the `seen`-th starts (then `true`), or for [`SPIN`].
fn spin_until_next(seen: usize) -> bool {
    let start = Instant::now();
    loop {
        if STARTED.load(Ordering::Acquire) != seen {
            return true;
        }
        if start.elapsed() >= SPIN {
            return false;
        }
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spinning thread stops because the next section started, not because its time ran
    /// out.
    #[test]
    fn a_spinning_thread_stops_when_the_next_section_starts() {
        let seen = STARTED.load(Ordering::Acquire);
        let spinner = std::thread::spawn(move || spin_until_next(seen));
        section(|| ());
        assert!(spinner.join().unwrap(), "the spin ran out instead");
    }
}
