//! Writing output files: atomically (temp file + rename) and never over an existing file
//! without `--force`.
use crate::error::{CliError, CliResult};
use std::io::Write;
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

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, renamed
/// over `path` when complete.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let result = (|| {
        let mut f = tempfile::Builder::new()
            .prefix(".seqae-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        f.write_all(bytes)?;
        f.as_file().sync_all()?;
        f.persist(path).map_err(|e| e.error)?;
        Ok::<_, std::io::Error>(())
    })();
    result.map_err(|e| CliError::Input(format!("{}: cannot write: {e}", path.display())))
}
