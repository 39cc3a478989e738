//! The other-languages promise: a Python `grpcio` client, with stubs
//! generated from our proto by `grpcio-tools` during the test, calls Scan
//! and Redact on a real server and checks offsets with Python indexing.
//!
//! The virtualenv is cached in `target/python-venv`; the first run installs
//! the pinned `tests/python/requirements.txt` from PyPI.

use std::path::{Path, PathBuf};
use std::process::Command;

use contentfilter_tests::{temp_dir, workspace, ServerProcess};

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A virtualenv with the pinned requirements, created once.
fn venv_python() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let venv = target.join("python-venv");
    let python = venv.join("bin/python");
    let requirements = workspace().join("tests/python/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
            "pip install -r tests/python/requirements.txt",
        );
        std::fs::write(&stamp, wanted).expect("stamp");
    }
    python
}

fn generate_stubs(python: &Path) -> PathBuf {
    let out = temp_dir("pystubs");
    let proto = workspace().join("proto");
    run(
        Command::new(python)
            .args(["-m", "grpc_tools.protoc"])
            .arg(format!("-I{}", proto.display()))
            .arg(format!("--python_out={}", out.display()))
            .arg(format!("--grpc_python_out={}", out.display()))
            .arg(proto.join("contentfilter/v1/content_filter.proto")),
        "grpc_tools.protoc",
    );
    out
}

#[test]
fn python_grpcio_client_scans_and_redacts() {
    let python = venv_python();
    let stubs = generate_stubs(&python);
    let server = ServerProcess::start(&[]);
    run(
        Command::new(&python)
            .arg(workspace().join("tests/python/test_client.py"))
            .arg(server.addr.to_string())
            .arg(&stubs),
        "tests/python/test_client.py",
    );
}
