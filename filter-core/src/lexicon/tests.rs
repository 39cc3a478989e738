//! Table-driven tests of the lexicon, and a property test against a slow
//! reference implementation.

use super::*;
use crate::MatchType;

fn lexicon(terms: &[(&str, &str)], allow: &[&str], engine: Engine) -> Lexicon {
    let mut b = LexiconBuilder::new();
    b.engine(engine);
    for (cat, t) in terms {
        b.term(cat, t);
    }
    for a in allow {
        b.allow(a);
    }
    b.build().unwrap()
}

/// Every case runs under both engines.
fn check(terms: &[(&str, &str)], allow: &[&str], text: &str, want: &[&str]) {
    for engine in [Engine::DoubleArray, Engine::AhoCorasick] {
        let lx = lexicon(terms, allow, engine);
        let got: Vec<&str> = lx.find(text).iter().map(|f| f.as_str()).collect();
        assert_eq!(got, want, "{engine:?} in {text:?}");
    }
}

#[test]
fn normalizations_keep_original_offsets() {
    let t = [
        ("fraud", "代开发票"),
        ("gambling", "网络赌博"),
        ("drugs", "viagra"),
    ];
    check(&t, &[], "代*开*发*票", &["代*开*发*票"]);
    check(&t, &[], "请代 开 发 票。", &["代 开 发 票"]);
    check(&t, &[], "網絡賭博", &["網絡賭博"]);
    check(&t, &[], "买ＶＩＡＧＲＡ", &["ＶＩＡＧＲＡ"]);
    check(&t, &[], "ⓥⓘⓐⓖⓡⓐ!", &["ⓥⓘⓐⓖⓡⓐ"]);
    check(
        &t,
        &[],
        "代\u{200b}开\u{200d}发票",
        &["代\u{200b}开\u{200d}发票"],
    );
    check(&t, &[], "VIAGRA", &["VIAGRA"]);
}

/// Look-alike letters of other scripts (Unicode's confusables) match the
/// Latin term, with the span of the original letters, at ASCII word
/// boundaries; a real Cyrillic word stays itself.
#[test]
fn look_alike_letters_match_latin_terms() {
    let t = [
        ("drugs", "viagra"),
        ("drugs", "cocaine"),
        ("drugs", "heroin"),
    ];
    check(&t, &[], "buy vi\u{0430}gra now", &["vi\u{0430}gra"]);
    check(&t, &[], "c\u{043E}caine!", &["c\u{043E}caine"]);
    check(&t, &[], "пять her\u{03BF}in", &["her\u{03BF}in"]);
    check(&t, &[], "\u{0441}\u{043E}caine", &["\u{0441}\u{043E}caine"]);
    // As a Latin word would: one edit away is a fuzzy match.
    check(&t, &[], "xvi\u{0430}gra", &["xvi\u{0430}gra"]);
    // Ordinary Russian and Greek text holds none of the terms.
    check(&t, &[], "Москва, Αθήνα", &[]);
    let lx = lexicon(&t, &[], Engine::DoubleArray);
    let found = lx.find("vi\u{0430}gra");
    assert_eq!(found[0].match_type(), MatchType::Normalized);
}

#[test]
fn noise_limit() {
    let t = [("fraud", "代开发票")];
    check(&t, &[], "代***开发票", &["代***开发票"]);
    check(&t, &[], "代****开发票", &[]);
    let strict = LexiconBuilder::new()
        .category("fraud", CategoryOptions::new().max_noise(0))
        .term("fraud", "代开发票")
        .build()
        .unwrap();
    assert!(strict.find("代*开发票").is_empty());
    assert_eq!(strict.find("代开发票").len(), 1);
}

#[test]
fn ascii_word_boundaries() {
    let t = [("adult", "av"), ("adult", "sex"), ("adult", "sexy")];
    check(&t, &[], "java avatar", &[]);
    check(&t, &[], "看AV。", &["AV"]);
    check(&t, &[], "看av片", &["av"]);
    check(&t, &[], "essex sexy", &["sexy"]);
    check(&t, &[], "sex sexy", &["sex", "sexy"]);
    check(&t, &[], "s*e*x", &["s*e*x"]);
    check(&t, &[], "is expert", &[]);
    check(&t, &[], "ｊａｖａ", &[]);
}

