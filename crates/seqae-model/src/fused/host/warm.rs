//! Keeping the pool's other threads awake between fused calls.
//!
//! A training step makes one fused call per layer and direction each way, with serial work
//! between them (the rest of burn's graph, the optimiser, the next batch), and embedding one
//! per layer and direction per batch. Rayon puts an idle thread to sleep within microseconds;
//! on the 2-core virtual machine of docs/BENCHMARKS.md a sleeping thread woke up to 3.6 ms
//! after a call had work for it, when the call takes 2-3 ms, so one thread ran most of the call
//! alone. After each call the pool's other threads therefore spin until the next call starts,
//! for [`SPIN`] at most, as OpenMP runtimes do between parallel regions (Intel's
//! `KMP_BLOCKTIME` is 200 ms). They stop at once while another caller's call runs, and they do
//! not spin where the pool has more threads than the machine has CPUs (they would take a CPU
//! from the serial work they wait for). Other rayon work in those few milliseconds finds the
//! spinning threads busy.
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a thread spins waiting for the next call.
const SPIN: Duration = Duration::from_millis(5);

/// The sections of fused calls: how many have started and how many are running.
struct Sections {
    started: AtomicUsize,
    running: AtomicUsize,
}

/// This process's sections.
static SECTIONS: Sections = Sections::new();

/// Counts a running section down when it ends (also by a panic).
struct Running<'a>(&'a Sections);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Sections {
    const fn new() -> Sections {
        Sections {
            started: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        }
    }

    /// Marks a section as started and running until the guard is dropped.
    fn start(&self) -> Running<'_> {
        self.running.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::AcqRel);
        Running(self)
    }

    /// Sections started so far.
    fn seen(&self) -> usize {
        self.started.load(Ordering::Acquire)
    }

    /// Spins until a section after the `seen`-th starts or one is running (then `true`), or
    /// for `limit` (then `false`).
    fn spin_until_next(&self, seen: usize, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.seen() != seen || self.running.load(Ordering::Acquire) > 0 {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
    }
}

/// The CPUs this process may use, read once (the standard library reads the cgroup quota
/// files on every call).
fn cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `f` as one parallel section of a fused call: spinning threads stop spinning and take
/// part, and when it is done the pool's other threads spin until the next section starts.
pub(super) fn section<T>(f: impl FnOnce() -> T) -> T {
    let out = {
        let _running = SECTIONS.start();
        f()
    };
    let threads = rayon::current_num_threads();
    if threads <= cpus() {
        let seen = SECTIONS.seen();
        for _ in 1..threads {
            rayon::spawn(move || {
                SECTIONS.spin_until_next(seen, SPIN);
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// A thread that is spinning stops when the next section starts, long before its limit.
    #[test]
    fn a_spinning_thread_stops_when_the_next_section_starts() {
        let sections = Arc::new(Sections::new());
        let spinning = Arc::new(AtomicBool::new(false));
        let (s, flag) = (sections.clone(), spinning.clone());
        let spinner = std::thread::spawn(move || {
            let seen = s.seen();
            flag.store(true, Ordering::Release);
            s.spin_until_next(seen, Duration::from_secs(60))
        });
        while !spinning.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        drop(sections.start());
        assert!(spinner.join().unwrap(), "the spin ran out instead");
    }

    /// Without a next section the spin ends at its limit; while another section runs it does
    /// not start.
    #[test]
    fn a_spin_ends_at_its_limit_and_not_while_a_section_runs() {
        let sections = Sections::new();
        let seen = sections.seen();
        assert!(!sections.spin_until_next(seen, Duration::from_millis(1)));
        let running = sections.start();
        let seen = sections.seen();
        assert!(sections.spin_until_next(seen, Duration::from_secs(60)));
        drop(running);
        assert!(!sections.spin_until_next(seen, Duration::ZERO));
    }
}
