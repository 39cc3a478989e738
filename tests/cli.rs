//! The `filter-server scan` / `redact` command line, run as a process.

use contentfilter_tests::{run, valid_id};
use serde_json::Value;

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

#[test]
fn scan_json_reports_kinds_and_offsets() {
    let id = valid_id("11010119900307123");
    let text =
        format!("身份证{id}号，手机+86 138 0013 8000，邮箱kf@shop.cn😀卡6222021234567890128。");
    let out = run(&["scan", "--format", "json"], text.as_bytes());
    assert_eq!(out.status.code(), Some(1), "something found: exit 1");
    let found = json_lines(&out.stdout);
    let kinds: Vec<&str> = found.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["id_card", "phone", "email", "bank_card"]);
    for f in &found {
        let (start, end) = (
            f["start"].as_u64().unwrap() as usize,
            f["end"].as_u64().unwrap() as usize,
        );
        let (cs, ce) = (
            f["cp_start"].as_u64().unwrap() as usize,
            f["cp_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], f["text"].as_str().unwrap());
        let by_chars: String = text.chars().skip(cs).take(ce - cs).collect();
        assert_eq!(
            by_chars,
            &text[start..end],
            "code-point offsets agree with byte offsets"
        );
    }
    assert_eq!(
        &text[found[0]["start"].as_u64().unwrap() as usize..][..18],
        id
    );
}

#[test]
fn exit_status_follows_grep() {
    let none = run(
        &["scan"],
        "今天天气很好，订单号20240101123456789012。".as_bytes(),
    );
    assert_eq!(none.status.code(), Some(0));
    assert!(none.stdout.is_empty());
    let bad = run(&["scan", "/definitely/not/here.txt"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/definitely/not/here.txt"));
    let not_utf8 = run(&["scan"], b"abc\xff\xfe");
    assert_eq!(not_utf8.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_utf8.stderr).contains("not UTF-8"));
    let bad_kind = run(&["scan", "--kinds", "fax"], b"");
    assert_eq!(bad_kind.status.code(), Some(2));
}

#[test]
fn text_format_names_line_and_column() {
    let out = run(&["scan"], "第一行\n电话13800138000".as_bytes());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "-:2:3: phone 13800138000\n"
    );
}

#[test]
fn redact_prints_redacted_text() {
    let out = run(
        &["redact", "--operator", "phone=mask:3:4"],
        "电话13800138000，邮箱a@b.cn".as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "电话138****8000，邮箱[EMAIL]"
    );
    let clean = run(&["redact"], "你好".as_bytes());
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(clean.stdout, "你好".as_bytes());
    let bad = run(&["redact", "--operator", "phone=hash"], b"x");
    assert_eq!(bad.status.code(), Some(2), "hash without a key is an error");
}

#[test]
fn kinds_select_detectors() {
    let out = run(
        &["scan", "--format", "json", "--kinds", "email"],
        "13800138000 a@b.cn".as_bytes(),
    );
    let found = json_lines(&out.stdout);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["kind"], "email");
}

#[test]
fn scan_with_bundled_wordlists_reports_words_with_original_offsets() {
    let dir = contentfilter_tests::workspace().join("wordlists");
    let text = "请代*开*发*票，網絡賭博，我用java写代码，大麻哈鱼";
    let out = run(
        &[
            "scan",
            "--wordlists",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ],
        text.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let found = json_lines(&out.stdout);
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            (
                &text[s..e],
                f["category"].as_str().unwrap(),
                f["term"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("代*开*发*票", "fraud", "代开发票"),
            ("網絡賭博", "gambling", "网络赌博")
        ]
    );
}

#[test]
fn check_wordlists_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("cf-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("spam.txt"), "# ok\n刷单\n***\n").unwrap();
    let out = run(&["check-wordlists", dir.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("spam.txt:3:"), "{err}");
    std::fs::write(dir.join("spam.txt"), "刷单\n刷單\n").unwrap();
    let out = run(&["check-wordlists", dir.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "duplicates are warnings");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("spam: 1 terms") && stdout.contains("spam.txt:2: duplicate"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
