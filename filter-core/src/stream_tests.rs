//! The stream guarantees as properties: any cutting of any text into
//! chunks gives the whole-text answer, never leaks, holds back a bounded
//! amount.

use proptest::prelude::*;

use crate::test_texts::piece;
use crate::{Kind, Lexicon, LexiconBuilder, Operator, RedactionPolicy, ScanOptions, Scanner};

fn lexicon() -> Lexicon {
    crate::test_texts::lexicon()
}

fn scanner() -> Scanner {
    Scanner::builder().words(lexicon()).build().unwrap()
}

fn text() -> impl Strategy<Value = String> {
    crate::test_texts::text(10)
}

/// `text` cut at the given fractions of its characters.
fn cut(text: &str, cuts: &[f64]) -> Vec<String> {
    let n = text.chars().count();
    let mut at: Vec<usize> = cuts.iter().map(|f| (f * n as f64) as usize).collect();
    at.sort_unstable();
    at.dedup();
    let bytes: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for c in at {
        let b = bytes[c.min(n)];
        chunks.push(text[prev..b].to_string());
        prev = b;
    }
    chunks.push(text[prev..].to_string());
    chunks
}

fn policy(op: usize) -> RedactionPolicy {
    let op = match op {
        0 => Operator::label(),
        1 => Operator::mask(3, 4),
        _ => Operator::remove(),
    };
    let mut p = RedactionPolicy::new();
    for &k in Kind::ALL {
        p.set(k, op.clone());
    }
    p
}

/// What a finding is, in every unit and with every fact, for comparing
/// a stream's findings with a whole-text scan's.
type Facts = (
    Kind,
    std::ops::Range<usize>,
    std::ops::Range<usize>,
    std::ops::Range<usize>,
    (String, Option<String>, Option<crate::Action>, u32),
);

fn facts_of(f: &crate::Finding<'_>) -> Facts {
    let more = (
        f.category().to_string(),
        f.term().map(str::to_string),
        f.action(),
        f.edit_distance(),
    );
    (f.kind(), f.range(), f.char_range(), f.utf16_range(), more)
}

fn stream_facts_of(f: &crate::StreamFinding) -> Facts {
    let more = (
        f.category().to_string(),
        f.term().map(str::to_string),
        f.action(),
        f.edit_distance(),
    );
    (f.kind(), f.range(), f.char_range(), f.utf16_range(), more)
}

/// Streams `chunks` of `text` and checks every guarantee: no leak and the
/// bound after every push, then the whole-text answer at the end.
fn check(
    scanner: &Scanner,
    text: &str,
    chunks: &[String],
    policy: RedactionPolicy,
) -> Result<(), TestCaseError> {
    let want_text = policy.apply(text, &scanner.scan(text)).into_owned();
    let want: Vec<Facts> = scanner.scan(text).iter().map(facts_of).collect();
    let mut stream = scanner.stream(&ScanOptions::new(), policy);
    let bound = stream.hold_back_bound();
    let (mut released, mut got) = (String::new(), Vec::new());
    let (mut pushed, mut most_held) = (0, 0);
    for chunk in chunks {
        let out = stream.push(chunk);
        pushed += chunk.len();
        released += &out.text;
        got.extend(out.findings.iter().map(stream_facts_of));
        let held = pushed - stream.released_bytes();
        most_held = most_held.max(held);
        // No leak: what is out is the start of the whole redacted text.
        prop_assert!(
            want_text.starts_with(&released),
            "leak: {:?} is not a prefix of {:?}",
            released,
            want_text
        );
        prop_assert!(held <= bound, "held {held} > bound {bound}");
    }
    prop_assert_eq!(stream.most_held_back(), most_held);
    let out = stream.finish();
    released += &out.text;
    got.extend(out.findings.iter().map(stream_facts_of));
    prop_assert_eq!(&released, &want_text, "chunks {:?}", chunks);
    prop_assert_eq!(&got, &want, "chunks {:?}", chunks);
    Ok(())
}

