//! Redaction: replacing findings in the text by policy.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Error;
use crate::finding::{Finding, Kind};
use crate::kind::{Canonical, Redaction};

/// The secret key of the [`Operator::hash`] tokens.
///
/// One rule everywhere a key is read from a file (this library, the
/// command line and the service alike): the key is the file's bytes with
/// one trailing line ending (`\n` or `\r\n`) removed, so that `echo`,
/// editors and `openssl rand -hex 32 > key` all give the key they show.
/// Any other bytes count, spaces and binary included. The file must be a
/// regular file of at most 64 KiB and the key must not be empty.
///
/// ```
/// use filter_core::HashKey;
///
/// let dir = std::env::temp_dir().join(format!("hash-key-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a"), "s3cret\n")?;
/// std::fs::write(dir.join("b"), "s3cret")?;
/// let a = HashKey::from_file(dir.join("a"))?;
/// assert_eq!(a.as_bytes(), HashKey::from_file(dir.join("b"))?.as_bytes());
/// assert_eq!(format!("{a:?}"), "HashKey(<redacted>)");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey(Arc<[u8]>);

/// The largest key file read.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

impl HashKey {
    /// A key of these bytes; fails when there are none.
    pub fn new(bytes: &[u8]) -> Result<HashKey, Error> {
        if bytes.is_empty() {
            return Err(Error::invalid_option("hash key", "the key is empty"));
        }
        Ok(HashKey(bytes.into()))
    }

    /// Reads a key file by the rule above.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<HashKey, Error> {
        use std::io::Read;
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if !meta.is_file() || meta.len() > MAX_KEY_FILE_BYTES {
            return Err(Error::file_refused(
                path,
                format!("a key file must be a regular file of at most {MAX_KEY_FILE_BYTES} bytes"),
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        let key = bytes
            .strip_suffix(b"\r\n")
            .or_else(|| bytes.strip_suffix(b"\n"))
            .unwrap_or(&bytes);
        if key.is_empty() {
            return Err(Error::file_refused(path, "the key file is empty"));
        }
        Ok(HashKey(key.into()))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(<redacted>)")
    }
}

/// The hex digits of a hash token when none are given.
const DEFAULT_HASH_HEX_LEN: usize = 8;

/// What replaces one finding.
///
/// ```
/// use filter_core::{Kind, Operator, RedactionPolicy, Scanner};
///
/// let scanner = Scanner::new();
/// let policy = RedactionPolicy::new().with(Kind::Phone, Operator::mask(3, 4));
/// assert_eq!(scanner.redact("电话13800138000", &policy), "电话138****8000");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator(Op);

#[derive(Clone, PartialEq, Eq)]
enum Op {
    Label(Option<Box<str>>),
    Mask {
        ch: char,
        keep_start: usize,
        keep_end: usize,
    },
    Remove,
    Hash {
        key: Arc<[u8]>,
        hex_len: usize,
    },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Label(l) => f.debug_tuple("Label").field(l).finish(),
            Op::Mask {
                ch,
                keep_start,
                keep_end,
            } => f
                .debug_struct("Mask")
                .field("ch", ch)
                .field("keep_start", keep_start)
                .field("keep_end", keep_end)
                .finish(),
            Op::Remove => f.write_str("Remove"),
            // The key is a secret: never print it.
            Op::Hash { hex_len, .. } => f
                .debug_struct("Hash")
                .field("key", &"<redacted>")
                .field("hex_len", hex_len)
                .finish(),
        }
    }
}

impl Operator {
    /// Replace with the kind's label in brackets: `[ID_CARD]`, `[PHONE]`, ...
    pub fn label() -> Operator {
        Operator(Op::Label(None))
    }

    /// Replace with the given text.
    pub fn label_text(text: &str) -> Operator {
        Operator(Op::Label(Some(text.into())))
    }

    /// Replace every letter, digit and CJK character with `*`, keeping the
    /// first `keep_start` and last `keep_end` of them (`138****8000` is
    /// `mask(3, 4)`). Separators such as spaces, dashes, `@` and `.` stay.
    /// When the kept characters would be all of them, everything is masked.
    /// For emails `keep_start` applies to the local part, which is always
    /// hidden to its last character, and any `keep_end` keeps the domain
    /// (`z****@example.com` is `mask(1, 1)`; `mask(0, 0)` hides the domain
    /// too); for phones a country prefix is kept as is.
    pub fn mask(keep_start: usize, keep_end: usize) -> Operator {
        Operator::mask_with('*', keep_start, keep_end)
    }

