//! A scan allocates nothing but the findings vector once its thread has
//! scanned a text of that size (issue 14): the normalized text, the word
//! pass's cursor and match lists, the fuzzy windows and the context
//! windows are per-thread scratch. Counted by dhat's allocator, in a test
//! binary of its own so that no other test allocates meanwhile.

use std::hint::black_box;

use filter_core::{LexiconBuilder, RedactionPolicy, Scanner};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Allocations of `calls` calls of `f` after ten to warm up.
fn allocations(calls: u64, mut f: impl FnMut() -> usize) -> u64 {
    for _ in 0..10 {
        black_box(f());
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..calls {
        black_box(f());
    }
    dhat::HeapStats::get().total_blocks - before
}

#[test]
fn a_warm_scan_allocates_only_its_findings() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let prompt = std::fs::read_to_string(root.join("benches/data/corpus_1k.txt")).unwrap();
    let lists = LexiconBuilder::new()
        .add_dir(root.join("wordlists"))
        .and_then(|b| b.build())
        .unwrap();
    let scanner = Scanner::builder().words(lists).build().unwrap();
    // Values of every sort the passes handle: numbers judged by their
    // context, an address, a word through noise, a fuzzy word.
    let with_values = format!(
        "{prompt}客户手机13800138000，卡号6222021234567890128，订单号4607598386756508，\
         身份证110101199003071233，fe80::1ff:fe23:4567:890a，代*开*发*票，办理假学力证书"
    );
    let found = scanner.scan(&with_values);
    assert!(found.len() >= 5, "{found:?}");
    assert_eq!(
        allocations(100, || scanner.scan(&prompt).len()),
        0,
        "no findings"
    );
    // The findings vector only, grown as the detectors push into it (the
    // overlap rule and the sort work in place).
    let blocks = allocations(100, || scanner.scan(&with_values).len());
    assert!(
        blocks <= 100 * growths(found.len()),
        "{blocks} blocks in 100 scans"
    );
    // Redaction adds the text it returns.
    let policy = RedactionPolicy::new();
    let blocks = allocations(100, || scanner.redact(&with_values, &policy).len());
    assert!(
        blocks <= 100 * (growths(found.len()) + 1),
        "{blocks} blocks in 100 redactions"
    );
}

/// The blocks a vector pushed `n` times takes: it starts at four and
/// doubles (each growth is a new block).
fn growths(n: usize) -> u64 {
    let (mut capacity, mut blocks) = (4, 1);
    while capacity < n {
        capacity *= 2;
        blocks += 1;
    }
    blocks
}
