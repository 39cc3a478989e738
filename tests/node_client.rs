//! The other-languages promise for JavaScript: a Node.js client with
//! `@grpc/grpc-js` and the proto loaded by `@grpc/proto-loader` (with the
//! options the README gives) calls Scan, Redact and ScanStream on a real
//! server and checks spans with JavaScript string indexing (UTF-16).
//!
//! The packages are cached in `target/node-client`; the first run installs
//! the pinned `tests/node/package.json` from the npm registry.

use std::process::Command;

use contentfilter_tests::{node_modules, run_checked, workspace, ServerProcess};

#[test]
fn node_grpc_js_client_scans_redacts_and_streams() {
    let modules = node_modules();
    let server = ServerProcess::start(&[]);
    run_checked(
        Command::new("node")
            .env("NODE_PATH", &modules)
            .arg(workspace().join("tests/node/client.js"))
            .arg(server.addr.to_string())
            .arg(workspace().join("proto")),
        "tests/node/client.js",
    );
}
