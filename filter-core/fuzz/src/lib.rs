//! The fuzz targets' bodies and the invariants they check. Each target
//! panics (and so reports a crash) when an invariant breaks.

use std::sync::OnceLock;

use filter_core::{
    CategoryOptions, Engine, Finding, Kind, Lexicon, LexiconBuilder, Operator, RedactionPolicy,
    ScanOptions, Scanner,
};

/// Terms that exercise every normalization, boundaries, fuzzy matching,
/// pinyin spellings and same-sound matching (both on with fuzzy matching)
/// and the allow list.
const TERMS: &[(&str, &str)] = &[
    ("fraud", "代开发票"),
    ("fraud", "办理假学历证书"),
    ("gambling", "网络赌博"),
    ("gambling", "赌博"),
    ("gambling", "六合彩"),
    ("adult", "sex"),
    ("adult", "sexy"),
    ("adult", "av"),
    ("spam", "免费领取超级大礼包活动"),
    ("drugs", "大麻"),
    ("drugs", "viagra"),
    ("num", "12345"),
];

fn lexicon(engine: Engine, fuzzy: bool, noise: usize) -> Lexicon {
    let mut b = LexiconBuilder::new();
    b.engine(engine);
    for (category, _) in TERMS {
        b.category(
            category,
            CategoryOptions::new()
                .fuzzy(fuzzy)
                .pinyin(fuzzy)
                .homophones(fuzzy)
                .max_noise(noise),
        );
    }
    for (category, term) in TERMS {
        b.term(category, term);
    }
    b.allow("大麻哈鱼").allow("essex");
    b.build().expect("the fuzz lexicon builds")
}

/// Scanners under every configuration the targets pick from.
fn scanners() -> &'static [Scanner] {
    static SCANNERS: OnceLock<Vec<Scanner>> = OnceLock::new();
    SCANNERS.get_or_init(|| {
        let mut v = vec![Scanner::new()];
        for engine in [Engine::DoubleArray, Engine::AhoCorasick] {
            for fuzzy in [true, false] {
                for noise in [0, 3] {
                    v.push(
                        Scanner::builder()
                            .words(lexicon(engine, fuzzy, noise))
                            .build()
                            .unwrap(),
                    );
                }
            }
        }
        v
    })
}

