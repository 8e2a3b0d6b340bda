//! The anju benchmarks' common pieces: the binaries in `src/bin/` (run with
//! `cargo run --release -p anju-bench --bin bench_…`) print tables of figures and assert nothing.
//! They drive the server through `anju_server`'s public API or over HTTP; nothing here is used
//! by the server itself.
//!
//! - [`measure`]: percentiles, medians, peak memory (VmHWM) and the Markdown tables every bench
//!   prints.
//! - [`load`]: a raw keep-alive HTTP/1.1 client for load without a client library's overhead.
//! - [`pg`]: a throw-away PostgreSQL schema per run.
//! - [`seed`]: ids by SQL, synced rows made by the real merge, and a login, for seeding.
//! - [`synthetic`]: a deterministic synthetic city (areas, rules, queries) for the routing bench
//!   and the routing tests.

pub mod load;
pub mod measure;
pub mod pg;
pub mod seed;
pub mod synthetic;
