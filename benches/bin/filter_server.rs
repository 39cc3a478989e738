//! `filter-server` built inside the bench package (the same `main` as
//! `filter-server/src/main.rs`), so that `cargo bench --bench cli` builds
//! it in the bench profile beside the baseline it is timed against.

fn main() -> std::process::ExitCode {
    filter_server::main()
}
