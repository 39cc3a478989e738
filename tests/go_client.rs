//! The other-languages promise for Go: stubs generated from our proto by
//! `protoc-gen-go` and `protoc-gen-go-grpc` (the import path from its
//! `go_package`), a client built with Debian's Go toolchain and gRPC
//! library (offline, GOPATH mode), calling Scan, Redact and ScanStream on
//! a real server and checking spans with Go's byte slicing.
//!
//! The Debian packages are installed on first use (`apt-get`).

use std::process::Command;

use contentfilter_tests::{debian_packages, run_checked, temp_dir, workspace, ServerProcess};

/// Debian 12's Go 1.19 and gRPC 1.33, with golang/protobuf 1.5 (the
/// shim over the APIv2 runtime that protoc-gen-go's code needs; the
/// default 1.3 cannot decode APIv2 messages).
const PACKAGES: [&str; 7] = [
    "golang-go",
    "protobuf-compiler",
    "protoc-gen-go",
    "protoc-gen-go-grpc",
    "golang-google-grpc-dev",
    "golang-google-protobuf-dev",
    "golang-github-golang-protobuf-1-5-dev",
];

#[test]
fn go_client_scans_redacts_and_streams() {
    debian_packages(&PACKAGES);
    let gopath = temp_dir("go-client");
    let src = gopath.join("src");
    std::fs::create_dir_all(src.join("contentfilter-go-client")).unwrap();
    let proto = workspace().join("proto");
    run_checked(
        Command::new("protoc")
            .arg(format!("-I{}", proto.display()))
            .arg(format!("--go_out={}", src.display()))
            .arg(format!("--go-grpc_out={}", src.display()))
            .arg(proto.join("contentfilter/v1/content_filter.proto")),
        "protoc --go_out --go-grpc_out",
    );
    assert!(
        src.join("github.com/contentfilter/contentfilter/gen/go/contentfilter/v1/content_filter_grpc.pb.go")
            .exists(),
        "the generated package is not at its go_package path"
    );
    std::fs::copy(
        workspace().join("tests/go/client.go"),
        src.join("contentfilter-go-client/main.go"),
    )
    .unwrap();
    let client = gopath.join("client");
    run_checked(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&client)
            .arg("contentfilter-go-client")
            .current_dir(&gopath)
            .env("GO111MODULE", "off")
            .env("GOFLAGS", "")
            .env("GOPATH", format!("{}:/usr/share/gocode", gopath.display()))
            .env("GOCACHE", gopath.join("cache")),
        "go build",
    );
    let server = ServerProcess::start(&[]);
    run_checked(
        Command::new(&client).arg(server.addr.to_string()),
        "tests/go/client.go",
    );
}
