//! NumPy `.npy` arrays: `[n, T]` (univariate) or `[n, T, C]`, `f32` or `f64`, C or Fortran
//! order. Trailing all-`NaN` steps pad shorter sequences.
//!
//! [`Stream`] reads an array a few sequences at a time: in C order (NumPy's default) each
//! sequence's values lie together in the file, so only the sequences of one chunk are ever in
//! memory. A Fortran-order array interleaves every sequence, so it is decoded whole first.
use super::{ReadOptions, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Reads an `.npy` file. The header's shape is checked against the file's size before any
/// data is allocated, so a hostile header cannot exhaust memory.
pub fn read(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let mut stream = Stream::open(path, options)?;
    let set = stream.next_chunk(usize::MAX)?;
    Ok(set.expect("an opened array holds at least one sequence"))
}

/// The shape the header of the `.npy` file `path` declares.
pub fn shape(path: &Path) -> Result<Vec<u64>> {
    Ok(open_header(path)?.0.shape().to_vec())
}

/// Opens `path` and parses its `.npy` header.
fn open_header(path: &Path) -> Result<(npyz::NpyFile<BufReader<File>>, std::fs::Metadata)> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let meta = file.metadata().map_err(|e| DataError::io(path, e))?;
    if meta.is_file() && meta.len() == 0 {
        return Err(DataError::file(path, "empty file"));
    }
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| DataError::file(path, format!("not a readable .npy file: {e}")))?;
    Ok((npy, meta))
}

/// Where the data of the `.npy` file `path` starts: after the magic string, the version, the
/// header's length (2 bytes in version 1, 4 in versions 2 and 3) and the header.
fn data_offset(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut prefix = [0u8; 12];
    File::open(path)?.read_exact(&mut prefix)?;
    Ok(if prefix[6] == 1 {
        10 + u64::from(u16::from_le_bytes([prefix[8], prefix[9]]))
    } else {
        12 + u64::from(u32::from_le_bytes([
            prefix[8], prefix[9], prefix[10], prefix[11],
        ]))
    })
}

/// The values of an array, in file order or (Fortran order) decoded whole.
enum Values {
    F32(npyz::NpyReader<f32, BufReader<File>>),
    F64(npyz::NpyReader<f64, BufReader<File>>),
    /// Fortran order: every value, indexed `i + n * (t + T * c)`.
    Whole(Vec<f32>),
}

/// An `.npy` array read in chunks of sequences, in order.
pub struct Stream {
    path: PathBuf,
    values: Values,
    /// Sequences, steps per sequence, channels.
    n: usize,
    len: usize,
    channels: usize,
    /// The next sequence to read.
    next: usize,
    allow_missing: bool,
    /// Whether the header's sizes were checked against a regular file's size (so that
    /// reserving memory by them is safe).
    sized: bool,
}