#[test]
fn leftmost_longest() {
    check(&[("a", "sex"), ("a", "sexy")], &[], "sexy", &["sexy"]);
    check(
        &[("a", "赌博"), ("a", "网络赌博")],
        &[],
        "网络赌博网站",
        &["网络赌博"],
    );
    check(
        &[("a", "发票"), ("a", "代开")],
        &[],
        "代开发票",
        &["代开", "发票"],
    );
}

#[test]
fn allow_list() {
    let t = [("fraud", "传销"), ("drugs", "大麻")];
    check(&t, &["反传销"], "反传销宣传，传销违法", &["传销"]);
    check(&t, &["大麻哈鱼"], "大麻哈鱼很好吃，大麻不行", &["大麻"]);
    check(&t, &["大麻哈鱼"], "大麻 哈鱼", &[]);
}

#[test]
fn fuzzy_hits_and_non_hits() {
    let t = [
        ("fraud", "办理假学历证书"),
        ("fraud", "发票"),
        ("spam", "免费领取超级大礼包活动"),
    ];
    // One substitution in a 7-character term.
    let lx = lexicon(&t, &[], Engine::DoubleArray);
    let f = lx.find("可以办理假学力证书吗");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].as_str(), "办理假学力证书");
    assert_eq!(f[0].match_type(), MatchType::Fuzzy);
    assert_eq!(f[0].edit_distance(), 1);
    // A deletion.
    assert_eq!(lx.find("办理假学证书")[0].edit_distance(), 1);
    // Two edits on an 11-character term, one on a 7-character term is the limit.
    assert_eq!(lx.find("免费领取超大礼包活动啊")[0].edit_distance(), 1);
    assert_eq!(
        lx.find("免费領取超級大禮包活動")[0].match_type(),
        MatchType::Normalized
    );
    assert_eq!(lx.find("免费领取起级大礼色活动")[0].edit_distance(), 2);
    assert!(lx.find("办理真学力证明").is_empty(), "three edits");
    // Short terms never fuzzy.
    assert!(lx.find("发漂").is_empty());
    // Fuzzy off per category.
    let off = LexiconBuilder::new()
        .category("fraud", CategoryOptions::new().fuzzy(false))
        .term("fraud", "办理假学历证书")
        .build()
        .unwrap();
    assert!(off.find("办理假学力证书").is_empty());
}

fn pinyin_lexicon(min_chars: usize) -> Lexicon {
    LexiconBuilder::new()
        .category(
            "gambling",
            CategoryOptions::new()
                .pinyin(true)
                .pinyin_min_chars(min_chars),
        )
        .term("gambling", "网络赌博")
        .term("gambling", "六合彩")
        .term("gambling", "时时彩")
        .term("gambling", "百家乐")
        .term("gambling", "赌博")
        .category("fraud", CategoryOptions::new().pinyin(true))
        .term("fraud", "代开发票")
        .term("plain", "在线赌场")
        .allow("网络du博物馆")
        .build()
        .unwrap()
}

/// Pinyin spellings, whole and mixed, with and without tone marks and
/// spaces: found in categories with `pinyin = true`, with the span of the
/// original text and the list term.
#[test]
fn pinyin_spellings_are_found_with_exact_spans() {
    let lx = pinyin_lexicon(3);
    let cases = [
        ("来玩wangluodubo吧", "wangluodubo", "网络赌博"),
        ("来玩 Wang Luo Du Bo 吧", "Wang Luo Du Bo", "网络赌博"),
        ("WANG-LUO-DU-BO", "WANG-LUO-DU-BO", "网络赌博"),
        ("玩wǎng luò dǔ bó吗", "wǎng luò dǔ bó", "网络赌博"),
        ("买shí shí cǎi，", "shí shí cǎi", "时时彩"),
        ("ｌｉｕｈｅｃａｉ", "ｌｉｕｈｅｃａｉ", "六合彩"),
        ("进网络du博群", "网络du博", "网络赌博"),
        ("可以代开fa票", "代开fa票", "代开发票"),
        ("玩百家le", "百家le", "百家乐"),
        ("玩百家yue", "百家yue", "百家乐"),
        ("wang络赌博", "wang络赌博", "网络赌博"),
        ("wang络du博", "wang络du博", "网络赌博"),
    ];
    for (text, span, term) in cases {
        let f = lx.find(text);
        assert_eq!(f.len(), 1, "{text}: {f:?}");
        assert_eq!(f[0].as_str(), span, "{text}");
        assert_eq!(f[0].term(), Some(term), "{text}");
        assert_eq!(f[0].match_type(), MatchType::Pinyin, "{text}");
    }
    // The term itself is still exact.
    assert_eq!(lx.find("网络赌博")[0].match_type(), MatchType::Exact);
}

