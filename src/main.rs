//! The `seqae` command-line program; all work is done in [`seqae_cli`].
fn main() -> std::process::ExitCode {
    seqae_cli::main()
}
