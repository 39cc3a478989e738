//! The command line as users run it, whole process (start, read, validate,
//! scan, write JSON), next to a naive program in the same group: on 29 MB
//! of mixed Chinese text with personal data (`corpus_pii.txt` eight times),
//! `filter-server scan --format json` with no word lists against
//! `naive_pii` (read, three regex passes, Luhn). Cargo builds both binaries
//! (`benches/bin/`) in the bench profile before this runs.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use contentfilter_benches::data;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn run(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the program runs");
    // `scan` exits 1 when it found something (grep's convention).
    assert!(matches!(status.code(), Some(0 | 1)), "{cmd:?}: {status}");
}

fn whole_process(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("contentfilter-cli-bench-{}", std::process::id()));
    let lists = dir.join("no-lists");
    std::fs::create_dir_all(&lists).expect("a scratch directory");
    let corpus = data("corpus_pii.txt").repeat(8);
    let file = dir.join("pii29.txt");
    std::fs::write(&file, &corpus).expect("the corpus file");
    let server = PathBuf::from(env!("CARGO_BIN_EXE_filter_server_cli"));
    let naive = PathBuf::from(env!("CARGO_BIN_EXE_naive_pii"));

    let mut g = c.benchmark_group("cli/pii_29mb");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(corpus.len() as u64));
    g.bench_function("filter_server_scan_json", |b| {
        b.iter(|| {
            run(Command::new(&server)
                .args(["scan", "--format", "json", "--wordlists"])
                .arg(&lists)
                .arg(&file))
        })
    });
    g.bench_function("naive_three_regex", |b| {
        b.iter(|| run(Command::new(&naive).arg(&file)))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(cli, whole_process);
criterion_main!(cli);
