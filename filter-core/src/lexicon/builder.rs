//! Building a [`Lexicon`]: terms checked and normalized, duplicates
//! warned about, automata built.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use super::fuzzy::FuzzyIndex;
use super::matcher::{Engine, Matcher};
use super::normalize::normalize;
use super::wordlist::{self, Warning};
use super::{
    CategoryOptions, Lexicon, Pattern, SoundIndex, SoundSpelling, Spelling, MAX_TERM_CHARS, NO_TERM,
};
use crate::detectors::Detectors;
use crate::error::Error;
use crate::finding::TermInfo;

/// Where a term came from, for messages.
#[derive(Clone, Debug)]
pub(super) struct Source {
    pub(super) file: PathBuf,
    pub(super) line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Clone, Debug)]
struct RawTerm {
    category: usize,
    text: String,
    source: Option<Source>,
}

/// Builds a [`Lexicon`] from terms, categories and an allow list.
///
/// ```
/// use filter_core::{Action, CategoryOptions, LexiconBuilder};
///
/// let lexicon = LexiconBuilder::new()
///     .category("fraud", CategoryOptions::new().action(Action::Block))
///     .term("fraud", "代开发票")
///     .term("drugs", "大麻")
///     .allow("大麻哈鱼")
///     .build()?;
/// let found = lexicon.find("代*开*发*票，大麻哈鱼");
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].as_str(), "代*开*发*票");
/// assert_eq!(found[0].category(), "fraud");
/// # Ok::<(), filter_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct LexiconBuilder {
    engine: Engine,
    categories: Vec<(String, CategoryOptions)>,
    terms: Vec<RawTerm>,
    allow: Vec<RawTerm>,
    pub(super) dir_warnings: Vec<Warning>,
    detectors: Option<Detectors>,
}

impl LexiconBuilder {
    /// An empty builder.
    pub fn new() -> LexiconBuilder {
        LexiconBuilder::default()
    }

    /// The detector configuration the lexicon carries (and a scanner
    /// using it applies): context words, minimum confidence, custom
    /// detectors, values never reported. [`add_dir`] sets it from the
    /// directory's `detectors.toml`; without one, the built-in rules.
    ///
    /// [`add_dir`]: LexiconBuilder::add_dir
    pub fn detectors(&mut self, detectors: Detectors) -> &mut LexiconBuilder {
        self.detectors = Some(detectors);
        self
    }

    /// The automaton to match with.
    pub fn engine(&mut self, engine: Engine) -> &mut LexiconBuilder {
        self.engine = engine;
        self
    }

