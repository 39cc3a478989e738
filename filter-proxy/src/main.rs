//! `filter-proxy`: see the library's documentation.

fn main() -> std::process::ExitCode {
    filter_proxy::main()
}
