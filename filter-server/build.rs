//! Compiles the gRPC contract with protox (pure Rust): no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let file = proto_dir.join("contentfilter/v1/content_filter.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&proto_dir])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    // The descriptor set, for server reflection.
    std::fs::write(
        out.join("content_filter_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
