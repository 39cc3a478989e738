//! The personal-data scan on mixed Chinese text, next to the naive
//! three-regex approach in the same group.

use std::hint::black_box;

use contentfilter_benches::{data, NaivePii};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use filter_core::{
    PseudonymMode, RedactionPolicy, ScanOptions, Scanner, StreamRestorer, Vault, VaultKey,
};

fn pii_corpus(c: &mut Criterion) {
    let corpus = data("corpus_pii.txt");
    let scanner = Scanner::new();
    let naive = NaivePii::default();
    let mut g = c.benchmark_group("pii/corpus_pii");
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.sample_size(20);
    g.bench_function("filter_core_scan", |b| {
        b.iter(|| black_box(scanner.scan(black_box(&corpus))).len())
    });
    g.bench_function("naive_three_regex", |b| {
        b.iter(|| naive.count(black_box(&corpus)))
    });
    g.finish();
}

/// A 1 KB customer-service prompt: ordinary text (`corpus_1k.txt`) with
/// personal data and order numbers beside the context words that decide
/// them, so the context rules run on every value.
fn prompt_with_context() -> String {
    let filler: Vec<char> = data("corpus_1k.txt").chars().collect();
    let items = [
        "您的订单号4607598386756508，请查收",
        "卡号6222021234567890128",
        "手机+86 138 0013 8000",
        "身份证110101199003071233",
        "护照E12345678",
        "邮箱kf@shop.cn",
        "运单号4111111111111111",
    ];
    // The filler between the items, so that the whole is about 1 KB.
    let budget = 1024 - items.iter().map(|i| i.len()).sum::<usize>();
    let per_gap = budget / (items.len() + 1);
    let mut chars = filler.iter();
    let mut gap = |out: &mut String| {
        let start = out.len();
        for &c in chars.by_ref() {
            if out.len() - start + c.len_utf8() > per_gap {
                break;
            }
            out.push(c);
        }
    };
    let mut out = String::new();
    for item in items {
        gap(&mut out);
        out.push_str(item);
    }
    gap(&mut out);
    out
}

/// Scan, redact and the naive passes on one prompt, in one group.
fn prompt_group(c: &mut Criterion, name: &str, prompt: &str) {
    let scanner = Scanner::new();
    let policy = RedactionPolicy::new();
    let naive = NaivePii::default();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(prompt.len() as u64));
    g.bench_function("filter_core_scan", |b| {
        b.iter(|| black_box(scanner.scan(black_box(prompt))).len())
    });
    g.bench_function("filter_core_redact", |b| {
        b.iter(|| black_box(scanner.redact(black_box(prompt), &policy)).len())
    });
    g.bench_function("naive_three_regex", |b| {
        b.iter(|| naive.count(black_box(prompt)))
    });
    g.finish();
}

fn pii_prompt(c: &mut Criterion) {
    prompt_group(c, "pii/prompt_1k", &data("corpus_1k.txt"));
    let prompt = prompt_with_context();
    assert_eq!(
        Scanner::new().scan(&prompt).len(),
        5,
        "the card, phone, ID, passport and email; no order numbers"
    );
    prompt_group(c, "pii/prompt_1k_context", &prompt);
}

/// Pseudonymize and restore the 1 KB prompt with its five values, and the
/// seal and open of its vault, reported apart.
fn pseudonym_prompt(c: &mut Criterion) {
    let prompt = prompt_with_context();
    let scanner = Scanner::new();
    let policy = RedactionPolicy::new();
    let mut vault = Vault::new();
    let pseudo = scanner.pseudonymize(&prompt, &mut vault, &policy).unwrap();
    assert_eq!(vault.len(), 5);
    assert_eq!(vault.restore(&pseudo), prompt);
    let key = VaultKey::new(b"a benchmark key of enough bytes").unwrap();
    let sealed = vault.seal(&key);
    let mut g = c.benchmark_group("pseudonym/prompt_1k");
    g.throughput(Throughput::Bytes(prompt.len() as u64));
    g.bench_function("pseudonymize", |b| {
        b.iter(|| {
            let mut v = Vault::new();
            black_box(scanner.pseudonymize(black_box(&prompt), &mut v, &policy)).map(|t| t.len())
        })
    });
    g.bench_function("restore", |b| {
        b.iter(|| black_box(vault.restore(black_box(&pseudo))).len())
    });
    // Surrogates: drawing five valid fake values (each checked by a scan
    // of the candidate), and restoring them by scanning the answer.
    let options = ScanOptions::new();
    let mut surrogates = Vault::new();
    let fake = scanner
        .pseudonymize_as(
            &prompt,
            &options,
            PseudonymMode::Surrogate,
            &mut surrogates,
            &policy,
        )
        .unwrap();
    assert_eq!(scanner.restore(&fake, &surrogates), prompt);
    g.bench_function("pseudonymize_surrogate", |b| {
        b.iter(|| {
            // A new conversation: a fresh seed, every value drawn anew.
            let mut v = Vault::new();
            black_box(scanner.pseudonymize_as(
                black_box(&prompt),
                &options,
                PseudonymMode::Surrogate,
                &mut v,
                &policy,
            ))
            .map(|t| t.len())
        })
    });
    g.bench_function("restore_surrogate", |b| {
        b.iter(|| black_box(scanner.restore(black_box(&fake), &surrogates)).len())
    });
    g.bench_function("seal", |b| b.iter(|| black_box(vault.seal(&key)).len()));
    g.bench_function("open", |b| {
        b.iter(|| Vault::open([&key], black_box(&sealed)).map(|v| v.len()))
    });
    g.finish();
}

/// Restoring an answer that arrives in 16-byte chunks (moved to char
/// boundaries), 10 KB and 1 MB long: the time per chunk should not grow
/// with the stream.
fn stream_restore(c: &mut Criterion) {
    let prompt = prompt_with_context();
    let scanner = Scanner::new();
    let mut vault = Vault::new();
    let pseudo = scanner
        .pseudonymize(&prompt, &mut vault, &RedactionPolicy::new())
        .unwrap();
    let mut g = c.benchmark_group("pseudonym/stream_restore_16b");
    for (name, len) in [("10k", 10 << 10), ("1m", 1 << 20)] {
        let answer = pseudo.repeat(len / pseudo.len() + 1);
        let mut chunks = Vec::new();
        let mut at = 0;
        while at < answer.len() {
            let mut end = (at + 16).min(answer.len());
            while !answer.is_char_boundary(end) {
                end += 1;
            }
            chunks.push(&answer[at..end]);
            at = end;
        }
        g.throughput(Throughput::Elements(chunks.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut r = StreamRestorer::new(&vault);
                let n: usize = chunks.iter().map(|c| r.push(black_box(c)).len()).sum();
                n + r.finish().len()
            })
        });
        // Restoring and filtering in one pass: a StreamScanner with the
        // vault, which scans every chunk too.
        let shared = std::sync::Arc::new(vault.clone());
        g.bench_function(format!("scan_{name}"), |b| {
            b.iter(|| {
                let mut s = scanner
                    .stream(&ScanOptions::new(), RedactionPolicy::new())
                    .restoring(shared.clone());
                let n: usize = chunks.iter().map(|c| s.push(black_box(c)).text.len()).sum();
                n + s.finish().text.len()
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    pii_corpus,
    pii_prompt,
    pseudonym_prompt,
    stream_restore
);
criterion_main!(benches);
