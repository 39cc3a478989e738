//! The other-languages promise: a Python `grpcio` client, with stubs
//! generated from our proto by `grpcio-tools` during the test, calls Scan,
//! Redact (with pseudonyms) and Restore on a real server and checks
//! offsets with Python indexing.
//!
//! The virtualenv is cached in `target/python-venv`; the first run installs
//! the pinned `tests/python/requirements.txt` from PyPI.

use std::process::Command;

use contentfilter_tests::{
    generate_python_stubs, run_checked, temp_dir, venv_python, workspace, ServerProcess,
};

#[test]
fn python_grpcio_client_scans_and_redacts() {
    let python = venv_python();
    let stubs = generate_python_stubs(&python);
    let key = temp_dir("python-vault").join("vault.key");
    std::fs::write(&key, "a vault key for the python client").unwrap();
    let server = ServerProcess::start(&["--vault-key-file", key.to_str().unwrap()]);
    run_checked(
        Command::new(&python)
            .arg(workspace().join("tests/python/test_client.py"))
            .arg(server.addr.to_string())
            .arg(&stubs),
        "tests/python/test_client.py",
    );
}
