//! Criterion on the user's own word lists and text:
//!
//! ```sh
//! BENCH_WORDLISTS=/path/to/lists BENCH_CORPUS=/path/to/text.txt \
//!     cargo bench -p contentfilter-benches --bench wordlists
//! ```
//!
//! The directory is read by the same loader as `filter-server --wordlists`
//! (`LexiconBuilder::add_dir`: `*.txt` lists, `lists.toml`, `allow.txt`).
//! Reported for all categories together and for each one alone (a copy of
//! the directory holding only that list): build time, memory (the
//! lexicon's own account and the resident-set growth), and scan throughput
//! over the corpus with fuzzy matching as `lists.toml` sets it and with it
//! off everywhere (exact and normalized matches only). Without the
//! variables: the repository's `wordlists/` and `benches/data/corpus_zh_2m.txt`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use contentfilter_benches::{data, rss_mb};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use filter_core::{Kind, Lexicon, LexiconBuilder, ScanOptions, Scanner};

/// The lists directory: `BENCH_WORDLISTS`, else the bundled `wordlists/`.
fn lists_dir() -> PathBuf {
    std::env::var_os("BENCH_WORDLISTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wordlists"))
}

/// The text scanned: `BENCH_CORPUS`, else 2 MiB of mixed Chinese text.
fn corpus() -> String {
    match std::env::var_os("BENCH_CORPUS") {
        Some(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("BENCH_CORPUS {}: {e}", Path::new(&path).display())),
        None => data("corpus_zh_2m.txt"),
    }
}

fn load(dir: &Path) -> Lexicon {
    LexiconBuilder::new()
        .add_dir(dir)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// The variants of the lists measured: all together, then each category
/// alone, each as set in `lists.toml` and with fuzzy matching off.
struct Variant {
    /// `all` or the category.
    name: String,
    /// `fuzzy` (as configured) or `exact`.
    mode: &'static str,
    dir: PathBuf,
}

/// A copy of `src` keeping only the list `only` (all when `None`), with
/// `fuzzy = false` written into its settings when `exact`.
fn copy_lists(src: &Path, dest: &Path, only: Option<&str>, exact: bool) {
    std::fs::create_dir_all(dest).expect("bench scratch directory");
    for entry in std::fs::read_dir(src).expect("BENCH_WORDLISTS is a directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_list = name.ends_with(".txt") && name != "allow.txt";
        if !path.is_file() || (is_list && only.is_some_and(|o| name != format!("{o}.txt"))) {
            continue;
        }
        if name == "lists.toml" && exact {
            let text = std::fs::read_to_string(&path).expect("lists.toml");
            std::fs::write(dest.join(name), without_fuzzy(&text)).expect("lists.toml copy");
        } else {
            std::fs::copy(&path, dest.join(name)).expect("a list copy");
        }
    }
    if exact && !dest.join("lists.toml").exists() {
        std::fs::write(dest.join("lists.toml"), without_fuzzy("")).expect("lists.toml");
    }
}

/// `lists.toml` with fuzzy matching off in the defaults and every category.
fn without_fuzzy(text: &str) -> String {
    let mut doc: toml::Table = toml::from_str(text).expect("lists.toml parses");
    let off = |t: &mut toml::Table| {
        t.insert("fuzzy".into(), toml::Value::Boolean(false));
    };
    let defaults = doc
        .entry("defaults")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = defaults.as_table_mut() {
        off(t);
    }
    if let Some(categories) = doc.get_mut("category").and_then(|c| c.as_table_mut()) {
        for (_, c) in categories.iter_mut() {
            if let Some(t) = c.as_table_mut() {
                off(t);
            }
        }
    }
    toml::to_string(&doc).expect("lists.toml writes")
}

fn variants() -> Vec<Variant> {
    let src = lists_dir();
    let scratch = std::env::temp_dir().join(format!("contentfilter-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let categories: Vec<String> = load(&src)
        .categories()
        .filter(|c| *c != "allow")
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for name in std::iter::once("all".to_string()).chain(categories) {
        for (mode, exact) in [("fuzzy", false), ("exact", true)] {
            let dir = scratch.join(format!("{name}-{mode}"));
            let only = (name != "all").then_some(name.as_str());
            copy_lists(&src, &dir, only, exact);
            out.push(Variant {
                name: name.clone(),
                mode,
                dir,
            });
        }
    }
    out
}

/// Memory is not something criterion measures: the lexicon's own account
/// and the growth of the resident set while it is built and held.
fn memory(variants: &[Variant]) {
    for v in variants {
        let before = rss_mb();
        let lexicon = load(&v.dir);
        let grown = (rss_mb() - before).max(0.0);
        println!(
            "wordlists/memory/{}/{}: {} terms, memory_usage {:.2} MiB, resident set +{grown:.2} MiB",
            v.mode,
            v.name,
            lexicon.term_count(),
            lexicon.memory_usage() as f64 / (1 << 20) as f64,
        );
        black_box(lexicon);
    }
}

fn benches(c: &mut Criterion) {
    let lists = lists_dir();
    let text = corpus();
    println!(
        "wordlists: lists {}, corpus {} bytes",
        lists.display(),
        text.len()
    );
    let variants = variants();
    memory(&variants);

    let mut build = c.benchmark_group("wordlists/build");
    build.sample_size(10);
    for v in &variants {
        build.bench_function(BenchmarkId::new(v.mode, &v.name), |b| {
            b.iter(|| black_box(load(&v.dir)).term_count())
        });
    }
    build.finish();

    let words_only = ScanOptions::new().kinds(&[Kind::SensitiveWord]);
    let mut scan = c.benchmark_group("wordlists/scan");
    scan.sample_size(10);
    scan.throughput(Throughput::Bytes(text.len() as u64));
    for v in &variants {
        let scanner = Scanner::builder()
            .words(load(&v.dir))
            .build()
            .expect("a scanner");
        scan.bench_function(BenchmarkId::new(v.mode, &v.name), |b| {
            b.iter(|| black_box(scanner.scan_with(black_box(&text), &words_only)).len())
        });
    }
    scan.finish();
    if let Some(dir) = variants.first().and_then(|v| v.dir.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

criterion_group!(wordlist_benches, benches);
criterion_main!(wordlist_benches);
