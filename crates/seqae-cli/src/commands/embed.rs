//! `seqae embed`: latent vectors of sequences.
use crate::args::EmbedArgs;
use crate::commands::load_model;
use crate::error::CliResult;

/// Runs the command.
pub fn run(args: &EmbedArgs) -> CliResult<()> {
    let model = load_model(&args.model, args.backend)?;
    // The data is opened (and checked) before the output, then embedded a chunk at a time.
    let chunks = args.data.chunks()?;
    crate::output::check_writable(
        &args.out.out,
        args.out.force,
        &[&args.data.path, &args.model],
    )?;
    let table = args.data.embed_chunks(chunks, &model, &args.model)?;
    table.write(&args.out.out, args.out.force)?;
    say!(
        "embedded {} sequences into {} dimensions: {}",
        table.rows(),
        table.width(),
        args.out.out.display()
    );
    Ok(())
}
