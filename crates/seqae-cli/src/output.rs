//! Writing output files: atomically (temp file + rename) and never over an existing file
//! without `--force`.
use crate::error::{CliError, CliResult};
use std::path::Path;

/// Refuses to write `path` when it exists and `force` is off.
pub fn check_writable(path: &Path, force: bool) -> CliResult<()> {
    if path.exists() && !force {
        return Err(CliError::Input(format!(
            "{}: already exists (pass --force to overwrite)",
            path.display()
        )));
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(CliError::Input(format!(
            "{}: folder {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically ([`seqae_data::atomic::write_bytes`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> CliResult<()> {
    seqae_data::atomic::write_bytes(path, bytes)
        .map_err(|e| CliError::Input(format!("{}: cannot write: {e}", path.display())))
}
