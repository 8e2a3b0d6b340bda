//! Staff roles (角色): the vocabulary every capability's role checks are written in.

use serde::{Deserialize, Serialize};

/// Staff role; its wire and database name is its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator.
    Admin,
    /// Supervisor (督办).
    Supervisor,
    /// Dispatcher (派单员).
    Dispatcher,
    /// A unit's administrator.
    UnitAdmin,
    /// A unit's staff (经办人).
    UnitStaff,
    /// Field inspector (排查员).
    Inspector,
}

impl Role {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Dispatcher => "dispatcher",
            Role::UnitAdmin => "unit_admin",
            Role::UnitStaff => "unit_staff",
            Role::Inspector => "inspector",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "supervisor" => Role::Supervisor,
            "dispatcher" => Role::Dispatcher,
            "unit_admin" => Role::UnitAdmin,
            "unit_staff" => Role::UnitStaff,
            "inspector" => Role::Inspector,
            _ => return None,
        })
    }

    /// Every role, for messages listing valid values.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Supervisor,
        Role::Dispatcher,
        Role::UnitAdmin,
        Role::UnitStaff,
        Role::Inspector,
    ];

    /// Whether the role sees every unit's data (admin, supervisor, dispatcher).
    pub fn is_citywide(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor | Role::Dispatcher)
    }
}
