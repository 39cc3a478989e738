//! The detectors added with the registry: each identifier from its
//! standard's examples and near misses, context in both directions,
//! custom detectors with each validator, the allow list.

use crate::{Detectors, Kind, LexiconBuilder, Operator, RedactionPolicy, ScanOptions, Scanner};

/// (kind, category, text) of every finding.
fn found(text: &str) -> Vec<(Kind, String, String)> {
    Scanner::new()
        .scan(text)
        .iter()
        .map(|f| (f.kind(), f.category().to_string(), f.as_str().to_string()))
        .collect()
}

fn one(kind: Kind, category: &str, text: &str) -> Vec<(Kind, String, String)> {
    vec![(kind, category.to_string(), text.to_string())]
}

/// A text and the (kind, category, text) of each finding expected in it.
type Case = (&'static str, &'static [(Kind, &'static str, &'static str)]);

#[test]
fn identifiers_from_their_standards() {
    let cases: &[Case] = &[
        // USCC (GB 32100-2015): stdnum's examples, glued to Chinese.
        (
            "统一社会信用代码91350100M000100Y43。",
            &[(Kind::Uscc, "", "91350100M000100Y43")],
        ),
        (
            "代码：91110000600037341L",
            &[(Kind::Uscc, "", "91110000600037341L")],
        ),
        (
            "代码：９１１１００００６０００３７３４１Ｌ",
            &[(Kind::Uscc, "", "９１１１００００６０００３７３４１Ｌ")],
        ),
        ("91350100M000100Y44", &[]),
        ("X91350100M000100Y43", &[]),
        ("91350100M000100Y43A", &[]),
        // Hong Kong, Taiwan, Macau identity cards.
        (
            "香港身份证A123456(3)",
            &[(Kind::IdCard, "hk", "A123456(3)")],
        ),
        ("HKID A1234563 ok", &[(Kind::IdCard, "hk", "A1234563")]),
        (
            "HKID AB987654（3）",
            &[(Kind::IdCard, "hk", "AB987654（3）")],
        ),
        ("A123456(4)", &[]),
        ("身分證A123456789", &[(Kind::IdCard, "tw", "A123456789")]),
        ("A123456788", &[]),
        (
            "澳门身份证1234567(8)",
            &[(Kind::IdCard, "mo", "1234567(8)")],
        ),
        ("编号1234567(8)", &[]),
        // Near misses of the Macau form: letters for digits, no parentheses.
        ("澳门身份证1ABCDEF(8)", &[]),
        ("澳门身份证1234567A8B", &[]),
        ("澳门身份证2234567(8)", &[]),
        ("澳门身份证1234567(A)", &[]),
        ("澳门身份证1234567(8X", &[]),
        // Passports only beside a context word.
        (
            "护照号码E12345678",
            &[(Kind::Passport, "passport", "E12345678")],
        ),
        (
            "passport: EA1234567",
            &[(Kind::Passport, "passport", "EA1234567")],
        ),
        (
            "港澳通行证C12345678",
            &[(Kind::Passport, "hk_mo_permit", "C12345678")],
        ),
        ("型号E12345678", &[]),
        ("E12345678", &[]),
        // VINs with the ISO 3779 check digit.
        (
            "车架号LFV2A21K6C3054321",
            &[(Kind::Vin, "", "LFV2A21K6C3054321")],
        ),
        ("1M8GDM9AXKP042788", &[(Kind::Vin, "", "1M8GDM9AXKP042788")]),
        ("LFV2A21K9C3054321", &[]),
        // IP addresses.
        ("服务器10.0.0.1上", &[(Kind::IpAddress, "v4", "10.0.0.1")]),
        (
            "地址是2001:db8::8a2e:370:7334。",
            &[(Kind::IpAddress, "v6", "2001:db8::8a2e:370:7334")],
        ),
        (
            "from fe80::1ff:fe23:4567:890a today",
            &[(Kind::IpAddress, "v6", "fe80::1ff:fe23:4567:890a")],
        ),
        ("版本1.2.3.4.5", &[]),
        ("256.1.1.1", &[]),
        ("12:30:45", &[]),
        // Licence plates.
        ("车牌京A12345，", &[(Kind::LicensePlate, "", "京A12345")]),
        (
            "粤B·D12345",
            &[(Kind::LicensePlate, "new_energy", "粤B·D12345")],
        ),
        ("京A1234", &[]),
        // Landlines; service numbers are not personal data.
        (
            "电话010-62345678",
            &[(Kind::Phone, "landline", "010-62345678")],
        ),
        (
            "(0571)87654321",
            &[(Kind::Phone, "landline", "(0571)87654321")],
        ),
        (
            "（0571）8765 4321",
            &[(Kind::Phone, "landline", "（0571）8765 4321")],
        ),
        (
            "+86 10 6234 5678",
            &[(Kind::Phone, "landline", "+86 10 6234 5678")],
        ),
        (
            "+86-571-87654321",
            &[(Kind::Phone, "landline", "+86-571-87654321")],
        ),
        (
            "021 6234 5678",
            &[(Kind::Phone, "landline", "021 6234 5678")],
        ),
        ("02162345678", &[(Kind::Phone, "landline", "02162345678")]),
        ("400-810-8888", &[]),
        ("95588", &[]),
        ("010-12345678", &[]),
        ("010-6234567", &[]),
        // Mobiles: 1610 and a prefix glued to grouped digits.
        (
            "电话【16105792262】",
            &[(Kind::Phone, "mobile", "16105792262")],
        ),
        (
            "+86193 3096 5634",
            &[(Kind::Phone, "mobile", "+86193 3096 5634")],
        ),
        (
            "0086190-8783-1012",
            &[(Kind::Phone, "mobile", "0086190-8783-1012")],
        ),
        // Cards by network.
        (
            "2720046927315109",
            &[(Kind::BankCard, "mastercard", "2720046927315109")],
        ),
        ("411111111111111100", &[]),
    ];
    for (text, want) in cases {
        let want: Vec<_> = want
            .iter()
            .map(|&(k, c, t)| (k, c.to_string(), t.to_string()))
            .collect();
        assert_eq!(found(text), want, "in {text:?}");
    }
}

