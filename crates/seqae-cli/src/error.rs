//! The CLI's error: bad input (exit code 2) or a failure of the work itself (exit code 1).
use std::fmt;

/// An error to print as one line before exiting.
#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong (file, format, flag, mismatch): exit code 2.
    Input(String),
    /// The work failed for another reason (e.g. training diverged): exit code 1.
    Failed(String),
    /// A signal stopped the work (what was saved is said): exit code 128 + the signal.
    Interrupted {
        /// What happened and what was kept.
        message: String,
        /// The signal's number.
        signal: i32,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failed(_) => 1,
            CliError::Interrupted { signal, .. } => crate::signals::exit_code(*signal),
        }
    }
}

impl CliError {
    /// This error with the staging folder `staged` named as `target`, where its files were to
    /// appear (a full disk's message names the user's path, not a temporary one).
    pub fn unstaged(self, staged: &std::path::Path, target: &std::path::Path) -> CliError {
        let fix =
            |m: String| m.replace(&staged.display().to_string(), &target.display().to_string());
        match self {
            CliError::Input(m) => CliError::Input(fix(m)),
            CliError::Failed(m) => CliError::Failed(fix(m)),
            CliError::Interrupted { message, signal } => CliError::Interrupted {
                message: fix(message),
                signal,
            },
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input(m) | CliError::Failed(m) => f.write_str(m),
            CliError::Interrupted { message, .. } => f.write_str(message),
        }
    }
}

impl From<seqae_data::DataError> for CliError {
    fn from(e: seqae_data::DataError) -> Self {
        CliError::Input(e.to_string())
    }
}

/// Result with [`CliError`].
pub type CliResult<T> = Result<T, CliError>;
