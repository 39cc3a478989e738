//! Generated tables regenerate byte for byte from their generators.

use std::process::Command;

use contentfilter_tests::{venv_python, workspace};

#[test]
fn the_t2s_table_regenerates_byte_for_byte() {
    let python = venv_python();
    let source = Command::new(&python)
        .args([
            "-c",
            "import opencc, os; print(os.path.join(os.path.dirname(opencc.__file__), 'dictionary', 'TSCharacters.txt'))",
        ])
        .output()
        .expect("python runs");
    assert!(
        source.status.success(),
        "{}",
        String::from_utf8_lossy(&source.stderr)
    );
    let source = String::from_utf8(source.stdout).unwrap();
    let generator = Command::new(&python)
        .arg(workspace().join("filter-core/tools/gen_t2s_table.py"))
        .arg(source.trim())
        .output();
    assert_regenerates(generator, "filter-core/src/lexicon/t2s_table.rs");
}

/// The generator ran, and its output is the checked-in `table` byte for byte.
fn assert_regenerates(generator: std::io::Result<std::process::Output>, table: &str) {
    let out = generator.expect("the generator runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked_in = std::fs::read(workspace().join(table)).unwrap();
    assert!(
        out.stdout == checked_in,
        "{table} differs from what its generator makes"
    );
}

#[test]
fn the_confusables_table_regenerates_byte_for_byte() {
    // Regenerate with:
    // cargo run -q -p contentfilter-tests --bin gen_confusables > filter-core/src/lexicon/confusables_table.rs
    let generator = Command::new(env!("CARGO_BIN_EXE_gen_confusables")).output();
    assert_regenerates(generator, "filter-core/src/lexicon/confusables_table.rs");
}

#[test]
fn the_pinyin_table_regenerates_byte_for_byte() {
    // Regenerate with:
    // cargo run -q -p contentfilter-tests --bin gen_pinyin > filter-core/src/lexicon/pinyin_table.rs
    let generator = Command::new(env!("CARGO_BIN_EXE_gen_pinyin")).output();
    assert_regenerates(generator, "filter-core/src/lexicon/pinyin_table.rs");
}
