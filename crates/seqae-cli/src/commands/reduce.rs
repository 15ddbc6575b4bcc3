//! `seqae reduce`: PCA of embeddings.
use crate::args::ReduceArgs;
use crate::commands::cluster::{latent, matrix};
use crate::error::CliResult;
use crate::table::Table;
use seqae_latent::Pca;

/// Runs the command.
pub fn run(args: &ReduceArgs) -> CliResult<()> {
    let table = Table::read(&args.embeddings)?;
    crate::output::check_writable(&args.out.out, args.out.force, &[&args.embeddings])?;
    let m = matrix(&table)?;
    let (model, coords) = Pca::new(args.components)
        .whiten(args.whiten)
        .fit_transform(&m)
        .map_err(latent)?;
    let mut cumulative = 0.0;
    say!("component  explained variance  ratio   cumulative");
    for (j, (v, r)) in model
        .explained_variance()
        .iter()
        .zip(model.explained_variance_ratio())
        .enumerate()
    {
        cumulative += r;
        say!("pc{:<8} {v:>18.6}  {r:>6.4}  {cumulative:>6.4}", j + 1);
    }
    let out = Table::new(table.ids, table.labels, "pc", 1, coords.into_vec());
    out.write(&args.out.out, args.out.force)?;
    say!("wrote {}", args.out.out.display());
    Ok(())
}
