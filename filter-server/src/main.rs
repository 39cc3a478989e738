//! `filter-server`: the command line and (with no subcommand) the service.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    filter_server::main()
}