impl Stream {
    /// Opens `path` and checks its header: dtype, dimensions, and a shape that fits the file.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Stream> {
        let (npy, meta) = open_header(path)?;
        let shape: Vec<u64> = npy.shape().to_vec();
        let dtype = match npy.dtype() {
            npyz::DType::Plain(t) => t.to_string(),
            other => format!("{other:?}"),
        };
        let item: u64 = match &dtype[1..] {
            "f4" => 4,
            "f8" => 8,
            _ => {
                return Err(DataError::file(
                    path,
                    format!("dtype {dtype}: expected float32 (<f4) or float64 (<f8)"),
                ));
            }
        };
        let (n, len, channels) = match shape[..] {
            [n, t] => (n, t, 1),
            [n, t, c] => (n, t, c),
            _ => {
                return Err(DataError::file(
                    path,
                    format!(
                        "array of shape {shape:?}: expected 2 dimensions [n, T] or 3 [n, T, C]"
                    ),
                ));
            }
        };
        let count = n
            .checked_mul(len)
            .and_then(|x| x.checked_mul(channels))
            .filter(|x| x.checked_mul(item).is_some_and(|b| b <= isize::MAX as u64));
        let Some(count) = count else {
            return Err(DataError::file(
                path,
                format!("array of shape {shape:?} is larger than any file: corrupt header?"),
            ));
        };
        if meta.is_file() && count * item > meta.len() {
            return Err(DataError::file(
                path,
                format!(
                    "header declares shape {shape:?} ({} bytes of data) but the file has {} bytes",
                    count * item,
                    meta.len()
                ),
            ));
        }
        if meta.is_file() {
            let offset = data_offset(path).map_err(|e| DataError::io(path, e))?;
            let extra = meta.len().saturating_sub(offset + count * item);
            if extra > 0 {
                return Err(DataError::file(
                    path,
                    format!(
                        "{extra} bytes after the data of shape {shape:?}: the file is not one array (truncated header, or something appended)"
                    ),
                ));
            }
        }
        if n == 0 {
            return Err(DataError::file(path, "no sequences (n = 0)"));
        }
        if len == 0 || channels == 0 {
            return Err(DataError::file(
                path,
                format!("array of shape {shape:?} holds zero-length sequences"),
            ));
        }
        let fortran = npy.order() == npyz::Order::Fortran;
        let bad_dtype = |e: npyz::DTypeError| DataError::file(path, e.to_string());
        let values = if item == 4 {
            Values::F32(npy.data::<f32>().map_err(bad_dtype)?)
        } else {
            Values::F64(npy.data::<f64>().map_err(bad_dtype)?)
        };
        let mut stream = Stream {
            path: path.to_path_buf(),
            values,
            n: n as usize,
            len: len as usize,
            channels: channels as usize,
            next: 0,
            allow_missing: options.allow_missing,
            sized: meta.is_file(),
        };
        if fortran {
            // Pushed one by one (no reservation from the header) so that a stream shorter
            // than its header ends with an error, not a huge allocation.
            let mut all = Vec::new();
            while (all.len() as u64) < count {
                all.push(stream.value()?);
            }
            stream.values = Values::Whole(all);
        }
        Ok(stream)
    }

    /// Number of sequences in the array.
    pub fn sequences(&self) -> usize {
        self.n
    }

    /// Values per time step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The next at most `size` sequences (at least one), or `None` after the last.
    pub fn next_chunk(&mut self, size: usize) -> Result<Option<SequenceSet>> {
        if self.next >= self.n {
            return Ok(None);
        }
        let take = size.max(1).min(self.n - self.next);
        let mut b = SequenceSetBuilder::new(self.channels);
        if self.sized {
            b.reserve(take, take * self.len * self.channels);
        }
        let mut values = Vec::with_capacity(self.len * self.channels);
        for i in self.next..self.next + take {
            values.clear();
            for t in 0..self.len {
                for c in 0..self.channels {
                    let v = match &self.values {
                        Values::Whole(all) => all[i + self.n * (t + self.len * c)],
                        _ => self.value()?,
                    };
                    if v.is_infinite() {
                        return Err(DataError::parse(
                            &self.path,
                            None,
                            Some(format!("element [{i}, {t}, {c}]")),
                            "infinite value (or too large for f32)",
                        ));
                    }
                    values.push(v);
                }
            }
            self.push(&mut b, i, &mut values)?;
        }
        self.next += take;
        b.finish()
            .map(Some)
            .map_err(|e| DataError::file(&self.path, e.to_string()))
    }

    /// The next value in file order.
    fn value(&mut self) -> Result<f32> {
        let v = match &mut self.values {
            Values::F32(r) => r.next(),
            Values::F64(r) => r.next().map(|v| v.map(|v| v as f32)),
            Values::Whole(_) => None,
        };
        if let Some(Ok(v)) = v {
            return Ok(v);
        }
        // Values consumed so far (the one that failed included).
        let (consumed, total) = match &self.values {
            Values::F32(r) => (r.total_len() - r.len(), r.total_len()),
            Values::F64(r) => (r.total_len() - r.len(), r.total_len()),
            Values::Whole(all) => (all.len() as u64, all.len() as u64),
        };
        Err(DataError::file(
            &self.path,
            match v {
                Some(Err(e)) => format!(
                    "truncated or unreadable data after {} of {total} values: {e}",
                    consumed - 1
                ),
                _ => format!("truncated data: {consumed} of {total} values"),
            },
        ))
    }

    /// Trims sequence `i`'s padding, checks it and adds it to `b`.
    fn push(&self, b: &mut SequenceSetBuilder, i: usize, values: &mut Vec<f32>) -> Result<()> {
        trim_padding(values, self.channels);
        if values.is_empty() {
            return Err(DataError::parse(
                &self.path,
                None,
                Some(format!("sequence {i}")),
                "all values are NaN (zero length)",
            ));
        }
        if !self.allow_missing
            && let Some(k) = values.iter().position(|v| v.is_nan())
        {
            return Err(DataError::parse(
                &self.path,
                None,
                Some(format!(
                    "element [{i}, {}, {}]",
                    k / self.channels,
                    k % self.channels
                )),
                "missing value (NaN); allow missing values to accept it",
            ));
        }
        b.push(values, None, None)
            .map_err(|e| DataError::file(&self.path, e.to_string()))
    }
}
