//! The end-to-end suite, one binary: each module spawns the real anju server (SQLite, or
//! PostgreSQL when `ANJU_TEST_DATABASE_URL` is set) and drives it over HTTP.

mod bulletins;
mod complaints_clocks_outbox;
mod complaints_intake;
mod complaints_lifecycle;
mod complaints_open311;
mod complaints_privacy_media;
mod complaints_proof;
mod complaints_routing_stats;
mod field_checklists;
mod foundation;
mod funds;
mod hazard_orders;
mod hazard_proof;
mod map;
mod pages;
mod plans_progress;
mod registers_api;
mod registers_import;
mod registers_photos;
mod registers_sql;
mod scale_clocks_writer;
mod security_limits;
mod security_webhooks;
mod stats_daily;
mod sync_client;
mod sync_concurrency;
mod sync_convergence;
mod sync_misc;
mod sync_pull;
mod sync_push;
mod sync_scenarios;
mod sync_security;
mod sync_ticket_actions;
mod sync_tickets;
mod upkeep;
