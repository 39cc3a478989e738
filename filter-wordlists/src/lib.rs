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