/// The first byte picks the configuration; the rest is the text.
fn split(data: &[u8]) -> Option<(&'static Scanner, u8, &str)> {
    let (&first, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let all = scanners();
    Some((&all[usize::from(first) % all.len()], first, text))
}

/// Spans on char boundaries, non-empty, sorted, disjoint; offsets agree.
pub fn check_findings(text: &str, found: &[Finding<'_>]) {
    let mut last = 0;
    for f in found {
        assert!(f.start() < f.end(), "empty finding {f:?}");
        assert!(f.start() >= last, "overlap or disorder at {f:?}");
        assert!(text.is_char_boundary(f.start()) && text.is_char_boundary(f.end()));
        assert_eq!(f.as_str(), &text[f.range()]);
        let cp = f.char_range();
        assert_eq!(text[..f.start()].chars().count(), cp.start);
        assert_eq!(text[f.range()].chars().count(), cp.len());
        last = f.end();
    }
}

/// Target `scan`: any text under any configuration.
pub fn scan(data: &[u8]) {
    let Some((scanner, first, text)) = split(data) else {
        return;
    };
    let kinds: Vec<Kind> = Kind::ALL
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| first & (1 << (i + 2)) == 0)
        .map(|(_, k)| k)
        .collect();
    check_findings(text, &scanner.scan(text));
    let found = scanner.scan_with(text, &ScanOptions::new().kinds(&kinds));
    check_findings(text, &found);
    assert!(found
        .iter()
        .all(|f| kinds.is_empty() || kinds.contains(&f.kind())));
}

fn policy(which: u8) -> RedactionPolicy {
    let op = match which % 4 {
        0 => Operator::label(),
        1 => Operator::mask(3, 4),
        2 => Operator::mask(0, 0),
        _ => Operator::hash(b"fuzz", 8).unwrap(),
    };
    let mut p = RedactionPolicy::new();
    for &k in Kind::ALL {
        p.set(k, op.clone());
    }
    p
}

/// The operators that replace a finding whole: `mask` with kept
/// characters deliberately shows part of it, and `remove` glues its
/// neighbours into new text, so neither can promise a clean re-scan.
fn whole_policy(which: u8) -> RedactionPolicy {
    let op = match which % 3 {
        0 => Operator::label(),
        1 => Operator::mask(0, 0),
        _ => Operator::hash(b"fuzz", 8).unwrap(),
    };
    let mut p = RedactionPolicy::new();
    for &k in Kind::ALL {
        p.set(k, op.clone());
    }
    p
}

/// Target `redact`: redacted text, scanned again, holds nothing the first
/// scan redacted, unless a finding's neighbour changed what it reads as
/// (see the README's Reliability section).
pub fn redact(data: &[u8]) {
    let Some((scanner, first, text)) = split(data) else {
        return;
    };
    let policy = whole_policy(first >> 4);
    let found = scanner.scan(text);
    let out = policy.apply(text, &found);
    if found.is_empty() {
        assert_eq!(out, text);
        return;
    }
    let again = scanner.scan(&out);
    check_findings(&out, &again);
    // Where each replacement went in the output.
    let spans: Vec<(usize, usize)> = (0..found.len())
        .map(|i| {
            let f = &found[i];
            let start = policy.apply(&text[..f.start()], &found[..i]).len();
            let end = policy.apply(&text[..f.end()], &found[..=i]).len();
            (start, end)
        })
        .collect();
    for g in &again {
        // A replacement never reads as a finding itself...
        let inside = spans.iter().any(|&(s, e)| s <= g.start() && g.end() <= e);
        assert!(
            !inside,
            "a replacement reads as {:?} {:?} in {out:?}",
            g.kind(),
            g.as_str()
        );
        // ...and text away from every replacement reads as before, so a
        // new finding can only be a neighbour whose reading changed (a key
        // glued to a number is one token until the number is replaced).
        let near = spans
            .iter()
            .any(|&(s, e)| g.start() <= e + CONTEXT && s <= g.end() + CONTEXT);
        assert!(
            near,
            "{:?} {:?} appeared away from any replacement in {out:?} (from {text:?})",
            g.kind(),
            g.as_str()
        );
    }
}

/// How far a detector's reading of text depends on its neighbours: an
/// email's whole extent, the byte before its local part (64 bytes), the
/// `@` and the run its domain is read from (253 bytes and the one after
/// it). A finding inside a long would-be domain (`…444.av`, a word) is
/// replaced, and the address before it can then read differently.
const CONTEXT: usize = 1 + 64 + 1 + 254;

/// Target `stream`: the text cut where the first bytes say, streamed,
/// equals the whole-text answer; no released prefix leaks; the held-back
/// text stays under the bound.
pub fn stream(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let cuts = &data[1..3];
    let Some((scanner, first, text)) =
        split(&[&data[..1], &data[3..]].concat()).map(|(s, f, t)| (s, f, t.to_string()))
    else {
        return;
    };
    let policy = policy(first >> 4);
    let want = policy.apply(&text, &scanner.scan(&text)).into_owned();
    let want_spans: Vec<_> = scanner
        .scan(&text)
        .iter()
        .map(|f| (f.kind(), f.range(), f.char_range()))
        .collect();
    let mut stream = scanner.stream(&ScanOptions::new(), policy);
    let bound = stream.hold_back_bound();
    let mut released = String::new();
    let mut spans = Vec::new();
    let mut at = 0;
    let mut step = 0;
    while at < text.len() {
        let size = 1 + usize::from(cuts[step % 2]) % 23;
        step += 1;
        let mut end = (at + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let out = stream.push(&text[at..end]);
        released += &out.text;
        spans.extend(
            out.findings
                .iter()
                .map(|f| (f.kind(), f.range(), f.char_range())),
        );
        assert!(
            want.starts_with(&released),
            "leak: {released:?} is not a prefix of {want:?}"
        );
        assert!(
            end - stream.released_bytes() <= bound,
            "held back more than the bound"
        );
        at = end;
    }
    let out = stream.finish();
    released += &out.text;
    spans.extend(
        out.findings
            .iter()
            .map(|f| (f.kind(), f.range(), f.char_range())),
    );
    assert_eq!(released, want);
    assert_eq!(spans, want_spans);
}

/// Target `wordlist`: any list file contents load or fail with a line in
/// the file; what loads scans without breaking the invariants.
pub fn wordlist(data: &[u8]) {
    let (name, contents) = match data.split_first() {
        Some((b, rest)) if b & 1 == 1 => ("allow.txt", rest),
        Some((_, rest)) => ("fuzz.txt", rest),
        None => return,
    };
    let mut b = LexiconBuilder::new();
    b.term("base", "赌博");
    let lines = contents.split(|&c| c == b'\n').count();
    match b.add_list(name, contents).and_then(|b| b.build()) {
        Ok(lexicon) => {
            let text = String::from_utf8_lossy(contents);
            let scanner = Scanner::builder().words(lexicon).build().unwrap();
            check_findings(&text, &scanner.scan(&text));
        }
        Err(e) => {
            let line = e.line().expect("a list error names its line");
            assert!((1..=lines).contains(&line), "line {line} of {lines}: {e}");
            assert!(e.to_string().contains(name), "{e}");
        }
    }
}
