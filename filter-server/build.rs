//! Compiles the gRPC contract with protox (pure Rust: no system `protoc`),
//! and generates its proto3 JSON mapping with pbjson.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    compile_proto(&manifest.join("../proto"), &out)?;
    Ok(())
}

fn compile_proto(proto_dir: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let file = proto_dir.join("contentfilter/v1/content_filter.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [proto_dir])?;
    // The descriptor set, for server reflection.
    let encoded = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("content_filter_descriptor.bin"), &encoded)?;
    tonic_prost_build::configure().compile_fds(fds)?;
    // serde for the proto3 JSON mapping of the HTTP API: camelCase out,
    // camelCase and snake_case in, enums by name, every field written.
    pbjson_build::Builder::new()
        .register_descriptors(&encoded)?
        .emit_fields()
        .build(&[".contentfilter"])?;
    Ok(())
}
