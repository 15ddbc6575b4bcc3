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

/// How a finished file or folder takes its target's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    /// Take the place of whatever is there (`--force`).
    Replace,
    /// Only if nothing is there at the moment of publishing; otherwise fail with
    /// [`io::ErrorKind::AlreadyExists`] and leave the target alone (so a file that appeared
    /// while the work ran is never overwritten).
    New,
}

impl Publish {
    /// [`Publish::Replace`] when `force`, else [`Publish::New`].
    pub fn forced(force: bool) -> Publish {
        if force {
            Publish::Replace
        } else {
            Publish::New
        }
    }
}

/// The prefix of this process's temporary names for `name`: `.NAME.tmp-PID-`. Names with a
/// prefix of a process that no longer runs are leftovers of a killed run.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-{}-", std::process::id())
}

/// Removes leftovers of killed runs beside `target`: temporary files and folders named
/// `.NAME.tmp-PID-...` (by [`temp_prefix`]) whose process is gone.
fn remove_leftovers(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.tmp-");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !process_alive(pid) {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Whether process `pid` still runs (signal 0 probes without sending anything).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: kill with signal 0 only checks whether the process exists; no memory is touched.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// The file name of `path` as text, for temporary names (`out` when it has none).
fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into())
}

/// Writes `path` atomically, replacing it ([`write_with_mode`] with [`Publish::Replace`]).
pub fn write_with<F>(path: &Path, suffix: &str, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut File, &Path) -> io::Result<()>,
{
    write_with_mode(path, suffix, Publish::Replace, fill)
}

/// Writes `path` atomically: `fill` writes the content into a temporary file (given as an open
/// file and its path, for writers that open by path; its name ends in `suffix`, since some
/// encoders pick the format by extension). The file is synced, given the permissions a plain
/// `File::create` would have (0666 less the umask), and moved to `path` as `publish` says. On
/// error nothing is left behind; leftovers of killed runs beside `path` are removed.
pub fn write_with_mode<F>(path: &Path, suffix: &str, publish: Publish, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut File, &Path) -> io::Result<()>,
{
    let dir = parent_dir(path);
    let name = name_of(path);
    remove_leftovers(dir, &name);
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(without_temp_path)?;
    let tmp_path = tmp.path().to_path_buf();
    fill(tmp.as_file_mut(), &tmp_path)?;
    tmp.as_file_mut().flush()?;
    tmp.as_file().sync_all()?;
    set_default_permissions(tmp.as_file())?;
    match publish {
        Publish::Replace => tmp.persist(path).map_err(|e| e.error)?,
        Publish::New => tmp.persist_noclobber(path).map_err(|e| e.error)?,
    };
    Ok(())
}

/// An error of `tempfile` without the temporary path it appends (`... at path "..."`):
/// callers name the target, and the user never sees a temporary name.
fn without_temp_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.rfind(" at path ") {
        Some(i) => io::Error::new(e.kind(), &text[..i]),
        None => e,
    }
}

/// Writes `bytes` to `path` atomically, replacing it (see [`write_with_mode`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, ".tmp", |f, _| f.write_all(bytes))
}

/// Writes `bytes` to `path` atomically, as `publish` says (see [`write_with_mode`]).
pub fn write_bytes_mode(path: &Path, bytes: &[u8], publish: Publish) -> io::Result<()> {
    write_with_mode(path, ".tmp", publish, |f, _| f.write_all(bytes))
}

/// The file inside a published folder that lists the entries seqae wrote there, one name a
/// line; replacing the folder replaces those and keeps every other entry.
pub const MANIFEST: &str = ".seqae-manifest";

/// A folder written as a whole: filled under a temporary name beside its target, then moved
/// into place by [`StagedDir::publish`]. Dropped unpublished, it is removed with its contents.
#[derive(Debug)]
pub struct StagedDir {
    tmp: tempfile::TempDir,
    target: PathBuf,
}

