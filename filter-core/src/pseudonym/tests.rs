//! Pseudonyms: placeholders per value across turns, restore as models
//! write placeholders back, sealing, limits; properties over generated
//! texts.

use proptest::prelude::*;

use crate::redact::canonical_value;
use crate::test_texts::text;
use crate::{RedactionPolicy, Scanner, StreamRestorer, Vault, VaultKey};

fn key(tag: &str) -> VaultKey {
    VaultKey::new(format!("a test key of enough bytes: {tag}").as_bytes()).unwrap()
}

#[test]
fn one_value_one_placeholder_across_turns() {
    let scanner = Scanner::new();
    let policy = RedactionPolicy::new();
    let mut vault = Vault::new();
    let first = scanner
        .pseudonymize(
            "身份证110101199003071233，手机13800138000，邮箱kf@shop.cn",
            &mut vault,
            &policy,
        )
        .unwrap();
    assert_eq!(first, "身份证[ID_CARD_1]，手机[PHONE_1]，邮箱[EMAIL_1]");
    // The second turn travels sealed and reuses the first's placeholders.
    let k = key("turns");
    let mut vault = Vault::open([&k], &vault.seal(&k)).unwrap();
    let second = scanner
        .pseudonymize(
            "+86 138 0013 8000 和 13900139000，KF@Shop.cn",
            &mut vault,
            &policy,
        )
        .unwrap();
    assert_eq!(second, "[PHONE_1] 和 [PHONE_2]，[EMAIL_1]");
    assert_eq!(vault.len(), 4);
    assert_eq!(
        vault.restore("请联系【phone_2】或［PHONE_1］，[ID_CARD_1]，[EMAIL_9]"),
        "请联系13900139000或13800138000，110101199003071233，[EMAIL_9]"
    );
    assert_eq!(vault.original("[phone_1]"), Some("13800138000"));
    // Debug output carries counts, never the values.
    let debug = format!("{vault:?} {:?}", StreamRestorer::new(&vault));
    assert!(
        !debug.contains("13800138000") && debug.contains("entries: 4"),
        "{debug}"
    );
}

#[test]
fn sensitive_words_follow_the_policy() {
    let lexicon = crate::LexiconBuilder::new()
        .term("gambling", "网络赌博")
        .build()
        .unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let mut vault = Vault::new();
    let out = scanner
        .pseudonymize("网络赌博找13800138000", &mut vault, &RedactionPolicy::new())
        .unwrap();
    assert_eq!(out, "****找[PHONE_1]");
    assert_eq!(vault.len(), 1);
}

#[test]
fn a_placeholder_in_the_text_is_never_given_out() {
    let mut vault = Vault::new();
    let out = Scanner::new()
        .pseudonymize(
            "模板[PHONE_1]，号码13800138000",
            &mut vault,
            &RedactionPolicy::new(),
        )
        .unwrap();
    assert_eq!(out, "模板[PHONE_1]，号码[PHONE_2]");
    assert_eq!(vault.restore(&out), "模板[PHONE_1]，号码13800138000");
}

#[test]
fn a_full_vault_refuses_and_stays_as_it_was() {
    let scanner = Scanner::new();
    let policy = RedactionPolicy::new();
    let mut vault = Vault::new().with_max_entries(2);
    scanner
        .pseudonymize("13800138000", &mut vault, &policy)
        .unwrap();
    let before = vault.clone();
    let e = scanner
        .pseudonymize("13900139000 13700137000 13800138000", &mut vault, &policy)
        .unwrap_err();
    assert!(e.is_vault_full(), "{e}");
    assert!(e.to_string().contains("at most 2"), "{e}");
    assert_eq!(vault, before);
    // A value it holds still goes through.
    assert_eq!(
        scanner
            .pseudonymize("13800138000", &mut vault, &policy)
            .unwrap(),
        "[PHONE_1]"
    );
    let again = scanner
        .pseudonymize("13900139000", &mut vault, &policy)
        .unwrap();
    assert_eq!(again, "[PHONE_2]", "the failed call gave out no number");
}

#[test]
fn custom_detectors_use_their_label() {
    let detectors =
        crate::Detectors::from_toml("[[custom]]\nname = \"employee-id\"\npattern = 'EMP-\\d{6}'\n")
            .unwrap();
    let lexicon = crate::LexiconBuilder::new()
        .detectors(detectors)
        .build()
        .unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let mut vault = Vault::new();
    let out = scanner
        .pseudonymize(
            "EMP-000001, EMP-000002",
            &mut vault,
            &RedactionPolicy::new(),
        )
        .unwrap();
    assert_eq!(out, "[EMPLOYEE_ID_1], [EMPLOYEE_ID_2]");
    assert_eq!(vault.restore(&out), "EMP-000001, EMP-000002");
}

#[test]
fn sealed_vaults_are_tamper_evident() {
    let scanner = Scanner::new();
    let mut vault = Vault::new();
    scanner
        .pseudonymize(
            "13800138000 kf@shop.cn",
            &mut vault,
            &RedactionPolicy::new(),
        )
        .unwrap();
    let k = key("tamper");
    let sealed = vault.seal(&k);
    assert_ne!(sealed, vault.seal(&k), "a fresh nonce per seal");
    assert_eq!(Vault::open([&k], &sealed).unwrap(), vault);
    for i in 0..sealed.len() {
        for bit in [0x01, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= bit;
            let e = Vault::open([&k], &bad).unwrap_err();
            assert!(e.is_vault_refused(), "byte {i}: {e}");
        }
    }
    for len in [0, 3, 12, 36, sealed.len() - 1] {
        assert!(Vault::open([&k], &sealed[..len]).is_err(), "{len}");
    }
    // Rotation: the old key opens among others; a foreign key does not.
    let new = key("new");
    assert_eq!(Vault::open([&new, &k], &sealed).unwrap(), vault);
    let e = Vault::open([&new], &sealed).unwrap_err();
    assert!(e.to_string().contains("not configured"), "{e}");
    assert!(VaultKey::new(b"short").is_err());
}

