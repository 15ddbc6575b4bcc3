//! Writing output files: atomically (temp file + rename) and never over an existing file
//! without `--force`.
use crate::error::{CliError, CliResult};
use seqae_data::atomic::Publish;
use std::path::Path;

/// Refuses to write `path` when it is one of the command's `inputs` (the same file, through
/// links too: `--force` never replaces the user's data), or when it exists and `force` is off.
pub fn check_writable(path: &Path, force: bool, inputs: &[&Path]) -> CliResult<()> {
    if let Some(input) = inputs.iter().find(|i| same_file(path, i)) {
        return Err(CliError::Input(format!(
            "{}: is the input {}; write the output elsewhere",
            path.display(),
            input.display()
        )));
    }
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(CliError::Input(format!(
            "{}: not a regular file (a device or pipe); write the output to a file",
            path.display()
        )));
    }
    if path.exists() && !force {
        return Err(CliError::Input(format!(
            "{}: already exists (pass --force to overwrite)",
            path.display()
        )));
    }
    check_parent(path)
}

/// Whether `a` and `b` name the same existing file (device and inode, links followed).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Refuses an output path whose folder does not exist: no command creates missing folders
/// (a mistyped path fails instead of scattering outputs).
pub fn check_parent(path: &Path) -> CliResult<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(CliError::Input(format!(
            "{}: folder {} does not exist (create it first)",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// The error for a failed publish of `path`: bad input (exit 2) when the target appeared
/// while the work ran, a failure (exit 1) otherwise.
pub fn publish_error(path: &Path, e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        CliError::Input(format!(
            "{}: appeared while seqae ran; not replacing it (pass --force to replace)",
            path.display()
        ))
    } else {
        CliError::Failed(format!("{}: cannot write: {e}", path.display()))
    }
}

/// Writes `bytes` to `path` atomically ([`seqae_data::atomic::write_bytes_mode`]): over an
/// existing file only with `force`, and never over one that appeared while the work ran.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> CliResult<()> {
    seqae_data::atomic::write_bytes_mode(path, bytes, Publish::forced(force))
        .map_err(|e| publish_error(path, e))
}
