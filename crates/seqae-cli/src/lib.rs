//! The `seqae` command line: a thin layer of clap commands over the seqae crates.
//!
//! Every command reads its inputs, calls the libraries and writes its outputs atomically; any
//! error is printed as one line (`seqae: error: ...`) and bad input exits with code 2.
/// `println!` that ignores a closed standard output (`seqae ... | head -1`): the command goes
/// on, writes its output files and exits as it would have, instead of panicking on the broken
/// pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod args;
mod commands;
mod error;
mod output;
mod signals;
mod table;

use clap::Parser;
use std::process::ExitCode;

/// Runs the command line with the process arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    tune_allocator();
    match commands::run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            // One line whatever the message holds: a newline in a path is written as `\n`.
            let line = e.to_string().replace('\n', "\\n").replace('\r', "\\r");
            let _ = writeln!(std::io::stderr(), "seqae: error: {line}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Keeps glibc from handing every large buffer (a training step allocates many of several
/// MiB) back to the kernel on free and faulting fresh zeroed pages in on the next allocation:
/// buffers up to 64 MiB come from the heap, which keeps up to 256 MiB of free memory.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