/// The text with each value written as its first form: what restoring a
/// pseudonymized text gives, since one placeholder stands for all forms.
fn first_forms(scanner: &Scanner, s: &str) -> String {
    let mut first = std::collections::HashMap::new();
    let mut out = String::new();
    let mut at = 0;
    for f in scanner.scan(s) {
        out.push_str(&s[at..f.start()]);
        at = f.end();
        let value = (f.kind(), canonical_value(f.kind(), f.as_str(), None));
        out.push_str(first.entry(value).or_insert(f.as_str()));
    }
    out.push_str(&s[at..]);
    out
}

/// A vault holding `[PHONE_1]`, `[PHONE_2]` and `[EMAIL_1]`.
fn three_values() -> Vault {
    let mut vault = Vault::new();
    Scanner::new()
        .pseudonymize(
            "13800138000 13900139000 kf@shop.cn",
            &mut vault,
            &RedactionPolicy::new(),
        )
        .unwrap();
    vault
}

/// The answer restored chunk by chunk, cut at `cuts` (byte offsets, moved
/// to char boundaries), with the most held back at any time.
fn restore_in_chunks(vault: &Vault, text: &str, cuts: &[usize]) -> (String, usize) {
    let mut restorer = StreamRestorer::new(vault);
    let mut out = String::new();
    let mut at = 0;
    let mut held = 0;
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| crate::offsets::floor_char(text, c % (text.len() + 1)))
        .collect();
    cuts.sort_unstable();
    for c in cuts.into_iter().chain([text.len()]) {
        if c < at {
            continue;
        }
        out.push_str(&restorer.push(&text[at..c]));
        held = held.max(restorer.held_bytes());
        at = c;
    }
    out.push_str(&restorer.finish());
    (out, held)
}

#[test]
fn a_placeholder_split_anywhere_is_restored() {
    let vault = three_values();
    let answer = "请致电【phone_2】或[PHONE_1]，邮件[EMAIL_1]。未知[PHONE_9]，[PHONE_1";
    let whole = vault.restore(answer).into_owned();
    assert_eq!(
        whole,
        "请致电13900139000或13800138000，邮件kf@shop.cn。未知[PHONE_9]，[PHONE_1"
    );
    // Every cut in two and in three, and one character at a time.
    let bounds: Vec<usize> = (0..=answer.len())
        .filter(|&i| answer.is_char_boundary(i))
        .collect();
    for &a in &bounds {
        assert_eq!(
            restore_in_chunks(&vault, answer, &[a]).0,
            whole,
            "cut at {a}"
        );
        for &b in bounds.iter().filter(|&&b| b > a).step_by(3) {
            assert_eq!(restore_in_chunks(&vault, answer, &[a, b]).0, whole);
        }
    }
    let (one_by_one, held) = restore_in_chunks(&vault, answer, &bounds);
    assert_eq!(one_by_one, whole);
    assert!(
        held <= "【phone_2".len(),
        "holds only a possible placeholder"
    );
    // Text with no bracket is released as it comes.
    let mut r = StreamRestorer::new(&vault);
    assert_eq!(r.push("没有占位符的文本"), "没有占位符的文本");
    assert_eq!(r.held_bytes(), 0);
}

proptest! {
    #[test]
    fn stream_restore_equals_whole_restore(
        pieces in proptest::collection::vec(prop_oneof![
            Just("[PHONE_1]".to_string()),
            Just("【phone_2】".to_string()),
            Just("［EMAIL_1］".to_string()),
            Just("[PHONE_9]".to_string()),
            "[\\[\\]【】PHONE_12a-z 文]{0,6}",
        ], 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let vault = three_values();
        let text = pieces.concat();
        let (chunked, _) = restore_in_chunks(&vault, &text, &cuts);
        prop_assert_eq!(chunked, vault.restore(&text).into_owned());
    }

    #[test]
    fn restore_undoes_pseudonymize(s in text(8)) {
        let scanner = Scanner::new();
        let mut vault = Vault::new();
        let pseudo = scanner.pseudonymize(&s, &mut vault, &RedactionPolicy::new()).unwrap();
        prop_assert_eq!(vault.restore(&pseudo).into_owned(), first_forms(&scanner, &s));
        // No value the vault holds is left in the pseudonymized text, but
        // for copies the original did not report (its neighbours, which
        // placeholders replace, kept them from counting there).
        let original = scanner.scan(&s);
        for f in scanner.scan(&pseudo) {
            let reported = original.iter().filter(|o| o.as_str() == f.as_str()).count();
            let unreported_copy = s.matches(f.as_str()).count() > reported;
            prop_assert!(
                unreported_copy || vault.iter().all(|(_, o)| {
                    canonical_value(f.kind(), o, None)
                        != canonical_value(f.kind(), f.as_str(), None)
                }),
                "{:?} left in {:?}", f.as_str(), pseudo
            );
        }
        // Sealing keeps it whole.
        let k = key("prop");
        prop_assert_eq!(Vault::open([&k], &vault.seal(&k)).unwrap(), vault);
    }
}
