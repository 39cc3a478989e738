//! A lexicon that can be replaced while it is in use.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::{Engine, Lexicon, LexiconBuilder};
use crate::error::Error;

/// A shared handle to the lexicon in service, swapped atomically.
///
/// Scans load the current lexicon without locking and finish on it even if
/// a new one is stored meanwhile. A new lexicon is built by the caller,
/// off the request path; a failed build leaves the old one in service.
///
/// ```
/// use filter_core::{Lexicon, SharedLexicon};
///
/// let shared = SharedLexicon::new(Lexicon::builder().term("spam", "刷单").build()?);
/// let before = shared.load();
/// shared.store(Lexicon::builder().term("spam", "加微信").build()?);
/// assert_eq!(before.find("刷单").len(), 1, "in-flight scans keep the old lexicon");
/// assert_eq!(shared.load().find("刷单").len(), 0);
/// # Ok::<(), filter_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SharedLexicon {
    current: Arc<ArcSwap<Lexicon>>,
}

impl SharedLexicon {
    /// A handle serving `lexicon`.
    pub fn new(lexicon: Lexicon) -> SharedLexicon {
        SharedLexicon {
            current: Arc::new(ArcSwap::from_pointee(lexicon)),
        }
    }

    /// The lexicon in service now.
    pub fn load(&self) -> Arc<Lexicon> {
        self.current.load_full()
    }

    /// Puts `lexicon` in service; scans in flight finish on the old one.
    pub fn store(&self, lexicon: Lexicon) {
        self.current.store(Arc::new(lexicon));
    }

    /// Puts a shared `lexicon` in service.
    pub fn store_arc(&self, lexicon: Arc<Lexicon>) {
        self.current.store(lexicon);
    }

    /// Builds a lexicon from a word-list directory and puts it in service.
    /// On error the old lexicon stays in service and the error is returned.
    pub fn reload_dir(&self, dir: impl AsRef<Path>, engine: Engine) -> Result<Arc<Lexicon>, Error> {
        let lexicon = Arc::new(LexiconBuilder::new().engine(engine).add_dir(dir)?.build()?);
        self.current.store(lexicon.clone());
        Ok(lexicon)
    }
}

impl From<Lexicon> for SharedLexicon {
    fn from(lexicon: Lexicon) -> SharedLexicon {
        SharedLexicon::new(lexicon)
    }
}
