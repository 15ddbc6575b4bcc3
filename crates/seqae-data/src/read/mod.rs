//! Readers: one module per file format, chosen by extension, and folders of files.
//!
//! | extension | format |
//! |---|---|
//! | `.ts` | sktime/aeon `.ts` ([`ts`]) |
//! | `.tsv` | UCR archive: label, then values, tab-separated ([`tsv`]) |
//! | `.csv` | wide CSV, one sequence per row ([`csv`]); long CSV with [`Format::CsvLong`] |
//! | `.npy` | NumPy array `[n, T]` or `[n, T, C]`, f32 or f64 ([`npy`]) |
//!
//! In `.tsv`, `.csv` and `.npy` data, `NaN` (or an empty cell) at the end of a sequence is
//! padding that ends the sequence early, as in the UCR archive's variable-length datasets; a
//! `NaN` before the end is a missing value, accepted only with [`ReadOptions::allow_missing`].
//! In `.ts` files the `@missing` header decides.
pub mod csv;
pub mod npy;
pub mod ts;
pub mod tsv;

use crate::error::{DataError, Result};
use crate::sequence::SequenceSet;
use std::path::{Path, PathBuf};

/// A file format that seqae reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// sktime/aeon `.ts`.
    Ts,
    /// UCR `.tsv`: label then values on each line.
    Tsv,
    /// Wide CSV: one sequence per row.
    Csv,
    /// Long CSV: one time step per row (id, time, one column per channel).
    CsvLong,
    /// NumPy `.npy`.
    Npy,
}

impl Format {
    /// The format that a file's extension implies, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "ts" => Some(Format::Ts),
            "tsv" => Some(Format::Tsv),
            "csv" => Some(Format::Csv),
            "npy" => Some(Format::Npy),
            _ => None,
        }
    }
}

crate::named_enum!(Format, "data format", {
    Ts => "ts",
    Tsv => "tsv" | "ucr",
    Csv => "csv" | "csv-wide" | "wide",
    CsvLong => "csv-long" | "long",
    Npy => "npy",
});

/// A CSV column, by header name or by 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The column whose header cell is this name.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl Column {
    /// A column from user text: a whole number is an index, anything else a name.
    pub fn parse(text: &str) -> Column {
        match text.parse::<usize>() {
            Ok(i) => Column::Index(i),
            Err(_) => Column::Name(text.to_string()),
        }
    }
}

/// How to read a file; the defaults suit every format.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The format, overriding the file extension.
    pub format: Option<Format>,
    /// Accept `NaN` (and empty cells) inside sequences as missing values (`.tsv`, `.csv`,
    /// `.npy`; `.ts` files declare this with `@missing`).
    pub allow_missing: bool,
    /// CSV: whether the first row is a header; `None` detects it (a row with a non-numeric
    /// value cell is a header).
    pub header: Option<bool>,
    /// CSV: the label column. Default: a header column named `label` or `class`, if any.
    pub label_column: Option<Column>,
    /// CSV: the id column. Default: a header column named `id` (long CSV: else column 0).
    pub id_column: Option<Column>,
    /// Long CSV: the time column. Default: a header column named `time` (else column 1).
    pub time_column: Option<Column>,
    /// CSV: the field delimiter (default `,`).
    pub delimiter: Option<u8>,
}

/// File extensions that a folder listing picks up.
pub const DATA_EXTENSIONS: [&str; 4] = ["ts", "tsv", "csv", "npy"];

/// Reads a dataset file, or every dataset file in a folder merged into one set (`NAME_TRAIN`
/// before `NAME_TEST`, as the UCR clustering protocol merges splits).
pub fn read_path(path: impl AsRef<Path>, options: &ReadOptions) -> Result<SequenceSet> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.is_dir() {
        read_folder(path, options)
    } else {
        read_file(path, options)
    }
}

/// Reads one file in the format of `options.format`, else of its extension.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => {
            return Err(DataError::file(
                path,
                "unknown file type: expected .ts, .tsv, .csv or .npy (or name the format)",
            ));
        }
    };
    match format {
        Format::Ts => ts::read(path, options),
        Format::Tsv => tsv::read(path, options),
        Format::Csv => csv::read_wide(path, options),
        Format::CsvLong => csv::read_long(path, options),
        Format::Npy => npy::read(path, options),
    }
}

