//! `seqae embed`: latent vectors of sequences.
use crate::args::EmbedArgs;
use crate::commands::{embed_table, load_model};
use crate::error::CliResult;

/// Runs the command.
pub fn run(args: &EmbedArgs) -> CliResult<()> {
    let model = load_model(&args.model, args.backend)?;
    let set = args.data.read_for(&model, &args.model)?;
    crate::output::check_writable(&args.out.out, args.out.force)?;
    let table = embed_table(&model, &set)?;
    table.write(&args.out.out, args.out.force)?;
    say!(
        "embedded {} sequences into {} dimensions: {}",
        table.rows(),
        table.width(),
        args.out.out.display()
    );
    Ok(())
}