    pub(super) fn category_index(&mut self, name: &str) -> usize {
        match self.categories.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.categories
                    .push((name.to_string(), CategoryOptions::default()));
                self.categories.len() - 1
            }
        }
    }

    /// Sets the options of a category (creating it).
    pub fn category(&mut self, name: &str, options: CategoryOptions) -> &mut LexiconBuilder {
        let i = self.category_index(name);
        self.categories[i].1 = options;
        self
    }

    /// Adds a term to a category (creating it with default options).
    pub fn term(&mut self, category: &str, term: &str) -> &mut LexiconBuilder {
        self.push_term(category, term, None);
        self
    }

    pub(super) fn push_term(&mut self, category: &str, term: &str, source: Option<Source>) {
        let category = self.category_index(category);
        self.terms.push(RawTerm {
            category,
            text: term.to_string(),
            source,
        });
    }

    /// Adds a term to the allow list: a match that lies inside an occurrence
    /// of an allowed term is dropped (`大麻哈鱼` keeps `大麻` from firing).
    pub fn allow(&mut self, term: &str) -> &mut LexiconBuilder {
        self.push_allow(term, None);
        self
    }

    pub(super) fn push_allow(&mut self, term: &str, source: Option<Source>) {
        self.allow.push(RawTerm {
            category: 0,
            text: term.to_string(),
            source,
        });
    }

    /// Reads a word-list directory (see `wordlists/README.md`): every
    /// `*.txt` file is a category named by its stem, `allow.txt` is the
    /// allow list, and an optional `lists.toml` sets category options.
    pub fn add_dir(&mut self, dir: impl AsRef<Path>) -> Result<&mut LexiconBuilder, Error> {
        wordlist::read_dir(self, dir.as_ref())?;
        Ok(self)
    }

    /// Adds a word-list directory held in memory (embedded in a binary,
    /// say): (file name, contents) pairs read exactly as [`add_dir`]
    /// reads the files of a directory, `lists.toml` included.
    ///
    /// ```
    /// use filter_core::{Action, LexiconBuilder};
    ///
    /// let lexicon = LexiconBuilder::new()
    ///     .add_files(&[
    ///         ("spam.txt", "刷单\n".as_bytes()),
    ///         ("lists.toml", b"[category.spam]\naction = \"review\"\n"),
    ///     ])?
    ///     .build()?;
    /// assert_eq!(lexicon.category_action("spam"), Some(Action::Review));
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    ///
    /// [`add_dir`]: LexiconBuilder::add_dir
    pub fn add_files(&mut self, files: &[(&str, &[u8])]) -> Result<&mut LexiconBuilder, Error> {
        wordlist::add_files(self, files)?;
        Ok(self)
    }

    /// Reads one list from memory, as if it were the file `name` of a
    /// word-list directory (`spam.txt` is the category `spam`, `allow.txt`
    /// the allow list). Fails on invalid UTF-8, naming `name` and the line.
    ///
    /// ```
    /// use filter_core::LexiconBuilder;
    ///
    /// let lexicon = LexiconBuilder::new().add_list("spam.txt", "# ads\n刷单\n".as_bytes())?.build()?;
    /// assert_eq!(lexicon.find("刷单")[0].category(), "spam");
    /// assert!(LexiconBuilder::new().add_list("x.txt", b"\xff\n").is_err());
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn add_list(&mut self, name: &str, contents: &[u8]) -> Result<&mut LexiconBuilder, Error> {
        wordlist::add_list(self, Path::new(name), contents)?;
        Ok(self)
    }

    /// Builds the lexicon. Fails, naming the file and line where known, on
    /// a term with control characters, a term that normalizes to nothing,
    /// a term longer than [`MAX_TERM_CHARS`], or a category name that is
    /// not 1 to 64 letters, digits, `_` or `-`. Duplicates are warnings
    /// ([`Lexicon::warnings`]).
    pub fn build(&self) -> Result<Lexicon, Error> {
        let categories = self.checked_categories()?;
        let mut warnings = self.dir_warnings.clone();
        let terms = self.compile_terms(&categories, &mut warnings)?;
        let allow_norms = self.compile_allow(&mut warnings)?;
        let sounds = sound_index(self.engine, &terms, &categories)?;
        let matcher = if sounds.is_some() {
            Matcher::Empty
        } else {
            let refs: Vec<&str> = terms.norms.iter().map(String::as_str).collect();
            Matcher::build(self.engine, &refs)?
        };
        let allow = if allow_norms.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&allow_norms)
                    .map_err(|e| Error::invalid_option("allow list", e.to_string()))?,
            )
        };
        let fuzzy_terms: Vec<(usize, Vec<char>, usize)> = terms
            .spellings
            .iter()
            .enumerate()
            .filter(|(_, p)| p.edits > 0)
            .map(|(i, p)| (i, p.chars.to_vec(), p.edits))
            .collect();
        Ok(Lexicon {
            fuzzy: FuzzyIndex::build(&fuzzy_terms)?,
            sounds,
            // The list's terms (fuzzy windows are sized by them), not the
            // longer pinyin spellings, which match exactly.
            longest_term_chars: terms
                .spellings
                .iter()
                .zip(&terms.patterns)
                .filter(|(_, p)| !p.pinyin)
                .map(|(s, _)| s.char_count)
                .max()
                .unwrap_or(0),
            longest_norm_bytes: terms
                .spellings
                .iter()
                .map(|p| p.norm.len())
                .max()
                .unwrap_or(0),
            patterns: terms.patterns,
            spellings: terms.spellings,
            categories,
            matcher,
            allow,
            allow_terms: allow_norms.len(),
            allow_max_bytes: allow_norms.iter().map(String::len).max().unwrap_or(0),
            warnings,
            detectors: self.detectors.clone(),
        })
    }

    /// The categories, their names checked.
    fn checked_categories(&self) -> Result<Vec<(Arc<str>, CategoryOptions)>, Error> {
        self.categories
            .iter()
            .map(|(n, o)| {
                wordlist::check_category_name(n)
                    .map_err(|reason| Error::invalid_option("category", reason))?;
                Ok((Arc::from(n.as_str()), o.clone()))
            })
            .collect()
    }

    /// Checks and normalizes every term; a term whose normal form repeats
    /// an earlier one is a warning and left out.
    fn compile_terms(
        &self,
        categories: &[(Arc<str>, CategoryOptions)],
        warnings: &mut Vec<Warning>,
    ) -> Result<CompiledTerms, Error> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = CompiledTerms::default();
        for raw in &self.terms {
            let norm = check_term(raw)?;
            if let Some(&first) = seen.get(&norm) {
                let p: &Pattern = &out.patterns[first];
                warnings.push(Warning::duplicate(
                    raw.source.as_ref(),
                    &raw.text,
                    &p.info.term,
                    &p.info.category,
                ));
                continue;
            }
            seen.insert(norm.clone(), out.patterns.len());
            let (name, options) = &categories[raw.category];
            let chars: Box<[char]> = norm.chars().collect();
            let term: Box<str> = raw.text.trim().into();
            let category = u32::try_from(raw.category)
                .map_err(|_| Error::invalid_option("categories", "more than 2^32"))?;
            let term_is_normal = *term == *norm;
            let info = Arc::new(TermInfo {
                category: name.clone(),
                term,
                action: options.action,
            });
            let pinyin = if options.spells_pinyin(chars.len()) {
                super::pinyin::spellings(&chars)
            } else {
                Vec::new()
            };
            let edits = options.edits(chars.len());
            out.push(category, info.clone(), term_is_normal, norm, edits, false);
            for spelling in pinyin {
                // A spelling another term has already (`wangluo` listed as
                // a term of its own) stays that term's.
                if seen.contains_key(&spelling) {
                    continue;
                }
                seen.insert(spelling.clone(), out.patterns.len());
                out.push(category, info.clone(), false, spelling, 0, true);
            }
        }
        Ok(out)
    }

    /// Checks and normalizes the allow list, duplicates left out.
    fn compile_allow(&self, warnings: &mut Vec<Warning>) -> Result<Vec<String>, Error> {
        let mut seen = std::collections::HashSet::new();
        let mut norms = Vec::new();
        for raw in &self.allow {
            let norm = check_term(raw)?;
            if !seen.insert(norm.clone()) {
                warnings.push(Warning::duplicate(
                    raw.source.as_ref(),
                    &raw.text,
                    &raw.text,
                    "allow",
                ));
                continue;
            }
            norms.push(norm);
        }
        Ok(norms)
    }
}