/// A dataset handed out a chunk of sequences at a time, in order (see [`read_chunks`]).
pub struct Chunks {
    source: Source,
    size: usize,
}

enum Source {
    /// An `.npy` file, streamed from disk.
    Npy(npy::Stream),
    /// Any other input, read whole and handed out as one chunk.
    Whole(Option<SequenceSet>),
}

impl Chunks {
    /// The next chunk, or `None` after the last.
    pub fn next_chunk(&mut self) -> Result<Option<SequenceSet>> {
        match &mut self.source {
            Source::Npy(s) => s.next_chunk(self.size),
            Source::Whole(set) => Ok(set.take()),
        }
    }
}

/// Reads a dataset (as [`read_path`]) in chunks of at most `size` sequences, so that a job
/// that handles sequences one by one (embedding) holds one chunk at a time: an `.npy` file
/// streams from disk; every other input is read whole and handed out as one chunk. Each
/// chunk numbers its sequences from 0 and, from an `.npy` file, has no ids.
pub fn read_chunks(path: impl AsRef<Path>, options: &ReadOptions, size: usize) -> Result<Chunks> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let format = options.format.or_else(|| Format::from_path(path));
    let source = if !meta.is_dir() && format == Some(Format::Npy) {
        Source::Npy(npy::Stream::open(path, options)?)
    } else {
        Source::Whole(Some(read_path(path, options)?))
    };
    Ok(Chunks { source, size })
}

fn read_folder(dir: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let files = dataset_files(dir)?;
    let mut merged: Option<(PathBuf, SequenceSet)> = None;
    for file in files {
        let set = read_file(&file, options)?;
        merged = Some(match merged {
            None => (file, set),
            Some((first, acc)) => {
                if acc.channels() != set.channels() {
                    return Err(DataError::file(
                        &file,
                        format!(
                            "has {} channels but {} has {}",
                            set.channels(),
                            first.display(),
                            acc.channels()
                        ),
                    ));
                }
                if acc.labels().is_some() != set.labels().is_some() {
                    return Err(DataError::file(
                        &file,
                        format!(
                            "is {} but {} is {}: merge labelled files only with labelled files",
                            labelled(&set),
                            first.display(),
                            labelled(&acc)
                        ),
                    ));
                }
                (first, acc.concat(set)?)
            }
        });
    }
    Ok(merged.expect("dataset_files returns at least one file").1)
}

fn labelled(set: &SequenceSet) -> &'static str {
    if set.labels().is_some() {
        "labelled"
    } else {
        "unlabelled"
    }
}

/// The dataset files in `dir`, in merge order: grouped by name with `_TRAIN` before `_TEST`.
pub fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        if Format::from_path(&path).is_none() {
            continue;
        }
        // A data file by its name that cannot be read (a broken link, a FIFO, a folder) is an
        // error, not a file left out of the dataset.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => files.push(path),
            Ok(_) => {
                return Err(DataError::file(
                    &path,
                    "not a regular file (a data file in the folder must be readable)",
                ));
            }
            Err(e) => return Err(DataError::io(&path, e)),
        }
    }
    if files.is_empty() {
        return Err(DataError::file(
            dir,
            "folder holds no dataset file (.ts, .tsv, .csv or .npy)",
        ));
    }
    files.sort_by_key(|p| split_rank(p));
    Ok(files)
}

/// Sort key: (name without its split, 0 for TRAIN / 1 other / 2 for TEST, file name).
fn split_rank(path: &Path) -> (String, u8, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let upper = stem.to_ascii_uppercase();
    for (suffix, rank) in [("_TRAIN", 0), ("_TEST", 2)] {
        if let Some(base) = upper.strip_suffix(suffix) {
            return (base.to_string(), rank, name);
        }
    }
    (upper, 1, name)
}

