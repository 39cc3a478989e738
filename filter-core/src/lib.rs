/*!
A zero-copy compliance scanner for text that crosses the border of
mainland China: personal data out of prompts, sensitive words out of answers.

`filter-core` finds, in UTF-8 text:

* **resident identity numbers** (GB 11643-1999): 18 characters with the
  ISO 7064 MOD 11-2 check character, a real province code and a real birth
  date; the legacy 15-digit form; the `6 8 4` grouping;
* **mobile numbers** in the segments in use (13x-19x, as libphonenumber's CN
  pattern), with `+86`, `0086`, `86` or `(+86)` prefixes and `3-4-4` grouping,
  and **landlines** with their area codes;
* **payment card numbers** in a network's issuer ranges and lengths,
  passing Luhn, grouped by four or not (the category names the network);
* **Unified Social Credit Codes** (GB 32100-2015, both check characters),
  **Hong Kong, Macau and Taiwan identity cards**, **passports and travel
  permits** (beside a context word), **VINs**, **IP addresses** and
  **licence plates**;
* **email addresses** and **secrets** (OpenAI, Anthropic, AWS and Alibaba Cloud keys);
* **custom detectors** an operator defines at run time ([`Detectors`]).

Each finding has a **confidence** raised or lowered by context words near
it (卡号 makes a card number likely, 订单号 makes it an order number);
findings below the minimum confidence are not reported.

Numbers are found when glued to Chinese text (`身份证110101199003071233号`)
and never inside a longer run of digits (an order number); full-width
digits (`１３８…`) count too. Findings borrow the text: spans are UTF-8 byte
offsets on char boundaries, with code-point and UTF-16 offsets on request.
They are sorted and never overlap: where two detectors claim the same text,
the more specific wins (a valid ID number is never also a card number).

# Example: scan

```
use filter_core::{Kind, Scanner};

let scanner = Scanner::new();
let text = "我的手机是13800138000，身份证110101199003071233。";
let findings = scanner.scan(text);

assert_eq!(findings.len(), 2);
assert_eq!(findings[0].kind(), Kind::Phone);
assert_eq!(findings[0].as_str(), "13800138000");
assert_eq!(findings[0].char_range(), 5..16);
assert_eq!(findings[1].kind(), Kind::IdCard);
```

# Example: redact

```
use filter_core::{Kind, Operator, RedactionPolicy, Scanner};

let scanner = Scanner::new();
let policy = RedactionPolicy::new()
    .with(Kind::Phone, Operator::mask(3, 4))
    .with(Kind::Email, Operator::hash(b"per-tenant key", 8)?);
let out = scanner.redact("联系13800138000或a@b.cn", &policy);
assert!(out.starts_with("联系138****8000或[EMAIL:"));

// Nothing to redact: the text is borrowed, not copied.
assert!(matches!(scanner.redact("你好", &policy), std::borrow::Cow::Borrowed(_)));
# Ok::<(), filter_core::Error>(())
```

# Choosing detectors

```
use filter_core::{Kind, ScanOptions, Scanner};

// At build time, for every call:
let scanner = Scanner::builder().only(&[Kind::IdCard, Kind::Phone]).build()?;
// Or per call:
let options = ScanOptions::new().kinds(&[Kind::Phone]);
assert!(scanner.scan_with("110101199003071233", &options).is_empty());
# Ok::<(), filter_core::Error>(())
```

# Sensitive words

A [`Lexicon`] matches word lists over normalized text (case, full width,
styled letters, traditional script, look-alike letters, tone marks,
invisible characters, noise between characters) with exact original spans,
ASCII word boundaries, an allow list and fuzzy matching (a swap of two
neighbours is one edit); per category, [`CategoryOptions::pinyin`] also
matches terms written in pinyin (`wangluodubo`, `网络du博`) and
[`CategoryOptions::homophones`] with same-sound characters (`网络堵博`).
[`SharedLexicon`] swaps a new lexicon in while scans run.

```
use filter_core::{CategoryOptions, LexiconBuilder, MatchType};

let words = LexiconBuilder::new()
    .category("gambling", CategoryOptions::new().pinyin(true).homophones(true))
    .term("gambling", "网络赌博")
    .build()?;
let found = words.find("Wang Luo Du Bo，网络堵博");
assert_eq!(found[0].as_str(), "Wang Luo Du Bo");
assert_eq!(found[0].match_type(), MatchType::Pinyin);
assert_eq!(found[1].match_type(), MatchType::Homophone);
assert_eq!(found[1].term(), Some("网络赌博"));
# Ok::<(), filter_core::Error>(())
```

```
use filter_core::{Kind, Lexicon, Scanner};

let words = Lexicon::builder().term("fraud", "代开发票").allow("反诈骗").build()?;
let scanner = Scanner::builder().words(words).build()?;
let found = scanner.scan("可以代*开*發*票吗？电话13800138000");
assert_eq!(found[0].kind(), Kind::SensitiveWord);
assert_eq!(found[0].as_str(), "代*开*發*票");
assert_eq!(found[1].kind(), Kind::Phone);
# Ok::<(), filter_core::Error>(())
```

The word-list directory format (one `.txt` per category, `allow.txt`,
`lists.toml`) is read by [`LexiconBuilder::add_dir`] and documented in the
repository's `wordlists/README.md`.

# Streaming

[`Scanner::stream`] gives a [`StreamScanner`] for token streams: it
releases text as soon as it is safe, redacted, with the same result as
scanning the whole text, never leaks a finding split across chunks, holds
back a bounded amount and costs linear time.

# Performance

Text is read once, 32 bytes at a time (AVX2 or SSE2 where the CPU has
them), stopping only at digits, capitals, `@`, `:` and full-width forms;
Chinese prose without numbers costs little more than reading it. Scanning takes time linear in the text and memory linear in the
number of findings.
*/

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod detectors;
mod error;
mod finding;
mod kind;
mod lexicon;
mod limits;
mod offsets;
mod overlap;
mod pii;
mod pseudonym;
mod redact;
mod scanner;
mod scratch;
#[cfg(feature = "serde")]
mod serde_impls;
mod stream;

pub use crate::detectors::{Detectors, DEFAULT_MIN_CONFIDENCE};
pub use crate::error::Error;
pub use crate::finding::{Action, Finding, MatchType};
pub use crate::kind::{Kind, UnknownKind};
pub use crate::lexicon::{
    CategoryOptions, Engine, Lexicon, LexiconBuilder, SharedLexicon, Warning, MAX_LIST_DIR_BYTES,
    MAX_LIST_FILE_BYTES, MAX_TERM_CHARS,
};
pub use crate::limits::{CancelToken, ScanLimits};
pub use crate::offsets::OffsetMapper;
pub use crate::pseudonym::{
    PseudonymMode, StreamRestorer, Vault, VaultKey, DEFAULT_MAX_VAULT_ENTRIES,
};
pub use crate::redact::{HashKey, Operator, RedactionPolicy};
pub use crate::scanner::{ScanOptions, Scanner, ScannerBuilder};
pub use crate::stream::{StreamFinding, StreamOutput, StreamScanner};

#[cfg(test)]
mod detectors_tests;
#[cfg(test)]
mod test_texts;
#[cfg(test)]
mod tests;
