//! The sensitive-word lexicon: Aho-Corasick over normalized text, allow
//! lists, fuzzy matching and the word-list directory format.

mod fuzzy;
mod matcher;
pub(crate) mod normalize;
mod shared;
mod t2s_table;
mod wordlist;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};

use self::fuzzy::FuzzyIndex;
use self::matcher::Matcher;
use self::normalize::{classify, normalize, Norm, NormText};
use crate::error::Error;
use crate::finding::{Action, Finding, MatchType, TermInfo};

pub use self::matcher::Engine;
pub use self::shared::SharedLexicon;
pub use self::wordlist::Warning;

/// The longest term accepted, in normalized characters.
pub const MAX_TERM_CHARS: usize = 256;

/// Options of one word-list category.
///
/// ```
/// use filter_core::{Action, CategoryOptions};
///
/// let strict = CategoryOptions::new().action(Action::Review).fuzzy(false).max_noise(1);
/// assert_eq!(strict.get_action(), Action::Review);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryOptions {
    action: Action,
    fuzzy: bool,
    one_edit_min_chars: usize,
    two_edits_min_chars: usize,
    max_noise: usize,
}

impl Default for CategoryOptions {
    fn default() -> CategoryOptions {
        CategoryOptions {
            action: Action::Block,
            fuzzy: true,
            one_edit_min_chars: 5,
            two_edits_min_chars: 10,
            max_noise: 3,
        }
    }
}

impl CategoryOptions {
    /// Block, fuzzy on (1 edit from 5 characters, 2 from 10), at most 3
    /// noise characters in a row between the characters of a term.
    pub fn new() -> CategoryOptions {
        CategoryOptions::default()
    }

    /// What a match asks for.
    pub fn action(mut self, action: Action) -> CategoryOptions {
        self.action = action;
        self
    }

    /// Whether terms match within a few edits.
    pub fn fuzzy(mut self, on: bool) -> CategoryOptions {
        self.fuzzy = on;
        self
    }

    /// The shortest terms (in normalized characters) allowed one and two
    /// edits. Shorter terms only match exactly: one edit on a 2-4 character
    /// Chinese term hits ordinary words.
    pub fn fuzzy_min_chars(mut self, one_edit: usize, two_edits: usize) -> CategoryOptions {
        self.one_edit_min_chars = one_edit;
        self.two_edits_min_chars = two_edits;
        self
    }

    /// The most noise characters (whitespace, punctuation, symbols) allowed
    /// in a row between two characters of a term; 0 turns skipping off.
    pub fn max_noise(mut self, n: usize) -> CategoryOptions {
        self.max_noise = n;
        self
    }

    /// The action.
    pub fn get_action(&self) -> Action {
        self.action
    }

    /// The edits allowed for a term of `chars` normalized characters.
    fn edits(&self, chars: usize) -> usize {
        if !self.fuzzy {
            0
        } else if chars >= self.two_edits_min_chars.max(self.one_edit_min_chars) {
            2
        } else if chars >= self.one_edit_min_chars {
            1
        } else {
            0
        }
    }
}

/// Where a term came from, for messages.
#[derive(Clone, Debug)]
struct Source {
    file: PathBuf,
    line: usize,
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
    dir_warnings: Vec<Warning>,
}

impl LexiconBuilder {
    /// An empty builder.
    pub fn new() -> LexiconBuilder {
        LexiconBuilder::default()
    }

    /// The automaton to match with.
    pub fn engine(&mut self, engine: Engine) -> &mut LexiconBuilder {
        self.engine = engine;
        self
    }

