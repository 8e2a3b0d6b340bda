//! The city's own data file (JSON or TOML, same structure): everything is referenced by `code`,
//! so importing the same file twice changes nothing.
//!
//! Parse with [`ImportFile::from_json`] or [`ImportFile::from_toml`], then [`validate`] before
//! writing anything. Unknown fields are rejected (a `password` field in `users` is an error:
//! passwords never live in files; notification secrets are named by environment variable).

use std::collections::{HashMap, HashSet};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::calendar::{DeadlineRule, DeadlineTier, WorkingCalendar};
use crate::routing::{AreaInput, AreaKind, Polygon, RoutingRule};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// The area tree (city → district → street → community).
    #[serde(default)]
    pub areas: Vec<AreaSpec>,
    /// Responsible units (责任单位).
    #[serde(default)]
    pub units: Vec<UnitSpec>,
    /// Deadline tiers (时限等级).
    #[serde(default)]
    pub tiers: Vec<TierSpec>,
    /// Complaint categories (诉求类别).
    #[serde(default)]
    pub categories: Vec<CategorySpec>,
    /// Routing rules (派单规则).
    #[serde(default)]
    pub routing_rules: Vec<RoutingRuleSpec>,
    /// The working calendar (工作日历).
    #[serde(default)]
    pub calendar: Option<CalendarSpec>,
    /// Staff accounts, without passwords.
    #[serde(default)]
    pub users: Vec<UserSpec>,
}

/// An area (行政区划节点).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaSpec {
    /// Stable code, unique among areas.
    pub code: String,
    /// Parent area's code; absent only for the city.
    #[serde(default)]
    pub parent: Option<String>,
    /// Level.
    pub kind: AreaKind,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// GeoJSON `Polygon` geometry, rings of `[lon, lat]`.
    #[serde(default)]
    pub polygon: Option<serde_json::Value>,
}

/// Kind of responsible unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// District government (区政府).
    DistrictGovernment,
    /// Street office (街道办事处).
    StreetOffice,
    /// Community residents' committee (社区居委会).
    CommunityCommittee,
    /// The housing and construction bureau (住建局).
    HousingBureau,
    /// Water, gas, power or heating company.
    Utility,
    /// Property management company (物业).
    PropertyManager,
    /// Construction contractor (施工单位).
    Contractor,
    /// The city dispatch center (派单中心): receives what no rule routes.
    DispatchCenter,
}

/// A notification target for a unit. Secrets are never in the file: `secret_env` names the
/// environment variable that holds the signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    /// Message format.
    pub kind: NotifyKind,
    /// Endpoint URL (http or https).
    pub url: String,
    /// Environment variable holding the secret, if the target signs.
    #[serde(default)]
    pub secret_env: Option<String>,
}

/// Notification formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// Generic JSON webhook signed with HMAC-SHA256.
    Webhook,
    /// WeCom (企业微信) group robot.
    Wecom,
    /// DingTalk (钉钉) robot.
    Dingtalk,
}

/// A responsible unit (责任单位).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// Stable code, unique among units.
    pub code: String,
    /// Parent unit's code in the unit tree.
    #[serde(default)]
    pub parent: Option<String>,
    /// Kind.
    pub kind: UnitKind,
    /// Chinese (public) name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Codes of the areas it serves.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Unit that supervises it (督办): receives its escalations.
    #[serde(default)]
    pub supervising_unit: Option<String>,
    /// Notification targets.
    #[serde(default)]
    pub notify: Vec<NotifySpec>,
}

/// One deadline in the file: `{hours: N}` or `{working_days: N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineSpec {
    /// `N` hours, counted on the tier's clock.
    Hours(u32),
    /// `N` working days (工作日).
    WorkingDays(u32),
}

/// Which hours a tier's hour deadlines count (the data file's `clock` key: `all_hours` or
/// `working`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HourCount {
    /// Every hour counts, weekends and holidays included.
    #[default]
    AllHours,
    /// Only hours inside working days count.
    Working,
}

