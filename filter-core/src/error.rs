//! The one error type of this crate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An error from building a scanner, a lexicon or a redaction policy, from
/// reading a word list or a key file, or from a scan stopped by its limits.
///
/// The error is opaque: its [`Display`](fmt::Display) says what went wrong
/// and where. Word-list errors also expose the file and line through
/// [`Error::file`] and [`Error::line`] so a service can report them in a
/// structured way.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug, Clone)]
enum ErrorKind {
    /// A builder or policy option is out of range.
    InvalidOption { name: &'static str, reason: String },
    /// A word-list file has a bad line.
    WordList {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    /// A word-list file or directory could not be read (shared so that
    /// the error stays `Clone` and keeps its source).
    Io {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// The settings file of a word-list directory is malformed.
    Settings { file: PathBuf, reason: String },
    /// A file that may not be read: not a regular file, too large, a link
    /// leaving its directory, a name that cannot be a category.
    File { path: PathBuf, reason: String },
    /// A scan stopped by its [`ScanLimits`](crate::ScanLimits).
    Interrupted(Interruption),
    /// A vault may not grow past this many entries.
    VaultFull(usize),
    /// Bytes that do not open as a sealed vault.
    VaultRefused(&'static str),
}

/// Why a scan stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// More findings than this limit.
    Findings(usize),
    /// The cancel token was cancelled.
    Cancelled,
    /// The deadline passed.
    Deadline,
}

impl Error {
    pub(crate) fn invalid_option(name: &'static str, reason: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::InvalidOption {
                name,
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn word_list(file: &Path, line: usize, reason: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::WordList {
                file: file.to_path_buf(),
                line,
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn io(path: &Path, err: std::io::Error) -> Error {
        Error {
            kind: ErrorKind::Io {
                path: path.to_path_buf(),
                source: Arc::new(err),
            },
        }
    }

    pub(crate) fn settings(file: &Path, reason: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Settings {
                file: file.to_path_buf(),
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn file_refused(path: &Path, reason: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::File {
                path: path.to_path_buf(),
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn vault_full(max: usize) -> Error {
        Error {
            kind: ErrorKind::VaultFull(max),
        }
    }

    pub(crate) fn vault_refused(reason: &'static str) -> Error {
        Error {
            kind: ErrorKind::VaultRefused(reason),
        }
    }

    /// Whether a [`Vault`](crate::Vault) refused a value for being full.
    pub fn is_vault_full(&self) -> bool {
        matches!(self.kind, ErrorKind::VaultFull(_))
    }

    /// Whether bytes did not open as a sealed vault: not one, changed,
    /// or sealed with a key that was not given.
    pub fn is_vault_refused(&self) -> bool {
        matches!(self.kind, ErrorKind::VaultRefused(_))
    }

    pub(crate) fn interrupted(why: Interruption) -> Error {
        Error {
            kind: ErrorKind::Interrupted(why),
        }
    }

    /// Whether a scan failed because the text holds more findings than
    /// [`ScanLimits::max_findings`](crate::ScanLimits::max_findings) allows.
    pub fn is_too_many_findings(&self) -> bool {
        matches!(self.kind, ErrorKind::Interrupted(Interruption::Findings(_)))
    }

    /// Whether a scan stopped because its [`CancelToken`](crate::CancelToken)
    /// was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, ErrorKind::Interrupted(Interruption::Cancelled))
    }

    /// Whether a scan stopped at its deadline.
    pub fn is_deadline_exceeded(&self) -> bool {
        matches!(self.kind, ErrorKind::Interrupted(Interruption::Deadline))
    }

    /// The file the error is about, when it is about a file.
    pub fn file(&self) -> Option<&Path> {
        match &self.kind {
            ErrorKind::WordList { file, .. } | ErrorKind::Settings { file, .. } => Some(file),
            ErrorKind::Io { path, .. } | ErrorKind::File { path, .. } => Some(path),
            ErrorKind::InvalidOption { .. }
            | ErrorKind::Interrupted(_)
            | ErrorKind::VaultFull(_)
            | ErrorKind::VaultRefused(_) => None,
        }
    }

    /// The 1-based line of [`Error::file`] the error is about, when known.
    pub fn line(&self) -> Option<usize> {
        match &self.kind {
            ErrorKind::WordList { line, .. } => Some(*line),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::InvalidOption { name, reason } => {
                write!(f, "invalid option `{name}`: {reason}")
            }
            ErrorKind::WordList { file, line, reason } => {
                write!(f, "{}:{line}: {reason}", file.display())
            }
            // The reason is in the message as well as in `source()`: most
            // programs print only the message.
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Settings { file, reason } => write!(f, "{}: {reason}", file.display()),
            ErrorKind::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            ErrorKind::Interrupted(Interruption::Findings(n)) => {
                write!(f, "the text holds more than {n} findings")
            }
            ErrorKind::Interrupted(Interruption::Cancelled) => {
                f.write_str("the scan was cancelled")
            }
            ErrorKind::Interrupted(Interruption::Deadline) => {
                f.write_str("the scan passed its deadline")
            }
            ErrorKind::VaultFull(max) => {
                write!(f, "the vault is full: it holds at most {max} values")
            }
            ErrorKind::VaultRefused(reason) => write!(f, "vault refused: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    /// The I/O error of a file that could not be read.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(&**source),
            _ => None,
        }
    }
}