    fn category_index(&mut self, name: &str) -> usize {
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

    fn push_term(&mut self, category: &str, term: &str, source: Option<Source>) {
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

    fn push_allow(&mut self, term: &str, source: Option<Source>) {
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
    /// or a term longer than [`MAX_TERM_CHARS`]. Duplicates are warnings
    /// ([`Lexicon::warnings`]).
    pub fn build(&self) -> Result<Lexicon, Error> {
        let mut warnings = self.dir_warnings.clone();
        let categories: Vec<(Arc<str>, CategoryOptions)> = self
            .categories
            .iter()
            .map(|(n, o)| (Arc::from(n.as_str()), o.clone()))
            .collect();

        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut spellings: Vec<Spelling> = Vec::new();
        let mut norms: Vec<String> = Vec::new();
        for raw in &self.terms {
            let norm = check_term(raw)?;
            if let Some(&first) = seen.get(&norm) {
                let p: &Pattern = &patterns[first];
                warnings.push(Warning::duplicate(
                    raw.source.as_ref(),
                    &raw.text,
                    &p.info.term,
                    &p.info.category,
                ));
                continue;
            }
            seen.insert(norm.clone(), patterns.len());
            let (name, options) = &categories[raw.category];
            let chars: Box<[char]> = norm.chars().collect();
            let term: Box<str> = raw.text.trim().into();
            patterns.push(Pattern {
                category: u32::try_from(raw.category)
                    .map_err(|_| Error::invalid_option("categories", "more than 2^32"))?,
                ascii_start: chars[0].is_ascii_alphanumeric(),
                ascii_end: chars[chars.len() - 1].is_ascii_alphanumeric(),
                term_is_normal: *term == *norm,
                info: Arc::new(TermInfo {
                    category: name.clone(),
                    term,
                    action: options.action,
                }),
            });
            spellings.push(Spelling {
                edits: options.edits(chars.len()),
                chars,
                norm: norm.as_str().into(),
            });
            norms.push(norm);
        }

        let mut allow_seen: HashMap<String, ()> = HashMap::new();
        let mut allow_norms = Vec::new();
        for raw in &self.allow {
            let norm = check_term(raw)?;
            if allow_seen.insert(norm.clone(), ()).is_some() {
                warnings.push(Warning::duplicate(
                    raw.source.as_ref(),
                    &raw.text,
                    &raw.text,
                    "allow",
                ));
                continue;
            }
            allow_norms.push(norm);
        }

        let refs: Vec<&str> = norms.iter().map(String::as_str).collect();
        let matcher = Matcher::build(self.engine, &refs)?;
        let allow_max_bytes = allow_norms.iter().map(String::len).max().unwrap_or(0);
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
        let fuzzy_terms: Vec<(usize, Vec<char>, usize)> = spellings
            .iter()
            .enumerate()
            .filter(|(_, p)| p.edits > 0)
            .map(|(i, p)| (i, p.chars.to_vec(), p.edits))
            .collect();
        let fuzzy = FuzzyIndex::build(&fuzzy_terms)?;
        let longest_term_chars = spellings.iter().map(|p| p.chars.len()).max().unwrap_or(0);
        Ok(Lexicon {
            patterns,
            spellings,
            categories,
            matcher,
            allow,
            allow_terms: allow_norms.len(),
            allow_max_bytes,
            fuzzy,
            longest_term_chars,
            warnings,
        })
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

/// What deciding an exact match reads, 16 bytes a term: a scan touches
/// one random entry per match, and a 100k-term list's entries should stay
/// in cache (the spellings fuzzy matching needs live apart).
#[derive(Clone, Debug)]
struct Pattern {
    info: Arc<TermInfo>,
    category: u32,
    ascii_start: bool,
    ascii_end: bool,
    /// The list's term is its own normal form, so a match whose text is
    /// unchanged by normalization is exact without reading the term.
    term_is_normal: bool,
}

/// A term's normalized form, for fuzzy matching and the look-ahead bounds.
#[derive(Clone, Debug)]
struct Spelling {
    norm: Box<str>,
    chars: Box<[char]>,
    edits: usize,
}

/// Where the matcher is in a text that may still grow, in absolute byte
/// offsets. A whole text is one run from the default cursor; a stream runs
/// the same code over successive windows.
#[derive(Clone, Debug, Default)]
pub(crate) struct LexCursor {
    /// The exact search resumes at the normalized form of this character...
    next: usize,
    /// ...this many bytes into it (`⑩` is two normalized bytes).
    next_extra: usize,
    /// Exact matches a fuzzy window not yet decided may overlap.
    exact: Vec<(usize, usize)>,
    /// Fuzzy windows starting before this are decided.
    fuzzy_done: usize,
    /// The end of the last fuzzy match taken.
    last_fuzzy_end: usize,
}

/// A compiled set of sensitive-word lists.
///
/// Matching runs one leftmost-longest automaton over the normalized text
/// (see the crate docs for what normalization covers) and reports spans in
/// the original text, covering any noise inside the match, so masking is
/// exact. Terms whose ends are ASCII letters or digits match only at ASCII
/// word boundaries (`av` is not found in `java`); CJK terms match anywhere.
/// A match inside an occurrence of an allowed term is dropped. Fuzzy terms
/// also match within their allowed edits.
#[derive(Clone, Debug)]
pub struct Lexicon {
    patterns: Vec<Pattern>,
    /// Parallel to `patterns`.
    spellings: Vec<Spelling>,
    categories: Vec<(Arc<str>, CategoryOptions)>,
    matcher: Matcher,
    allow: Option<AhoCorasick>,
    allow_terms: usize,
    allow_max_bytes: usize,
    fuzzy: Option<FuzzyIndex>,
    longest_term_chars: usize,
    warnings: Vec<Warning>,
}

impl Default for Lexicon {
    fn default() -> Lexicon {
        LexiconBuilder::new()
            .build()
            .expect("an empty lexicon builds")
    }
}

impl Lexicon {
    /// A builder.
    pub fn builder() -> LexiconBuilder {
        LexiconBuilder::new()
    }

    /// Loads a word-list directory with the default engine.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Lexicon, Error> {
        LexiconBuilder::new().add_dir(dir)?.build()
    }

    /// The number of distinct terms (not counting the allow list).
    pub fn term_count(&self) -> usize {
        self.patterns.len()
    }

    /// The number of allow-list terms.
    pub fn allow_count(&self) -> usize {
        self.allow_terms
    }

    /// The category names, in the order they were defined.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|(n, _)| &**n)
    }

    /// The action of a category.
    pub fn category_action(&self, name: &str) -> Option<Action> {
        self.categories
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, o)| o.action)
    }

    /// The number of terms in each category.
    pub fn category_counts(&self) -> Vec<(&str, usize)> {
        let mut counts = vec![0; self.categories.len()];
        for p in &self.patterns {
            counts[p.category as usize] += 1;
        }
        self.categories().zip(counts).collect()
    }

    /// Duplicate terms and other problems that did not stop the build.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Approximate heap bytes held by the lexicon: automata, fuzzy index,
    /// allow list and the terms themselves.
    pub fn memory_usage(&self) -> usize {
        let terms: usize = self
            .patterns
            .iter()
            .zip(&self.spellings)
            .map(|(p, sp)| {
                std::mem::size_of::<Pattern>()
                    + std::mem::size_of::<Spelling>()
                    + std::mem::size_of::<TermInfo>()
                    + 2 * std::mem::size_of::<usize>() // the Arc's counts
                    + p.info.term.len()
                    + sp.norm.len()
                    + sp.chars.len() * std::mem::size_of::<char>()
            })
            .sum();
        terms
            + self.matcher.memory_usage()
            + self.fuzzy.as_ref().map_or(0, FuzzyIndex::memory_usage)
            + self.allow.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// The longest term, in normalized characters.
    pub fn longest_term_chars(&self) -> usize {
        self.longest_term_chars
    }

    /// Bytes of text before a stream's undecided part that matching
    /// looks at: the character before a match (for word boundaries) and
    /// allowed terms that start before it.
    pub(crate) fn context_bytes(&self) -> usize {
        4 * (self.allow_max_bytes + 4 * (self.max_noise() + 1) + 4)
    }

    /// The most original bytes a stream holds back for words: the
    /// look-ahead in normalized bytes, each worth up to four original bytes
    /// and the noise allowed after it.
    pub(crate) fn hold_back_bytes(&self) -> usize {
        let ahead = if self.fuzzy.is_some() {
            self.fuzzy_lookahead()
        } else {
            self.lookahead()
        };
        ahead * 4 * (self.max_noise() + 1) + self.context_bytes()
    }

    /// The largest noise limit of any category.
    pub fn max_noise(&self) -> usize {
        self.categories
            .iter()
            .map(|(_, o)| o.max_noise)
            .max()
            .unwrap_or(0)
    }

    /// The most edits any term is allowed.
    pub fn max_edits(&self) -> usize {
        self.spellings.iter().map(|p| p.edits).max().unwrap_or(0)
    }

    /// Every sensitive word in `text`, sorted by start, non-overlapping.
    pub fn find<'h>(&self, text: &'h str) -> Vec<Finding<'h>> {
        let mut out = Vec::new();
        self.find_into(text, None, &mut out);
        out
    }

