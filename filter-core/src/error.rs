//! The one error type of this crate.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error from building a scanner, a lexicon or a redaction policy.
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
    /// A word-list file or directory could not be read.
    Io { path: PathBuf, reason: String },
    /// The settings file of a word-list directory is malformed.
    Settings { file: PathBuf, reason: String },
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

    pub(crate) fn io(path: &Path, err: &std::io::Error) -> Error {
        Error {
            kind: ErrorKind::Io {
                path: path.to_path_buf(),
                reason: err.to_string(),
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

    /// The file the error is about, when it is about a file.
    pub fn file(&self) -> Option<&Path> {
        match &self.kind {
            ErrorKind::WordList { file, .. } | ErrorKind::Settings { file, .. } => Some(file),
            ErrorKind::Io { path, .. } => Some(path),
            ErrorKind::InvalidOption { .. } => None,
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
            ErrorKind::Io { path, reason } => write!(f, "{}: {reason}", path.display()),
            ErrorKind::Settings { file, reason } => write!(f, "{}: {reason}", file.display()),
        }
    }
}

impl std::error::Error for Error {}