/// A deadline tier (时限等级).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Response deadline (响应时限).
    pub response: DeadlineSpec,
    /// Resolution deadline (办结时限).
    pub resolution: DeadlineSpec,
    /// Which hours `hours` deadlines count (key `clock` in the data file); `working_days`
    /// always use the working calendar.
    #[serde(default)]
    pub clock: HourCount,
}

impl TierSpec {
    fn rule(&self, d: DeadlineSpec) -> DeadlineRule {
        match (d, self.clock) {
            (DeadlineSpec::Hours(n), HourCount::AllHours) => DeadlineRule::Hours(n),
            (DeadlineSpec::Hours(n), HourCount::Working) => DeadlineRule::WorkingHours(n),
            (DeadlineSpec::WorkingDays(n), _) => DeadlineRule::WorkingDays(n),
        }
    }

    /// The tier as the calendar computes it.
    pub fn to_tier(&self) -> DeadlineTier {
        DeadlineTier {
            code: self.code.clone(),
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            response: self.rule(self.response),
            resolution: self.rule(self.resolution),
        }
    }
}

/// A complaint category (诉求类别).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    /// Stable code (what clients send).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Tier code.
    pub tier: String,
    /// Whether resolving (办结) needs after-photos.
    #[serde(default)]
    pub needs_photo_proof: bool,
    /// Short ascii icon name (`noise`, `dust`, …).
    pub icon: String,
}

/// A routing rule (派单规则). Its identity is `(category, area, unit)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleSpec {
    /// Category code; absent = every category.
    #[serde(default)]
    pub category: Option<String>,
    /// Area code.
    pub area: String,
    /// Unit code.
    pub unit: String,
    /// Higher wins at the same area and specificity.
    #[serde(default)]
    pub priority: i32,
}

impl RoutingRuleSpec {
    /// A stable id for the rule derived from its identity: `area/category-or-*/unit`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.area,
            self.category.as_deref().unwrap_or("*"),
            self.unit
        )
    }
}

/// The working calendar (工作日历).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA time zone; the server's `ANJU_TIMEZONE` when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Statutory holidays (法定节假日), every day off. `"2026-10-01"` strings, or TOML dates.
    #[serde(default, deserialize_with = "dates")]
    pub holidays: Vec<Date>,
    /// Make-up working days (调休上班日), each a Saturday or Sunday.
    #[serde(default, deserialize_with = "dates")]
    pub workdays: Vec<Date>,
}

/// Dates as ISO strings (JSON, TOML) or TOML's own date literals.
fn dates<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Date>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let raw: Vec<Repr> = Vec::deserialize(d)?;
    raw.into_iter()
        .map(|r| {
            let text = match r {
                Repr::Text(t) => t,
                Repr::Toml(t) => t.to_string(),
            };
            text.parse::<Date>()
                .map_err(|e| serde::de::Error::custom(format!("date {text:?}: {e}")))
        })
        .collect()
}

impl CalendarSpec {
    /// The calendar in its own time zone, or `default_tz` when the file names none. Fails only
    /// on an unknown time zone name (which [`validate`] reports).
    pub fn to_calendar(&self, default_tz: &TimeZone) -> Result<WorkingCalendar, String> {
        let tz = match &self.timezone {
            Some(name) => {
                TimeZone::get(name).map_err(|e| format!("calendar.timezone {name:?}: {e}"))?
            }
            None => default_tz.clone(),
        };
        Ok(WorkingCalendar::new(
            tz,
            self.holidays.iter().copied(),
            self.workdays.iter().copied(),
        ))
    }
}

/// Staff role (the vocabulary lives in `auth`; the file names roles by their wire names).
use crate::auth::Role;

/// A staff account without password (set with `anju user set-password`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Login name, unique.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Unit code; required for `unit_admin` and `unit_staff`.
    #[serde(default)]
    pub unit: Option<String>,
}