    /// Appends the words of the wanted categories (all when `None`) to `out`.
    pub(crate) fn find_into<'h>(
        &self,
        text: &'h str,
        categories: Option<&BTreeSet<String>>,
        out: &mut Vec<Finding<'h>>,
    ) {
        let first = out.len();
        self.advance(&mut LexCursor::default(), text, 0, 0, true, categories, out);
        out[first..].sort_by_key(|f| f.start());
    }

    /// Normalized bytes past a match that deciding it may read: a longer
    /// term at the same start, an allowed term around it, the next
    /// character for the word boundary.
    fn lookahead(&self) -> usize {
        let longest = self
            .spellings
            .iter()
            .map(|p| p.norm.len())
            .max()
            .unwrap_or(0);
        longest + self.allow_max_bytes + 4
    }

    /// Normalized bytes past a fuzzy window's start that deciding it may
    /// read: the window (term and edits on both sides), then as for exact
    /// matches.
    fn fuzzy_lookahead(&self) -> usize {
        self.lookahead() + 4 * (self.longest_term_chars + 3 * self.max_edits())
    }

    /// Runs the matcher over `text`, which starts at absolute offset
    /// `origin`, from where `cursor` is; pushes words (offsets relative to
    /// `text`, unsorted between exact and fuzzy) and returns the frontier:
    /// an absolute offset before which no word is still to come. Unless
    /// `finished`, nothing that text still to come could change is decided.
    ///
    /// `run_before` is the run of noise and invisible characters just
    /// before `text`. `text` must start at least [`Lexicon::context_bytes`]
    /// before the cursor (or at the beginning of the stream).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn advance<'h>(
        &self,
        cursor: &mut LexCursor,
        text: &'h str,
        origin: usize,
        run_before: usize,
        finished: bool,
        categories: Option<&BTreeSet<String>>,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let end = origin + text.len();
        if self.patterns.is_empty() {
            cursor.next = end;
            return end;
        }
        let mut norm = NormText::default();
        norm.fill_text(text, Some(self.max_noise()), run_before);
        let nlen = norm.text.len();
        let wanted = |cat: usize| categories.is_none_or(|s| s.contains(&*self.categories[cat].0));
        let abs_of = |n: usize| origin + norm.orig.get(n).map_or(text.len(), |&o| o as usize);
        let to_norm = |abs: usize| norm.orig.partition_point(|&o| (o as usize) < abs - origin);
        let ceil_char = |mut n: usize| {
            while n < nlen && !norm.text.is_char_boundary(n) {
                n += 1;
            }
            n
        };
        let horizon = if finished {
            usize::MAX
        } else {
            nlen.saturating_sub(self.lookahead())
        };

        // Exact matches: the leftmost-longest loop, resumed where it stopped.
        let mut pos = (to_norm(cursor.next) + cursor.next_extra).min(nlen);
        loop {
            match self.matcher.find_from(&norm.text, pos) {
                Some((s, e, pid)) if s < horizon => {
                    if let Some(f) = self.accept(text, &norm, s, e, pid, 0, &wanted) {
                        out.push(f);
                        cursor.exact.push((abs_of(s), abs_of(e - 1) + 1));
                        pos = e;
                    } else {
                        // A rejected match does not shadow the text after its start.
                        pos = s + norm.text[s..].chars().next().map_or(1, char::len_utf8);
                    }
                }
                Some((s, _, _)) => {
                    // Not decidable yet; nothing starts before it.
                    pos = pos.max(ceil_char(s.min(horizon)));
                    break;
                }
                None => {
                    pos = if finished {
                        nlen
                    } else {
                        pos.max(ceil_char(horizon))
                    };
                    break;
                }
            }
        }
        cursor.next = abs_of(pos);
        cursor.next_extra = pos
            - norm
                .orig
                .partition_point(|&o| (o as usize) < cursor.next - origin);
        let mut frontier = cursor.next;

        if let Some(fuzzy) = &self.fuzzy {
            frontier = frontier.min(self.advance_fuzzy(
                fuzzy, cursor, text, &norm, origin, finished, pos, &wanted, out,
            ));
        }
        frontier
    }

    /// Fuzzy windows are decided left to right: a window is taken when it
    /// overlaps no exact match and no window taken before it.
    #[allow(clippy::too_many_arguments)]
    fn advance_fuzzy<'h>(
        &self,
        fuzzy: &FuzzyIndex,
        cursor: &mut LexCursor,
        text: &'h str,
        norm: &NormText,
        origin: usize,
        finished: bool,
        exact_pos: usize,
        wanted: &dyn Fn(usize) -> bool,
        out: &mut Vec<Finding<'h>>,
    ) -> usize {
        let nlen = norm.text.len();
        let abs_of = |n: usize| origin + norm.orig.get(n).map_or(text.len(), |&o| o as usize);
        let to_norm = |abs: usize| {
            norm.orig
                .partition_point(|&o| (o as usize) < abs.saturating_sub(origin))
        };
        let window_exact: Vec<(usize, usize)> = cursor
            .exact
            .iter()
            .filter(|&&(_, e)| e > origin)
            .map(|&(s, e)| (to_norm(s), to_norm(e)))
            .collect();
        let mut candidates = fuzzy.candidates(&norm.text, &window_exact, |p| {
            let p = &self.spellings[p];
            (&*p.norm, &*p.chars, p.edits)
        });
        candidates.sort_by_key(|c| (c.start, c.distance, std::cmp::Reverse(c.end), c.pattern));
        let limit = if finished {
            usize::MAX
        } else {
            nlen.saturating_sub(self.fuzzy_lookahead())
        };
        let mut blocked = None;
        for c in candidates {
            let abs_start = abs_of(c.start);
            if abs_start < cursor.fuzzy_done {
                continue;
            }
            if !finished && (c.start >= limit || c.end > exact_pos) {
                blocked = Some(abs_start);
                break;
            }
            let abs_end = abs_of(c.end - 1) + 1;
            // Exact spans are disjoint and in order.
            let i = cursor.exact.partition_point(|&(_, e)| e <= abs_start);
            let overlaps_exact = cursor.exact.get(i).is_some_and(|&(s, _)| s < abs_end);
            if abs_start < cursor.last_fuzzy_end || overlaps_exact {
                continue;
            }
            if let Some(f) = self.accept(text, norm, c.start, c.end, c.pattern, c.distance, wanted)
            {
                cursor.last_fuzzy_end = origin + f.end();
                out.push(f);
            }
        }
        // Windows that text still to come completes may change their best
        // match and start earlier than any window seen so far: only what
        // starts before `limit` is settled.
        let done = match blocked {
            Some(b) => b.min(abs_of(limit)),
            None if finished => origin + text.len(),
            None => abs_of(limit.min(exact_pos)),
        };
        cursor.fuzzy_done = cursor.fuzzy_done.max(done);
        let keep_from = cursor.fuzzy_done.min(cursor.last_fuzzy_end);
        cursor.exact.retain(|&(_, e)| e > keep_from);
        cursor.fuzzy_done
    }

    /// Checks a match of pattern `pid` at normalized bytes `s..e` against
    /// the category filter, ASCII word boundaries, the noise limit and the
    /// allow list, and makes the finding.
    #[allow(clippy::too_many_arguments)]
    fn accept<'h>(
        &self,
        text: &'h str,
        norm: &NormText,
        s: usize,
        e: usize,
        pid: usize,
        distance: u32,
        wanted: &dyn Fn(usize) -> bool,
    ) -> Option<Finding<'h>> {
        let p = &self.patterns[pid];
        if !wanted(p.category as usize) {
            return None;
        }
        let start = norm.orig[s] as usize;
        let last = norm.orig[e - 1] as usize;
        let end = last + text[last..].chars().next().map_or(0, char::len_utf8);
        if p.ascii_start && !boundary_before(text, norm, s, start) {
            return None;
        }
        if p.ascii_end && !boundary_after(text, norm, e, end) {
            return None;
        }
        if longest_noise_run(&text[start..end]) > self.categories[p.category as usize].1.max_noise {
            return None;
        }
        if self.inside_allowed(&norm.text, s, e) {
            return None;
        }
        let original = &text[start..end];
        let match_type = if distance > 0 {
            MatchType::Fuzzy
        } else if p.term_is_normal {
            // The automaton matched the term's normal form: the text is
            // the term exactly when normalization left it unchanged.
            if original == &norm.text[s..e] {
                MatchType::Exact
            } else {
                MatchType::Normalized
            }
        } else if original == &*p.info.term {
            MatchType::Exact
        } else {
            MatchType::Normalized
        };
        Some(Finding::word(
            text,
            start..end,
            p.info.clone(),
            match_type,
            distance,
        ))
    }

    /// Whether normalized bytes `s..e` lie inside an allowed term.
    fn inside_allowed(&self, norm: &str, s: usize, e: usize) -> bool {
        let Some(allow) = &self.allow else {
            return false;
        };
        let mut from = s.saturating_sub(self.allow_max_bytes);
        while !norm.is_char_boundary(from) {
            from += 1;
        }
        let mut to = (e + self.allow_max_bytes).min(norm.len());
        while !norm.is_char_boundary(to) {
            to -= 1;
        }
        allow
            .find_overlapping_iter(&norm[from..to])
            .any(|m| from + m.start() <= s && e <= from + m.end())
    }
}