proptest! {
    #[test]
    fn chunked_equals_whole(
        text in text(),
        cuts in proptest::collection::vec(0.0..1.0f64, 0..12),
        op in 0..3usize,
    ) {
        let chunks = cut(&text, &cuts);
        // With words, and personal data alone: a lexicon holds back more,
        // which must not be what keeps the other passes from leaking.
        check(&scanner(), &text, &chunks, policy(op))?;
        check(&Scanner::new(), &text, &chunks, policy(op))?;
    }

    /// Texts several times longer than the bound (personal data alone
    /// holds back at most 493 bytes), so that holding back too much shows.
    #[test]
    fn long_texts_stay_under_the_bound(
        pieces in proptest::collection::vec(prop_oneof![piece(), Just("这是一段无害的文字，".repeat(20))], 30..60),
        cuts in proptest::collection::vec(0.0..1.0f64, 20..60),
    ) {
        let text = pieces.concat();
        prop_assume!(text.len() > 3 * 493);
        let chunks = cut(&text, &cuts);
        check(&Scanner::new(), &text, &chunks, policy(0))?;
        check(&scanner(), &text, &chunks, policy(0))?;
    }

    /// Text that can hold no personal data leaves at once: all but the
    /// last character (which could start a key prefix such as `sk-`).
    #[test]
    fn clean_text_is_not_held(
        text in "[\u{4e00}-\u{4fff}，。、！？]{200,1500}",
        cuts in proptest::collection::vec(0.0..1.0f64, 1..40),
    ) {
        let mut stream = Scanner::new().stream(&ScanOptions::new(), RedactionPolicy::new());
        let mut pushed = 0;
        for chunk in cut(&text, &cuts) {
            stream.push(&chunk);
            pushed += chunk.len();
            let held = pushed - stream.released_bytes();
            prop_assert!(held <= 3, "held {held} bytes of clean text");
        }
        prop_assert!(stream.most_held_back() <= 3);
    }

    #[test]
    fn one_char_at_a_time_equals_whole(text in text()) {
        let chunks: Vec<String> = text.chars().map(String::from).collect();
        check(&scanner(), &text, &chunks, policy(0))?;
        check(&Scanner::new(), &text, &chunks, policy(0))?;
    }
}

#[test]
fn split_id_and_word_never_appear_unredacted() {
    let scanner = scanner();
    let mut stream = scanner.stream(&ScanOptions::new(), RedactionPolicy::new());
    let mut released = String::new();
    for chunk in ["身份证1101011990", "0307", "1233，请代*", "开*发", "*票。"] {
        released += &stream.push(chunk).text;
        assert!(!released.contains("1101011990"), "{released}");
        assert!(!released.contains("代*"), "{released}");
    }
    released += &stream.finish().text;
    assert_eq!(released, "身份证[ID_CARD]，请*******。");
}

#[test]
fn text_is_released_as_soon_as_it_is_safe() {
    let scanner = Scanner::new();
    let mut stream = scanner.stream(&ScanOptions::new(), RedactionPolicy::new());
    let out = stream.push(&"你好，这是一个没有数字的句子。".repeat(20));
    assert!(
        out.text.len() > 300,
        "prose without digits flows: {} bytes released",
        out.text.len()
    );
}

#[test]
fn a_country_prefix_is_held_with_its_number() {
    let scanner = Scanner::new();
    for text in [
        "电话+86 138 0013 8000。",
        "电话(+86) 13800138000。",
        "电话0086-138-0013-8000。",
    ] {
        let chunks: Vec<String> = text.chars().map(String::from).collect();
        check(&scanner, text, &chunks, policy(0)).unwrap();
    }
}