#[test]
fn context_words_decide_cards() {
    for text in [
        "您的订单号4607598386756508，请查收",
        "运单号：4607598386756508",
        "交易流水号4607598386756508",
        "商品编码 4607598386756508",
        "order number: 4607598386756508",
    ] {
        assert_eq!(found(text), vec![], "{text}");
        let all = Scanner::new().scan_with(text, &ScanOptions::new().min_confidence(0.0));
        assert_eq!(all.len(), 1, "{text}");
        assert!((all[0].confidence() - 0.2).abs() < 1e-6, "{text}");
    }
    for text in [
        "卡号4607598386756508",
        "我的信用卡是 4607598386756508",
        "credit card 4607598386756508",
        "4607598386756508",
    ] {
        assert_eq!(
            found(text),
            one(Kind::BankCard, "visa", "4607598386756508"),
            "{text}"
        );
    }
    let f = Scanner::new().scan("卡号4607598386756508");
    assert!((f[0].confidence() - 0.9).abs() < 1e-6);
    // The nearest word wins.
    let text = "订单号1234，卡号4607598386756508";
    assert_eq!(found(text), one(Kind::BankCard, "visa", "4607598386756508"));
    let text = "卡号6222021234567890128，订单号4607598386756508";
    assert_eq!(
        found(text),
        one(Kind::BankCard, "unionpay", "6222021234567890128")
    );
    // Context words are normalized like sensitive words.
    assert_eq!(found("訂單號4607598386756508"), vec![]);
    // A checked ID keeps its confidence with no context.
    let f = Scanner::new().scan("110101199003071233");
    assert!(f[0].confidence() >= 0.9);
}