#[test]
fn pinyin_leaves_ordinary_text_and_other_categories_alone() {
    let lx = pinyin_lexicon(3);
    for text in [
        "dubonnet",
        "Baijia Road",
        "杜博文",
        "六合区",
        "wangluodubonnet",
        "xwangluodubo",
        "zaixianduchang",
        "dubo",
        "去网络du博物馆",
    ] {
        assert!(lx.find(text).is_empty(), "{text}: {:?}", lx.find(text));
    }
    // Two-character terms only when the bound is lowered.
    let lowered = pinyin_lexicon(2);
    let f = lowered.find("dubo");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].term(), Some("赌博"));
}

fn sound_lexicon(min_chars: usize) -> Lexicon {
    LexiconBuilder::new()
        .category(
            "gambling",
            CategoryOptions::new()
                .homophones(true)
                .homophone_min_chars(min_chars),
        )
        .term("gambling", "网络赌博")
        .term("gambling", "六合彩")
        .term("gambling", "在线赌场")
        .term("gambling", "百家乐")
        .category(
            "fraud",
            CategoryOptions::new()
                .homophones(true)
                .homophone_min_chars(min_chars),
        )
        .term("fraud", "代开发票")
        .term("fraud", "洗钱")
        .term("plain", "时时彩")
        .allow("网络堵博物馆")
        .build()
        .unwrap()
}

/// Same-sound characters in place of a term's: found in categories with
/// `homophones = true`, with the original span and the list term.
#[test]
fn homophones_are_found_with_exact_spans() {
    let lx = sound_lexicon(3);
    let cases = [
        ("来玩网络堵博吧", "网络堵博", "网络赌博"),
        ("买六合菜", "六合菜", "六合彩"),
        ("在线赌厂开业", "在线赌厂", "在线赌场"),
        ("可以代开发漂", "代开发漂", "代开发票"),
        ("網絡堵博", "網絡堵博", "网络赌博"),
        ("网 络 堵 博", "网 络 堵 博", "网络赌博"),
        ("百家悦", "百家悦", "百家乐"),
    ];
    for (text, span, term) in cases {
        let f = lx.find(text);
        assert_eq!(f.len(), 1, "{text}: {f:?}");
        assert_eq!(f[0].as_str(), span, "{text}");
        assert_eq!(f[0].term(), Some(term), "{text}");
        assert_eq!(f[0].match_type(), MatchType::Homophone, "{text}");
    }
    // The term itself is exact, not a homophone of itself.
    let f = lx.find("网络赌博和网络堵博");
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].match_type(), MatchType::Exact);
    assert_eq!(f[1].match_type(), MatchType::Homophone);
}

#[test]
fn homophones_leave_ordinary_text_and_other_categories_alone() {
    let lx = sound_lexicon(3);
    for text in ["杜博文", "六合区", "喜钱", "实时菜单", "去网络堵博物馆"] {
        assert!(lx.find(text).is_empty(), "{text}: {:?}", lx.find(text));
    }
    // Two-character terms only when the bound is lowered.
    let f = sound_lexicon(2).find("喜钱");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].term(), Some("洗钱"));
}

/// Two neighbouring characters swapped are one edit (optimal string
/// alignment), wherever the swap is: inside a piece of the term, or
/// across the cut between two pieces, which touches both.
#[test]
fn transpositions_are_one_edit() {
    let t = [
        ("brands", "iphone"),
        ("fraud", "办理假学历证书"),
        ("spam", "免费领取超级大礼包活动"),
    ];
    let lx = lexicon(&t, &[], Engine::DoubleArray);
    // `iphone` is cut `iph|one`: `ipohne` swaps across the cut.
    for text in ["iphoen", "ihpone", "ipohne", "pihone"] {
        let f = lx.find(text);
        assert_eq!(f.len(), 1, "{text}");
        assert_eq!(f[0].as_str(), text);
        assert_eq!(f[0].match_type(), MatchType::Fuzzy, "{text}");
        assert_eq!(f[0].edit_distance(), 1, "{text}");
    }
    // Seven characters, cut `办理假|学历证书`.
    for text in ["办理学假历证书", "办理假历学证书", "理办假学历证书"] {
        let f = lx.find(text);
        assert_eq!(f.len(), 1, "{text}");
        assert_eq!(f[0].edit_distance(), 1, "{text}");
    }
    // Two edits on eleven characters, cut `免费领|取超级大|礼包活动`: both
    // cuts swapped.
    let f = lx.find("免费取领超级礼大包活动");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].edit_distance(), 2);
    // A swap and a substitution.
    assert_eq!(lx.find("免费取领超级大礼色活动")[0].edit_distance(), 2);
    // Two swaps on a seven-character term are two edits, one too many.
    assert!(lx.find("理办假学历书证").is_empty());
    assert!(lx.find("ihpoen").is_empty());
}

