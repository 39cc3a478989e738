//! The word-list directory format.
//!
//! A directory holds UTF-8 `*.txt` files, one term a line; `#` starts a
//! comment line; blank lines are ignored. The category is the file stem;
//! `allow.txt` is the allow list. An optional `lists.toml` sets options:
//!
//! ```toml
//! [defaults]                      # for every category
//! action = "block"                # block | review | mask
//! fuzzy = true
//! fuzzy_one_edit_min_chars = 5
//! fuzzy_two_edits_min_chars = 10
//! max_noise = 3
//! pinyin = false                 # also match terms written in pinyin
//! pinyin_min_chars = 3
//! homophones = false             # also match same-sound characters
//! homophone_min_chars = 3
//!
//! [category.spam]                 # for one category, over the defaults
//! action = "review"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::builder::Source;
use super::{CategoryOptions, LexiconBuilder};
use crate::error::Error;
use crate::finding::Action;

/// A problem in a word list that does not stop it from loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    file: Option<PathBuf>,
    line: Option<usize>,
    message: String,
}

impl Warning {
    pub(super) fn duplicate(
        source: Option<&Source>,
        term: &str,
        first: &str,
        category: &str,
    ) -> Warning {
        Warning {
            file: source.map(|s| s.file.clone()),
            line: source.map(|s| s.line),
            message: format!("duplicate term {term:?} (same as {first:?} in {category}); ignored"),
        }
    }

    fn in_file(file: &Path, message: String) -> Warning {
        Warning {
            file: Some(file.to_path_buf()),
            line: None,
            message,
        }
    }

    /// The file, when known.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: {}", file.display(), self.message),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            _ => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    defaults: CategorySettings,
    #[serde(default)]
    category: BTreeMap<String, CategorySettings>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategorySettings {
    action: Option<ActionName>,
    fuzzy: Option<bool>,
    fuzzy_one_edit_min_chars: Option<usize>,
    fuzzy_two_edits_min_chars: Option<usize>,
    max_noise: Option<usize>,
    pinyin: Option<bool>,
    pinyin_min_chars: Option<usize>,
    homophones: Option<bool>,
    homophone_min_chars: Option<usize>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ActionName {
    Block,
    Review,
    Mask,
}

impl CategorySettings {
    fn apply(&self, mut o: CategoryOptions) -> CategoryOptions {
        if let Some(a) = self.action {
            o.action = match a {
                ActionName::Block => Action::Block,
                ActionName::Review => Action::Review,
                ActionName::Mask => Action::Mask,
            };
        }
        if let Some(f) = self.fuzzy {
            o.fuzzy = f;
        }
        if let Some(n) = self.fuzzy_one_edit_min_chars {
            o.one_edit_min_chars = n;
        }
        if let Some(n) = self.fuzzy_two_edits_min_chars {
            o.two_edits_min_chars = n;
        }
        if let Some(n) = self.max_noise {
            o.max_noise = n;
        }
        if let Some(on) = self.pinyin {
            o.pinyin = on;
        }
        if let Some(n) = self.pinyin_min_chars {
            o.pinyin_min_chars = n;
        }
        if let Some(on) = self.homophones {
            o.homophones = on;
        }
        if let Some(n) = self.homophone_min_chars {
            o.homophone_min_chars = n;
        }
        o
    }
}

/// The name of the settings file.
const SETTINGS: &str = "lists.toml";
use crate::detectors::{Detectors, DETECTORS_FILE};
/// The stem of the allow list.
const ALLOW: &str = "allow";

/// The largest list file read (a million terms take about 10 MiB).
pub const MAX_LIST_FILE_BYTES: u64 = 64 << 20;
/// The most the files of one word-list directory may hold together.
pub const MAX_LIST_DIR_BYTES: u64 = 256 << 20;
/// The largest `lists.toml`.
const MAX_SETTINGS_BYTES: u64 = 1 << 20;

pub(super) fn read_dir(b: &mut LexiconBuilder, dir: &Path) -> Result<(), Error> {
    let mut reader = ListReader::new(dir)?;
    let settings_path = dir.join(SETTINGS);
    let settings = match std::fs::symlink_metadata(&settings_path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&settings_path, e)),
        Ok(_) => Some(reader.read(&settings_path, MAX_SETTINGS_BYTES)?),
    };
    let detectors_path = dir.join(DETECTORS_FILE);
    if std::fs::symlink_metadata(&detectors_path).is_ok() {
        let bytes = reader.read(&detectors_path, MAX_SETTINGS_BYTES)?;
        add_detectors(b, &detectors_path, &bytes)?;
    }
    let mut lists = Vec::new();
    for file in list_files(dir)? {
        category_of(&file)?;
        let bytes = reader.read(&file, MAX_LIST_FILE_BYTES)?;
        lists.push((file, bytes));
    }
    add_lists(b, &settings_path, settings.as_deref(), &lists)
}

