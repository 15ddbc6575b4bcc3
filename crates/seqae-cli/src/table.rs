//! Row tables that commands read and write: embeddings, PCA coordinates, cluster assignments.
//! The format follows the extension: `.csv` (id, label when present, then value columns),
//! `.npy` (`[n, d]` float32 values only) or `.json` (an object with ids, labels, columns, rows).
use crate::error::{CliError, CliResult};
use crate::output::{check_writable, write_atomic};
use npyz::WriterBuilder;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A matrix with one row per sequence, named columns, and the sequences' ids and labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Sequence ids, one per row.
    pub ids: Vec<String>,
    /// True labels, one per row, when the data had them.
    pub labels: Option<Vec<String>>,
    /// Column names (e.g. z0, z1, ... or pc1, pc2, ...).
    pub columns: Vec<String>,
    /// Row-major values, `ids.len() * columns.len()`.
    pub values: Vec<f32>,
}

/// File formats of a [`Table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Csv,
    Npy,
    Json,
}

/// The table format of `path` by its extension; `role` ("output" or "input") names what the
/// path is for in the message.
fn kind(path: &Path, role: &str) -> CliResult<Kind> {
    if role == "input" && path.is_dir() {
        return Err(CliError::Input(format!(
            "{}: is a folder: expected a table file (.csv, .npy or .json, as `seqae embed` writes)",
            path.display()
        )));
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => Ok(Kind::Csv),
        Some("npy") => Ok(Kind::Npy),
        Some("json") => Ok(Kind::Json),
        _ => Err(CliError::Input(format!(
            "{}: unknown {role} table type: use .csv, .npy or .json",
            path.display()
        ))),
    }
}

impl Table {
    /// A table with columns named `prefix0, prefix1, ...` (starting at `first`).
    pub fn new(
        ids: Vec<String>,
        labels: Option<Vec<String>>,
        prefix: &str,
        first: usize,
        values: Vec<f32>,
    ) -> Table {
        let width = values.len().checked_div(ids.len()).unwrap_or(0);
        let columns = (0..width)
            .map(|j| format!("{prefix}{}", j + first))
            .collect();
        Table {
            ids,
            labels,
            columns,
            values,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Number of value columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Row `i`'s values.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.width()..(i + 1) * self.width()]
    }

    /// Writes the table to `path` (format by extension) atomically; refuses to overwrite an
    /// existing file unless `force`.
    pub fn write(&self, path: &Path, force: bool) -> CliResult<()> {
        let kind = kind(path, "output")?;
        check_writable(path, force, &[])?;
        let bytes = match kind {
            Kind::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let mut header = vec!["id".to_string()];
                if self.labels.is_some() {
                    header.push("label".into());
                }
                header.extend(self.columns.iter().cloned());
                w.write_record(&header).map_err(io_err(path))?;
                for i in 0..self.rows() {
                    let mut rec = vec![self.ids[i].clone()];
                    if let Some(l) = &self.labels {
                        rec.push(l[i].clone());
                    }
                    rec.extend(self.row(i).iter().map(|v| v.to_string()));
                    w.write_record(&rec).map_err(io_err(path))?;
                }
                w.into_inner()
                    .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?
            }
            Kind::Npy => {
                let mut buf = std::io::Cursor::new(Vec::new());
                {
                    let mut w = npyz::WriteOptions::new()
                        .default_dtype()
                        .shape(&[self.rows() as u64, self.width() as u64])
                        .writer(&mut buf)
                        .begin_nd()
                        .map_err(io_err(path))?;
                    w.extend(self.values.iter().copied())
                        .map_err(io_err(path))?;
                    w.finish().map_err(io_err(path))?;
                }
                buf.into_inner()
            }
            Kind::Json => serde_json::to_vec_pretty(self).expect("tables serialise"),
        };
        write_atomic(path, &bytes, force)
    }

