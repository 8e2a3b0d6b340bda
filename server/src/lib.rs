//! The anju server library.

pub mod calendar;
pub mod org;
pub mod routing;
