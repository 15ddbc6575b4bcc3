//! `seqae cluster`: clusters embeddings (from a file, or computed with a model, the sequences
//! then clustered beside them), or the raw sequences with k-Shape; k given or chosen by
//! silhouette. The clustering itself is `seqae_latent::cluster`, shared with `evaluate`,
//! `demo` and Python.
use crate::args::{ClusterArgs, KChoice};
use crate::commands::{DataArgs, load_model};
use crate::error::{CliError, CliResult};
use crate::table::Table;
use seqae_data::SequenceSet;
use seqae_latent::{ClusterOptions, Clustering, Matrix, Method, metrics};
use std::path::Path;

/// The most restarts `--n-init` takes.
const MAX_N_INIT: usize = 1000;

/// Runs the command.
pub fn run(args: &ClusterArgs) -> CliResult<()> {
    let mut given = vec![args.input.as_path()];
    given.extend(args.model.as_deref());
    crate::output::check_writable(&args.out, args.force, &given)?;
    if let Some(n) = args.n_init.filter(|&n| n > MAX_N_INIT) {
        return Err(CliError::Input(format!(
            "--n-init {n}: at most {MAX_N_INIT} restarts (each is a whole clustering)"
        )));
    }
    if args.k == KChoice::Auto && args.k_max < 2 {
        return Err(CliError::Input(format!(
            "--k-max {}: --k auto compares k = 2..=k-max, so --k-max must be at least 2",
            args.k_max
        )));
    }
    let (table, set) = inputs(args)?;
    let points = table.as_ref().map(matrix).transpose()?;
    let opts = ClusterOptions {
        k: args.k.fixed(),
        k_max: args.k_max,
        method: args.method,
        n_init: args.n_init,
        seed: args.seed,
    };
    let c = run_clustering(&args.input, points.as_ref(), set.as_ref(), &opts)?;
    for (k, s) in &c.k_scores {
        say!("k = {k:>3}  silhouette {s:.4}");
    }
    print_views(&c);
    say!("method      {}", c.method);
    say!("k           {}", c.k);
    say!("inertia     {:.6}", c.inertia);
    if let Some(s) = c.silhouette {
        say!("silhouette  {s:.4}");
    }
    let (ids, labels) = match (&table, &set) {
        (Some(t), _) => (t.ids.clone(), t.labels.clone()),
        (None, Some(s)) => (
            (0..s.len()).map(|i| s.id(i)).collect(),
            s.labels().map(<[String]>::to_vec),
        ),
        (None, None) => unreachable!("inputs() returns one or the other"),
    };
    if let Some(labels) = &labels {
        say!(
            "NMI         {:.4}  (against the labels in the input)",
            metrics::nmi(labels, &c.labels).map_err(latent)?
        );
        say!(
            "ARI         {:.4}",
            metrics::ari(labels, &c.labels).map_err(latent)?
        );
    }
    let out = Table {
        columns: vec!["cluster".into()],
        ..Table::new(
            ids,
            labels,
            "cluster",
            0,
            c.labels.iter().map(|&l| l as f32).collect(),
        )
    };
    out.write(&args.out, args.force)?;
    say!("wrote       {}", args.out.display());
    Ok(())
}

/// The embeddings and the sequences the command clusters: embeddings alone from a table;
/// with `--model`, the data embedded and (when the raw views or k-Shape use them) the
/// sequences; with `--method kshape` and no model, the sequences alone.
fn inputs(args: &ClusterArgs) -> CliResult<(Option<Table>, Option<SequenceSet>)> {
    let data = DataArgs::plain(&args.input);
    match (&args.model, args.method) {
        (None, Method::KShape) => Ok((None, Some(data.read()?))),
        (None, _) => Ok((Some(Table::read(&args.input)?), None)),
        (Some(dir), method) => {
            let model = load_model(dir, args.backend)?;
            let table = data.embed_with(&model, dir)?;
            let most = seqae_latent::views::MAX_EXTENDED_POINTS;
            if method == Method::Auto && table.rows() > most {
                eprintln!("note: {}", seqae_latent::views::left_out_note(table.rows()));
            }
            let wanted =
                method == Method::KShape || (method == Method::Auto && table.rows() <= most);
            let set = if wanted {
                Some(data.read_for(&model, dir)?)
            } else {
                None
            };
            Ok((Some(table), set))
        }
    }
}

/// [`seqae_latent::cluster`] of the data read from `source`, its notes printed and its
/// errors the user's (naming `source` when they are about the data).
pub fn run_clustering(
    source: &Path,
    latent: Option<&Matrix>,
    raw: Option<&SequenceSet>,
    opts: &ClusterOptions,
) -> CliResult<Clustering> {
    let c = seqae_latent::cluster(latent, raw, opts).map_err(|e| {
        if e.is_about_the_data() {
            CliError::Input(format!("{}: {e}", source.display()))
        } else {
            self::latent(e)
        }
    })?;
    for note in &c.notes {
        eprintln!("note: {note}");
    }
    Ok(c)
}

/// Prints each view's score when the default chose between views.
pub fn print_views(c: &Clustering) {
    for v in &c.views {
        let mark = if Some(v.view) == c.view {
            "  <- kept"
        } else {
            ""
        };
        say!(
            "view {:<9}  stability {:.3}  normalised cut {:.3}  score {:.3}{mark}",
            v.view.to_string(),
            v.stability,
            v.normalised_cut,
            v.score
        );
    }
}

/// The CLI error for a latent-analysis error (always about the user's data or flags).
pub fn latent(e: seqae_latent::LatentError) -> CliError {
    CliError::Input(e.to_string())
}

/// The table's values as a matrix.
pub fn matrix(table: &Table) -> CliResult<Matrix> {
    Ok(Matrix::new(
        table.values.clone(),
        table.rows(),
        table.width(),
    )?)
}

impl KChoice {
    /// The number of clusters, or `None` for auto.
    pub fn fixed(self) -> Option<usize> {
        match self {
            KChoice::Fixed(k) => Some(k),
            KChoice::Auto => None,
        }
    }
}
