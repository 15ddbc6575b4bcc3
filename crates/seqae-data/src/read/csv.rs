//! CSV files, wide (one sequence per row, optional label and id columns) and long (one time
//! step per row: id, time, one column per channel, optional label).
use super::{Column, ReadOptions, parse_value, trim_padding};
use crate::error::{DataError, Result};
use crate::sequence::{SequenceSet, SequenceSetBuilder};
use std::collections::HashMap;
use std::path::Path;

/// The rows of a CSV file with their line numbers, and the header when there is one.
struct Table {
    header: Option<Vec<String>>,
    rows: Vec<(usize, Vec<String>)>,
}

fn load(
    path: &Path,
    options: &ReadOptions,
    is_header: impl Fn(&[String]) -> bool,
) -> Result<Table> {
    let text = super::read_text(path)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter.unwrap_or(b','))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut width: Option<(usize, usize)> = None;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            DataError::parse(path, line, None, format!("unreadable CSV: {e}"))
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        // A blank line (spaces at most) is skipped; a row of empty cells is a row, refused
        // where it is read, so that no later row changes its number.
        if cells.len() == 1 && cells[0].is_empty() {
            continue;
        }
        match width {
            None => width = Some((cells.len(), line)),
            Some((w, first)) if w != cells.len() => {
                return Err(DataError::parse(
                    path,
                    Some(line),
                    None,
                    format!(
                        "{} fields, but line {first} has {w}: every row needs the same number of fields",
                        cells.len()
                    ),
                ));
            }
            _ => {}
        }
        rows.push((line, cells));
    }
    if rows.is_empty() {
        return Err(DataError::file(path, "empty file"));
    }
    let header = match options.header {
        Some(h) => h,
        None => is_header(&rows[0].1),
    };
    let header = header.then(|| rows.remove(0).1);
    if rows.is_empty() {
        return Err(DataError::file(
            path,
            "no sequences: the file holds only a header",
        ));
    }
    Ok(Table { header, rows })
}

impl Table {
    /// Resolves a column given by the user, or the first header name in `defaults`.
    fn column(
        &self,
        path: &Path,
        given: Option<&Column>,
        defaults: &[&str],
        what: &str,
    ) -> Result<Option<usize>> {
        let width = self.rows[0].1.len();
        match given {
            Some(Column::Index(i)) if *i < width => Ok(Some(*i)),
            Some(Column::Index(i)) => Err(DataError::file(
                path,
                format!(
                    "{what} column {i} does not exist: rows have {width} fields (columns count from 0)"
                ),
            )),
            Some(Column::Name(name)) => match &self.header {
                Some(h) => h.iter().position(|c| c == name).map(Some).ok_or_else(|| {
                    DataError::file(
                        path,
                        format!(
                            "no {what} column named '{name}' in the header ({})",
                            h.join(", ")
                        ),
                    )
                }),
                None => Err(DataError::file(
                    path,
                    format!("{what} column '{name}' given by name, but the file has no header"),
                )),
            },
            None => Ok(self.header.as_ref().and_then(|h| {
                h.iter()
                    .position(|c| defaults.iter().any(|d| c.eq_ignore_ascii_case(d)))
            })),
        }
    }

    /// The label column: the user's choice, else a header column named `label` or `class`.
    fn label_column(&self, path: &Path, options: &ReadOptions) -> Result<Option<usize>> {
        self.column(
            path,
            options.label_column.as_ref(),
            &["label", "class"],
            "label",
        )
    }

    fn field_name(&self, j: usize) -> String {
        match &self.header {
            Some(h) => format!("column {} ('{}')", j + 1, h[j]),
            None => format!("column {}", j + 1),
        }
    }
}

/// True when `cell` is neither a number (of any size) nor a missing-value marker.
fn is_text(cell: &str) -> bool {
    cell.parse::<f64>().is_err() && parse_value(cell).is_err()
}

/// True when some cell outside `skip` is text (so the row is a header).
fn has_text(cells: &[String], skip: &[usize]) -> bool {
    cells
        .iter()
        .enumerate()
        .any(|(j, c)| !skip.contains(&j) && is_text(c))
}

