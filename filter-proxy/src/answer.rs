//! Answers on their way back: the request's pseudonyms restored, personal
//! data the model produced itself redacted, sensitive words masked, and a
//! choice stopped at a block-category word, which the client never sees.
//!
//! One [`ChoiceFilter`] per choice (and per text field) wraps a restoring
//! [`StreamScanner`]: text comes out as soon as it is decided, a
//! placeholder split across events is held until it completes, and a whole
//! answer is the same filter fed once. Sensitive words are written as a
//! private-use sentinel by the stream's policy, so that the filter can find
//! them in the released text and either mask them or cut the choice there.

use std::sync::Arc;

use filter_core::{
    Action, Kind, Operator, RedactionPolicy, ScanOptions, Scanner, StreamOutput, StreamScanner,
    Vault,
};

/// What the stream writes for a sensitive word: two private-use
/// characters that models do not produce.
const SENTINEL: &str = "\u{F8FF}\u{F8FE}";

/// Text a filter released, and whether the choice stops after it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) text: String,
    /// A block-category word came: the text before it is all there is.
    pub(crate) blocked: bool,
}

/// The filter of one text field of one choice.
pub(crate) struct ChoiceFilter {
    stream: Option<StreamScanner>,
}

impl ChoiceFilter {
    pub(crate) fn new(scanner: &Scanner, vault: Arc<Vault>) -> ChoiceFilter {
        let policy =
            RedactionPolicy::new().with(Kind::SensitiveWord, Operator::label_text(SENTINEL));
        ChoiceFilter {
            stream: Some(scanner.stream(&ScanOptions::new(), policy).restoring(vault)),
        }
    }

    /// Whether the choice was stopped.
    #[cfg(test)]
    pub(crate) fn stopped(&self) -> bool {
        self.stream.is_none()
    }

    /// The next piece of the answer.
    pub(crate) fn push(&mut self, chunk: &str) -> Piece {
        match &mut self.stream {
            Some(s) => {
                let out = s.push(chunk);
                self.render(out)
            }
            None => Piece::default(),
        }
    }

    /// The end of the answer: everything still held.
    pub(crate) fn finish(&mut self) -> Piece {
        match self.stream.take() {
            Some(s) => {
                let out = s.finish();
                self.render(out)
            }
            None => Piece::default(),
        }
    }

    /// A whole answer.
    pub(crate) fn whole(mut self, text: &str) -> Piece {
        let mut piece = self.push(text);
        if !piece.blocked {
            let rest = self.finish();
            piece.text += &rest.text;
            piece.blocked = rest.blocked;
        }
        piece
    }

    /// The released text with each sentinel masked, or cut at the first
    /// block-category word. The sentinels are the sensitive-word findings
    /// of `out`, in order.
    fn render(&mut self, out: StreamOutput) -> Piece {
        let mut text = String::with_capacity(out.text.len());
        let mut rest = out.text.as_str();
        let words = out
            .findings
            .iter()
            .filter(|f| f.kind() == Kind::SensitiveWord);
        for word in words {
            let Some(at) = rest.find(SENTINEL) else { break };
            text.push_str(&rest[..at]);
            rest = &rest[at + SENTINEL.len()..];
            if word.action() == Some(Action::Block) {
                self.stream = None;
                return Piece {
                    text,
                    blocked: true,
                };
            }
            text.extend(std::iter::repeat_n('*', word.char_range().len()));
        }
        text.push_str(rest);
        Piece {
            text,
            blocked: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filter_core::LexiconBuilder;

    fn scanner() -> Scanner {
        let mut b = LexiconBuilder::new();
        b.add_files(&[
            ("gambling.txt", "网络赌博\n".as_bytes()),
            ("spam.txt", "刷单\n".as_bytes()),
            (
                "lists.toml",
                b"[category.gambling]\naction = \"block\"\n[category.spam]\naction = \"mask\"\n",
            ),
        ])
        .unwrap();
        Scanner::builder()
            .words(b.build().unwrap())
            .build()
            .unwrap()
    }

    fn vault(scanner: &Scanner) -> Arc<Vault> {
        let mut v = Vault::new();
        scanner
            .pseudonymize("13800138000", &mut v, &RedactionPolicy::new())
            .unwrap();
        Arc::new(v)
    }

    #[test]
    fn restores_masks_and_stops() {
        let s = scanner();
        let v = vault(&s);
        let piece = ChoiceFilter::new(&s, v.clone()).whole("请拨[PHONE_1]，别刷单，或13900139000");
        assert_eq!(
            piece,
            Piece {
                text: "请拨13800138000，别**，或[PHONE]".into(),
                blocked: false
            }
        );
        let piece = ChoiceFilter::new(&s, v.clone()).whole("先说这个，网络赌博很危险，后面的话");
        assert_eq!(
            piece,
            Piece {
                text: "先说这个，".into(),
                blocked: true
            }
        );
        // In events, a placeholder split three ways and a word split two.
        let mut f = ChoiceFilter::new(&s, v);
        let mut out = String::new();
        for chunk in ["请拨[PH", "ONE", "_1]。网络", "赌博", "不会出现"] {
            let p = f.push(chunk);
            out += &p.text;
            if p.blocked {
                break;
            }
        }
        assert!(f.stopped());
        assert_eq!(out, "请拨13800138000。");
    }
}
