//! Credentials that users paste into prompts by mistake.

use crate::kind::{Canonical, ContextDefaults, KindSpec, Redaction};

pub(crate) const SPEC: KindSpec = KindSpec {
    name: "secret",
    label: "SECRET",
    summary: "credential: OpenAI, Anthropic, AWS or Alibaba Cloud key",
    canonical: Canonical::AsIs,
    redaction: Redaction::Label,
    context: ContextDefaults::strong(0.95),
    tokens: &[],
};

use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The literal prefixes, in pattern-id order.
const PREFIXES: [&str; 4] = ["sk-", "AKIA", "ASIA", "LTAI"];

/// Finds secrets: literal prefixes located by one automaton, then each
/// candidate is checked against its provider's format.
#[derive(Clone, Debug)]
pub(crate) struct SecretFinder {
    prefixes: AhoCorasick,
}

impl SecretFinder {
    pub(crate) fn new() -> SecretFinder {
        let prefixes = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(PREFIXES)
            .expect("four short literals always build");
        SecretFinder { prefixes }
    }

    /// Calls `found(range, provider)` for every secret in `text`, in order.
    #[cfg(test)]
    pub(crate) fn find(&self, text: &str, mut found: impl FnMut(Range<usize>, &'static str)) {
        let mut at = 0;
        loop {
            match self.next(text, at, true) {
                Next::Found(range, provider) => {
                    at = range.end;
                    found(range, provider);
                }
                Next::Rejected(next) => at = next,
                Next::NeedMore(_) | Next::Done => return,
            }
        }
    }

    /// The next step of the pass from byte `at`. Unless `finished`, a key
    /// whose characters run to the end of `text` is not judged yet.
    pub(crate) fn next(&self, text: &str, at: usize, finished: bool) -> Next {
        let bytes = text.as_bytes();
        let Some(m) = self.prefixes.find(&text[at..]) else {
            return Next::Done;
        };
        let start = at + m.start();
        if start > 0 && is_key_char(bytes[start - 1]) {
            return Next::Rejected(start + 1);
        }
        if !finished {
            let run = bytes[start..]
                .iter()
                .take_while(|&&b| is_key_char(b))
                .count();
            if start + run == bytes.len() && run <= MAX_KEY_LEN {
                return Next::NeedMore(start);
            }
        }
        match check(bytes, start, m.pattern().as_usize()) {
            Some((end, provider)) => Next::Found(start..end, provider),
            None => Next::Rejected(start + 1),
        }
    }
}

/// The longest key accepted, in bytes: real keys are well under it, and a
/// bound keeps what a stream holds back bounded.
pub(crate) const MAX_KEY_LEN: usize = 256;

/// One step of the secret pass.
pub(crate) enum Next {
    /// A secret, and its provider.
    Found(Range<usize>, &'static str),
    /// A prefix that is not a key; go on from the offset.
    Rejected(usize),
    /// A prefix whose key may go on in text still to come.
    NeedMore(usize),
    /// No prefix is left.
    Done,
}

/// The end and provider of a secret whose prefix `pattern` starts at `start`.
fn check(bytes: &[u8], start: usize, pattern: usize) -> Option<(usize, &'static str)> {
    let run_end = |from: usize, ok: fn(u8) -> bool| {
        from + bytes[from..].iter().take_while(|&&b| ok(b)).count()
    };
    match pattern {
        0 => {
            // sk-…, sk-proj-…, sk-ant-…: a long run of [A-Za-z0-9_-].
            let body = start + 3;
            let end = run_end(body, is_key_char);
            let provider = if bytes[body..].starts_with(b"ant-") {
                "anthropic"
            } else {
                "openai"
            };
            // Real keys carry at least 32 random characters; 20 already
            // rules out prose such as `sk-learn`.
            let body_len = end - body;
            let has_digit = bytes[body..end].iter().any(u8::is_ascii_digit);
            (body_len >= 20 && end - start <= MAX_KEY_LEN && has_digit).then_some((end, provider))
        }
        1 | 2 => {
            // AWS access key ids: AKIA/ASIA and 16 of [A-Z2-7] (base32);
            // accept [A-Z0-9] as documented by AWS.
            let end = run_end(start + 4, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
            let ok = end - start == 20 && !(end < bytes.len() && is_key_char(bytes[end]));
            ok.then_some((end, "aws"))
        }
        _ => {
            // Alibaba Cloud AccessKey ids: LTAI and 12 to 20 alphanumerics.
            let end = run_end(start + 4, |b| b.is_ascii_alphanumeric());
            let n = end - start - 4;
            let ok = (12..=20).contains(&n) && !(end < bytes.len() && is_key_char(bytes[end]));
            ok.then_some((end, "alibaba"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str) -> Vec<(&str, &'static str)> {
        let mut out = vec![];
        SecretFinder::new().find(s, |r, p| out.push((&s[r], p)));
        out
    }

    #[test]
    fn providers() {
        let openai = "sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789";
        let ant = "sk-ant-api03-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789";
        assert_eq!(find(&format!("key={openai}。")), vec![(openai, "openai")]);
        assert_eq!(find(&format!("密钥{ant}")), vec![(ant, "anthropic")]);
        assert_eq!(
            find("id AKIAIOSFODNN7EXAMPLE ok"),
            vec![("AKIAIOSFODNN7EXAMPLE", "aws")]
        );
        assert_eq!(
            find("ASIAIOSFODNN7EXAMPLE"),
            vec![("ASIAIOSFODNN7EXAMPLE", "aws")]
        );
        assert_eq!(
            find("LTAI5tAbCdEfGhIjKlMn"),
            vec![("LTAI5tAbCdEfGhIjKlMn", "alibaba")]
        );
    }

    #[test]
    fn not_secrets() {
        assert!(find("task-based-learning-with-many-words-1").is_empty());
        assert!(find("sk-learn is a library").is_empty());
        assert!(find("AKIAIOSFODNN7EXAMPLEX").is_empty(), "too long");
        assert!(
            find("xAKIAIOSFODNN7EXAMPLE").is_empty(),
            "glued to a letter"
        );
        assert!(find("LTAIshort").is_empty());
    }
}
