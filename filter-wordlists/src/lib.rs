//! Where the word lists come from: a directory, or the lists bundled in
//! the binary (the default of every command, so a copied binary runs).
//! `filter-server` and `filter-proxy` both load their lists through it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::path::PathBuf;

use filter_core::{Engine, Lexicon, LexiconBuilder};

include!(concat!(env!("OUT_DIR"), "/bundled_wordlists.rs"));

/// The word lists a command or the service uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wordlists {
    /// The lists of `wordlists/` in the source tree, built into the binary.
    Bundled,
    /// A word-list directory (`wordlists/README.md` has the format).
    Dir(PathBuf),
}

impl Wordlists {
    /// `--wordlists DIR` when given, else the bundled lists.
    pub fn from_option(dir: Option<PathBuf>) -> Wordlists {
        dir.map_or(Wordlists::Bundled, Wordlists::Dir)
    }

    /// Builds the lexicon of these lists.
    pub fn load(&self) -> Result<Lexicon, filter_core::Error> {
        let mut builder = LexiconBuilder::new();
        builder.engine(Engine::default());
        match self {
            Wordlists::Bundled => builder.add_files(BUNDLED_WORDLISTS)?,
            Wordlists::Dir(dir) => builder.add_dir(dir)?,
        };
        builder.build()
    }
}

/// The most load warnings printed one a line by `scan`, `redact` and
/// `serve`; `check-wordlists` lists them all.
pub const WARNINGS_SHOWN: usize = 10;

/// The lines that report `lexicon`'s load warnings: the first
/// [`WARNINGS_SHOWN`], then one line counting the rest, so that a list of
/// a million terms with a few hundred duplicates does not print a few
/// hundred lines on every run.
pub fn warning_lines(lexicon: &Lexicon) -> Vec<String> {
    let warnings = lexicon.warnings();
    let mut lines: Vec<String> = warnings
        .iter()
        .take(WARNINGS_SHOWN)
        .map(ToString::to_string)
        .collect();
    if warnings.len() > WARNINGS_SHOWN {
        lines.push(format!(
            "{} more warnings like these (`filter-server check-wordlists DIR` lists them all)",
            warnings.len() - WARNINGS_SHOWN
        ));
    }
    lines
}

impl fmt::Display for Wordlists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wordlists::Bundled => f.write_str("the bundled lists"),
            Wordlists::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_warnings_are_counted_not_listed() {
        let dups: String = (0..25).map(|i| format!("词{i}\n词{i}\n")).collect();
        let mut b = LexiconBuilder::new();
        b.add_files(&[("spam.txt", dups.as_bytes())]).unwrap();
        let lexicon = b.build().unwrap();
        assert_eq!(lexicon.warnings().len(), 25);
        let lines = warning_lines(&lexicon);
        assert_eq!(lines.len(), WARNINGS_SHOWN + 1);
        assert!(
            lines[WARNINGS_SHOWN].starts_with("15 more warnings"),
            "{lines:?}"
        );
        let mut b = LexiconBuilder::new();
        b.add_files(&[("spam.txt", "a\na\n".as_bytes())]).unwrap();
        assert_eq!(warning_lines(&b.build().unwrap()).len(), 1);
    }

    #[test]
    fn the_bundled_lists_load_as_the_directory_does() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wordlists");
        let bundled = Wordlists::Bundled.load().unwrap();
        let from_dir = Wordlists::Dir(dir).load().unwrap();
        assert_eq!(bundled.category_counts(), from_dir.category_counts());
        assert_eq!(bundled.allow_count(), from_dir.allow_count());
        assert!(bundled.term_count() > 100);
        for c in bundled.categories() {
            assert_eq!(
                bundled.category_action(c),
                from_dir.category_action(c),
                "{c}"
            );
        }
    }
}