/// The automaton over the sound channel, when a category matches by sound
/// (else `None`, and the exact automaton runs over the normalized text):
/// every pattern as its text sounds, and the terms that match by sound in
/// each reading of their characters.
fn sound_index(
    engine: Engine,
    terms: &CompiledTerms,
    categories: &[(Arc<str>, CategoryOptions)],
) -> Result<Option<SoundIndex>, Error> {
    let by_sound = |p: &Pattern, sp: &Spelling| {
        !p.pinyin
            && categories[p.category as usize]
                .1
                .matches_sound(sp.char_count)
    };
    if !terms
        .patterns
        .iter()
        .zip(&terms.spellings)
        .any(|(p, sp)| by_sound(p, sp))
    {
        return Ok(None);
    }
    let too_many = || Error::invalid_option("word list", "more than 2^32 terms");
    // Each spelling: the patterns that sound so, the term it reports.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(Vec<u32>, u32)> = Vec::new();
    fn entry(
        index: &mut HashMap<String, usize>,
        groups: &mut Vec<(Vec<u32>, u32)>,
        spelling: String,
    ) -> usize {
        *index.entry(spelling).or_insert_with(|| {
            groups.push((Vec::new(), NO_TERM));
            groups.len() - 1
        })
    }
    let mut sound = Vec::new();
    for (pid, (p, sp)) in terms.patterns.iter().zip(&terms.spellings).enumerate() {
        let pid = u32::try_from(pid).map_err(|_| too_many())?;
        super::pinyin::sound_text(&sp.norm, &mut sound);
        let spelling = super::pinyin::sound_str(&sound).to_string();
        let g = entry(&mut index, &mut groups, spelling);
        groups[g].0.push(pid);
        if by_sound(p, sp) {
            let chars: Vec<char> = sp.norm.chars().collect();
            for spelling in super::pinyin::sound_spellings(&chars) {
                let g = entry(&mut index, &mut groups, spelling);
                if groups[g].1 == NO_TERM {
                    groups[g].1 = pid;
                }
            }
        }
    }
    let mut spellings: Vec<(&str, usize)> = index.iter().map(|(s, &g)| (s.as_str(), g)).collect();
    spellings.sort_unstable_by_key(|&(_, g)| g);
    let refs: Vec<&str> = spellings.iter().map(|&(s, _)| s).collect();
    let mut exact_pids = Vec::new();
    let mut entries = Vec::with_capacity(groups.len());
    for (pids, homophone) in groups {
        let from = u32::try_from(exact_pids.len()).map_err(|_| too_many())?;
        exact_pids.extend(pids);
        let to = u32::try_from(exact_pids.len()).map_err(|_| too_many())?;
        entries.push(SoundSpelling {
            exact: (from, to),
            homophone,
        });
    }
    Ok(Some(SoundIndex {
        matcher: Matcher::build_overlapping(engine, &refs)?,
        spellings: entries,
        exact_pids,
    }))
}