    /// [`Operator::mask`] with another mask character.
    pub fn mask_with(ch: char, keep_start: usize, keep_end: usize) -> Operator {
        Operator(Op::Mask {
            ch,
            keep_start,
            keep_end,
        })
    }

    /// Remove the text.
    pub fn remove() -> Operator {
        Operator(Op::Remove)
    }

    /// Replace with `[KIND:hex]`, the first `hex_len` hex digits of
    /// HMAC-SHA256 over the kind and the value in canonical form (ASCII
    /// digits, no country prefix, lower-case email). One value gets one token
    /// everywhere the key is the same, and the token cannot be reversed
    /// without the key. Eight hex digits are plenty for one conversation;
    /// up to 10 can never form a number that a detector would find again.
    ///
    /// Fails when the key is empty or `hex_len` is not in `4..=64`.
    pub fn hash(key: &[u8], hex_len: usize) -> Result<Operator, Error> {
        if key.is_empty() {
            return Err(Error::invalid_option("hash key", "the key is empty"));
        }
        if !(4..=64).contains(&hex_len) {
            return Err(Error::invalid_option(
                "hash length",
                format!("{hex_len} is not in 4..=64"),
            ));
        }
        Ok(Operator(Op::Hash {
            key: key.into(),
            hex_len,
        }))
    }

    /// Parses an operator as the command line, the service's configuration
    /// and `detectors.toml` write it: `label`, `label:TEXT`, `mask`,
    /// `mask:KEEP_START:KEEP_END`, `remove`, `hash` or `hash:HEXLEN` (8 hex
    /// digits by default; the hash forms need `hash_key`).
    ///
    /// ```
    /// use filter_core::Operator;
    ///
    /// assert_eq!(Operator::parse("mask:3:4", None)?, Operator::mask(3, 4));
    /// assert!(Operator::parse("hash", None).is_err());
    /// # Ok::<(), filter_core::Error>(())
    /// ```
    pub fn parse(spec: &str, hash_key: Option<&HashKey>) -> Result<Operator, Error> {
        let fail = |reason: String| Error::invalid_option("operator", reason);
        let (name, arg) = match spec.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (spec, None),
        };
        match (name, arg) {
            ("label", None) => Ok(Operator::label()),
            ("label", Some(text)) => Ok(Operator::label_text(text)),
            ("mask", None) => Ok(Operator::mask(0, 0)),
            ("mask", Some(keep)) => {
                let (a, b) = keep.split_once(':').ok_or_else(|| {
                    fail("mask takes KEEP_START:KEEP_END, such as mask:3:4".into())
                })?;
                let count = |n: &str| {
                    n.parse::<usize>()
                        .map_err(|_| fail(format!("bad keep count `{n}`")))
                };
                Ok(Operator::mask(count(a)?, count(b)?))
            }
            ("remove", None) => Ok(Operator::remove()),
            ("hash", len) => {
                let key = hash_key.ok_or_else(|| {
                    fail("the hash operator needs a key (a hash key file)".into())
                })?;
                let len = match len {
                    Some(l) => l
                        .parse()
                        .map_err(|_| fail(format!("bad hash length `{l}`")))?,
                    None => DEFAULT_HASH_HEX_LEN,
                };
                Operator::hash(key.as_bytes(), len)
            }
            _ => Err(fail(format!(
                "unknown operator `{spec}` (expected label, label:TEXT, mask, mask:S:E, \
                 remove, hash, hash:LEN)"
            ))),
        }
    }

    /// The operator's name: `label`, `mask`, `remove` or `hash`.
    pub fn name(&self) -> &'static str {
        match self.0 {
            Op::Label(_) => "label",
            Op::Mask { .. } => "mask",
            Op::Remove => "remove",
            Op::Hash { .. } => "hash",
        }
    }

    fn apply(&self, f: &Finding<'_>, out: &mut String) {
        match &self.0 {
            Op::Label(None) => {
                out.push('[');
                out.push_str(f.label());
                out.push(']');
            }
            Op::Label(Some(text)) => out.push_str(text),
            Op::Mask {
                ch,
                keep_start,
                keep_end,
            } => {
                // A country prefix is not part of the number being hidden:
                // `+86 138 **** 8000`, not `+86 1** **** 8000`.
                let text = f.as_str();
                match f.kind() {
                    Kind::Phone => {
                        let digits = text.chars().filter(|&c| is_significant(c)).count();
                        let skip = digits.saturating_sub(11);
                        mask(text, *ch, skip, *keep_start, *keep_end, out);
                    }
                    // The local part is hidden up to and including its last
                    // character, so the result is never an address. Any
                    // `keep_end` keeps the domain, which says little about
                    // the person and helps a reader; `mask(0, 0)` hides all.
                    Kind::Email => match text.rsplit_once('@') {
                        Some((local, domain)) => {
                            mask(local, *ch, 0, *keep_start, 0, out);
                            out.push('@');
                            if *keep_end > 0 {
                                out.push_str(domain);
                            } else {
                                mask(domain, *ch, 0, 0, 0, out);
                            }
                        }
                        None => mask(text, *ch, 0, *keep_start, *keep_end, out),
                    },
                    _ => mask(text, *ch, 0, *keep_start, *keep_end, out),
                }
            }
            Op::Remove => {}
            Op::Hash { key, hex_len } => {
                let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes any key size");
                mac.update(f.kind().as_str().as_bytes());
                mac.update(b":");
                mac.update(canonical(f).as_bytes());
                let tag = mac.finalize().into_bytes();
                out.push('[');
                out.push_str(f.label());
                out.push(':');
                let hex = tag
                    .iter()
                    .flat_map(|b| [b >> 4, b & 0xF])
                    .map(|n| char::from_digit(u32::from(n), 16).expect("a nibble"));
                out.extend(hex.take(*hex_len));
                out.push(']');
            }
        }
    }
}