/// Found by the `stream` fuzz target: with `K1234` in the buffer the best
/// window was `1234`; the next byte made it `K12345`, starting earlier than
/// the window the stream had already called settled.
#[test]
fn regression_fuzzy_after_noise_run() {
    let lexicon = LexiconBuilder::new()
        .engine(crate::Engine::AhoCorasick)
        .term("num", "12345")
        .build()
        .unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let text = "\u{8}\u{1}\0\u{8}0\0\0\u{1}\0\0\u{1}\0\u{1e}\0\u{3}\0\0\0\0\0\0\0@\0%K12345@u0";
    assert_eq!(
        scanner.scan(text)[0].as_str(),
        "K12345",
        "a fuzzy match, one insertion"
    );
    let chunks = cut_sizes(text, &[2, 1]);
    check(&scanner, text, &chunks, policy(2)).unwrap();
}

fn cut_sizes(text: &str, sizes: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < text.len() {
        let mut end = (at + sizes[i % sizes.len()]).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(text[at..end].to_string());
        at = end;
        i += 1;
    }
    out
}

#[test]
fn the_bounds_are_the_documented_ones() {
    // The README's figures: 493 bytes for personal data, 2,741 with the
    // bundled lists (tested in filter-server, which holds them).
    let stream = Scanner::new().stream(&ScanOptions::new(), RedactionPolicy::new());
    assert_eq!(stream.hold_back_bound(), 493);
    let words_only = Scanner::builder()
        .only(&[Kind::SensitiveWord])
        .words(lexicon())
        .build()
        .unwrap();
    let stream = words_only.stream(&ScanOptions::new(), RedactionPolicy::new());
    assert_eq!(stream.hold_back_bound(), lexicon().hold_back_bytes());
}

#[test]
fn a_pending_key_holds_back_only_itself() {
    let options = ScanOptions::new().kinds(&[Kind::Secret]);
    let mut stream = Scanner::new().stream(&options, RedactionPolicy::new());
    let out = stream.push("你好，我的密钥是sk-proj-4Fq9xZ");
    assert_eq!(out.text, "你好，我的密钥是");
    let out = stream.push("2LmN8pQ7rT1vW3yB6cD0eG5hJ，谢谢");
    assert_eq!(out.text, "[SECRET]，谢");
}

#[test]
fn a_digit_run_too_long_for_any_number_is_released_as_it_grows() {
    let mut stream = Scanner::new().stream(&ScanOptions::new(), RedactionPolicy::new());
    // All but the last 65 bytes, which could still be an email's local
    // part if an `@` came next.
    let run = "9".repeat(200);
    let out = stream.push(&format!("流水号{run}"));
    assert_eq!(out.text.len(), "流水号".len() + 200 - 65, "{:?}", out.text);
    // A valid number at the end of the long run is part of it, not a phone.
    let out2 = stream.push("13800138000号");
    let rest = stream.finish();
    let all = format!("{}{}{}", out.text, out2.text, rest.text);
    assert_eq!(all, format!("流水号{run}13800138000号"));
    assert!(out2.findings.is_empty() && rest.findings.is_empty());
}

#[test]
fn memory_stays_bounded_however_long_the_stream() {
    let scanner = scanner();
    let mut stream = scanner.stream(&ScanOptions::new(), RedactionPolicy::new());
    let bound = stream.hold_back_bound();
    let chunk = "这是一段很长的回答，里面有手机13800138000和代*开*发*票。";
    let mut most = 0;
    for _ in 0..2000 {
        stream.push(chunk);
        most = most.max(stream.buffered_bytes());
    }
    // The held-back text and the context the passes look back at, never
    // the stream so far (110 KB here).
    assert!(
        most <= bound + 4096,
        "buffered {most} bytes (bound {bound})"
    );
}

#[test]
fn a_domain_at_the_limit_is_decided_as_a_whole_text_would_be() {
    let scanner = Scanner::new();
    // Domains of 252 to 255 bytes: a domain over 253 bytes is not one.
    for len in 252..256 {
        let domain = format!("{}.cn", "b".repeat(len - 3));
        let text = format!("邮件a@{domain}x.cn，谢谢");
        for cut in [
            text.find('@').unwrap() + 1 + len - 1,
            text.find('@').unwrap() + 1 + len,
        ] {
            let chunks = vec![text[..cut].to_string(), text[cut..].to_string()];
            check(&scanner, &text, &chunks, policy(0)).unwrap();
        }
    }
}
