//! Helpers for the end-to-end tests: the `filter-server` binary and test data.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
}

/// The `filter-server` binary, built (once per test process) with the same
/// profile as the tests, so that the tests always run the current code.
pub fn server_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "filter-server",
                "--bin",
                "filter-server",
            ])
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building filter-server failed");
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>/filter-server
        let bin = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .join("filter-server");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
}

/// Runs `filter-server ARGS` with `stdin` as standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(server_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("filter-server starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("filter-server runs")
}

/// An 18-character resident ID with a correct check character.
pub fn valid_id(body17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let v = (12 - sum % 11) % 11;
    let c = if v == 10 {
        'X'
    } else {
        char::from(b'0' + v as u8)
    };
    format!("{body17}{c}")
}
