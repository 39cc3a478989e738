//! The sensitive-word lexicon: build time and scan throughput with every
//! normalization on, next to raw `aho-corasick` (leftmost-longest, no
//! normalization) and raw `daachorse` (charwise) on the same list and
//! corpus, in the same run.

use std::hint::black_box;

use aho_corasick::{AhoCorasick, MatchKind};
use contentfilter_benches::{data, rss_mb};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use daachorse::CharwiseDoubleArrayAhoCorasickBuilder;
use filter_core::{CategoryOptions, Engine, Lexicon, LexiconBuilder};

const SIZES: [&str; 3] = ["1k", "10k", "100k"];

fn words(size: &str) -> Vec<String> {
    data(&format!("words_{size}.txt"))
        .lines()
        .map(str::to_string)
        .collect()
}

fn lexicon(words: &[String], engine: Engine, fuzzy: bool) -> Lexicon {
    let mut b = LexiconBuilder::new();
    b.engine(engine)
        .category("bench", CategoryOptions::new().fuzzy(fuzzy));
    for w in words {
        b.term("bench", w);
    }
    b.build().expect("bench lists build")
}

/// Memory is not something criterion measures: print the lexicon's own
/// account (`Lexicon::memory_usage`) and the growth of the resident set
/// while it is built and held.
fn memory() {
    for size in SIZES {
        let words = words(size);
        for (name, engine, fuzzy) in [
            ("double_array", Engine::DoubleArray, false),
            ("double_array_fuzzy", Engine::DoubleArray, true),
            ("aho_corasick", Engine::AhoCorasick, false),
        ] {
            let before = rss_mb();
            let lx = lexicon(&words, engine, fuzzy);
            let grown = (rss_mb() - before).max(0.0);
            println!(
                "lexicon/memory/{name}/{size}: memory_usage {:.2} MiB, resident set +{grown:.2} MiB",
                lx.memory_usage() as f64 / (1 << 20) as f64,
            );
            black_box(lx);
        }
    }
}

fn build(c: &mut Criterion) {
    memory();
    let mut g = c.benchmark_group("lexicon/build");
    g.sample_size(10);
    for size in SIZES {
        let words = words(size);
        for (name, engine, fuzzy) in [
            ("double_array", Engine::DoubleArray, false),
            ("double_array_fuzzy", Engine::DoubleArray, true),
            ("aho_corasick", Engine::AhoCorasick, false),
        ] {
            g.bench_with_input(BenchmarkId::new(name, size), &words, |b, w| {
                b.iter(|| black_box(lexicon(w, engine, fuzzy)).term_count())
            });
        }
    }
    g.finish();
}

fn scan(c: &mut Criterion) {
    let corpus = data("corpus_zh_2m.txt");
    let mut g = c.benchmark_group("lexicon/scan");
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.sample_size(10);
    for size in SIZES {
        let words = words(size);
        let raw_ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&words)
            .unwrap();
        let raw_da = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            .build::<_, _, u32>(&words)
            .unwrap();
        g.bench_function(BenchmarkId::new("raw_aho_corasick", size), |b| {
            b.iter(|| raw_ac.find_iter(black_box(&corpus)).count())
        });
        g.bench_function(BenchmarkId::new("raw_daachorse", size), |b| {
            b.iter(|| raw_da.leftmost_find_iter(black_box(&corpus)).count())
        });
        for (name, engine, fuzzy) in [
            ("filter_core_double_array", Engine::DoubleArray, false),
            ("filter_core_double_array_fuzzy", Engine::DoubleArray, true),
            ("filter_core_aho_corasick", Engine::AhoCorasick, false),
        ] {
            let lx = lexicon(&words, engine, fuzzy);
            g.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| lx.find(black_box(&corpus)).len())
            });
        }
    }
    g.finish();
}

/// A lexicon of `words` in one category with the pinyin and homophone
/// switches as given (fuzzy matching on, the default).
fn sound_lexicon(words: &[String], pinyin: bool, homophones: bool) -> Lexicon {
    let mut b = LexiconBuilder::new();
    b.category(
        "bench",
        CategoryOptions::new().pinyin(pinyin).homophones(homophones),
    );
    for w in words {
        b.term("bench", w);
    }
    b.build().expect("bench lists build")
}

/// The switches of issue 16.
const SWITCHES: [(&str, bool, bool); 4] = [
    ("off", false, false),
    ("pinyin", true, false),
    ("homophones", false, true),
    ("both", true, true),
];

/// Pinyin spellings and same-sound matching off and on for one category
/// of 1k terms, scanning the corpus in one group; build time and memory of
/// 100k terms each way.
fn pinyin(c: &mut Criterion) {
    let corpus = data("corpus_zh_2m.txt");
    let words_1k = words("1k");
    let mut g = c.benchmark_group("lexicon/pinyin_scan");
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.sample_size(10);
    for (name, pinyin, homophones) in SWITCHES {
        let lx = sound_lexicon(&words_1k, pinyin, homophones);
        g.bench_function(BenchmarkId::new(name, "1k"), |b| {
            b.iter(|| lx.find(black_box(&corpus)).len())
        });
    }
    g.finish();
    let words_100k = words("100k");
    for (name, pinyin, homophones) in SWITCHES {
        let before = rss_mb();
        let started = std::time::Instant::now();
        let lx = sound_lexicon(&words_100k, pinyin, homophones);
        let took = started.elapsed();
        let grown = (rss_mb() - before).max(0.0);
        println!(
            "lexicon/pinyin_build/{name}/100k: {:.0} ms, memory_usage {:.1} MiB, resident set +{grown:.1} MiB",
            took.as_secs_f64() * 1e3,
            lx.memory_usage() as f64 / (1 << 20) as f64,
        );
        black_box(lx);
    }
}

criterion_group!(benches, build, scan, pinyin);
criterion_main!(benches);