/// Refuses one column in two roles (label and id, say): the second role would be silently
/// lost.
fn distinct_roles(path: &Path, table: &Table, roles: &[(&str, Option<usize>)]) -> Result<()> {
    for (i, (a, col_a)) in roles.iter().enumerate() {
        for (b, col_b) in &roles[i + 1..] {
            if let (Some(x), Some(y)) = (col_a, col_b)
                && x == y
            {
                return Err(DataError::file(
                    path,
                    format!(
                        "the {a} and {b} columns are the same column ({}): give each its own",
                        table.field_name(*x)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads a wide CSV: each row is one univariate sequence (empty or `NaN` cells at the end make
/// it shorter), with optional label and id columns.
pub fn read_wide(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let label_idx = match &options.label_column {
        Some(Column::Index(i)) => Some(*i),
        _ => None,
    };
    let id_idx = match &options.id_column {
        Some(Column::Index(i)) => Some(*i),
        _ => None,
    };
    let skip: Vec<usize> = label_idx.into_iter().chain(id_idx).collect();
    let table = load(path, options, |row| has_text(row, &skip))?;
    let label_col = table.label_column(path, options)?;
    let id_col = table.column(path, options.id_column.as_ref(), &["id"], "id")?;
    distinct_roles(path, &table, &[("label", label_col), ("id", id_col)])?;
    let value_cols: Vec<usize> = (0..table.rows[0].1.len())
        .filter(|j| Some(*j) != label_col && Some(*j) != id_col)
        .collect();
    if value_cols.is_empty() {
        return Err(DataError::file(
            path,
            "no value columns besides the label and id columns",
        ));
    }
    let mut b = SequenceSetBuilder::new(1);
    for (line, cells) in &table.rows {
        let err =
            |field: Option<String>, msg: String| DataError::parse(path, Some(*line), field, msg);
        let mut values = Vec::with_capacity(value_cols.len());
        for &j in &value_cols {
            values.push(parse_value(&cells[j]).map_err(|m| err(Some(table.field_name(j)), m))?);
        }
        trim_padding(&mut values, 1);
        if values.is_empty() {
            return Err(err(None, "sequence has no values (zero length)".into()));
        }
        if !options.allow_missing
            && let Some(k) = values.iter().position(|v| v.is_nan())
        {
            return Err(err(
                Some(table.field_name(value_cols[k])),
                "missing value; allow missing values to accept it".into(),
            ));
        }
        let label = label_col.map(|j| cells[j].clone());
        if let Some(l) = &label
            && l.is_empty()
        {
            return Err(err(
                Some(table.field_name(label_col.expect("label present"))),
                "empty label".into(),
            ));
        }
        let id = id_col.map(|j| cells[j].clone());
        b.push(&values, label, id)
            .map_err(|e| err(None, e.to_string()))?;
    }
    b.finish().map_err(|e| DataError::file(path, e.to_string()))
}

/// Reads a long CSV: one row per time step with an id column, a time column, a value column per
/// channel and an optional label column. Rows of one id are ordered by time.
pub fn read_long(path: &Path, options: &ReadOptions) -> Result<SequenceSet> {
    let table = load(path, options, |row| row.iter().skip(1).any(|c| is_text(c)))?;
    let width = table.rows[0].1.len();
    let id_col = table
        .column(path, options.id_column.as_ref(), &["id"], "id")?
        .unwrap_or(0);
    let time_col = table
        .column(
            path,
            options.time_column.as_ref(),
            &["time", "t", "timestamp"],
            "time",
        )?
        .unwrap_or(1);
    let label_col = table.label_column(path, options)?;
    distinct_roles(
        path,
        &table,
        &[
            ("id", Some(id_col)),
            ("time", Some(time_col)),
            ("label", label_col),
        ],
    )?;
    let channel_cols: Vec<usize> = (0..width)
        .filter(|j| *j != id_col && *j != time_col && Some(*j) != label_col)
        .collect();
    if channel_cols.is_empty() {
        return Err(DataError::file(
            path,
            "no value columns besides id, time and label",
        ));
    }
    let channels = channel_cols.len();
    // id -> (first index, label, line of label, steps (time, line, values))
    struct Group {
        label: Option<(String, usize)>,
        steps: Vec<(f64, usize, Vec<f32>)>,
    }
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Group> = HashMap::new();
    for (line, cells) in &table.rows {
        let err =
            |field: Option<String>, msg: String| DataError::parse(path, Some(*line), field, msg);
        let id = cells[id_col].clone();
        if id.is_empty() {
            return Err(err(Some(table.field_name(id_col)), "empty id".into()));
        }
        let time: f64 = cells[time_col]
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(|| {
                err(
                    Some(table.field_name(time_col)),
                    format!(
                        "expected a number for the time, found '{}'",
                        cells[time_col]
                    ),
                )
            })?;
        let mut values = Vec::with_capacity(channels);
        for &j in &channel_cols {
            let v = parse_value(&cells[j]).map_err(|m| err(Some(table.field_name(j)), m))?;
            if v.is_nan() && !options.allow_missing {
                return Err(err(
                    Some(table.field_name(j)),
                    "missing value; allow missing values to accept it".into(),
                ));
            }
            values.push(v);
        }
        let group = groups.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Group {
                label: None,
                steps: Vec::new(),
            }
        });
        if let Some(j) = label_col {
            let l = &cells[j];
            match &group.label {
                None => group.label = Some((l.clone(), *line)),
                Some((prev, at)) if prev != l => {
                    return Err(err(
                        Some(table.field_name(j)),
                        format!("label '{l}' for id '{id}', but line {at} gives it label '{prev}'"),
                    ));
                }
                _ => {}
            }
        }
        group.steps.push((time, *line, values));
    }
    let mut b = SequenceSetBuilder::new(channels);
    for id in order {
        let mut g = groups.remove(&id).expect("every id has a group");
        g.steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = g.steps.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(DataError::parse(
                path,
                Some(w[1].1),
                Some(table.field_name(time_col)),
                format!(
                    "id '{id}' has time {} twice (also on line {})",
                    w[1].0, w[0].1
                ),
            ));
        }
        let mut values: Vec<f32> = g.steps.into_iter().flat_map(|s| s.2).collect();
        trim_padding(&mut values, channels);
        if values.is_empty() {
            return Err(DataError::file(
                path,
                format!("id '{id}' has no values (zero length)"),
            ));
        }
        b.push(&values, g.label.map(|l| l.0), Some(id))
            .map_err(|e| DataError::file(path, e.to_string()))?;
    }
    b.finish().map_err(|e| DataError::file(path, e.to_string()))
}
