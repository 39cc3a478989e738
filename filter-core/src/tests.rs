//! Table-driven tests of the scanner, cases built from the specs.

use crate::{Kind, MatchType, Operator, RedactionPolicy, ScanOptions, Scanner};

/// An 18-character ID with a correct check character.
fn id18(body: &str) -> String {
    let d: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    let v = crate::pii::check_value_for_tests(&d);
    let c = if v == 10 { 'X' } else { (b'0' + v) as char };
    format!("{body}{c}")
}

/// The same ID with a wrong check character.
fn id18_bad(body: &str) -> String {
    let good = id18(body);
    let last = good.chars().last().unwrap();
    let bad = if last == '0' { '1' } else { '0' };
    format!("{body}{bad}")
}

/// A Luhn-valid number: `prefix` completed with a check digit.
fn luhn(prefix: &str) -> String {
    for c in b'0'..=b'9' {
        let s = format!("{prefix}{}", c as char);
        let d: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        if crate::pii::luhn_for_tests(&d) {
            return s;
        }
    }
    unreachable!()
}

fn luhn_bad(prefix: &str) -> String {
    let good = luhn(prefix);
    let last = good.as_bytes()[good.len() - 1];
    format!("{prefix}{}", (b'0' + (last - b'0' + 1) % 10) as char)
}

fn found(text: &str) -> Vec<(Kind, String)> {
    Scanner::new()
        .scan(text)
        .iter()
        .map(|f| (f.kind(), f.as_str().to_string()))
        .collect()
}

fn one(kind: Kind, s: &str) -> Vec<(Kind, String)> {
    vec![(kind, s.to_string())]
}

#[test]
fn id_numbers() {
    let worked = "11010519491231002X"; // the standard's worked example
    let cases: Vec<(String, Vec<(Kind, String)>)> = vec![
        (worked.into(), one(Kind::IdCard, worked)),
        (
            worked.to_lowercase(),
            one(Kind::IdCard, &worked.to_lowercase()),
        ),
        (
            id18("11010119900307123"),
            one(Kind::IdCard, &id18("11010119900307123")),
        ),
        (
            id18("44030420000229001"),
            one(Kind::IdCard, &id18("44030420000229001")),
        ),
        (
            id18("65010219000101001"),
            one(Kind::IdCard, &id18("65010219000101001")),
        ),
        // A wrong check character is not an ID, and not a card either.
        (id18_bad("11010119900307123"), vec![]),
        (id18_bad("44030420000229001"), vec![]),
        // Impossible dates.
        (id18("44030419000229001"), vec![]),
        (id18("11010119901301123"), vec![]),
        (id18("11010119900431123"), vec![]),
        (id18("11010118991231123"), vec![]),
        (id18("11010121000101123"), vec![]),
        // Province codes that do not exist.
        (id18("10010119900307123"), vec![]),
        (id18("99010119900307123"), vec![]),
        (id18("72010119900307123"), vec![]),
        // Legacy 15 digits: YYMMDD, no check character.
        (
            "110105491231002".into(),
            one(Kind::IdCard, "110105491231002"),
        ),
        ("110105491331002".into(), vec![]),
        // 6-8-4 grouping with single spaces.
        (
            "110105 19491231 002X".into(),
            one(Kind::IdCard, "110105 19491231 002X"),
        ),
        ("110105  19491231 002X".into(), vec![]),
        ("110105-19491231-002X".into(), vec![]),
    ];
    for (text, want) in cases {
        assert_eq!(found(&text), want, "in {text:?}");
    }
}