/// Adds the lists of a word-list directory, given as their paths and
/// contents (sorted by path), and its settings file's contents.
fn add_lists(
    b: &mut LexiconBuilder,
    settings_path: &Path,
    settings: Option<&[u8]>,
    lists: &[(PathBuf, impl AsRef<[u8]>)],
) -> Result<(), Error> {
    let settings = match settings {
        Some(bytes) => parse_settings(settings_path, bytes)?,
        None => Settings::default(),
    };
    for (file, bytes) in lists {
        let stem = category_of(file)?;
        if stem == ALLOW {
            parse_list(file, bytes.as_ref(), |term, source| {
                b.push_allow(term, Some(source))
            })?;
            continue;
        }
        let defaults = settings.defaults.apply(CategoryOptions::default());
        let options = match settings.category.get(stem) {
            Some(s) => s.apply(defaults),
            None => defaults,
        };
        b.category(stem, options);
        parse_list(file, bytes.as_ref(), |term, source| {
            b.push_term(stem, term, Some(source))
        })?;
    }
    for name in settings.category.keys() {
        if !lists
            .iter()
            .any(|(f, _)| f.file_stem().is_some_and(|s| s == name.as_str()))
        {
            b.dir_warnings.push(Warning::in_file(
                settings_path,
                format!("category {name:?} has settings but no {name}.txt"),
            ));
        }
    }
    Ok(())
}

/// Adds a word-list directory given as (file name, contents) pairs, as
/// [`read_dir`] reads one from disk: `*.txt` lists, `lists.toml`
/// settings, other names refused.
pub(super) fn add_files(b: &mut LexiconBuilder, files: &[(&str, &[u8])]) -> Result<(), Error> {
    let mut settings = None;
    let mut lists: Vec<(PathBuf, &[u8])> = Vec::new();
    for &(name, bytes) in files {
        let path = PathBuf::from(name);
        if name == SETTINGS {
            settings = Some(bytes);
        } else if name == DETECTORS_FILE {
            add_detectors(b, &path, bytes)?;
        } else if path.extension().is_some_and(|e| e == "txt")
            && path.parent() == Some(Path::new(""))
        {
            lists.push((path, bytes));
        } else {
            return Err(Error::file_refused(
                &path,
                "a word-list directory holds `*.txt` lists, `lists.toml` and `detectors.toml` only",
            ));
        }
    }
    lists.sort_by(|a, b| a.0.cmp(&b.0));
    add_lists(b, Path::new(SETTINGS), settings, &lists)
}

/// The `*.txt` entries of `dir`, sorted.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The detector configuration in the contents of `detectors.toml`.
fn add_detectors(b: &mut LexiconBuilder, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::settings(path, "not UTF-8"))?;
    b.detectors(Detectors::parse(path, text)?);
    Ok(())
}

/// The settings in the contents of `lists.toml`.
fn parse_settings(path: &Path, bytes: &[u8]) -> Result<Settings, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::settings(path, "not UTF-8"))?;
    toml::from_str(text).map_err(|e| Error::settings(path, e.to_string()))
}

