//! Atomic writes, shared by every crate that writes files: the content goes to a temporary
//! file in the target's folder, is flushed to disk, and is renamed over the target only when
//! complete, so a reader sees the old file or the new one, never half of one.
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The folder `path` lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `path` atomically: `fill` writes the content into a temporary file (given as an open
/// file and its path, for writers that open by path; its name ends in `suffix`, since some
/// encoders pick the format by extension). The file is synced, given the permissions a plain
/// `File::create` would have (0666 less the umask), and renamed over `path`. On error nothing
/// is left behind.
pub fn write_with<F>(path: &Path, suffix: &str, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut File, &Path) -> io::Result<()>,
{
    let mut tmp = tempfile::Builder::new()
        .prefix(".seqae-")
        .suffix(suffix)
        .tempfile_in(parent_dir(path))?;
    let tmp_path = tmp.path().to_path_buf();
    fill(tmp.as_file_mut(), &tmp_path)?;
    tmp.as_file_mut().flush()?;
    tmp.as_file().sync_all()?;
    set_default_permissions(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (see [`write_with`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, ".tmp", |f, _| f.write_all(bytes))
}

/// A folder written as a whole: filled under a temporary name beside its target, then moved
/// into place by [`StagedDir::publish`]. Dropped unpublished, it is removed with its contents.
#[derive(Debug)]
pub struct StagedDir {
    tmp: tempfile::TempDir,
    target: PathBuf,
}

impl StagedDir {
    /// A new, empty temporary folder beside `target` (in the same file system, so that the
    /// move is a rename).
    pub fn new(target: &Path) -> io::Result<StagedDir> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-"))
            .tempdir_in(parent_dir(target))?;
        Ok(StagedDir {
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The temporary folder to write into.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Moves the folder to its target, replacing an existing target folder when `replace`:
    /// the old folder is first renamed aside, then the new one in, then the old one removed
    /// (on failure the old one is put back). The folder gets the permissions `mkdir` would
    /// give it (0777 less the umask).
    pub fn publish(self, replace: bool) -> io::Result<()> {
        let tmp = self.tmp.keep();
        set_dir_permissions(&tmp)?;
        let result = (|| {
            if replace && self.target.exists() {
                let old = tempfile::Builder::new()
                    .prefix(".seqae-old-")
                    .tempdir_in(parent_dir(&self.target))?
                    .keep();
                std::fs::remove_dir(&old)?;
                std::fs::rename(&self.target, &old)?;
                if let Err(e) = std::fs::rename(&tmp, &self.target) {
                    let _ = std::fs::rename(&old, &self.target);
                    return Err(e);
                }
                let _ = std::fs::remove_dir_all(&old);
                Ok(())
            } else {
                std::fs::rename(&tmp, &self.target)
            }
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// Gives the folder `dir` mode `0777 & !umask`.
#[cfg(unix)]
fn set_dir_permissions(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777 & !umask()))
}

#[cfg(not(unix))]
fn set_dir_permissions(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Gives `file` mode `0666 & !umask`, what `File::create` gives a new file (temporary files
/// are created 0600).
#[cfg(unix)]
fn set_default_permissions(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &File) -> io::Result<()> {
    Ok(())
}

/// The process's umask, read without changing it (`/proc/self/status`; 022 where that is not
/// available).
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_bytes(&p, b"one").unwrap();
        write_bytes(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_bytes(&p, b"old").unwrap();
        let err = write_with(&p, ".tmp", |f, _| {
            f.write_all(b"half")?;
            Err(io::Error::other("stopped"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_staged_folder_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model");
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("a.json"), "1").unwrap();
        assert!(!target.exists());
        staged.publish(false).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a.json")).unwrap(), "1");
        // Replacing: the new contents only, nothing left beside it.
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("b.json"), "2").unwrap();
        staged.publish(true).unwrap();
        assert!(!target.join("a.json").exists() && target.join("b.json").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Dropped unpublished: removed.
        let staged = StagedDir::new(&target).unwrap();
        let tmp = staged.path().to_path_buf();
        drop(staged);
        assert!(!tmp.exists());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_bytes(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask());
    }
}