#[test]
fn mobile_numbers() {
    let cases: Vec<(&str, Vec<(Kind, String)>)> = vec![
        ("13800138000", one(Kind::Phone, "13800138000")),
        ("19912345678", one(Kind::Phone, "19912345678")),
        ("17400012345", one(Kind::Phone, "17400012345")),
        ("+8613800138000", one(Kind::Phone, "+8613800138000")),
        ("8613800138000", one(Kind::Phone, "8613800138000")),
        ("008613800138000", one(Kind::Phone, "008613800138000")),
        ("+86 13800138000", one(Kind::Phone, "+86 13800138000")),
        ("+86-138-0013-8000", one(Kind::Phone, "+86-138-0013-8000")),
        (
            "(+86) 138 0013 8000",
            one(Kind::Phone, "(+86) 138 0013 8000"),
        ),
        ("(+86)13800138000", one(Kind::Phone, "(+86)13800138000")),
        ("0086 138 0013 8000", one(Kind::Phone, "0086 138 0013 8000")),
        ("138 0013 8000", one(Kind::Phone, "138 0013 8000")),
        ("138-0013-8000", one(Kind::Phone, "138-0013-8000")),
        // Mixed or doubled separators are not the 3-4-4 form.
        ("138-0013 8000", vec![]),
        ("138  0013  8000", vec![]),
        // Unassigned segments.
        ("12012345678", vec![]),
        ("14012345678", vec![]),
        ("15412345678", vec![]),
        ("19412345678", vec![]),
        ("17406123456", vec![]),
        ("1380013800", vec![]),
        // Part of a longer number.
        ("138001380001", vec![]),
        ("913800138000", vec![]),
        ("138 0013 8000 1234", vec![]),
        ("1 138 0013 8000", vec![]),
        ("1286 13800138000", one(Kind::Phone, "13800138000")),
    ];
    for (text, want) in cases {
        assert_eq!(found(text), want, "in {text:?}");
    }
}

#[test]
fn card_numbers() {
    let unionpay19 = luhn("622202123456789012");
    let visa = luhn("411111111111111");
    let grouped = format!(
        "{} {} {} {}",
        &visa[..4],
        &visa[4..8],
        &visa[8..12],
        &visa[12..]
    );
    let dashed = grouped.replace(' ', "-");
    let g19 = format!(
        "{} {} {} {} {}",
        &unionpay19[..4],
        &unionpay19[4..8],
        &unionpay19[8..12],
        &unionpay19[12..16],
        &unionpay19[16..]
    );
    let cases: Vec<(String, Vec<(Kind, String)>)> = vec![
        (unionpay19.clone(), one(Kind::BankCard, &unionpay19)),
        (visa.clone(), one(Kind::BankCard, &visa)),
        (
            "378282246310005".into(),
            one(Kind::BankCard, "378282246310005"),
        ),
        (
            "3782 822463 10005".into(),
            one(Kind::BankCard, "3782 822463 10005"),
        ),
        (
            luhn("401288888888"),
            one(Kind::BankCard, &luhn("401288888888")),
        ),
        (grouped.clone(), one(Kind::BankCard, &grouped)),
        (dashed.clone(), one(Kind::BankCard, &dashed)),
        (g19.clone(), one(Kind::BankCard, &g19)),
        (
            format!("卡号{unionpay19}，"),
            one(Kind::BankCard, &unionpay19),
        ),
        (luhn_bad("622202123456789012"), vec![]),
        (luhn_bad("411111111111111"), vec![]),
        // Not a payment network's first digit.
        (luhn("911111111111111"), vec![]),
        (luhn("111111111111111"), vec![]),
        // Too short, too long.
        (luhn("41111111111"), vec![]),
        (luhn("4111111111111111111"), vec![]),
        // Inside a longer run, or a grouped chain that goes on.
        (format!("1{visa}"), vec![]),
        (format!("{grouped} 1234 5678"), vec![]),
    ];
    for (text, want) in cases {
        assert_eq!(found(&text), want, "in {text:?}");
    }
}

#[test]
fn emails_and_secrets() {
    let openai = "sk-proj-4Fq9xZ2LmN8pQ7rT1vW3yB6cD0eG5hJ";
    let cases: Vec<(String, Vec<(Kind, String)>)> = vec![
        (
            "发到zhang.san@example.com。".into(),
            one(Kind::Email, "zhang.san@example.com"),
        ),
        (
            "13800138000@163.com".into(),
            one(Kind::Email, "13800138000@163.com"),
        ),
        (format!("key:{openai}"), one(Kind::Secret, openai)),
        (
            "AKIAIOSFODNN7EXAMPLE".into(),
            one(Kind::Secret, "AKIAIOSFODNN7EXAMPLE"),
        ),
        (
            "LTAI5tAbCdEfGhIjKlMn".into(),
            one(Kind::Secret, "LTAI5tAbCdEfGhIjKlMn"),
        ),
        ("task-oriented-approach-2024-edition".into(), vec![]),
    ];
    for (text, want) in cases {
        assert_eq!(found(&text), want, "in {text:?}");
    }
}

#[test]
fn glued_to_chinese_text() {
    let id = id18("11010119900307123");
    let text = format!("身份证{id}号，手机13800138000，谢谢");
    assert_eq!(
        found(&text),
        vec![(Kind::IdCard, id), (Kind::Phone, "13800138000".into())]
    );
}