/// The terms of a build, in pattern order.
#[derive(Default)]
struct CompiledTerms {
    patterns: Vec<Pattern>,
    spellings: Vec<Spelling>,
    norms: Vec<String>,
}

impl CompiledTerms {
    /// One pattern of the automaton: a term's normal form, or one of its
    /// pinyin spellings.
    fn push(
        &mut self,
        category: u32,
        info: Arc<TermInfo>,
        term_is_normal: bool,
        norm: String,
        edits: usize,
        pinyin: bool,
    ) {
        let first = norm.chars().next().expect("a term normalizes to something");
        let last = norm
            .chars()
            .next_back()
            .expect("a term normalizes to something");
        self.patterns.push(Pattern {
            category,
            ascii_start: first.is_ascii_alphanumeric(),
            ascii_end: last.is_ascii_alphanumeric(),
            term_is_normal,
            pinyin,
            info,
        });
        self.spellings.push(Spelling {
            edits,
            // Only fuzzy matching reads the characters: an exact-only
            // spelling (most pinyin ones) keeps none.
            chars: if edits > 0 {
                norm.chars().collect()
            } else {
                Box::default()
            },
            char_count: norm.chars().count(),
            norm: norm.as_str().into(),
        });
        self.norms.push(norm);
    }
}

/// Validates a raw term and returns its normalized form.
fn check_term(raw: &RawTerm) -> Result<String, Error> {
    let fail = |reason: String| match &raw.source {
        Some(s) => Error::word_list(&s.file, s.line, reason),
        None => Error::invalid_option("term", reason),
    };
    if let Some(c) = raw.text.chars().find(|c| c.is_control()) {
        return Err(fail(format!(
            "control character U+{:04X} in a term",
            c as u32
        )));
    }
    let norm = normalize(&raw.text);
    if norm.is_empty() {
        return Err(fail(format!(
            "term {:?} normalizes to nothing (only whitespace, punctuation, symbols or invisible characters)",
            raw.text
        )));
    }
    let n = norm.chars().count();
    if n > MAX_TERM_CHARS {
        return Err(fail(format!(
            "term of {n} characters is longer than the limit of {MAX_TERM_CHARS}"
        )));
    }
    Ok(norm)
}
