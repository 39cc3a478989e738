//! The personal-data scan on mixed Chinese text, next to the naive
//! three-regex approach in the same group.

use std::hint::black_box;

use contentfilter_benches::{data, NaivePii};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use filter_core::{RedactionPolicy, Scanner};

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

fn pii_prompt(c: &mut Criterion) {
    let prompt = data("corpus_1k.txt");
    let scanner = Scanner::new();
    let policy = RedactionPolicy::new();
    let naive = NaivePii::default();
    let mut g = c.benchmark_group("pii/prompt_1k");
    g.throughput(Throughput::Bytes(prompt.len() as u64));
    g.bench_function("filter_core_scan", |b| {
        b.iter(|| black_box(scanner.scan(black_box(&prompt))).len())
    });
    g.bench_function("filter_core_redact", |b| {
        b.iter(|| black_box(scanner.redact(black_box(&prompt), &policy)).len())
    });
    g.bench_function("naive_three_regex", |b| {
        b.iter(|| naive.count(black_box(&prompt)))
    });
    g.finish();
}

criterion_group!(benches, pii_corpus, pii_prompt);
criterion_main!(benches);
