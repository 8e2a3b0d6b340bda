//! What the office and the public read of the fund ledgers: a summary per project (totals,
//! paid share, flags) in the caller's scope, and the public figures per district × programme of
//! a year (sums only: no names, no notes, no recorders).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use super::answers::{
    PublicFundSums, PublicFunds, PublicFundsCity, PublicFundsDistrict, PublicSourceSums,
};
use super::flags::{self, Flags, Thresholds, paid_percent};
use super::ledger::{self, Kind, Ledger, Source, Totals};
use crate::auth::scope::Scope;
use crate::db::DbConnection;
use crate::registers::query::{Live, Narrow, Org, live_records};

/// The programmes, in table order.
pub const PROGRAMMES: [&str; 3] = ["shantytown", "dangerous_housing", "old_community"];

/// One project's funds as the office list shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectFunds {
    /// Sync record id of the project.
    pub project_id: String,
    /// Project code (XM-001).
    pub code: Option<String>,
    /// Project name.
    pub name: Option<String>,
    /// Programme wire name.
    pub programme: Option<String>,
    /// Project status.
    pub status: Option<String>,
    /// Area id of the project.
    pub area_id: Option<String>,
    /// District name (zh).
    pub district_zh: Option<String>,
    /// Physical progress, percent.
    pub progress_percent: i64,
    /// Budget, received, paid.
    pub totals: Totals,
    /// Paid ÷ budget, percent.
    pub paid_percent: Option<f64>,
    /// Supervision flags.
    pub flags: Flags,
}

/// The summary of one project with its ledger.
pub fn summary(org: &Org, p: &Live, l: &Ledger, today: Date, t: &Thresholds) -> ProjectFunds {
    let totals = l.totals();
    let progress = p.int("progress_percent").unwrap_or(0);
    let area = p.text("area_id").map(str::to_owned);
    ProjectFunds {
        project_id: p.record.id.to_string(),
        code: p.text("code").map(str::to_owned),
        name: p.text("name").map(str::to_owned),
        programme: p.text("programme").map(str::to_owned),
        status: p.text("status").map(str::to_owned),
        district_zh: area
            .as_deref()
            .and_then(|a| org.ancestor(a, "district"))
            .map(|d| d.name_zh.clone()),
        area_id: area,
        progress_percent: progress,
        paid_percent: paid_percent(totals.paid, totals.budget),
        flags: flags::compute(l, progress, today, t),
        totals,
    }
}

/// Every project `scope` sees, with its funds, ordered by code.
pub fn summaries(
    conn: &mut DbConnection,
    scope: &Scope,
    today: Date,
    t: &Thresholds,
) -> diesel::QueryResult<Vec<ProjectFunds>> {
    let org = Org::load(conn)?;
    let projects = live_records(conn, "project", scope, &Narrow::default())?;
    let ledgers = ledger::load_all(conn)?;
    let empty = Ledger::default();
    let mut out: Vec<ProjectFunds> = projects
        .iter()
        .map(|p| {
            let l = ledgers.get(&p.record.id.to_string()).unwrap_or(&empty);
            summary(&org, p, l, today, t)
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code).then(a.project_id.cmp(&b.project_id)));
    Ok(out)
}

#[derive(Default, Clone, Copy)]
struct Sums {
    budget: i64,
    received: i64,
    paid: i64,
}

impl Sums {
    fn add(&mut self, kind: Kind, amount: i64) {
        match kind {
            Kind::Budget => self.budget += amount,
            Kind::Received => self.received += amount,
            Kind::Paid => self.paid += amount,
        }
    }
    fn answer(self) -> PublicFundSums {
        PublicFundSums {
            budget: self.budget,
            received: self.received,
            paid: self.paid,
            received_percent: paid_percent(self.received, self.budget),
            paid_percent: paid_percent(self.paid, self.budget),
        }
    }
}

/// The public fund figures of `year` (entries dated in the year, corrections included), in
/// yuan: every district with each programme's sums and their total, the city's, and per source
/// of funds; sums only, nothing personal.
pub fn public(conn: &mut DbConnection, year: i32) -> diesel::QueryResult<PublicFunds> {
    let org = Org::load(conn)?;
    let projects = live_records(conn, "project", &Scope::All, &Narrow::default())?;
    let ledgers = ledger::load_all(conn)?;
    let prefix = format!("{year:04}-");
    // (district id, programme) → sums
    let mut cells: BTreeMap<(String, String), Sums> = BTreeMap::new();
    let mut by_source: BTreeMap<&'static str, Sums> = BTreeMap::new();
    for p in &projects {
        let Some(d) = p.text("area_id").and_then(|a| org.ancestor(a, "district")) else {
            continue;
        };
        let Some(programme) = p.text("programme").filter(|g| PROGRAMMES.contains(g)) else {
            continue;
        };
        let Some(l) = ledgers.get(&p.record.id.to_string()) else {
            continue;
        };
        for e in l
            .entries
            .iter()
            .filter(|e| e.entry_date.starts_with(&prefix))
        {
            let Some(kind) = Kind::parse(&e.kind) else {
                continue;
            };
            cells
                .entry((d.id.clone(), programme.to_owned()))
                .or_default()
                .add(kind, e.amount);
            if let Some(s) = e.source.as_deref().and_then(Source::parse) {
                by_source.entry(s.as_str()).or_default().add(kind, e.amount);
            }
        }
    }
    let mut city: BTreeMap<&str, Sums> = BTreeMap::new();
    let districts: Vec<PublicFundsDistrict> = org
        .districts()
        .into_iter()
        .map(|d| {
            let mut programmes = BTreeMap::new();
            let mut all = Sums::default();
            for g in PROGRAMMES {
                let s = cells
                    .get(&(d.id.clone(), g.to_owned()))
                    .copied()
                    .unwrap_or_default();
                let c = city.entry(g).or_default();
                c.budget += s.budget;
                c.received += s.received;
                c.paid += s.paid;
                all.budget += s.budget;
                all.received += s.received;
                all.paid += s.paid;
                programmes.insert(g.to_owned(), s.answer());
            }
            PublicFundsDistrict {
                area_id: d.id.clone(),
                code: d.code.clone(),
                name_zh: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                programmes,
                total: all.answer(),
            }
        })
        .collect();
    let mut total = Sums::default();
    let mut city_programmes = BTreeMap::new();
    for g in PROGRAMMES {
        let s = city.get(g).copied().unwrap_or_default();
        total.budget += s.budget;
        total.received += s.received;
        total.paid += s.paid;
        city_programmes.insert(g.to_owned(), s.answer());
    }
    let sources = Source::ALL
        .into_iter()
        .map(|s| {
            let x = by_source.get(s.as_str()).copied().unwrap_or_default();
            let sums = PublicSourceSums {
                label_zh: s.label_zh().to_owned(),
                label_en: s.label_en().to_owned(),
                budget: x.budget,
                received: x.received,
            };
            (s.as_str().to_owned(), sums)
        })
        .collect();
    Ok(PublicFunds {
        year,
        unit: "yuan".to_owned(),
        districts,
        city: PublicFundsCity {
            programmes: city_programmes,
            total: total.answer(),
        },
        sources,
    })
}