fn is_significant(c: char) -> bool {
    c.is_alphanumeric()
}

/// Masks the significant characters of `text` after the first `skip`,
/// keeping `keep_start` and `keep_end` of them.
fn mask(text: &str, ch: char, skip: usize, keep_start: usize, keep_end: usize, out: &mut String) {
    let n = text.chars().filter(|&c| is_significant(c)).count() - skip;
    let (keep_start, keep_end) = if keep_start + keep_end >= n {
        (0, 0)
    } else {
        (keep_start, keep_end)
    };
    let mut skipped = 0;
    let mut seen = 0;
    for c in text.chars() {
        if is_significant(c) && skipped < skip {
            skipped += 1;
            out.push(c);
        } else if is_significant(c) {
            seen += 1;
            if seen <= keep_start || seen > n - keep_end {
                out.push(c);
            } else {
                out.push(ch);
            }
        } else {
            out.push(c);
        }
    }
}

/// The value a hash token stands for, so that `138 0013 8000`,
/// `+86 13800138000` and `１３８００１３８０００` share one token.
pub(crate) fn canonical(f: &Finding<'_>) -> String {
    canonical_value(f.kind(), f.as_str(), f.term())
}

/// A full-width letter or digit as its ASCII form; other characters as
/// they are.
pub(crate) fn fold_full_width(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        c => c,
    }
}

/// The canonical form of `text` found as `kind` (`term`: the list term of
/// a sensitive word), as the kind's registry entry says.
pub(crate) fn canonical_value(kind: Kind, text: &str, term: Option<&str>) -> String {
    let folded = text.chars().map(fold_full_width);
    match kind.spec().canonical {
        Canonical::Digits | Canonical::Phone => {
            let s: String = folded
                .filter(|c| c.is_ascii_digit() || matches!(c, 'x' | 'X'))
                .map(|c| c.to_ascii_uppercase())
                .collect();
            match kind.spec().canonical {
                Canonical::Phone => phone_national(&s),
                _ => s,
            }
        }
        Canonical::Alphanumeric => folded
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        Canonical::Lowercase => folded.map(|c| c.to_ascii_lowercase()).collect(),
        Canonical::AsIs => text.to_string(),
        Canonical::Term => term.unwrap_or(text).to_lowercase(),
    }
}

/// A phone number's digits without its country prefix (`0086`, or `86`
/// before at least ten digits: no national number starts with 86), a
/// landline's area code with its 0 (`+86 10 6234 5678` is 01062345678).
fn phone_national(s: &str) -> String {
    let national = match s.strip_prefix("0086") {
        Some(r) => r,
        None if s.len() > 11 => s.strip_prefix("86").unwrap_or(s),
        None => s,
    };
    // A mobile number is 11 digits from 1; a landline written without
    // its 0 (`+86 10 6234 5678`) may start with 1 too, but is shorter.
    if national.starts_with('0') || (national.starts_with('1') && national.len() == 11) {
        national.to_string()
    } else {
        format!("0{national}")
    }
}