/// Regression (fuzz, redact target): a run of noise longer than the limit
/// leaves a barrier in the normalized text, and a fuzzy match used to read
/// the barrier as a substituted character. Whether `+iagr?A` matched
/// `viagra`, and where its span began, then hung on how many NULs came
/// before it, a run far longer than any term.
#[test]
fn fuzzy_matches_never_reach_into_long_noise_runs() {
    let t = [("drugs", "viagra")];
    for run in 0..12 {
        let text = format!("{}+iagr?A", "\0".repeat(run));
        check(&t, &[], &text, &["iagr?A"]);
        let text = format!("x {}v?iagr{}", "\0".repeat(run), "\0".repeat(run));
        check(&t, &[], &text, &["v?iagr"]);
    }
    // Noise within the limit still joins a term's characters.
    check(&t, &[], "v***iagr", &["v***iagr"]);
    check(&t, &[], "v****iagra", &["iagra"]);
}

#[test]
fn match_types_and_fields() {
    let lx = LexiconBuilder::new()
        .category("fraud", CategoryOptions::new().action(Action::Review))
        .term("fraud", "代开发票")
        .build()
        .unwrap();
    let f = &lx.find("代开发票")[0];
    assert_eq!(f.match_type(), MatchType::Exact);
    assert_eq!(f.category(), "fraud");
    assert_eq!(f.term(), Some("代开发票"));
    assert_eq!(f.action(), Some(Action::Review));
    assert_eq!(lx.find("代開發票")[0].match_type(), MatchType::Normalized);
}

/// Exact means the text is the list's term byte for byte, whether or not
/// the term is in normal form (the check skips reading the term when it
/// is).
#[test]
fn exact_means_the_list_term_verbatim() {
    let lx = LexiconBuilder::new()
        .term("a", "viagra")
        .term("b", "ViAgRa Pro")
        .term("c", "網絡賭博")
        .build()
        .unwrap();
    let types = |text: &str| -> Vec<(String, MatchType)> {
        lx.find(text)
            .iter()
            .map(|f| (f.as_str().to_string(), f.match_type()))
            .collect()
    };
    let cases: &[(&str, MatchType)] = &[
        ("viagra", MatchType::Exact),
        ("VIAGRA", MatchType::Normalized),
        ("v*iagra", MatchType::Normalized),
        ("ｖｉａｇｒａ", MatchType::Normalized),
        ("ViAgRa Pro", MatchType::Exact),
        ("viagrapro", MatchType::Normalized),
        ("ViAgRa  Pro", MatchType::Normalized),
        ("網絡賭博", MatchType::Exact),
        ("网络赌博", MatchType::Normalized),
        ("網络赌博", MatchType::Normalized),
    ];
    for &(text, want) in cases {
        assert_eq!(types(text), vec![(text.to_string(), want)], "{text:?}");
    }
}

#[test]
fn bad_terms_are_errors() {
    assert!(LexiconBuilder::new().term("x", "***").build().is_err());
    assert!(LexiconBuilder::new().term("x", "a\u{7}b").build().is_err());
    let long = "字".repeat(MAX_TERM_CHARS + 1);
    assert!(LexiconBuilder::new().term("x", &long).build().is_err());
    let dup = LexiconBuilder::new()
        .term("x", "赌博")
        .term("y", "賭博")
        .build()
        .unwrap();
    assert_eq!(dup.term_count(), 1);
    assert_eq!(dup.warnings().len(), 1);
}