impl StagedDir {
    /// A new, empty temporary folder beside `target` (in the same file system, so that the
    /// move is a rename). Leftovers of killed runs beside `target` are removed first.
    pub fn new(target: &Path) -> io::Result<StagedDir> {
        let dir = parent_dir(target);
        let name = name_of(target);
        remove_leftovers(dir, &name);
        let tmp = tempfile::Builder::new()
            .prefix(&temp_prefix(&name))
            .tempdir_in(dir)
            .map_err(without_temp_path)?;
        Ok(StagedDir {
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The temporary folder to write into.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Moves the folder to its target, as `publish` says; the folder gets the permissions
    /// `mkdir` would give it (0777 less the umask) and a [`MANIFEST`] of what it holds.
    ///
    /// [`Publish::Replace`] of an existing folder keeps every entry there that the old
    /// folder's manifest does not list and the new folder does not hold (the user's own
    /// files): they are hard-linked into the new folder, the two folders are exchanged in one
    /// atomic step (`renameat2(RENAME_EXCHANGE)` on Linux), and the old one is removed. At any
    /// moment the target is the old folder or the new one, whole, with the user's files.
    pub fn publish(self, publish: Publish) -> io::Result<()> {
        let tmp = self.tmp.keep();
        let result = (|| {
            write_manifest(&tmp)?;
            set_dir_permissions(&tmp)?;
            match publish {
                Publish::New => rename_new(&tmp, &self.target),
                Publish::Replace if !self.target.exists() => match rename_new(&tmp, &self.target) {
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        replace_dir(&tmp, &self.target)
                    }
                    other => other,
                },
                Publish::Replace => replace_dir(&tmp, &self.target),
            }
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// Lists the entries of `dir` in its [`MANIFEST`].
fn write_manifest(dir: &Path) -> io::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST)
        .collect();
    names.sort();
    let mut text = names.join("\n");
    text.push('\n');
    let path = dir.join(MANIFEST);
    std::fs::write(&path, text)?;
    File::open(&path)?.sync_all()
}

/// The entries a folder's [`MANIFEST`] lists (none when it has no manifest).
fn manifest_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(MANIFEST))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Renames `from` to `to` only if `to` does not exist, atomically where the system can.
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match renameat2(from, to, libc::RENAME_NOREPLACE) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                return Err(already_exists(to));
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {} // not supported here
            other => return other,
        }
    }
    if to.exists() {
        return Err(already_exists(to));
    }
    std::fs::rename(from, to)
}

fn already_exists(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} appeared while the work ran; not replacing it",
            name_of(path)
        ),
    )
}

/// Links into `new` every entry of `old` that is the user's: not in `old`'s [`MANIFEST`] and
/// not written anew. A folder that both hold is searched the same way, by its own manifest
/// (none: everything in it is the user's), so that the rule holds at every depth.
fn keep_user_entries(old: &Path, new: &Path) -> io::Result<()> {
    let ours = manifest_of(old);
    for entry in std::fs::read_dir(old)? {
        let entry = entry?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text == MANIFEST {
            continue;
        }
        let (from, to) = (entry.path(), new.join(&name));
        let real_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
        if real_dir(&from) && real_dir(&to) {
            keep_user_entries(&from, &to)?;
        } else if !ours.iter().any(|o| *o == text) && std::fs::symlink_metadata(&to).is_err() {
            link_tree(&from, &to)?;
        }
    }
    Ok(())
}

/// Replaces the folder `target` by `new`, keeping the user's entries of `target`.
fn replace_dir(new: &Path, target: &Path) -> io::Result<()> {
    keep_user_entries(target, new)?;
    #[cfg(target_os = "linux")]
    {
        match renameat2(new, target, libc::RENAME_EXCHANGE) {
            Ok(()) => {
                // `new` now names the old folder.
                let _ = std::fs::remove_dir_all(new);
                return Ok(());
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {} // not supported here
            Err(e) => return Err(e),
        }
    }
    // Without an atomic exchange: the old folder aside, the new one in, the old one removed
    // (put back if the second rename fails).
    let aside = new.with_extension("old");
    std::fs::rename(target, &aside)?;
    if let Err(e) = std::fs::rename(new, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

/// Hard-links the file `from` to `to`, or recreates the folder `from` at `to` with its files
/// hard-linked (copied where links are not possible), so that the original stays in place.
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        let link = std::fs::read_link(from)?;
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(link, to)
        }
        #[cfg(not(unix))]
        {
            std::fs::copy(link, to).map(|_| ())
        }
    } else {
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
    }
}

/// `renameat2(2)` with `flags`, relative to the working directory.
#[cfg(target_os = "linux")]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both pointers are NUL-terminated strings that live until the call returns.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
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

/// An exclusive claim on an output for the length of one run, so that two processes never
/// write one model (two `seqae train --resume` on one checkpoint, say): the lock file
/// `.NAME.lock` beside the target, held with `flock` and removed on drop. The lock goes with
/// the process, so a killed run never leaves a stale claim.
#[derive(Debug)]
pub struct OutputLock {
    file: File,
    path: PathBuf,
}

