//! Heap allocations per call after warm-up, counted by dhat's global
//! allocator: what a proxy pays per prompt beyond the findings it asks for.
//!
//! ```sh
//! cargo bench -p contentfilter-benches --bench alloc
//! ```
//!
//! Each case runs 100 times to warm thread-local scratch, then 1,000 times
//! counted; the report is blocks and bytes per call.

use std::hint::black_box;

use contentfilter_benches::data;
use filter_core::{RedactionPolicy, Scanner};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Blocks and bytes allocated per call of `f`, after warm-up.
fn per_call(mut f: impl FnMut() -> usize) -> (f64, f64) {
    for _ in 0..100 {
        black_box(f());
    }
    let before = dhat::HeapStats::get();
    const CALLS: u64 = 1000;
    for _ in 0..CALLS {
        black_box(f());
    }
    let after = dhat::HeapStats::get();
    (
        (after.total_blocks - before.total_blocks) as f64 / CALLS as f64,
        (after.total_bytes - before.total_bytes) as f64 / CALLS as f64,
    )
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let prompt = data("corpus_1k.txt");
    let with_values = format!(
        "{prompt}客户手机13800138000，卡号6222021234567890128，身份证110101199003071233，代*开*发*票"
    );
    let pii_only = Scanner::new();
    let lists = filter_wordlists_lexicon();
    let with_words = Scanner::builder().words(lists).build().expect("a scanner");
    let policy = RedactionPolicy::new();
    let cases: [(&str, &Scanner, &str, bool); 5] = [
        (
            "scan, 1 KB prompt, no findings, personal data only",
            &pii_only,
            &prompt,
            false,
        ),
        (
            "scan, 1 KB prompt, no findings, bundled word lists",
            &with_words,
            &prompt,
            false,
        ),
        (
            "scan, 1 KB prompt + 4 findings, bundled word lists",
            &with_words,
            &with_values,
            false,
        ),
        (
            "redact, 1 KB prompt, no findings, bundled word lists",
            &with_words,
            &prompt,
            true,
        ),
        (
            "redact, 1 KB prompt + 4 findings, bundled word lists",
            &with_words,
            &with_values,
            true,
        ),
    ];
    for (name, scanner, text, redact) in cases {
        let (blocks, bytes) = if redact {
            per_call(|| scanner.redact(text, &policy).len())
        } else {
            per_call(|| scanner.scan(text).len())
        };
        println!("alloc/{name}: {blocks:.1} allocations, {bytes:.0} bytes per call");
    }
    peak_per_size(&with_words);
}

/// The most heap a scan of a large text holds at once, beyond the text
/// itself, for texts of growing size: scratch (bounded by the word pass's
/// window) and the findings. Sizes ascend, so that each call's peak is
/// the process's new peak, which is all dhat reports (checked).
fn peak_per_size(scanner: &Scanner) {
    let corpus = data("corpus_zh_2m.txt");
    for kib in [64, 1024, 4096] {
        let mut text = String::with_capacity(kib << 10);
        while text.len() < kib << 10 {
            let room = (kib << 10) - text.len();
            let mut cut = room.min(corpus.len());
            while !corpus.is_char_boundary(cut) {
                cut -= 1;
            }
            if cut == 0 {
                break;
            }
            text.push_str(&corpus[..cut]);
        }
        // A fresh thread: its scratch starts empty and goes with it.
        let (peak, findings) = std::thread::scope(|s| {
            s.spawn(|| {
                let before = dhat::HeapStats::get();
                let findings = black_box(scanner.scan(&text)).len();
                let after = dhat::HeapStats::get();
                assert!(
                    after.max_bytes > before.max_bytes,
                    "the scan of the larger text set no new peak: the figure would be wrong"
                );
                (after.max_bytes - before.curr_bytes, findings)
            })
            .join()
            .expect("the scan thread")
        });
        println!(
            "alloc/peak, scan of {kib} KiB, bundled word lists: {:.2} MiB above the text \
             ({findings} findings)",
            peak as f64 / f64::from(1 << 20)
        );
    }
}

/// The bundled lists, as `serve` and `scan` load them by default.
fn filter_wordlists_lexicon() -> filter_core::Lexicon {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists");
    filter_core::LexiconBuilder::new()
        .add_dir(dir)
        .and_then(|b| b.build())
        .expect("the bundled lists")
}
