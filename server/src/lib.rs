//! The anju server library: a city's housing bureau's resident complaint channel (接诉即办)
//! and conflict-aware offline sync for field devices, on SQLite or PostgreSQL.
//!
//! Capabilities live in their own folders (`auth`, `users`, `org`, `calendar`, `routing`, …),
//! each with a `configure(cfg)` mounted in [`startup::routes`]. Shared plumbing (database,
//! errors, HTTP middleware, configuration, clock) lives once, below them.

pub mod apikeys;
pub mod attachments;
pub mod auth;
pub mod bulletins;
pub mod calendar;
pub mod checklists;
pub mod cli;
pub mod clock;
pub mod clocks;
pub mod complaints;
pub mod config;
pub mod db;
pub mod devices;
pub mod error;
pub mod funds;
pub mod http;
pub mod map;
pub mod notify;
pub mod open311;
pub mod openapi;
pub mod org;
pub mod plans;
pub mod redact;
pub mod registers;
pub mod routing;
#[cfg(test)]
mod source_tree;
pub mod startup;
pub mod state;
pub mod stats;
pub mod sync;
pub mod tickets;
pub mod upkeep;
pub mod users;
pub mod web;
