//! The `filter-server` binary's library: command-line commands, and the
//! pieces that tests drive in-process.

#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod convert;
pub mod guard;
pub mod metrics;
pub mod operators;
pub mod proto;
pub mod server;
pub mod service;
pub mod tls;