/// Whether an ASCII word boundary is before the match starting at
/// normalized byte `s` (original byte `start`): the previous normalized
/// character is not an ASCII letter or digit, or noise separates them.
fn boundary_before(text: &str, norm: &NormText, s: usize, start: usize) -> bool {
    let Some(prev) = norm.text[..s].chars().next_back() else {
        return true;
    };
    if !prev.is_ascii_alphanumeric() {
        return true;
    }
    let prev_start = norm.orig[s - 1] as usize;
    if prev_start >= start {
        return false; // the same original character (`⑩` as `10`)
    }
    let prev_end = prev_start + text[prev_start..].chars().next().map_or(0, char::len_utf8);
    has_noise(&text[prev_end.min(start)..start])
}

/// Whether an ASCII word boundary is after the match ending at normalized
/// byte `e` (original byte `end`).
fn boundary_after(text: &str, norm: &NormText, e: usize, end: usize) -> bool {
    let Some(next) = norm.text[e..].chars().next() else {
        return true;
    };
    if !next.is_ascii_alphanumeric() {
        return true;
    }
    let next_start = norm.orig[e] as usize;
    if next_start < end {
        return false;
    }
    has_noise(&text[end..next_start])
}

fn has_noise(s: &str) -> bool {
    s.chars().any(|c| classify(c) == Norm::Noise)
}

/// The longest run of noise and invisible characters in `s`.
fn longest_noise_run(s: &str) -> usize {
    let (mut run, mut longest) = (0, 0);
    for c in s.chars() {
        match classify(c) {
            Norm::Noise | Norm::Drop => {
                run += 1;
                longest = longest.max(run);
            }
            _ => run = 0,
        }
    }
    longest
}
