//! The texts the property tests are made of, one set for all of them:
//! personal data in its forms, sensitive words with their evasions, and
//! the separators and noise around them.

use proptest::prelude::*;

use crate::{CategoryOptions, Lexicon, LexiconBuilder};

/// The word lists the property tests scan these texts with: terms of every
/// kind of match (exact, through noise and traditional script, fuzzy,
/// allowed, a strict noise limit, pinyin and same sound).
pub(crate) fn lexicon() -> Lexicon {
    lexicon_with_homophones(true)
}

/// [`lexicon`], its same-sound matching on or off.
pub(crate) fn lexicon_with_homophones(homophones: bool) -> Lexicon {
    LexiconBuilder::new()
        .term("fraud", "代开发票")
        .term("fraud", "办理假学历证书")
        .term("gambling", "网络赌博")
        .term("gambling", "赌博")
        .term("adult", "sex")
        .term("adult", "sexy")
        .term("spam", "免费领取超级大礼包")
        .category("strict", CategoryOptions::new().max_noise(1).fuzzy(false))
        .term("strict", "刷单")
        .allow("大麻哈鱼")
        .term("drugs", "大麻")
        .category(
            "lottery",
            CategoryOptions::new().pinyin(true).homophones(homophones),
        )
        .term("lottery", "六合彩")
        .build()
        .unwrap()
}

/// One piece of a generated text.
pub(crate) fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("13800138000".to_string()),
        Just("+86 138 0013 8000".to_string()),
        Just("(+86) 13800138000".to_string()),
        Just("110101199003071233".to_string()),
        Just("11010519491231002X".to_string()),
        Just("110105 19491231 002X".to_string()),
        Just("6222021234567890128".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("１３８００１３８０００".to_string()),
        Just("kf.x@shop.cn".to_string()),
        Just("AKIAIOSFODNN7EXAMPLE".to_string()),
        Just("sk-proj-4Fq9xZ2LmN8pQ7rT1vW3yB6cD0eG5hJ".to_string()),
        Just("91350100M000100Y43".to_string()),
        Just("A123456(3)".to_string()),
        Just("澳门身份证1234567(8)".to_string()),
        Just("A123456789".to_string()),
        Just("护照E12345678".to_string()),
        Just("LFV2A21K6C3054321".to_string()),
        Just("10.0.0.1".to_string()),
        Just("fe80::1ff:fe23:4567:890a".to_string()),
        Just("京A·12345".to_string()),
        Just("(0571)87654321".to_string()),
        Just("+86 10 6234 5678".to_string()),
        Just("代*开*发*票".to_string()),
        Just("代 开\u{200b}发票".to_string()),
        Just("網絡賭博".to_string()),
        Just("办理假学力证书".to_string()),
        Just("免费领取超级大礼包".to_string()),
        Just("大麻哈鱼".to_string()),
        Just("SEXY sex essex".to_string()),
        Just("刷*单".to_string()),
        // Pinyin spellings (a category of the stream tests spells them).
        Just("liu he cai".to_string()),
        Just("六合cǎi".to_string()),
        Just("Liu-He-Cai".to_string()),
        // Same-sound characters (the same category matches by sound).
        Just("六合菜".to_string()),
        Just("溜和彩".to_string()),
        Just("刷**单".to_string()),
        Just("    ".to_string()),
        Just("-".to_string()),
        Just("，".to_string()),
        Just("号".to_string()),
        // Context words, which raise or lower a value's confidence.
        Just("订单号".to_string()),
        Just("卡号".to_string()),
        Just("护照".to_string()),
        // Placeholders a user or a model wrote.
        Just("[PHONE_1]".to_string()),
        Just("【phone_2】".to_string()),
        "[0-9]{1,22}",
        "[0-9 \\-+()@.a-zX*]{0,8}",
        "[0-9A-Z:.()·]{0,8}",
        "[赌博代开发票大麻刷单网络]{1,4}",
        "\\PC{0,6}",
    ]
}

/// Up to `n` pieces glued together.
pub(crate) fn text(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 0..n).prop_map(|v| v.concat())
}