    /// Reads a table written by [`Table::write`] (or any CSV with an `id` column and numeric
    /// columns, or an `[n, d]` NPY array).
    pub fn read(path: &Path) -> CliResult<Table> {
        let kind = kind(path, "input")?;
        let bad = |m: String| CliError::Input(format!("{}: {m}", path.display()));
        let table = match kind {
            Kind::Json => {
                let text = seqae_data::read::read_text(path)?;
                let t: Table = serde_json::from_str(&text)
                    .map_err(|e| bad(format!("line {}: not a seqae table: {e}", e.line())))?;
                if t.values.len() != t.rows() * t.width()
                    || t.labels.as_ref().is_some_and(|l| l.len() != t.rows())
                {
                    return Err(bad(
                        "ids, labels, columns and values do not agree in size".into()
                    ));
                }
                t
            }
            Kind::Npy => {
                let shape = seqae_data::read::npy::shape(path)?;
                if shape.len() != 2 {
                    return Err(bad(format!(
                        "array of shape {shape:?}: expected a 2-D array [n, d], one row per sequence (as `seqae embed` writes)"
                    )));
                }
                let opts = seqae_data::ReadOptions {
                    format: Some(seqae_data::Format::Npy),
                    ..Default::default()
                };
                let set = seqae_data::read_path(path, &opts)?;
                let width = set.max_len();
                if set.channels() != 1 || set.lengths().iter().any(|&l| l != width) {
                    return Err(bad("expected a 2-D array [n, d] of finite values".into()));
                }
                let n = set.len();
                Table::new(
                    (0..n).map(|i| i.to_string()).collect(),
                    None,
                    "z",
                    0,
                    set.values().to_vec(),
                )
            }
            Kind::Csv => read_csv(path)?,
        };
        if table.rows() == 0 || table.width() == 0 {
            return Err(bad("no rows or no value columns".into()));
        }
        if let Some(j) = table.values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "row {} column '{}' is not a finite number",
                j / table.width() + 1,
                table.columns[j % table.width()]
            )));
        }
        Ok(table)
    }
}

fn io_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> CliError + '_ {
    move |e| CliError::Failed(format!("{}: cannot write: {e}", path.display()))
}

fn read_csv(path: &Path) -> CliResult<Table> {
    let bad = |line: u64, m: String| CliError::Input(format!("{}:{line}: {m}", path.display()));
    let text = seqae_data::read::read_text(path)?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(|s| s.to_string())
        .collect();
    let id_col = header.iter().position(|h| h == "id");
    let label_col = header.iter().position(|h| h == "label");
    let value_cols: Vec<usize> = (0..header.len())
        .filter(|j| Some(*j) != id_col && Some(*j) != label_col)
        .collect();
    let mut t = Table {
        ids: Vec::new(),
        labels: label_col.map(|_| Vec::new()),
        columns: value_cols.iter().map(|&j| header[j].clone()).collect(),
        values: Vec::new(),
    };
    for rec in r.records() {
        let rec =
            rec.map_err(|e| bad(e.position().map(|p| p.line()).unwrap_or(0), e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        t.ids.push(match id_col {
            Some(j) => rec[j].to_string(),
            None => t.ids.len().to_string(),
        });
        if let (Some(j), Some(l)) = (label_col, t.labels.as_mut()) {
            l.push(rec[j].to_string());
        }
        for &j in &value_cols {
            let v: f32 = rec[j].trim().parse().map_err(|_| {
                bad(
                    line,
                    format!(
                        "column '{}': expected a number, found '{}'",
                        header[j], &rec[j]
                    ),
                )
            })?;
            t.values.push(v);
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let t = Table::new(
            vec!["a".into(), "b".into()],
            Some(vec!["x".into(), "y".into()]),
            "z",
            0,
            vec![1.0, 2.5, -3.0, 4.0],
        );
        for ext in ["csv", "json"] {
            let p = dir.path().join(format!("t.{ext}"));
            t.write(&p, false).unwrap();
            assert_eq!(Table::read(&p).unwrap(), t);
            assert!(
                t.write(&p, false)
                    .unwrap_err()
                    .to_string()
                    .contains("--force")
            );
            t.write(&p, true).unwrap();
        }
        let p = dir.path().join("t.npy");
        t.write(&p, false).unwrap();
        let back = Table::read(&p).unwrap();
        assert_eq!(back.values, t.values);
        assert!(t.write(&dir.path().join("t.txt"), false).is_err());
    }

    #[test]
    fn bad_csv_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.csv");
        std::fs::write(&p, "id,z0,z1\na,1,2\nb,3,oops\n").unwrap();
        let e = Table::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("e.csv:3") && e.contains("'z1'") && e.contains("oops"),
            "{e}"
        );
    }
}
