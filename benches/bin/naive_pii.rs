//! The naive whole-process baseline of issue 14's CLI bar: read a file,
//! run three `regex` passes (`\d{17}[\dXx]`, `(?:\+86[- ]?)?1[3-9]\d{9}`,
//! `\d{13,19}` with Luhn), print the count. What a first attempt at the
//! job looks like; `benches/cli.rs` times it beside `filter-server scan`.

use std::io::Write;

use contentfilter_benches::NaivePii;

fn main() {
    let path = std::env::args().nth(1).expect("usage: naive_pii FILE");
    let text = std::fs::read_to_string(&path).expect("a UTF-8 file");
    let count = NaivePii::default().count(&text);
    writeln!(std::io::stdout(), "{count}").expect("stdout");
}
