//! The stream scanner with 16-byte chunks (a typical token delta) over
//! 10 KB, 100 KB and 1 MB answers, bundled word lists and every detector:
//! the time per byte must not grow with the length of the stream. The
//! whole-text scan and redaction of the same text run in the same group.

use std::hint::black_box;

use contentfilter_benches::data;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use filter_core::{Lexicon, RedactionPolicy, ScanOptions, Scanner};

/// `text` cut into chunks of about `size` bytes, on char boundaries.
fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn stream(c: &mut Criterion) {
    let corpus = data("corpus_zh_2m.txt");
    let lexicon =
        Lexicon::from_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists"))
            .unwrap();
    let scanner = Scanner::builder().words(lexicon).build().unwrap();
    let policy = RedactionPolicy::new();
    let mut g = c.benchmark_group("stream");
    g.sample_size(10);
    for (name, len) in [("10KB", 10_000), ("100KB", 100_000), ("1MB", 1_000_000)] {
        let mut end = len;
        while !corpus.is_char_boundary(end) {
            end += 1;
        }
        let text = &corpus[..end];
        let pieces = chunks(text, 16);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("chunks_16B", name),
            &pieces,
            |b, pieces| {
                b.iter(|| {
                    let mut s = scanner.stream(&ScanOptions::new(), policy.clone());
                    let mut n = 0;
                    for p in pieces {
                        n += s.push(black_box(p)).text.len();
                    }
                    n + s.finish().text.len()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("whole_text_redact", name),
            &text,
            |b, text| b.iter(|| scanner.redact(black_box(text), &policy).len()),
        );
        let mut s = scanner.stream(&ScanOptions::new(), policy.clone());
        let mut released_after_push = Vec::new();
        let (mut pushed, mut held_sum) = (0usize, 0usize);
        for p in &pieces {
            released_after_push.push(s.push(p).text.len());
            pushed += p.len();
            held_sum += pushed - s.released_bytes();
        }
        println!(
            "stream/{name}: {} chunks, hold-back bound {} bytes, mean held {:.0} bytes, most held {} bytes, pushes releasing nothing {:.1}%",
            pieces.len(),
            s.hold_back_bound(),
            held_sum as f64 / pieces.len() as f64,
            s.most_held_back(),
            100.0 * released_after_push.iter().filter(|&&n| n == 0).count() as f64 / pieces.len() as f64,
        );
    }
    g.finish();
}

criterion_group!(benches, stream);
criterion_main!(benches);