#[test]
fn buried_in_longer_digit_runs() {
    let id = id18("11010119900307123");
    for text in [
        format!("订单号{id}0001"),
        format!("订单号9{id}"),
        "流水号2024138001380001234".to_string(),
        format!("{}{}", luhn("622202123456789012"), "000"),
    ] {
        assert_eq!(found(&text), vec![], "in {text:?}");
    }
}

#[test]
fn full_width_digits() {
    let text = "电话：１３８００１３８０００。";
    let f = Scanner::new().scan(text);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind(), Kind::Phone);
    assert_eq!(f[0].as_str(), "１３８００１３８０００");
    assert_eq!(f[0].match_type(), MatchType::Normalized);
    assert_eq!(
        f[0].range(),
        "电话：".len().."电话：１３８００１３８０００".len()
    );
    assert_eq!(f[0].char_range(), 3..14);

    let id = "１１０１０５１９４９１２３１００２Ｘ";
    assert_eq!(found(id), one(Kind::IdCard, id));
}

#[test]
fn several_kinds_in_one_message() {
    let id = id18("44030419900101001");
    let card = luhn("622202123456789012");
    let text = format!(
        "客户{id}，电话+86 138 0013 8000，卡{card}，邮箱kf@shop.cn，密钥AKIAIOSFODNN7EXAMPLE。订单20240101123456789012。"
    );
    let kinds: Vec<Kind> = Scanner::new()
        .scan(&text)
        .iter()
        .map(|f| f.kind())
        .collect();
    assert_eq!(
        kinds,
        vec![
            Kind::IdCard,
            Kind::Phone,
            Kind::BankCard,
            Kind::Email,
            Kind::Secret
        ]
    );
}

#[test]
fn offsets_in_three_units() {
    let text = "😀号码13800138000";
    let f = &Scanner::new().scan(text)[0];
    assert_eq!(f.range(), 10..21);
    assert_eq!(f.char_range(), 3..14);
    assert_eq!(f.utf16_range(), 4..15);
}

#[test]
fn kinds_can_be_switched_off() {
    let text = format!("{} 13800138000 a@b.cn", id18("11010119900307123"));
    let scanner = Scanner::builder()
        .kind(Kind::IdCard, false)
        .build()
        .unwrap();
    let kinds: Vec<Kind> = scanner.scan(&text).iter().map(|f| f.kind()).collect();
    assert_eq!(kinds, vec![Kind::Phone, Kind::Email]);
    // A valid ID with the ID detector off is still not a card or a phone.
    let only_cards = Scanner::builder()
        .only(&[Kind::BankCard, Kind::Phone])
        .build()
        .unwrap();
    assert!(only_cards.scan(&id18("62010119900307123")).is_empty());
    let opts = ScanOptions::new().kinds(&[Kind::Email]);
    assert_eq!(Scanner::new().scan_with(&text, &opts).len(), 1);
    assert!(Scanner::builder().only(&[]).build().is_err());
}

#[test]
fn redaction_operators() {
    let s = Scanner::new();
    let text = "电话13800138000，邮箱Zhang@Example.com";
    assert_eq!(
        s.redact(text, &RedactionPolicy::new()),
        "电话[PHONE]，邮箱[EMAIL]"
    );
    let p = RedactionPolicy::new()
        .with(Kind::Phone, Operator::mask(3, 4))
        .with(Kind::Email, Operator::remove());
    assert_eq!(s.redact(text, &p), "电话138****8000，邮箱");
    let p = RedactionPolicy::new().with(Kind::Phone, Operator::mask(3, 4));
    assert_eq!(s.redact("138 0013 8000", &p), "138 **** 8000");
    assert_eq!(s.redact("+86 138 0013 8000", &p), "+86 138 **** 8000");
    let p = RedactionPolicy::new().with(Kind::Email, Operator::mask(1, 4));
    assert_eq!(s.redact("zhang@example.com。", &p), "z****@example.com。");
    let p = RedactionPolicy::new().with(Kind::Email, Operator::mask(0, 0));
    assert_eq!(
        s.redact("zhang@example.com", &p),
        "*****@*******.***",
        "mask(0, 0) hides the domain too"
    );
    let p = RedactionPolicy::new().with(Kind::Phone, Operator::mask(20, 20));
    assert_eq!(
        s.redact("13800138000", &p),
        "***********",
        "never keep everything"
    );
    let p = RedactionPolicy::new().with(Kind::Phone, Operator::label_text("<手机>"));
    assert_eq!(s.redact("13800138000", &p), "<手机>");
    assert!(matches!(
        s.redact("没有", &p),
        std::borrow::Cow::Borrowed("没有")
    ));
}

