//! The client crate's integration tests, one binary.

mod cli;
mod cli_names;
mod figures;
mod http;
mod sync_loop;
