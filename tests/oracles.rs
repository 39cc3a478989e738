//! The detectors against independent validators: python-stdnum's
//! `cn.ric` and `luhn`, and phonenumbers (libphonenumber's metadata), on
//! thousands of generated numbers run through the CLI. The documented
//! disagreements are listed, with their reasons, in
//! `tests/python/oracles.py`.

use std::process::Command;

use contentfilter_tests::{run_checked, server_binary, temp_dir, venv_python, workspace};

#[test]
fn detectors_agree_with_independent_validators() {
    let python = venv_python();
    let work = temp_dir("oracles");
    run_checked(
        Command::new(&python)
            .arg(workspace().join("tests/python/oracles.py"))
            .arg(server_binary())
            .arg(&work),
        "tests/python/oracles.py",
    );
}
