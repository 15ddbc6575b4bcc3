//! The buffers the workers of a pass fill: [`Filling`], allocated without zeroing, written
//! through [`Shared`] handles in disjoint ranges, and checked in test and debug builds to have
//! been written in full before they are read.
use std::marker::PhantomData;
#[cfg(any(debug_assertions, test))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// A handle through which the workers write disjoint ranges of one [`Filling`]; it borrows the
/// buffer, so the buffer outlives every handle.
#[derive(Clone, Copy)]
pub(super) struct Shared<'a> {
    ptr: *mut f32,
    /// Values the allocation holds.
    len: usize,
    /// Values written so far (test and debug builds).
    #[cfg(any(debug_assertions, test))]
    written: &'a AtomicUsize,
    _buffer: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `Shared` is a pointer into a buffer that it borrows mutably for `'a`; the workers
// that hold copies only write through `put` and `range_ptr`, whose contract is that no two of
// them touch the same range, so sending or sharing the handle between threads creates no
// data race.
unsafe impl Send for Shared<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Shared<'_> {}

impl Shared<'_> {
    /// Copies `src` to `at..at + src.len()` (inlined, so that a copy of known length
    /// becomes a few vector moves instead of a call). A range past the end panics.
    ///
    /// # Safety
    /// No other worker may touch the range meanwhile.
    #[inline(always)]
    pub(super) unsafe fn put(&self, at: usize, src: &[f32]) {
        assert!(at + src.len() <= self.len, "write past the buffer");
        #[cfg(any(debug_assertions, test))]
        self.written.fetch_add(src.len(), Ordering::Relaxed);
        // SAFETY: the range is inside the allocation (checked above) and, by the caller's
        // contract, written by this worker alone; `src` is a distinct borrow.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.add(at), src.len()) }
    }

    /// The start of `at..at + len`, for a caller that stores its values there straight from
    /// vector registers (no copy through the stack). A range past the end panics.
    ///
    /// # Safety
    /// As [`Shared::put`]; the caller writes every value of the range and nothing beyond it.
    #[inline(always)]
    pub(super) unsafe fn range_ptr(&self, at: usize, len: usize) -> *mut f32 {
        assert!(at + len <= self.len, "write past the buffer");
        #[cfg(any(debug_assertions, test))]
        self.written.fetch_add(len, Ordering::Relaxed);
        // SAFETY: `at` is inside the allocation (checked above).
        unsafe { self.ptr.add(at) }
    }
}

/// A buffer of `len` values that workers fill, all of them, before it is read: allocated
/// without zeroing (zero-filling the activations cost several percent of a training step).
pub(super) struct Filling {
    data: Vec<f32>,
    len: usize,
    #[cfg(any(debug_assertions, test))]
    written: AtomicUsize,
}

impl Filling {
    pub(super) fn new(len: usize) -> Filling {
        Filling {
            data: Vec::with_capacity(len),
            len,
            #[cfg(any(debug_assertions, test))]
            written: AtomicUsize::new(0),
        }
    }

    /// A handle for the workers.
    pub(super) fn shared(&mut self) -> Shared<'_> {
        Shared {
            ptr: self.data.as_mut_ptr(),
            len: self.len,
            #[cfg(any(debug_assertions, test))]
            written: &self.written,
            _buffer: PhantomData,
        }
    }

    /// The filled buffer. Test and debug builds panic unless exactly `len` values were
    /// written.
    ///
    /// # Safety
    /// Every one of the `len` values has been written through [`Filling::shared`].
    pub(super) unsafe fn finish(mut self) -> Vec<f32> {
        #[cfg(any(debug_assertions, test))]
        assert_eq!(
            self.written.load(Ordering::Relaxed),
            self.len,
            "a buffer was read before every value was written"
        );
        // SAFETY: the capacity is `len` and, by the caller's contract, all `len` values are
        // initialised.
        unsafe { self.data.set_len(self.len) };
        self.data
    }
}

/// `rows` rows of `width` values from the front of `src`, each padded with zeros to `padded`
/// (the layout the workers carry states in; [`put_rows`] is the way back).
pub(super) fn padded_rows(src: &[f32], rows: usize, (width, padded): (usize, usize)) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * padded];
    for (dst, row) in out.chunks_exact_mut(padded).zip(src.chunks_exact(width)) {
        dst[..width].copy_from_slice(row);
    }
    out
}

/// Copies the first `width` values of each row of `src` (rows of `stride`) to consecutive
/// rows of `width` at `at`.
///
/// # Safety
/// As [`Shared::put`], for the whole range written.
pub(super) unsafe fn put_rows(
    dst: Shared<'_>,
    at: usize,
    src: &[f32],
    (stride, width): (usize, usize),
) {
    // SAFETY: each `put` writes part of the caller's range, which it owns.
    unsafe {
        if stride == width {
            dst.put(at, src);
        } else {
            for (b, row) in src.chunks_exact(stride).enumerate() {
                dst.put(at + b * width, &row[..width]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fully_written_buffer_is_returned() {
        let mut f = Filling::new(4);
        let s = f.shared();
        // SAFETY: one writer, ranges inside the buffer.
        unsafe {
            s.put(0, &[1.0, 2.0]);
            s.put(2, &[3.0, 4.0]);
        }
        // SAFETY: all four values were written.
        assert_eq!(unsafe { f.finish() }, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    #[should_panic(expected = "before every value was written")]
    fn a_partly_written_buffer_is_refused() {
        let mut f = Filling::new(4);
        // SAFETY: one writer, a range inside the buffer.
        unsafe { f.shared().put(0, &[1.0]) };
        // SAFETY: deliberately broken contract; the check panics before `set_len`.
        let _ = unsafe { f.finish() };
    }

    #[test]
    #[should_panic(expected = "write past the buffer")]
    fn a_write_past_the_end_panics() {
        let mut f = Filling::new(2);
        // SAFETY: the bounds check panics before anything is written.
        unsafe { f.shared().put(1, &[1.0, 2.0]) };
    }
}
