//! The UCR archive's `.tsv` format: one sequence per line, the class label first, then the
//! values, tab-separated. Trailing `NaN` values pad shorter sequences.
use super::{ReadOptions, parse_value, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::path::Path;

/// Reads a UCR `.tsv` file.
pub fn read(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let text = super::read_text(path)?;
    parse(path, &text, options)
}

/// Parses UCR `.tsv` text; `path` only names the source in errors.
pub fn parse(path: &Path, text: &str, options: &ReadOptions) -> Result<SequenceSet> {
    if text.trim().is_empty() {
        return Err(DataError::file(path, "empty file"));
    }
    let mut b = SequenceSetBuilder::new(1);
    for (i, line) in text.lines().enumerate() {
        let no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |field: Option<String>, msg: String| DataError::parse(path, Some(no), field, msg);
        let mut cells = line.split('\t');
        let label = cells.next().unwrap_or("").trim().to_string();
        if label.is_empty() {
            return Err(err(
                Some("column 1 (label)".into()),
                "empty class label".into(),
            ));
        }
        let mut values = Vec::new();
        for (j, cell) in cells.enumerate() {
            let v = parse_value(cell).map_err(|m| err(Some(format!("column {}", j + 2)), m))?;
            values.push(v);
        }
        if values.is_empty() {
            let hint = if line.contains(',') {
                " (this file looks comma-separated: use .csv)"
            } else {
                ""
            };
            return Err(err(
                None,
                format!("expected a label and tab-separated values{hint}"),
            ));
        }
        trim_padding(&mut values, 1);
        if values.is_empty() {
            return Err(err(None, "sequence has no values (zero length)".into()));
        }
        if !options.allow_missing
            && let Some(j) = values.iter().position(|v| v.is_nan())
        {
            return Err(err(
                Some(format!("column {}", j + 2)),
                "missing value (NaN); allow missing values to accept it".into(),
            ));
        }
        b.push(&values, Some(label), None)
            .map_err(|e| err(None, e.to_string()))?;
    }
    if b.is_empty() {
        return Err(DataError::file(path, "no sequences"));
    }
    b.finish().map_err(|e| DataError::file(path, e.to_string()))
}