impl ImportFile {
    /// Parse a JSON file.
    pub fn from_json(text: &str) -> Result<ImportFile, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Parse a TOML file.
    pub fn from_toml(text: &str) -> Result<ImportFile, toml::de::Error> {
        toml::from_str(text)
    }

    /// Areas for [`crate::routing::AreaIndex`], with codes as ids. Fails with the area code and
    /// reason when a polygon is not a valid GeoJSON polygon.
    pub fn area_inputs(&self) -> Result<Vec<AreaInput>, String> {
        self.areas
            .iter()
            .map(|a| {
                let polygon = match &a.polygon {
                    None => None,
                    Some(v) => Some(
                        Polygon::from_geojson(v)
                            .map_err(|e| format!("area {}: polygon: {e}", a.code))?,
                    ),
                };
                Ok(AreaInput {
                    id: a.code.clone(),
                    parent_id: a.parent.clone(),
                    kind: a.kind,
                    polygon,
                })
            })
            .collect()
    }

    /// Rules for [`crate::routing::Router`], with area and unit codes as ids and
    /// [`RoutingRuleSpec::key`] as rule id.
    pub fn rule_inputs(&self) -> Vec<RoutingRule> {
        self.routing_rules
            .iter()
            .map(|r| RoutingRule {
                id: r.key(),
                category: r.category.clone(),
                area_id: r.area.clone(),
                unit_id: r.unit.clone(),
                priority: r.priority,
            })
            .collect()
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Check codes are unique and well formed, every reference resolves, parent chains end without
/// cycles, area levels nest (city → district → street → community), polygons parse and every
/// vertex of an area's polygon lies inside (or on the edge of) each ancestor's polygon, tiers and
/// categories agree, rules are unambiguous, the calendar is coherent, there is exactly one city
/// and exactly one dispatch center. Returns every problem found, each naming its item.
pub fn validate(file: &ImportFile) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();

    fn unique<'a>(
        errs: &mut Vec<String>,
        what: &str,
        codes: impl Iterator<Item = &'a str>,
    ) -> HashSet<&'a str> {
        let mut seen = HashSet::new();
        for c in codes {
            if !is_code(c) {
                errs.push(format!(
                    "{what} code {c:?} must be 1-64 characters of a-z, 0-9, _ or -"
                ));
            }
            if !seen.insert(c) {
                errs.push(format!("{what} code {c:?} is used twice"));
            }
        }
        seen
    }
    let area_codes = unique(
        &mut errs,
        "area",
        file.areas.iter().map(|a| a.code.as_str()),
    );
    let unit_codes = unique(
        &mut errs,
        "unit",
        file.units.iter().map(|u| u.code.as_str()),
    );
    let tier_codes = unique(
        &mut errs,
        "tier",
        file.tiers.iter().map(|t| t.code.as_str()),
    );
    let category_codes = unique(
        &mut errs,
        "category",
        file.categories.iter().map(|c| c.code.as_str()),
    );

    // Names.
    let named = file
        .areas
        .iter()
        .map(|a| ("area", &a.code, &a.name_zh, &a.name_en))
        .chain(
            file.units
                .iter()
                .map(|u| ("unit", &u.code, &u.name_zh, &u.name_en)),
        )
        .chain(
            file.tiers
                .iter()
                .map(|t| ("tier", &t.code, &t.name_zh, &t.name_en)),
        )
        .chain(
            file.categories
                .iter()
                .map(|c| ("category", &c.code, &c.name_zh, &c.name_en)),
        );
    for (what, code, zh, en) in named {
        if zh.trim().is_empty() || en.trim().is_empty() {
            errs.push(format!(
                "{what} {code}: name_zh and name_en must not be empty"
            ));
        }
    }

    // Areas: parents, levels, cycles, polygons.
    let areas: HashMap<&str, &AreaSpec> = file.areas.iter().map(|a| (a.code.as_str(), a)).collect();
    let cities = file
        .areas
        .iter()
        .filter(|a| a.kind == AreaKind::City)
        .count();
    if cities != 1 {
        errs.push(format!(
            "there must be exactly one area of kind city, found {cities}"
        ));
    }
    let mut polygons: HashMap<&str, Polygon> = HashMap::new();
    for a in &file.areas {
        match (&a.parent, a.kind) {
            (None, AreaKind::City) => {}
            (None, _) => errs.push(format!("area {}: only the city may have no parent", a.code)),
            (Some(p), kind) => match areas.get(p.as_str()) {
                None => errs.push(format!("area {}: parent {p:?} is not an area", a.code)),
                Some(parent) if parent.kind >= kind => errs.push(format!(
                    "area {}: a {:?} cannot be under a {:?} ({p})",
                    a.code, kind, parent.kind
                )),
                Some(_) => {}
            },
        }
        if let Some(v) = &a.polygon {
            match Polygon::from_geojson(v) {
                Ok(p) => {
                    polygons.insert(a.code.as_str(), p);
                }
                Err(e) => errs.push(format!("area {}: polygon: {e}", a.code)),
            }
        }
    }
    for a in &file.areas {
        // Walk up; levels strictly decrease so a cycle also shows as a level error, but report
        // it plainly.
        let mut seen = HashSet::new();
        let mut cur = a.parent.as_deref();
        let mut cyclic = false;
        while let Some(p) = cur {
            if !seen.insert(p) || p == a.code {
                cyclic = true;
                break;
            }
            cur = areas.get(p).and_then(|x| x.parent.as_deref());
        }
        if cyclic {
            errs.push(format!("area {}: parent chain has a cycle", a.code));
            continue;
        }
        let Some(own) = polygons.get(a.code.as_str()) else {
            continue;
        };
        for anc in seen {
            if let Some(ap) = polygons.get(anc) {
                let outside = own.rings()[0]
                    .iter()
                    .filter(|&&(lon, lat)| !ap.contains_or_touches(lon, lat, 1e-9))
                    .count();
                if outside > 0 {
                    errs.push(format!(
                        "area {}: {outside} polygon vertices lie outside the polygon of its ancestor {anc}",
                        a.code
                    ));
                }
            }
        }
    }

    // Units.
    let units: HashMap<&str, &UnitSpec> = file.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let dispatch = file
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::DispatchCenter)
        .count();
    if dispatch != 1 {
        errs.push(format!(
            "there must be exactly one unit of kind dispatch_center, found {dispatch}"
        ));
    }
    for u in &file.units {
        if let Some(p) = &u.parent
            && !unit_codes.contains(p.as_str())
        {
            errs.push(format!("unit {}: parent {p:?} is not a unit", u.code));
        }
        if let Some(s) = &u.supervising_unit {
            if s == &u.code {
                errs.push(format!("unit {}: cannot supervise itself", u.code));
            } else if !unit_codes.contains(s.as_str()) {
                errs.push(format!(
                    "unit {}: supervising_unit {s:?} is not a unit",
                    u.code
                ));
            }
        }
        for a in &u.areas {
            if !area_codes.contains(a.as_str()) {
                errs.push(format!("unit {}: serves unknown area {a:?}", u.code));
            }
        }
        for n in &u.notify {
            if !(n.url.starts_with("https://") || n.url.starts_with("http://")) {
                errs.push(format!(
                    "unit {}: notify url {:?} must be http(s)",
                    u.code, n.url
                ));
            }
            if let Some(env) = &n.secret_env
                && !env.starts_with(crate::notify::delivery::SECRET_ENV_PREFIX)
            {
                errs.push(format!(
                    "unit {}: secret_env {env:?} must start with {}",
                    u.code,
                    crate::notify::delivery::SECRET_ENV_PREFIX
                ));
            }
        }
        let mut seen = HashSet::new();
        let mut cur = u.parent.as_deref();
        while let Some(p) = cur {
            if p == u.code || !seen.insert(p) {
                errs.push(format!("unit {}: parent chain has a cycle", u.code));
                break;
            }
            cur = units.get(p).and_then(|x| x.parent.as_deref());
        }
    }

    // Tiers and categories.
    for t in &file.tiers {
        for (what, d) in [("response", t.response), ("resolution", t.resolution)] {
            let n = match d {
                DeadlineSpec::Hours(n) | DeadlineSpec::WorkingDays(n) => n,
            };
            if n == 0 || n > 10_000 {
                errs.push(format!(
                    "tier {}: {what} must be between 1 and 10000",
                    t.code
                ));
            }
        }
    }
    for c in &file.categories {
        if !tier_codes.contains(c.tier.as_str()) {
            errs.push(format!(
                "category {}: tier {:?} is not a tier",
                c.code, c.tier
            ));
        }
        if !is_code(&c.icon) || c.icon.len() > 32 {
            errs.push(format!(
                "category {}: icon {:?} must be a short ascii name",
                c.code, c.icon
            ));
        }
    }

    // Routing rules.
    let mut identities = HashSet::new();
    let mut slots: HashMap<(Option<&str>, &str, i32), &str> = HashMap::new();
    for r in &file.routing_rules {
        let key = r.key();
        if let Some(c) = &r.category
            && !category_codes.contains(c.as_str())
        {
            errs.push(format!(
                "routing rule {key}: category {c:?} is not a category"
            ));
        }
        if !area_codes.contains(r.area.as_str()) {
            errs.push(format!(
                "routing rule {key}: area {:?} is not an area",
                r.area
            ));
        }
        if !unit_codes.contains(r.unit.as_str()) {
            errs.push(format!(
                "routing rule {key}: unit {:?} is not a unit",
                r.unit
            ));
        }
        if !identities.insert(key.clone()) {
            errs.push(format!("routing rule {key} is listed twice"));
        }
        if let Some(other) = slots.insert(
            (r.category.as_deref(), r.area.as_str(), r.priority),
            r.unit.as_str(),
        ) && other != r.unit
        {
            errs.push(format!(
                "routing rule {key}: same category, area and priority as the rule to {other}; give one a higher priority"
            ));
        }
    }

    // Calendar.
    if let Some(cal) = &file.calendar {
        if let Some(name) = &cal.timezone
            && TimeZone::get(name).is_err()
        {
            errs.push(format!(
                "calendar.timezone {name:?} is not a known IANA time zone"
            ));
        }
        let holidays: HashSet<Date> = cal.holidays.iter().copied().collect();
        if holidays.len() != cal.holidays.len() {
            errs.push("calendar.holidays lists a date twice".to_string());
        }
        let mut workdays = HashSet::new();
        for d in &cal.workdays {
            if !workdays.insert(*d) {
                errs.push(format!("calendar.workdays lists {d} twice"));
            }
            if holidays.contains(d) {
                errs.push(format!(
                    "calendar: {d} is both a holiday and a make-up working day"
                ));
            }
            if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
                errs.push(format!(
                    "calendar.workdays: {d} is a weekday; make-up working days are Saturdays or Sundays"
                ));
            }
        }
    }

    // Users.
    let mut usernames = HashSet::new();
    for u in &file.users {
        if !usernames.insert(u.username.as_str()) {
            errs.push(format!("user {}: username is used twice", u.username));
        }
        match &u.unit {
            Some(c) if !unit_codes.contains(c.as_str()) => {
                errs.push(format!("user {}: unit {c:?} is not a unit", u.username));
            }
            None if matches!(u.role, Role::UnitAdmin | Role::UnitStaff) => {
                errs.push(format!(
                    "user {}: role {:?} needs a unit",
                    u.username, u.role
                ));
            }
            _ => {}
        }
    }

    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

#[cfg(test)]
mod tests;
