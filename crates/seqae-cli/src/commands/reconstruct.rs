//! `seqae reconstruct`: reconstructions and per-sequence reconstruction error (anomaly score).
use crate::args::ReconstructArgs;
use crate::commands::load_model;
use crate::error::{CliError, CliResult};
use crate::output::{check_writable, write_atomic};

/// Runs the command.
pub fn run(args: &ReconstructArgs) -> CliResult<()> {
    let model = load_model(&args.model, args.backend)?;
    let set = args.data.read_for(&model, &args.model)?;
    let out = &args.out.out;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if !matches!(ext.as_deref(), Some("csv") | Some("json")) {
        return Err(CliError::Input(format!(
            "{}: unknown output type: use .csv or .json",
            out.display()
        )));
    }
    check_writable(out, args.out.force, &[&args.data.path, &args.model])?;
    let rec = model.reconstruct(&set)?;
    let err = model.reconstruction_error(&set)?;
    let mut order: Vec<usize> = (0..set.len()).collect();
    order.sort_by(|&a, &b| err[b].total_cmp(&err[a]));
    let c = set.channels();
    let bytes = if ext.as_deref() == Some("json") {
        let rows: Vec<serde_json::Value> = order
            .iter()
            .map(|&i| {
                serde_json::json!({
                    "id": set.id(i),
                    "label": set.labels().map(|l| l[i].clone()),
                    "error": err[i],
                    "length": set.length(i),
                    "reconstruction": rec.sequence(i),
                })
            })
            .collect();
        serde_json::to_vec_pretty(&serde_json::json!({ "channels": c, "sequences": rows }))
            .expect("json")
    } else {
        let max_len = set.max_len();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "id".to_string(),
            "label".into(),
            "error".into(),
            "length".into(),
        ];
        for t in 0..max_len {
            for k in 0..c {
                header.push(format!("t{t}_c{k}"));
            }
        }
        let fail = |e: csv::Error| CliError::Failed(format!("{}: {e}", out.display()));
        w.write_record(&header).map_err(fail)?;
        for &i in &order {
            let mut rec_row = vec![
                set.id(i),
                set.labels().map(|l| l[i].clone()).unwrap_or_default(),
                err[i].to_string(),
                set.length(i).to_string(),
            ];
            rec_row.extend(rec.sequence(i).iter().map(|v| v.to_string()));
            rec_row.resize(header.len(), String::new());
            w.write_record(&rec_row).map_err(fail)?;
        }
        w.into_inner()
            .map_err(|e| CliError::Failed(e.to_string()))?
    };
    write_atomic(out, &bytes, args.out.force)?;
    say!("rank  id          error");
    for (r, &i) in order.iter().take(args.top).enumerate() {
        say!("{:>4}  {:<10}  {:.6}", r + 1, set.id(i), err[i]);
    }
    say!("wrote {} (worst first)", out.display());
    Ok(())
}