/// The longest line a text reader accepts. A longer one means the file is not a text data file
/// (reading `/dev/zero` as `.ts` would otherwise grow memory without limit).
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Reads a text data file: UTF-8, a leading byte-order mark dropped, no line longer than
/// [`MAX_LINE_BYTES`] (checked while reading, so an endless line stops there).
pub fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let (mut line, mut line_start) = (1usize, 0usize);
    loop {
        let got = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DataError::io(path, e)),
        };
        let base = bytes.len();
        bytes.extend_from_slice(&chunk[..got]);
        for (i, _) in chunk[..got]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
        {
            line += 1;
            line_start = base + i + 1;
        }
        if bytes.len() - line_start > MAX_LINE_BYTES {
            return Err(DataError::parse(
                path,
                Some(line),
                None,
                format!(
                    "line longer than {} MiB: not a text data file?",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
    }
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    bytes.drain(..start);
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = e.as_bytes();
        let line = 1 + text[..at].iter().filter(|b| **b == b'\n').count();
        DataError::parse(
            path,
            Some(line),
            None,
            "not UTF-8 text: a binary file, or another text encoding",
        )
    })?;
    Ok(unix_line_endings(text))
}

/// `text` with old Mac line endings (a lone CR) turned into LF, so that every reader sees
/// lines; CRLF is left alone (`str::lines` handles it).
fn unix_line_endings(text: String) -> String {
    let b = text.as_bytes();
    let lone_cr = (0..b.len()).any(|i| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n'));
    if !lone_cr {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Parses one value cell: a number, or (`?`, `NaN`, empty) as a missing value (`NaN`).
/// Infinite and out-of-range values are refused.
pub(crate) fn parse_value(cell: &str) -> std::result::Result<f32, String> {
    let t = cell.trim();
    if t.is_empty() || t == "?" || t.eq_ignore_ascii_case("nan") {
        return Ok(f32::NAN);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && (v as f32).is_finite() => Ok(v as f32),
        Ok(_) => Err(format!("value '{t}' is infinite or too large for f32")),
        Err(_) => Err(format!("expected a number, found '{t}'")),
    }
}

/// Drops trailing steps whose values are all `NaN` (UCR padding) from a step-major sequence.
pub(crate) fn trim_padding(values: &mut Vec<f32>, channels: usize) {
    while values.len() >= channels && values[values.len() - channels..].iter().all(|v| v.is_nan()) {
        values.truncate(values.len() - channels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_by_extension_and_name() {
        assert_eq!(
            Format::from_path(Path::new("a/B_TRAIN.ts")),
            Some(Format::Ts)
        );
        assert_eq!(Format::from_path(Path::new("x.NPY")), Some(Format::Npy));
        assert_eq!(Format::from_path(Path::new("x.txt")), None);
        assert_eq!("csv-long".parse::<Format>().unwrap(), Format::CsvLong);
        assert!("xlsx".parse::<Format>().is_err());
    }

    #[test]
    fn values_and_padding() {
        assert_eq!(parse_value(" 1.5 ").unwrap(), 1.5);
        assert!(parse_value("?").unwrap().is_nan());
        assert!(parse_value("inf").is_err());
        assert!(parse_value("1e300").is_err());
        assert!(parse_value("abc").unwrap_err().contains("abc"));
        let mut v = vec![1.0, f32::NAN, f32::NAN, f32::NAN];
        trim_padding(&mut v, 2);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn train_sorts_before_test() {
        let mut v = [
            PathBuf::from("d/X_TEST.ts"),
            PathBuf::from("d/A.csv"),
            PathBuf::from("d/X_TRAIN.ts"),
        ];
        v.sort_by_key(|p| split_rank(p));
        assert_eq!(v[0], PathBuf::from("d/A.csv"));
        assert_eq!(v[1], PathBuf::from("d/X_TRAIN.ts"));
        assert_eq!(v[2], PathBuf::from("d/X_TEST.ts"));
    }

    #[test]
    fn missing_file_and_empty_folder() {
        let e = read_path("no/such/file.ts", &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no/such/file.ts"));
        let dir = tempfile::tempdir().unwrap();
        let e = read_path(dir.path(), &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no dataset file"));
        let unknown = dir.path().join("x.xlsx");
        std::fs::write(&unknown, "1,2").unwrap();
        let e = read_path(&unknown, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("unknown file type"));
    }
}