#[test]
fn hash_tokens_are_keyed_and_canonical() {
    let s = Scanner::new();
    let key_a = RedactionPolicy::new().with(Kind::Phone, Operator::hash(b"a", 8).unwrap());
    let key_b = RedactionPolicy::new().with(Kind::Phone, Operator::hash(b"b", 8).unwrap());
    let t1 = s.redact("13800138000", &key_a).into_owned();
    assert!(
        t1.starts_with("[PHONE:") && t1.len() == "[PHONE:]".len() + 8,
        "{t1}"
    );
    assert_eq!(s.redact("+86 138 0013 8000", &key_a), t1);
    assert_eq!(s.redact("１３８００１３８０００", &key_a), t1);
    assert_ne!(s.redact("13800138000", &key_b), t1);
    assert_ne!(s.redact("13900139000", &key_a), t1);
    assert!(Operator::hash(b"", 8).is_err());
    assert!(Operator::hash(b"k", 65).is_err());
    assert!(!format!("{:?}", Operator::hash(b"topsecret", 8).unwrap()).contains("topsecret"));
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
    assert_send_sync::<crate::ScannerBuilder>();
    assert_send_sync::<crate::Finding<'static>>();
    assert_send_sync::<RedactionPolicy>();
    assert_send_sync::<crate::Error>();
}

mod properties {
    use proptest::prelude::*;

    use crate::{Kind, Operator, RedactionPolicy, Scanner};

    /// Pieces that exercise the detectors.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("13800138000".to_string()),
            Just("110101199003071233".to_string()),
            Just("11010519491231002X".to_string()),
            Just("6222021234567890128".to_string()),
            Just("4111 1111 1111 1111".to_string()),
            Just("+86 138 0013 8000".to_string()),
            Just("１３８００１３８０００".to_string()),
            Just("a.b@c.cn".to_string()),
            Just("AKIAIOSFODNN7EXAMPLE".to_string()),
            Just(" ".to_string()),
            Just("-".to_string()),
            Just("号".to_string()),
            "[0-9]{1,20}",
            "[0-9 \\-+()@.a-zX]{0,8}",
            "\\PC{0,6}",
        ]
    }

    /// Text built from pieces glued together.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(piece(), 0..8).prop_map(|v| v.concat())
    }

    /// The same pieces, each followed by Chinese text or punctuation, as
    /// personal data appears in prompts. Pieces glued directly to each other
    /// can be ambiguous in ways redaction changes (`AKIA…` glued to a mobile
    /// number is one long token until the number becomes `[PHONE]`), so the
    /// redaction property uses this.
    fn glued_text() -> impl Strategy<Value = String> {
        let glue = prop_oneof![Just("号"), Just("，"), Just(" "), Just("\n"), Just("：")];
        proptest::collection::vec((piece(), glue), 0..8)
            .prop_map(|v| v.into_iter().map(|(t, g)| t + g).collect())
    }

    proptest! {
        #[test]
        fn spans_are_sorted_disjoint_char_boundaries(s in text()) {
            let f = Scanner::new().scan(&s);
            for w in f.windows(2) {
                prop_assert!(w[0].end() <= w[1].start());
            }
            for x in &f {
                prop_assert!(x.start() < x.end());
                prop_assert!(s.is_char_boundary(x.start()) && s.is_char_boundary(x.end()));
            }
        }

        #[test]
        fn never_panics_on_any_string(s in "\\PC*") {
            let _ = Scanner::new().scan(&s);
        }

        #[test]
        fn redacted_text_has_nothing_left(s in glued_text(), op in 0..4usize) {
            let op = match op {
                0 => Operator::label(),
                1 => Operator::mask(3, 4),
                2 => Operator::mask(0, 0),
                _ => Operator::hash(b"k", 8).unwrap(),
            };
            let mut policy = RedactionPolicy::new();
            for k in Kind::ALL {
                policy.set(k, op.clone());
            }
            let scanner = Scanner::new();
            let out = scanner.redact(&s, &policy);
            let again = scanner.scan(&out);
            prop_assert!(again.is_empty(), "{:?} -> {:?} still has {:?}", s, out, again);
        }
    }
}
