//! The organisation model: areas (行政区划), units (责任单位), categories, tiers, routing rules,
//! the working calendar and users, as the city supplies them in its own data file.

pub mod catalog;
pub mod handlers;
pub mod import_format;
pub mod routing_rules;
pub mod store;

pub use handlers::configure;