#[test]
fn custom_detectors_with_each_validator() {
    let detectors = Detectors::from_toml(
        r#"
[[custom]]
name = "employee_id"
pattern = '(?-u:\b)EMP-\d{6}(?-u:\b)'
raise = ["工号"]

[[custom]]
name = "imei"
pattern = '\b\d{15}\b'
validator = "luhn"

[[custom]]
name = "iban"
pattern = '\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?\b'
validator = "mod97"

[[custom]]
name = "member"
pattern = 'M(\d{17}[\dX])'
validator = "mod11_2"

[[custom]]
name = "code31"
pattern = 'ORG:([0-9A-Z]{18})'
validator = "iso7064_mod31"

[[custom]]
name = "vin_lower"
pattern = '[a-hj-npr-z0-9]{17}'
validator = "vin"

[allow]
phone = ["+86 138 0013 8000"]
bank_card = ["4111111111111111"]
"#,
    )
    .unwrap();
    let lexicon = LexiconBuilder::new().detectors(detectors).build().unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let f = |text: &str| -> Vec<(Kind, String, String)> {
        scanner
            .scan(text)
            .iter()
            .map(|f| (f.kind(), f.category().to_string(), f.as_str().to_string()))
            .collect()
    };
    assert_eq!(
        f("工号EMP-001234"),
        one(Kind::Custom, "employee_id", "EMP-001234")
    );
    assert_eq!(f("xEMP-001234"), vec![]);
    assert_eq!(
        f("IMEI 490154203237518"),
        one(Kind::Custom, "imei", "490154203237518")
    );
    assert_eq!(f("IMEI 490154203237519"), vec![]);
    assert_eq!(
        f("IBAN GB82 WEST 1234 5698 7654 32"),
        one(Kind::Custom, "iban", "GB82 WEST 1234 5698 7654 32")
    );
    assert_eq!(f("IBAN GB82 WEST 1234 5698 7654 33"), vec![]);
    assert_eq!(
        f("M11010519491231002X"),
        one(Kind::Custom, "member", "M11010519491231002X")
    );
    assert_eq!(f("M110105194912310021"), vec![]);
    assert_eq!(
        f("ORG:91350100M000100Y43"),
        one(Kind::Custom, "code31", "ORG:91350100M000100Y43")
    );
    assert_eq!(f("ORG:91350100M000100Y44"), vec![]);
    assert_eq!(
        f("1m8gdm9axkp042788"),
        one(Kind::Custom, "vin_lower", "1m8gdm9axkp042788")
    );
    // The allow list compares canonical values.
    assert_eq!(f("电话13800138000"), vec![]);
    assert_eq!(f("电话138-0013-8000"), vec![]);
    assert_eq!(f("卡号4111 1111 1111 1111"), vec![]);
    assert_eq!(f("电话13900139000").len(), 1);
}

#[test]
fn a_broken_detectors_file_names_its_line() {
    let e = LexiconBuilder::new()
        .add_files(&[(
            "detectors.toml",
            b"[[custom]]\nname = \"x\"\npattern = \"[\"\n",
        )])
        .unwrap_err();
    assert_eq!(e.line(), Some(2), "{e}");
    assert!(e.to_string().contains("detectors.toml"), "{e}");
}

#[test]
fn custom_detectors_redact_with_their_own_label_and_operator() {
    let detectors = Detectors::from_toml(
        r#"
[[custom]]
name = "employee-id"
pattern = 'EMP-\d{6}'

[[custom]]
name = "ticket"
pattern = 'TK\d{8}'
label = "TICKET_NO"

[[custom]]
name = "member"
pattern = 'M\d{8}'
operator = "mask:1:2"
"#,
    )
    .unwrap();
    let lexicon = LexiconBuilder::new().detectors(detectors).build().unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let text = "EMP-001234, TK12345678, M12345678, 电话13800138000";
    assert_eq!(
        scanner.redact(text, &RedactionPolicy::new()),
        "[EMPLOYEE_ID], [TICKET_NO], M******78, 电话[PHONE]"
    );
    // A policy that sets custom findings overrides every detector's own.
    let policy = RedactionPolicy::new().with(Kind::Custom, Operator::remove());
    assert_eq!(scanner.redact(text, &policy), ", , , 电话[PHONE]");
    // Streams redact the same way.
    let mut stream = scanner.stream(&ScanOptions::default(), RedactionPolicy::new());
    let mut out = String::new();
    for piece in [
        "EMP-00",
        "1234, TK1234",
        "5678, M1234567",
        "8, 电话13800138000",
    ] {
        out.push_str(&stream.push(piece).text);
    }
    out.push_str(&stream.finish().text);
    assert_eq!(out, "[EMPLOYEE_ID], [TICKET_NO], M******78, 电话[PHONE]");
}