impl OutputLock {
    /// Claims `target`. Fails with [`io::ErrorKind::WouldBlock`] when another process holds
    /// the claim; the error's text is that process's id when it wrote one.
    #[cfg(unix)]
    pub fn acquire(target: &Path) -> io::Result<OutputLock> {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let path = parent_dir(target).join(format!(".{}.lock", name_of(target)));
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            // SAFETY: flock on a descriptor this function owns; no memory is passed.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::WouldBlock {
                    return Err(e);
                }
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    holder.trim().to_string(),
                ));
            }
            // The holder before us may have removed the file between our open and our lock:
            // then the lock is on a file nobody else sees, and we try again.
            let same = std::fs::metadata(&path)
                .is_ok_and(|m| file.metadata().is_ok_and(|f| f.ino() == m.ino()));
            if same {
                file.set_len(0)?;
                write!(file, "{}", std::process::id())?;
                return Ok(OutputLock { file, path });
            }
        }
    }

    /// Without `flock`, no claim is taken.
    #[cfg(not(unix))]
    pub fn acquire(target: &Path) -> io::Result<OutputLock> {
        let path = parent_dir(target).join(format!(".{}.lock", name_of(target)));
        Ok(OutputLock {
            file: File::create(&path)?,
            path,
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still held, so that no other process can lock this file after us
        // and miss a newer one (the inode check in `acquire`).
        let _ = std::fs::remove_file(&self.path);
        let _ = &self.file;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_is_claimed_by_one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("m");
        let first = OutputLock::acquire(&target).unwrap();
        // flock locks are per open file: a second open in this process conflicts too.
        let e = OutputLock::acquire(&target).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(e.to_string(), std::process::id().to_string());
        drop(first);
        assert!(!dir.path().join(".m.lock").exists());
        let again = OutputLock::acquire(&target).unwrap();
        drop(again);
    }

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
        staged.publish(Publish::New).unwrap();
        assert_eq!(std::fs::read_to_string(target.join("a.json")).unwrap(), "1");
        // Replacing: the new contents only, nothing left beside it.
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("b.json"), "2").unwrap();
        staged.publish(Publish::Replace).unwrap();
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

    #[test]
    fn replacing_a_folder_keeps_the_users_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report");
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("summary.json"), "old").unwrap();
        std::fs::write(staged.path().join("old-only.png"), "x").unwrap();
        staged.publish(Publish::New).unwrap();
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(target.join("sub")).unwrap();
        std::fs::write(target.join("sub/more.txt"), "mine too").unwrap();
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("summary.json"), "new").unwrap();
        staged.publish(Publish::Replace).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("sub/more.txt")).unwrap(),
            "mine too"
        );
        // seqae's own old file is gone; nothing is left beside the target
        assert!(!target.join("old-only.png").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_users_files_are_kept_inside_folders_seqae_wrote_too() {
        // A report folder whose `model/` seqae wrote (with its own manifest): the user's file
        // inside `model/` survives a replace; seqae's own old file there does not.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report");
        let write = |files: &[(&str, &str)]| {
            let staged = StagedDir::new(&target).unwrap();
            let model = StagedDir::new(&staged.path().join("model")).unwrap();
            for (name, text) in files {
                std::fs::write(model.path().join(name), text).unwrap();
            }
            model.publish(Publish::New).unwrap();
            std::fs::write(staged.path().join("report.md"), "r").unwrap();
            staged.publish(Publish::Replace).unwrap();
        };
        write(&[("weights.bpk", "old"), ("old-only.json", "x")]);
        std::fs::write(target.join("model/notes.txt"), "precious").unwrap();
        write(&[("weights.bpk", "new")]);
        let read = |p: &str| std::fs::read_to_string(target.join(p)).unwrap();
        assert_eq!(read("model/notes.txt"), "precious");
        assert_eq!(read("model/weights.bpk"), "new");
        assert!(!target.join("model/old-only.json").exists());
    }

    #[test]
    fn publishing_new_never_replaces_what_appeared_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model");
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("a.json"), "ours").unwrap();
        std::fs::create_dir(&target).unwrap(); // another run published first (empty folder)
        let e = staged.publish(Publish::New).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(!target.join("a.json").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let file = dir.path().join("e.csv");
        std::fs::write(&file, "theirs").unwrap();
        let e = write_bytes_mode(&file, b"ours", Publish::New).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "theirs");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn leftovers_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0x7fff_fff0 is above Linux's pid_max: no such process
        let dead = dir.path().join(".model.tmp-2147483632-abc");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("weights.bpk"), "half").unwrap();
        let dead_file = dir.path().join(".e.csv.tmp-2147483632-xyz.tmp");
        std::fs::write(&dead_file, "half").unwrap();
        let live = dir
            .path()
            .join(format!(".model.tmp-{}-def", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        let staged = StagedDir::new(&dir.path().join("model")).unwrap();
        assert!(!dead.exists() && live.exists());
        drop(staged);
        write_bytes(&dir.path().join("e.csv"), b"1").unwrap();
        assert!(!dead_file.exists());
    }
}
