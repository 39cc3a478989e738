//! The `filter-server` binary as a library: the command line, the service
//! for in-process use (the load and soak benchmarks), and the generated
//! gRPC types for clients written in Rust.
//!
//! ```no_run
//! use filter_server::{run_until, ServeArgs};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut args = ServeArgs::default();
//! args.settings.listen = Some("127.0.0.1:0".into());
//! let config = args.resolve()?;
//! let stop = async { tokio::signal::ctrl_c().await.ok(); "ctrl-c" };
//! run_until(config, stop, |bound| println!("listening on {}", bound.grpc)).await?;
//! # Ok(())
//! # }
//! ```

// Unsafe code in one module only: `input_file`, which maps files.
#![deny(unsafe_code)]

mod cli;
mod config;
mod convert;
mod gateway;
mod guard;
mod health_check;
mod http;
mod input_file;
mod listener;
mod metrics;
mod operators;
mod parallel;
pub mod proto;
mod reload;
mod request_id;
mod server;
mod service;
mod status;
mod stream;
mod tls;
mod wordlists;

pub use crate::cli::main;
pub use crate::config::{
    Config, ConfigError, GuardrailPolicy, LogFormat, ReviewChoice, ServeArgs, Settings,
};
pub use crate::server::{run, run_until, Bound, ServeError};
pub use crate::wordlists::Wordlists;
