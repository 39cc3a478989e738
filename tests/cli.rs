//! The `filter-server scan` / `redact` command line, run as a process.

use contentfilter_tests::{run, ServerProcess};
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
    let id = "110101199003071233"; // checked with python-stdnum
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

/// A file of a megabyte or more is mapped, not read: the same findings
/// and the same redacted text either way, and invalid UTF-8 in a mapped
/// file is reported with its offset as in a read one.
#[test]
fn large_files_are_mapped_with_the_same_results() {
    let dir = std::env::temp_dir().join(format!("cli-mapped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One value in a long line: the file is large, the findings few.
    let line = format!(
        "客户手机13800138000，卡号6222021234567890128，代*开*发*票。{}\n",
        "今天天气很好。".repeat(200)
    );
    let line = line.as_str();
    let text = line.repeat((1 << 20) / line.len() + 1);
    let file = dir.join("large.txt");
    std::fs::write(&file, &text).unwrap();
    let path = file.to_str().unwrap();
    let mapped = run(&["redact", path], b"");
    let read = run(&["redact", "--no-mmap", path], b"");
    assert_eq!(mapped.stdout, read.stdout);
    let redacted = String::from_utf8(mapped.stdout).unwrap();
    assert!(redacted.len() > 1 << 19 && !redacted.contains("13800138000"));
    let json = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(path);
        json_lines(&run(&args, b"").stdout)
    };
    // Mapped on two threads, read on one: the same findings.
    let (mapped, read) = (json(&["-j", "2"]), json(&["--no-mmap", "-j", "1"]));
    assert_eq!(mapped.len(), 3 * text.matches(line).count());
    assert_eq!(mapped, read);
    let mut bad = text.into_bytes();
    // An ASCII byte made invalid: the error names its offset.
    let at = (1 << 19) + bad[1 << 19..].iter().position(u8::is_ascii).unwrap();
    bad[at] = 0xff;
    std::fs::write(&file, &bad).unwrap();
    let out = run(&["scan", path], b"");
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains(&format!("not UTF-8 (invalid byte at offset {at})")),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "redact succeeds whether or not it replaced something"
    );
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

/// Regression: every load warning printed its own line on every `scan`
/// (a million terms gave hundreds); now ten and a count, while
/// `check-wordlists` still lists them all.
#[test]
fn many_load_warnings_are_summarized() {
    let dir = contentfilter_tests::temp_dir("many-warnings");
    let dups: String = (0..40).map(|i| format!("重复词{i}\n重复词{i}\n")).collect();
    std::fs::write(dir.join("spam.txt"), dups).unwrap();
    let out = run(
        &["scan", "--wordlists", dir.to_str().unwrap()],
        "你好".as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().filter(|l| l.contains("warning:")).count(),
        11,
        "{err}"
    );
    assert!(err.contains("30 more warnings"), "{err}");
    let out = run(&["check-wordlists", dir.to_str().unwrap()], b"");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        listed.lines().filter(|l| l.starts_with("warning:")).count(),
        40
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_bundled_word_lists_are_the_default() {
    // No --wordlists: the lists bundled in the binary, as `serve` uses,
    // from any working directory.
    let out = std::process::Command::new(contentfilter_tests::server_binary())
        .args(["scan", "--format", "json", "--kinds", "sensitive_word"])
        .current_dir(std::env::temp_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all("代*开*发*票".as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found = json_lines(&out.stdout);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["term"], "代开发票");
    assert_eq!(found[0]["category"], "fraud");
}

#[test]
fn selections_that_can_find_nothing_are_errors() {
    let empty = contentfilter_tests::temp_dir("empty-lists");
    for (args, says) in [
        (
            vec![
                "scan",
                "--kinds",
                "sensitive_word",
                "--wordlists",
                empty.to_str().unwrap(),
            ],
            "no terms",
        ),
        (vec!["scan", "--categories", "no_such"], "unknown no_such"),
        (
            vec!["scan", "--kinds", "phone", "--categories", "gambling"],
            "--categories",
        ),
        (vec!["scan", "--kinds", "fax"], "fax"),
    ] {
        let out = run(&args, "网络赌博 13800138000".as_bytes());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = run(
        &["scan", "--format", "json", "--categories", "gambling"],
        "网络赌博，代开发票，13800138000".as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let kinds: Vec<(String, String)> = json_lines(&out.stdout)
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().into(),
                f["category"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("sensitive_word".to_string(), "gambling".to_string()),
            ("phone".to_string(), "mobile".to_string())
        ],
        "--categories narrows the words only"
    );
}

#[test]
fn help_lists_the_kinds() {
    let out = run(&["scan", "--help"], b"");
    let help = String::from_utf8_lossy(&out.stdout);
    for kind in [
        "id_card",
        "phone",
        "bank_card",
        "email",
        "secret",
        "sensitive_word",
    ] {
        assert!(help.contains(kind), "{kind} missing from:\n{help}");
    }
    assert!(help.contains("--categories"), "{help}");
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    use std::io::{Read, Write};
    let mut child = std::process::Command::new(contentfilter_tests::server_binary())
        .args(["scan"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = "手机13800138000\n".repeat(200_000);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    // Read one line, as `head -1` does, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 32];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    writer.join().unwrap().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_key_file_gives_one_token_in_the_cli_and_the_library() {
    let dir = contentfilter_tests::temp_dir("hash-key");
    // An editor's trailing newline, and the same key without it.
    std::fs::write(dir.join("with-newline"), "k3y-for-tests\n").unwrap();
    std::fs::write(dir.join("without"), "k3y-for-tests").unwrap();
    let redact = |key: &std::path::Path| {
        let out = run(
            &[
                "redact",
                "--operator",
                "phone=hash",
                "--hash-key-file",
                key.to_str().unwrap(),
            ],
            "电话13800138000".as_bytes(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let a = redact(&dir.join("with-newline"));
    assert_eq!(a, redact(&dir.join("without")));
    // The library reads the file by the same rule.
    let key = filter_core::HashKey::from_file(dir.join("with-newline")).unwrap();
    let policy = filter_core::RedactionPolicy::new().with(
        filter_core::Kind::Phone,
        filter_core::Operator::hash(key.as_bytes(), 8).unwrap(),
    );
    let library = filter_core::Scanner::new().redact("电话13800138000", &policy);
    assert_eq!(a, library);
    assert!(
        a.starts_with("电话[PHONE:") && a.len() == "电话[PHONE:12345678]".len(),
        "{a}"
    );
    // The key itself in the environment is not read: a file, as serve.
    let out = std::process::Command::new(contentfilter_tests::server_binary())
        .args(["redact", "--operator", "phone=hash"])
        .env("FILTER_HASH_KEY", "k3y-for-tests")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hash-key-file"));
    let out = std::process::Command::new(contentfilter_tests::server_binary())
        .args(["redact", "--operator", "phone=hash"])
        .env("FILTER_HASH_KEY_FILE", dir.join("without"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `serve --print-config` under one set of flags, environment and file.
fn resolved(flags: &[&str], env: &[(&str, &str)], file: &str) -> toml::Table {
    let dir = contentfilter_tests::temp_dir("config");
    std::fs::write(dir.join("config.toml"), file).unwrap();
    let mut cmd = std::process::Command::new(contentfilter_tests::server_binary());
    cmd.args(["serve", "--print-config", "--config"])
        .arg(dir.join("config.toml"))
        .args(flags)
        .env_remove("FILTER_WATCH")
        .env_remove("FILTER_LISTEN")
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().parse().unwrap()
}

#[test]
fn configuration_precedence_holds_for_every_layer() {
    let watch = |flags: &[&str], env: &[(&str, &str)], file: &str| {
        resolved(flags, env, file)["watch"].as_bool().unwrap()
    };
    // Defaults, then the file, then the environment, then flags.
    assert!(!watch(&[], &[], ""), "default");
    assert!(watch(&[], &[], "watch = true"), "file");
    assert!(
        !watch(&[], &[("FILTER_WATCH", "false")], "watch = true"),
        "environment over file"
    );
    assert!(
        watch(&[], &[("FILTER_WATCH", "1")], ""),
        "environment over default"
    );
    assert!(
        !watch(&["--no-watch"], &[("FILTER_WATCH", "true")], "watch = true"),
        "--no-watch over both"
    );
    assert!(
        !watch(
            &["--watch=false"],
            &[("FILTER_WATCH", "true")],
            "watch = true"
        ),
        "--watch=false over both"
    );
    assert!(
        watch(&["--watch"], &[("FILTER_WATCH", "false")], "watch = false"),
        "--watch over both"
    );
    // The same order for a value setting.
    let listen = |flags: &[&str], env: &[(&str, &str)], file: &str| {
        resolved(flags, env, file)["listen"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(listen(&[], &[], ""), "127.0.0.1:50051");
    assert_eq!(listen(&[], &[], "listen = \"127.0.0.1:1\""), "127.0.0.1:1");
    assert_eq!(
        listen(
            &[],
            &[("FILTER_LISTEN", "127.0.0.1:2")],
            "listen = \"127.0.0.1:1\""
        ),
        "127.0.0.1:2"
    );
    assert_eq!(
        listen(
            &["--listen", "127.0.0.1:3"],
            &[("FILTER_LISTEN", "127.0.0.1:2")],
            "listen = \"127.0.0.1:1\""
        ),
        "127.0.0.1:3"
    );
    // Every limit has its default printed.
    let all = resolved(&[], &[], "");
    for key in [
        "max_findings",
        "max_concurrent",
        "max_streams",
        "max_connections",
        "stream_idle_timeout_ms",
    ] {
        assert!(all.contains_key(key), "{key} missing from {all:?}");
    }
}

/// `detectors.toml` in `--wordlists`: custom detectors report and redact
/// with their own label, `--min-confidence` moves the threshold, and
/// `check-wordlists` names a broken file's line.
#[test]
fn custom_detectors_and_confidence_on_the_command_line() {
    let dir = contentfilter_tests::copy_wordlists("cli-detectors");
    let dir_arg = dir.to_str().unwrap();
    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"employee_id\"\npattern = 'EMP-\\d{6}'\n",
    )
    .unwrap();
    let text = "工号EMP-001234，订单号4607598386756508".as_bytes();
    let out = run(&["scan", "--format", "json", "--wordlists", dir_arg], text);
    let found = json_lines(&out.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "custom");
    assert_eq!(found[0]["category"], "employee_id");
    assert!(found[0]["confidence"].as_f64().unwrap() >= 0.9);
    let out = run(
        &[
            "scan",
            "--format",
            "json",
            "--wordlists",
            dir_arg,
            "--min-confidence",
            "0.1",
        ],
        text,
    );
    let found = json_lines(&out.stdout);
    assert_eq!(found.len(), 2, "the order number at 0.1: {found:?}");
    assert_eq!(found[1]["kind"], "bank_card");
    assert!(found[1]["confidence"].as_f64().unwrap() < 0.4);
    let out = run(&["redact", "--wordlists", dir_arg], text);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "工号[EMPLOYEE_ID]，订单号4607598386756508"
    );

    std::fs::write(
        dir.join("detectors.toml"),
        "[[custom]]\nname = \"a\"\npattern = 'x'\n\n[[custom]]\nname = \"b\"\npattern = '(x'\n",
    )
    .unwrap();
    let out = run(&["check-wordlists", dir_arg], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("detectors.toml:6"), "{err}");
    let out = run(&["scan", "--wordlists", dir_arg], text);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a broken file is no silent default"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `pseudonymize` and `restore`: two turns of a conversation through one
/// sealed vault file, a tampered vault refused with nothing printed, no
/// key refused with a message.
#[test]
fn pseudonymize_and_restore_round_trip_through_a_sealed_vault() {
    let dir = contentfilter_tests::temp_dir("cli-vault");
    let key = dir.join("vault.key");
    std::fs::write(&key, "a vault key of more than sixteen bytes\n").unwrap();
    let vault = dir.join("conversation.vault");
    let (key_arg, vault_arg) = (key.to_str().unwrap(), vault.to_str().unwrap());
    let with_key = ["--vault-key-file", key_arg, "--vault", vault_arg];
    let run_vault = |cmd: &str, input: &str| {
        let mut args = vec![cmd];
        args.extend(with_key);
        run(&args, input.as_bytes())
    };

    let first = run_vault("pseudonymize", "给13800138000写封信，抄送kf@shop.cn");
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "给[PHONE_1]写封信，抄送[EMAIL_1]"
    );
    let second = run_vault("pseudonymize", "还有+86 138 0013 8000和13900139000");
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "还有[PHONE_1]和[PHONE_2]"
    );
    let back = run_vault(
        "restore",
        "好的，我会联系【phone_2】和[PHONE_1]，并发邮件给[EMAIL_1]。",
    );
    assert_eq!(back.status.code(), Some(0), "{back:?}");
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "好的，我会联系13900139000和13800138000，并发邮件给kf@shop.cn。"
    );

    // One changed byte: refused, exit 2, nothing on standard output.
    let mut sealed = std::fs::read(&vault).unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    std::fs::write(&vault, &sealed).unwrap();
    for cmd in ["restore", "pseudonymize"] {
        let out = run_vault(cmd, "[PHONE_1] 13700137000");
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(out.stdout.is_empty(), "{cmd} printed {:?}", out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("changed or damaged"), "{err}");
    }
    assert_eq!(
        std::fs::read(&vault).unwrap(),
        sealed,
        "a refused vault is kept"
    );

    // No key: exit 2 with what to set.
    let out = run(&["restore", "--vault", vault_arg], b"x");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FILTER_VAULT_KEY_FILE"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `pseudonymize --mode surrogate`: valid fake values in the prompt's
/// formatting, the same value given the same surrogate in a later turn,
/// and `restore` putting the originals back where a model re-wrote the
/// surrogates (grouping removed, full width).
#[test]
fn surrogates_round_trip_through_the_cli() {
    let dir = contentfilter_tests::temp_dir("cli-surrogates");
    let key = dir.join("vault.key");
    std::fs::write(&key, "a vault key of more than sixteen bytes\n").unwrap();
    let vault = dir.join("conversation.vault");
    let (key_arg, vault_arg) = (key.to_str().unwrap(), vault.to_str().unwrap());
    let pseudonymize = |input: &str| {
        let args = [
            "pseudonymize",
            "--mode",
            "surrogate",
            "--vault-key-file",
            key_arg,
            "--vault",
            vault_arg,
        ];
        let out = run(&args, input.as_bytes());
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let first = pseudonymize("电话 138 0013 8000，身份证110101199003071233");
    let phone = &first["电话 ".len().."电话 ".len() + "138 0013 8000".len()];
    assert!(
        phone.starts_with("138 0") && phone != "138 0013 8000",
        "{first}"
    );
    let second = pseudonymize("再打13800138000");
    let compact: String = phone.chars().filter(|c| *c != ' ').collect();
    assert_eq!(second, format!("再打{compact}"), "one value, one surrogate");
    let id = &first[first.len() - 18..];
    let wide: String = id
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    let answer = format!("已登记{compact}和{wide}。");
    let back = run(
        &["restore", "--vault-key-file", key_arg, "--vault", vault_arg],
        answer.as_bytes(),
    );
    assert_eq!(back.status.code(), Some(0), "{back:?}");
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "已登记138 0013 8000和110101199003071233。"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `health`: SERVING and exit 0 for a running server (the whole server and
/// the named service), exit 1 for an unknown service and for an address
/// where nothing listens, exit 2 for arguments that are wrong.
#[test]
fn health_subcommand_reports_the_serving_status() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let ok = run(&["health", "--addr", &addr], b"");
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "SERVING");
    let named = run(
        &[
            "health",
            "--addr",
            &format!("http://{addr}"),
            "--service",
            "contentfilter.v1.ContentFilterService",
        ],
        b"",
    );
    assert_eq!(named.status.code(), Some(0), "{named:?}");
    let unknown = run(
        &["health", "--addr", &addr, "--service", "nope.v1.Nope"],
        b"",
    );
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    assert!(String::from_utf8_lossy(&unknown.stdout).contains("NotFound"));

    // A port nothing listens on: bound, then released.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = free.local_addr().unwrap().to_string();
    drop(free);
    let down = run(&["health", "--addr", &closed, "--timeout-ms", "2000"], b"");
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stdout).starts_with("UNREACHABLE"));

    for bad in [
        vec!["health", "--addr", "not an address"],
        vec!["health", "--addr", "https://127.0.0.1:1"],
        vec!["health", "--addr", "ftp://127.0.0.1:1"],
    ] {
        let out = run(&bad, b"");
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
    }
}

/// `health` over TLS with the CA of the server's certificate, and the
/// name the certificate carries.
#[test]
fn health_subcommand_speaks_tls() {
    let (dir, _) = contentfilter_tests::self_signed_cert("health-tls");
    let cert = dir.join("cert.pem");
    let server = ServerProcess::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        dir.join("key.pem").to_str().unwrap(),
    ]);
    let url = format!("https://{}", server.addr);
    let ok = run(
        &[
            "health",
            "--addr",
            &url,
            "--tls-ca",
            cert.to_str().unwrap(),
            "--tls-server-name",
            "localhost",
        ],
        b"",
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    // Plain text to a TLS port is no answer.
    let plain = run(&["health", "--addr", &server.addr.to_string()], b"");
    assert_eq!(plain.status.code(), Some(1), "{plain:?}");
}

/// `--threads`: many files scanned and redacted at once give the output of
/// one thread, byte for byte, in the order the files were given; a bad
/// file among them is still an error naming it.
#[test]
fn threads_keep_the_output_of_one_thread() {
    let dir = contentfilter_tests::temp_dir("cli-threads");
    let mut files = Vec::new();
    for i in 0..24 {
        let path = dir.join(format!("f{i:02}.txt"));
        // Sizes differ, so that files finish out of order.
        let body = format!("客户{i}，手机1380013{i:04}，代*开*发*票。\n").repeat(1 + (24 - i) * 50);
        std::fs::write(&path, body).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    for command in [&["scan", "--format", "json"][..], &["redact"][..]] {
        let with = |threads: &str| {
            let mut args = command.to_vec();
            args.extend(["--threads", threads]);
            args.extend(&files);
            run(&args, b"")
        };
        let one = with("1");
        assert!(one.status.code().is_some_and(|c| c < 2), "{one:?}");
        assert!(!one.stdout.is_empty());
        for threads in ["2", "4", "7"] {
            let many = with(threads);
            assert_eq!(
                many.status.code(),
                one.status.code(),
                "{command:?} -j {threads}"
            );
            assert!(
                many.stdout == one.stdout,
                "{command:?} -j {threads}: output differs"
            );
        }
    }
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"ok\xff").unwrap();
    let mut args = vec!["scan", "-j", "3", files[0], bad.to_str().unwrap(), files[1]];
    let out = run(&args, b"");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.txt: not UTF-8"));
    args[2] = "0";
    assert_eq!(run(&args, b"").status.code(), Some(2), "-j 0 is refused");
}
