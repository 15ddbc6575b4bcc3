//! Writing output files: atomically (temp file + rename) and never over an existing file
//! without `--force`.
use crate::error::{CliError, CliResult};
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// A temporary path beside `path`, in the same folder so that a rename is atomic.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::Input(format!("{}: cannot write: {e}", path.display()))
    })
}
