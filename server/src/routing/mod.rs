//! Routing (派单): which community a point lies in, and which responsible unit (责任单位) a
//! complaint of a category in an area goes to. Pure and in memory; the caller loads areas and
//! rules from the database and rebuilds these indexes when they change.

pub mod engine;
pub mod geo;

pub use engine::{
    AreaIndex, AreaInput, AreaKind, RouteDecision, Router, RoutingError, RoutingRule,
};
pub use geo::{Polygon, PolygonError};
