//! The anju server library.

pub mod calendar;
pub mod routing;