#[test]
fn memory_usage_counts_terms() {
    let small = lexicon(&[("a", "赌博")], &[], Engine::DoubleArray);
    let terms: Vec<(&str, String)> = (0..500).map(|i| ("a", format!("词{i}语"))).collect();
    let refs: Vec<(&str, &str)> = terms.iter().map(|(c, t)| (*c, t.as_str())).collect();
    let big = lexicon(&refs, &[], Engine::DoubleArray);
    assert!(small.memory_usage() > 0);
    assert!(big.memory_usage() > small.memory_usage() + 500 * 8);
}

mod reference {
    use proptest::prelude::*;

    use super::super::normalize::BARRIER;
    use super::*;

    /// What a character of the test alphabet is, written out here rather
    /// than taken from the production normalization, so that a bug there
    /// cannot hide in the reference too.
    #[derive(Debug, PartialEq)]
    enum Norm {
        One(char),
        Noise,
        Drop,
    }

    fn classify(c: char) -> Norm {
        match c {
            '赌' | '賭' => Norm::One('赌'),
            'a' | 'A' | 'ａ' => Norm::One('a'),
            '1' | '①' => Norm::One('1'),
            '博' | '代' | '开' | 'b' => Norm::One(c),
            '*' | ' ' => Norm::Noise,
            '\u{200b}' => Norm::Drop,
            _ => panic!("{c:?} is not in the test alphabet"),
        }
    }

    /// Terms and allowed terms of the test are written in normal form.
    fn normalize(term: &str) -> String {
        term.to_string()
    }

    /// The text normalized char by char: (normalized char, original
    /// start, original end), a barrier after every 4 noise or invisible
    /// characters in a row (more than 3 in a row: no term matches across).
    fn normalized_chars(text: &str) -> Vec<(char, usize, usize)> {
        let mut chars = Vec::new();
        let mut run = 0usize;
        for (i, c) in text.char_indices() {
            match classify(c) {
                Norm::One(n) => {
                    chars.push((n, i, i + c.len_utf8()));
                    run = 0;
                }
                _ => {
                    run += 1;
                    if run.is_multiple_of(4) {
                        chars.push((BARRIER, i, i + c.len_utf8()));
                    }
                }
            }
        }
        chars
    }

    /// Whether a match of term `t` at normalized chars `p..p + t.len()`
    /// passes the word boundaries and the noise limit.
    fn boundaries_and_noise_hold(
        text: &str,
        chars: &[(char, usize, usize)],
        p: usize,
        t: &[char],
    ) -> bool {
        let e = p + t.len();
        let (start, end) = (chars[p].1, chars[e - 1].2);
        let sep =
            |a: usize, b: usize| a < b && text[a..b].chars().any(|c| classify(c) == Norm::Noise);
        let before_ok = !t[0].is_ascii_alphanumeric()
            || p == 0
            || !chars[p - 1].0.is_ascii_alphanumeric()
            || sep(chars[p - 1].2, start);
        let after_ok = !t[t.len() - 1].is_ascii_alphanumeric()
            || e == chars.len()
            || !chars[e].0.is_ascii_alphanumeric()
            || sep(end, chars[e].1);
        let mut run = 0;
        let noise_ok = text[start..end].chars().all(|c| {
            run = if matches!(classify(c), Norm::One(_)) {
                0
            } else {
                run + 1
            };
            run <= 3
        });
        before_ok && after_ok && noise_ok
    }

    /// The slow reference: normalize the text char by char, then at each
    /// position take the longest term and accept it if the same rules hold.
    fn slow(terms: &[String], allow: &[String], text: &str) -> Vec<(usize, usize)> {
        let chars = normalized_chars(text);
        let norm_terms: Vec<Vec<char>> = terms
            .iter()
            .map(|t| normalize(t).chars().collect())
            .collect();
        let norm_allow: Vec<Vec<char>> = allow
            .iter()
            .map(|t| normalize(t).chars().collect())
            .collect();
        let at = |p: usize, t: &[char]| {
            p + t.len() <= chars.len()
                && chars[p..p + t.len()]
                    .iter()
                    .map(|x| x.0)
                    .eq(t.iter().copied())
        };
        let mut out = vec![];
        let mut p = 0;
        while p < chars.len() {
            let Some(t) = norm_terms
                .iter()
                .filter(|t| at(p, t))
                .max_by_key(|t| t.len())
            else {
                p += 1;
                continue;
            };
            let e = p + t.len();
            let allowed = norm_allow
                .iter()
                .any(|a| (p.saturating_sub(a.len())..=p).any(|q| q + a.len() >= e && at(q, a)));
            if boundaries_and_noise_hold(text, &chars, p, t) && !allowed {
                out.push((chars[p].1, chars[e - 1].2));
                p = e;
            } else {
                p += 1;
            }
        }
        out
    }

