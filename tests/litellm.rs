//! LiteLLM's proxy (the version pinned in
//! `tests/python/litellm-requirements.txt`, installed once into
//! `target/litellm-venv`) with our server as its `generic_guardrail_api`,
//! driven through LiteLLM's own chat-completions endpoint by
//! `tests/python/litellm_e2e.py`: a prompt's phone number reaches the
//! model redacted, a block word in a prompt or in an answer is refused.

use std::process::Command;

use contentfilter_tests::{litellm_venv, run_checked, temp_dir, workspace, ServerProcess};

#[test]
fn litellm_proxy_uses_the_guardrail() {
    let bin = litellm_venv();
    let server = ServerProcess::start(&["--http-listen", "127.0.0.1:0"]);
    let http = server.http.expect("the HTTP address");
    let work = temp_dir("litellm");
    run_checked(
        Command::new(bin.join("python"))
            .arg(workspace().join("tests/python/litellm_e2e.py"))
            .arg(http.to_string())
            .arg(bin.join("litellm"))
            .arg(&work),
        "tests/python/litellm_e2e.py",
    );
    std::fs::remove_dir_all(&work).unwrap();
}