/// Which [`Operator`] applies to each kind.
///
/// By default personal data is replaced by its label (`[PHONE]`), which
/// keeps prompts readable for a model, and sensitive words are masked with
/// one `*` per character. A custom detector's findings take the operator
/// its configuration gives (`operator = "mask:0:4"` in `detectors.toml`)
/// and its own label, unless the policy sets one for [`Kind::Custom`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactionPolicy {
    ops: [Operator; Kind::ALL.len()],
    /// Whether [`Kind::Custom`] was set, overriding the detectors' own.
    custom_set: bool,
}

impl Default for RedactionPolicy {
    fn default() -> RedactionPolicy {
        RedactionPolicy::new()
    }
}

impl RedactionPolicy {
    /// The default policy.
    pub fn new() -> RedactionPolicy {
        let ops = std::array::from_fn(|i| match Kind::ALL[i].spec().redaction {
            Redaction::Label => Operator::label(),
            Redaction::MaskAll => Operator::mask(0, 0),
        });
        RedactionPolicy {
            ops,
            custom_set: false,
        }
    }

    /// This policy with `op` for `kind`.
    pub fn with(mut self, kind: Kind, op: Operator) -> RedactionPolicy {
        self.set(kind, op);
        self
    }

    /// Sets the operator for `kind`.
    pub fn set(&mut self, kind: Kind, op: Operator) -> &mut RedactionPolicy {
        self.ops[kind.index()] = op;
        self.custom_set |= kind == Kind::Custom;
        self
    }

    /// The operator for `kind` (for custom detectors with an operator of
    /// their own, the one used when the policy sets none is theirs).
    pub fn operator(&self, kind: Kind) -> &Operator {
        &self.ops[kind.index()]
    }

    /// The operator for one finding: its kind's, or its custom
    /// detector's own when the policy leaves custom findings alone.
    fn operator_for<'a>(&'a self, f: &'a Finding<'_>) -> &'a Operator {
        let own = match f.custom_info() {
            Some(info) if !self.custom_set => info.operator.as_ref(),
            _ => None,
        };
        own.unwrap_or(&self.ops[f.kind().index()])
    }

    /// Applies the policy to findings of `text` (sorted, non-overlapping, as
    /// a [`Scanner`](crate::Scanner) returns them). Borrows `text` when there
    /// is nothing to replace.
    pub fn apply<'h>(&self, text: &'h str, findings: &[Finding<'_>]) -> Cow<'h, str> {
        if findings.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 16 * findings.len());
        let mut at = 0;
        for f in findings {
            debug_assert!(f.start() >= at, "findings must be sorted and disjoint");
            if f.start() < at {
                continue;
            }
            out.push_str(&text[at..f.start()]);
            self.operator_for(f).apply(f, &mut out);
            at = f.end();
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Appends the replacement for one finding to `out`.
    pub(crate) fn replace_into(&self, f: &Finding<'_>, out: &mut String) {
        self.operator_for(f).apply(f, out);
    }
}
/// The operator in the grammar [`Operator::parse`] reads: `label`,
/// `label:TEXT`, `mask:S:E`, `remove`, `hash:LEN` (the key is never shown).
///
/// ```
/// use filter_core::Operator;
///
/// let op: Operator = "mask:3:4".parse()?;
/// assert_eq!(op.to_string(), "mask:3:4");
/// assert_eq!("label".parse::<Operator>()?.to_string(), "label");
/// # Ok::<(), filter_core::Error>(())
/// ```
impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Op::Label(None) => f.write_str("label"),
            Op::Label(Some(text)) => write!(f, "label:{text}"),
            Op::Mask {
                keep_start,
                keep_end,
                ..
            } => write!(f, "mask:{keep_start}:{keep_end}"),
            Op::Remove => f.write_str("remove"),
            Op::Hash { hex_len, .. } => write!(f, "hash:{hex_len}"),
        }
    }
}

/// [`Operator::parse`] without a hash key: `hash` is refused (it needs
/// one; use [`Operator::parse`] or [`Operator::hash`]).
impl std::str::FromStr for Operator {
    type Err = Error;

    fn from_str(s: &str) -> Result<Operator, Error> {
        Operator::parse(s, None)
    }
}