    fn alphabet() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("赌"),
                Just("博"),
                Just("賭"),
                Just("代"),
                Just("开"),
                Just("a"),
                Just("b"),
                Just("A"),
                Just("ａ"),
                Just("*"),
                Just(" "),
                Just("\u{200b}"),
                Just("1"),
                Just("①"),
            ],
            0..12,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn equals_reference(
            terms in proptest::collection::vec("[赌博代开ab1]{1,4}", 1..6),
            allow in proptest::collection::vec("[赌博代开ab]{2,5}", 0..2),
            text in alphabet(),
        ) {
            let mut b = LexiconBuilder::new();
            b.category("t", CategoryOptions::new().fuzzy(false));
            for t in &terms { b.term("t", t); }
            for a in &allow { b.allow(a); }
            let want = slow(&terms, &allow, &text);
            // Same-sound matching on, the exact matches come from the
            // sound channel's automaton; no two letters of the alphabet
            // sound alike, so the words are the same.
            let mut by_sound = b.clone();
            by_sound.category("t", CategoryOptions::new().fuzzy(false).homophones(true).homophone_min_chars(1));
            for (b, sound) in [(b, false), (by_sound, true)] {
                for engine in [Engine::DoubleArray, Engine::AhoCorasick] {
                    let lx = b.clone().engine(engine).build().unwrap();
                    let got: Vec<(usize, usize)> = lx.find(&text).iter().map(|f| (f.start(), f.end())).collect();
                    prop_assert_eq!(&got, &want, "{:?} sound {} {:?} {:?}", engine, sound, terms, text);
                }
            }
        }

        /// The exact, normalized and pinyin matches do not depend on
        /// same-sound matching (found by the sound channel's automaton
        /// when it is on, by the exact automaton when off): same-sound
        /// matches come after them and never overlap them.
        #[test]
        fn exact_matches_are_the_same_with_homophones_on(text in crate::test_texts::text(24)) {
            let exact = |lx: &Lexicon| -> Vec<_> {
                lx.find(&text)
                    .iter()
                    .filter(|f| matches!(f.match_type(), MatchType::Exact | MatchType::Normalized | MatchType::Pinyin))
                    .map(|f| (f.start(), f.end(), f.term().map(str::to_owned), f.match_type()))
                    .collect()
            };
            let on = crate::test_texts::lexicon_with_homophones(true);
            let off = crate::test_texts::lexicon_with_homophones(false);
            prop_assert_eq!(exact(&on), exact(&off), "{:?}", text);
        }

        /// A whole text read in windows (of any size, down to a byte past
        /// the context) gives the words one pass over all of it gives,
        /// exact and fuzzy, spans and all.
        #[test]
        fn windows_equal_one_pass(
            text in crate::test_texts::text(24),
            least in prop_oneof![1usize..64, 64usize..600],
        ) {
            let lx = crate::test_texts::lexicon();
            let whole = lx.find_in_one_pass(&text);
            let mut windowed = Vec::new();
            lx.find_in_windows(&text, None, &crate::limits::Interrupt::none(), least, &mut windowed);
            let key = |f: &Finding<'_>| (f.start(), f.end(), f.term().map(str::to_owned), f.match_type(), f.edit_distance());
            prop_assert_eq!(
                windowed.iter().map(key).collect::<Vec<_>>(),
                whole.iter().map(key).collect::<Vec<_>>(),
                "{:?} in windows of {}", text, least
            );
        }

        #[test]
        fn spans_sorted_on_char_boundaries(text in "\\PC{0,40}") {
            let lx = lexicon(&[("a", "赌博"), ("a", "ab"), ("a", "免费领取大礼包")], &["赌博机"], Engine::DoubleArray);
            let f = lx.find(&text);
            for w in f.windows(2) { prop_assert!(w[0].end() <= w[1].start()); }
            for x in &f { prop_assert!(text.is_char_boundary(x.start()) && text.is_char_boundary(x.end())); }
        }
    }
}
