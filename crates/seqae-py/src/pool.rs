//! `n_threads`: the rayon pool that runs training, embedding and clustering (the calls run on
//! one of its threads).
use std::sync::{Arc, Mutex};

use pyo3::PyResult;
use pyo3::exceptions::PyRuntimeError;
use rayon::ThreadPool;

use crate::errors;

/// Pools built so far, one per size, kept for the life of the process (threads are not
/// started again on every call).
static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());

/// The pool of `n` threads (0: rayon's default, one per CPU or `RAYON_NUM_THREADS`).
fn pool(n: usize) -> PyResult<Arc<ThreadPool>> {
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, p)) = pools.iter().find(|(size, _)| *size == n) {
        return Ok(p.clone());
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("seqae-{i}"))
        .build()
        .map_err(|e| {
            let n = if n == 0 {
                "rayon's default number of".into()
            } else {
                n.to_string()
            };
            PyRuntimeError::new_err(format!("cannot start {n} threads: {e}"))
        })?;
    let p = Arc::new(p);
    pools.push((n, p.clone()));
    Ok(p)
}

/// Checks an `n_threads` value: `None` (as many threads as rayon's global pool: one per CPU, or
/// `RAYON_NUM_THREADS`, as the CLI) or at least 1.
pub fn check(n_threads: Option<i64>) -> PyResult<Option<usize>> {
    match n_threads {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as usize)),
        Some(n) => Err(errors::value(format!(
            "n_threads = {n}: must be None (one per CPU) or at least 1"
        ))),
    }
}

/// Runs `f` on a thread of the pool of `n_threads` threads (for `None`, as many as rayon's
/// global pool has: one per CPU, or `RAYON_NUM_THREADS`), catching panics. Call it without the
/// GIL. (`f` runs inside the pool, so that it starts each parallel section itself instead of
/// waking sleeping threads from outside, as the CLI's pool does.)
pub fn run<T: Send>(
    n_threads: Option<usize>,
    f: impl FnOnce() -> PyResult<T> + Send,
) -> PyResult<T> {
    // (0: rayon's default size.)
    let p = pool(n_threads.unwrap_or(0))?;
    p.install(|| errors::guard(f))
}
