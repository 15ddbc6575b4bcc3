//! The sktime/aeon `.ts` format: `@` header lines, then `@data` and one sequence per line,
//! dimensions separated by `:`, values by `,`, the class label last, `?` for a missing value.
//! Lines starting with `#` or `%` are comments. Trailing all-missing steps are padding and
//! shorten the sequence; missing values before the end need [`ReadOptions::allow_missing`]
//! (and are refused when the header says `@missing false`).
use super::{ReadOptions, parse_value, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::path::Path;

/// What the header declares.
#[derive(Debug, Default)]
struct Header {
    missing: Option<bool>,
    univariate: Option<bool>,
    dimensions: Option<usize>,
    equal_length: Option<bool>,
    series_length: Option<usize>,
    class_labels: Option<Vec<String>>,
    target: bool,
}

/// The header keywords of the format (sktime's writer and aeon's reader).
const KEYWORDS: [&str; 10] = [
    "@problemName",
    "@timeStamps",
    "@missing",
    "@univariate",
    "@dimensions",
    "@equalLength",
    "@seriesLength",
    "@classLabel",
    "@targetLabel",
    "@data",
];

/// Reads a `.ts` file.
pub fn read(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let text = super::read_text(path)?;
    parse(path, &text, options)
}

/// Parses `.ts` text; `path` only names the source in errors.
pub fn parse(path: &Path, text: &str, options: &ReadOptions) -> Result<SequenceSet> {
    if text.trim().is_empty() {
        return Err(DataError::file(path, "empty file"));
    }
    let err = |line: usize, field: Option<String>, msg: String| {
        DataError::parse(path, Some(line), field, msg)
    };
    let mut header = Header::default();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let mut found_data = false;
    for (no, line) in lines.by_ref() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if !line.starts_with('@') {
            return Err(err(
                no,
                None,
                "expected a header line (@...) or @data before the data".into(),
            ));
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or("").to_ascii_lowercase();
        let rest: Vec<&str> = words.collect();
        let flag = |rest: &[&str]| -> Result<bool> {
            match rest.first().map(|w| w.to_ascii_lowercase()) {
                Some(w) if w == "true" => Ok(true),
                Some(w) if w == "false" => Ok(false),
                _ => Err(err(no, Some(key.clone()), "expected true or false".into())),
            }
        };
        let count = |rest: &[&str]| -> Result<usize> {
            rest.first()
                .and_then(|w| w.parse::<usize>().ok())
                .ok_or_else(|| err(no, Some(key.clone()), "expected a whole number".into()))
        };
        match key.as_str() {
            "@data" => {
                found_data = true;
                break;
            }
            "@timestamps" if flag(&rest)? => {
                return Err(err(
                    no,
                    Some(key.clone()),
                    "time-stamped .ts data is not supported".into(),
                ));
            }
            "@missing" => header.missing = Some(flag(&rest)?),
            "@univariate" => header.univariate = Some(flag(&rest)?),
            "@dimension" | "@dimensions" => header.dimensions = Some(count(&rest)?),
            "@equallength" => header.equal_length = Some(flag(&rest)?),
            "@serieslength" => header.series_length = Some(count(&rest)?),
            "@classlabel" if flag(&rest)? => {
                header.class_labels = Some(rest[1..].iter().map(|s| s.to_string()).collect());
            }
            "@targetlabel" => header.target = flag(&rest)?,
            "@problemname" | "@timestamps" | "@classlabel" => {}
            _ => {
                return Err(err(
                    no,
                    Some(key.clone()),
                    format!(
                        "unknown header keyword: expected one of {}",
                        KEYWORDS.join(", ")
                    ),
                ));
            }
        }
    }
    if !found_data {
        return Err(DataError::file(path, "no @data line: not a .ts file?"));
    }
    let dims_declared = match (header.dimensions, header.univariate) {
        (Some(d), Some(true)) if d != 1 => {
            return Err(DataError::file(
                path,
                format!("header says @univariate true but @dimensions {d}"),
            ));
        }
        (Some(0), _) => return Err(DataError::file(path, "@dimensions 0: need at least one")),
        (Some(d), _) => Some(d),
        (None, Some(true)) => Some(1),
        _ => None,
    };
    let labelled = header.class_labels.is_some();
    let declared = header.class_labels.clone().unwrap_or_default();
    let missing_declared = header.missing.unwrap_or(true);
    let mut builder: Option<SequenceSetBuilder> = None;
    let mut equal_len: Option<(usize, usize)> = None; // (length, line where first seen)
    for (no, line) in lines {
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        let (body, label) = if labelled || header.target {
            match split_label(line, &declared) {
                Some((body, label)) => (body, Some(label.trim().to_string())),
                None => {
                    return Err(err(
                        no,
                        None,
                        "expected values followed by ':' and a class label".into(),
                    ));
                }
            }
        } else {
            (line, None)
        };
        let parts: Vec<&str> = body.split(':').collect();
        let dims = parts.len();
        if let Some(d) = dims_declared
            && d != dims
        {
            return Err(err(
                no,
                None,
                format!("{dims} dimensions on this line, but the header declares {d}"),
            ));
        }
        let b = builder.get_or_insert_with(|| {
            SequenceSetBuilder::new(dims).with_class_names(declared.clone())
        });
        if dims != b.channels() {
            return Err(err(
                no,
                None,
                format!("{dims} dimensions, but earlier lines have {}", b.channels()),
            ));
        }
        // Parse each dimension, then interleave to step-major.
        let mut per_dim: Vec<Vec<f32>> = Vec::with_capacity(dims);
        for (d, part) in parts.iter().enumerate() {
            if part.trim().is_empty() {
                return Err(err(
                    no,
                    Some(format!("dimension {}", d + 1)),
                    "empty series: no values before ':'".into(),
                ));
            }
            let mut vals = Vec::new();
            for (j, cell) in part.split(',').enumerate() {
                let field = || Some(format!("dimension {}, value {}", d + 1, j + 1));
                let v = parse_value(cell).map_err(|m| err(no, field(), m))?;
                if v.is_nan() && !missing_declared {
                    return Err(err(
                        no,
                        field(),
                        "missing value, but the header says @missing false".into(),
                    ));
                }
                vals.push(v);
            }
            if let Some(first) = per_dim.first()
                && first.len() != vals.len()
            {
                return Err(err(
                    no,
                    Some(format!("dimension {}", d + 1)),
                    format!("{} values, but dimension 1 has {}", vals.len(), first.len()),
                ));
            }
            per_dim.push(vals);
        }
        let len = per_dim[0].len();
        if header.equal_length == Some(true) {
            if let Some(want) = header.series_length
                && len != want
            {
                return Err(err(
                    no,
                    None,
                    format!("length {len}, but the header declares @seriesLength {want}"),
                ));
            }
            match equal_len {
                Some((want, first)) if want != len => {
                    return Err(err(
                        no,
                        None,
                        format!(
                            "length {len}, but line {first} has length {want} and the header says @equalLength true"
                        ),
                    ));
                }
                None => equal_len = Some((len, no)),
                _ => {}
            }
        }
        let mut values = vec![0.0; len * dims];
        for (d, vals) in per_dim.iter().enumerate() {
            for (t, v) in vals.iter().enumerate() {
                values[t * dims + d] = *v;
            }
        }
        trim_padding(&mut values, dims);
        if values.is_empty() {
            return Err(err(
                no,
                None,
                "every value is missing: a sequence needs at least one".into(),
            ));
        }
        if !options.allow_missing
            && let Some(i) = values.iter().position(|v| v.is_nan())
        {
            return Err(err(
                no,
                Some(format!(
                    "dimension {}, value {}",
                    i % dims + 1,
                    i / dims + 1
                )),
                "missing value before the end of the sequence (pass --allow-missing to keep it)"
                    .into(),
            ));
        }
        let label = if labelled { label } else { None };
        if let Some(l) = &label
            && !declared.is_empty()
            && !declared.contains(l)
        {
            return Err(err(
                no,
                Some("class label".into()),
                format!(
                    "label '{l}' is not among @classLabel {}",
                    declared.join(" ")
                ),
            ));
        }
        b.push(&values, label, None)
            .map_err(|e| err(no, None, e.to_string()))?;
    }
    match builder {
        Some(b) => b.finish().map_err(|e| DataError::file(path, e.to_string())),
        None => Err(DataError::file(path, "no sequences after @data")),
    }
}
/// Splits a labelled data line into its values and its class label: the label is the text
/// after the last `:`, or, when that is not a declared label, the longest declared label the
/// line ends with after a `:` (labels may contain `:`). `None` without any `:`.
fn split_label<'a>(line: &'a str, declared: &[String]) -> Option<(&'a str, &'a str)> {
    let (body, last) = line.rsplit_once(':')?;
    if declared.is_empty() || declared.iter().any(|d| d == last.trim()) {
        return Some((body, last));
    }
    declared
        .iter()
        .filter(|d| d.contains(':'))
        .filter_map(|d| {
            let body = line.strip_suffix(d.as_str())?.strip_suffix(':')?;
            Some((body, &line[body.len() + 1..]))
        })
        .max_by_key(|(_, label)| label.len())
        .or(Some((body, last)))
}