/// The category a list file names: its stem, which must be a safe name.
fn category_of(file: &Path) -> Result<&str, Error> {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::file_refused(file, "the file name is not UTF-8"))?;
    check_category_name(stem).map_err(|reason| Error::file_refused(file, reason))?;
    Ok(stem)
}

/// The longest category name, in characters.
const MAX_CATEGORY_CHARS: usize = 64;

/// Whether `name` can be a category: 1 to 64 letters, digits, `_` or `-`
/// (any script). Names reach metrics labels, logs and JSON, so nothing
/// else is allowed in them.
pub(super) fn check_category_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_CATEGORY_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} cannot be a category name: use 1 to {MAX_CATEGORY_CHARS} letters, digits, `_` or `-`"
        ))
    }
}

/// Reads the files of one word-list directory: regular files only, links
/// only to files inside the directory, each file and all of them together
/// under a size limit. A FIFO, a device or `/dev/zero` behind a link would
/// otherwise stall or exhaust the process that loads the lists.
struct ListReader {
    /// The directory with every link resolved.
    root: PathBuf,
    /// Bytes the directory's files may still hold.
    left: u64,
}

impl ListReader {
    fn new(dir: &Path) -> Result<ListReader, Error> {
        let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        Ok(ListReader {
            root,
            left: MAX_LIST_DIR_BYTES,
        })
    }

    /// The contents of `path`, at most `cap` bytes.
    fn read(&mut self, path: &Path, cap: u64) -> Result<Vec<u8>, Error> {
        use std::io::Read;
        let link = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
        if link.file_type().is_symlink() {
            let target = path.canonicalize().map_err(|e| Error::io(path, e))?;
            if !target.starts_with(&self.root) {
                return Err(Error::file_refused(
                    path,
                    "a link to a file outside the word-list directory",
                ));
            }
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        self.check(path, &meta, cap)?;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // The file may have been replaced between the two looks.
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        self.check(path, &meta, cap)?;
        let mut bytes = Vec::new();
        file.take(cap.min(self.left) + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        self.check_size(path, bytes.len() as u64, cap)?;
        self.left -= bytes.len() as u64;
        Ok(bytes)
    }

    fn check(&self, path: &Path, meta: &std::fs::Metadata, cap: u64) -> Result<(), Error> {
        if !meta.is_file() {
            return Err(Error::file_refused(
                path,
                "not a regular file (a directory, FIFO, socket or device cannot be a list)",
            ));
        }
        self.check_size(path, meta.len(), cap)
    }

    fn check_size(&self, path: &Path, len: u64, cap: u64) -> Result<(), Error> {
        if len > cap {
            return Err(Error::file_refused(
                path,
                format!("{len} bytes or more, over the limit of {cap} bytes for one file"),
            ));
        }
        if len > self.left {
            return Err(Error::file_refused(
                path,
                format!(
                    "the directory's files hold more than the limit of {MAX_LIST_DIR_BYTES} bytes together"
                ),
            ));
        }
        Ok(())
    }
}

/// Reads the contents of one list file named `file` (for messages) into
/// the builder: a category, or the allow list when the stem is `allow`.
pub(super) fn add_list(b: &mut LexiconBuilder, file: &Path, contents: &[u8]) -> Result<(), Error> {
    let stem = category_of(file)?.to_string();
    if stem == ALLOW {
        parse_list(file, contents, |term, source| {
            b.push_allow(term, Some(source))
        })
    } else {
        b.category_index(&stem);
        parse_list(file, contents, |term, source| {
            b.push_term(&stem, term, Some(source))
        })
    }
}

/// Calls `add(term, source)` for each term line of a list's contents.
fn parse_list(file: &Path, bytes: &[u8], mut add: impl FnMut(&str, Source)) -> Result<(), Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|e| {
            Error::word_list(
                file,
                n,
                format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
            )
        })?;
        let term = line.trim();
        if term.is_empty() || term.starts_with('#') {
            continue;
        }
        add(
            term,
            Source {
                file: file.to_path_buf(),
                line: n,
            },
        );
    }
    Ok(())
}
