//! The `filter-server` binary's library: command-line commands, and the
//! pieces that tests drive in-process.

#![forbid(unsafe_code)]

pub mod cli;
pub mod operators;
