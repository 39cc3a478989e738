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
//!
//! [category.spam]                 # for one category, over the defaults
//! action = "review"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{CategoryOptions, LexiconBuilder, Source};
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
        o
    }
}

/// The name of the settings file.
const SETTINGS: &str = "lists.toml";
/// The stem of the allow list.
const ALLOW: &str = "allow";

pub(super) fn read_dir(b: &mut LexiconBuilder, dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, &e))?.path();
        if path.extension().is_some_and(|e| e == "txt") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();

    let settings_path = dir.join(SETTINGS);
    let settings: Settings = match std::fs::read(&settings_path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::settings(&settings_path, "not UTF-8"))?;
            toml::from_str(&text).map_err(|e| Error::settings(&settings_path, e.to_string()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
        Err(e) => return Err(Error::io(&settings_path, &e)),
    };

    let mut warnings = Vec::new();
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::word_list(file, 0, "the file name is not UTF-8"))?;
        if stem == ALLOW {
            read_file(file, |term, source| b.push_allow(term, Some(source)))?;
            continue;
        }
        let defaults = settings.defaults.apply(CategoryOptions::default());
        let options = match settings.category.get(stem) {
            Some(s) => s.apply(defaults),
            None => defaults,
        };
        b.category(stem, options);
        read_file(file, |term, source| b.push_term(stem, term, Some(source)))?;
    }
    for name in settings.category.keys() {
        if !files
            .iter()
            .any(|f| f.file_stem().is_some_and(|s| s == name.as_str()))
        {
            warnings.push(Warning::in_file(
                &settings_path,
                format!("category {name:?} has settings but no {name}.txt"),
            ));
        }
    }
    b.dir_warnings.extend(warnings);
    Ok(())
}

/// Calls `add(term, source)` for each term line of a list file.
fn read_file(file: &Path, add: impl FnMut(&str, Source)) -> Result<(), Error> {
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, &e))?;
    parse_list(file, &bytes, add)
}

/// Reads the contents of one list file named `file` (for messages) into
/// the builder: a category, or the allow list when the stem is `allow`.
pub(super) fn add_list(b: &mut LexiconBuilder, file: &Path, contents: &[u8]) -> Result<(), Error> {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::word_list(file, 0, "the file name is not UTF-8"))?
        .to_string();
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
