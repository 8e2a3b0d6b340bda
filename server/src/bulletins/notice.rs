//! The summary of an issued bulletin sent through the outbox (webhook, WeCom, DingTalk), in the
//! issuing transaction: to each unit named (通报批评) or commended (通报表扬), with a sentence
//! about it, and to the housing bureau (住建局). The text holds unit names and figures only,
//! never a resident's words, so the robots may carry it.

use std::collections::BTreeSet;

use super::compute::BulletinData;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::notify::format::Message;
use crate::org::catalog::Catalog;

/// Event kind of the messages.
pub const EVENT: &str = "bulletin_issued";

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.1}%"))
}

/// The summary (zh): period, top figures, the units named and commended; or 本期无数据.
pub fn summary_text(d: &BulletinData) -> String {
    if !d.has_data {
        return format!(
            "{}：本期无数据（无投诉派单、无到期整改通知、无项目进展）。",
            d.period.label_zh
        );
    }
    let t = &d.totals;
    let mut s = format!(
        "{}：投诉派单 {} 件，响应率 {}、解决率 {}、满意率 {}；到期整改通知 {} 件，按期整改率 {}；超期工单 {} 件、超期整改 {} 件；全市计划综合完成率 {}。",
        d.period.label_zh,
        t.dispatched,
        pct(t.response_rate),
        pct(t.resolution_rate),
        pct(t.satisfaction_rate),
        t.orders_due,
        pct(t.order_on_time_rate),
        t.overdue_tickets,
        t.overdue_orders,
        pct(t.plan_percent),
    );
    let list = |v: &[super::compute::Named]| {
        v.iter()
            .map(|n| format!("{}（综合 {}）", n.name_zh, pct(n.score)))
            .collect::<Vec<_>>()
            .join("、")
    };
    s.push_str(&if d.criticised.is_empty() {
        "本期无通报批评单位。".to_owned()
    } else {
        format!("通报批评：{}。", list(&d.criticised))
    });
    s.push_str(&if d.commended.is_empty() {
        "本期无通报表扬单位。".to_owned()
    } else {
        format!("通报表扬：{}。", list(&d.commended))
    });
    s
}

/// Who is told, and what it says to them.
pub struct Issued<'a> {
    /// `2026年第12期`.
    pub number: &'a str,
    /// Title.
    pub title: &'a str,
    /// Issue time, RFC 3339 with offset.
    pub issued_at: String,
    /// Link to the print view.
    pub url: String,
}

/// Queues the summary to the named and commended units and the bureau; returns the units told
/// and the number of messages queued (one per target of each unit).
pub fn enqueue(
    conn: &mut DbConnection,
    catalog: &Catalog,
    d: &BulletinData,
    b: &Issued<'_>,
    now: i64,
) -> Result<(Vec<String>, usize), ApiError> {
    let summary = summary_text(d);
    let mut told: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queued = 0;
    let named = d
        .criticised
        .iter()
        .map(|n| (n, true))
        .chain(d.commended.iter().map(|n| (n, false)));
    let mut recipients: Vec<(String, String)> = Vec::new();
    for (n, criticised) in named {
        let line = if criticised {
            format!(
                "贵单位在本期通报中被通报批评（综合 {}），请对照问题限期整改。",
                pct(n.score)
            )
        } else {
            format!("贵单位在本期通报中受到通报表扬（综合 {}）。", pct(n.score))
        };
        recipients.push((n.unit_id.clone(), line));
    }
    if let Some(bureau) = crate::clocks::hazards::bureau(catalog) {
        recipients.push((bureau.to_owned(), String::new()));
    }
    for (unit, line) in recipients {
        if !seen.insert(unit.clone()) {
            continue;
        }
        let message = Message {
            event: EVENT.into(),
            ticket_no: b.number.into(),
            category: "工作通报".into(),
            community: String::new(),
            unit: catalog
                .units
                .get(&unit)
                .map_or(String::new(), |u| u.name_zh.clone()),
            title: format!("{} {}", b.number, b.title),
            text: format!("{line}{summary}"),
            resolution_due: b.issued_at.clone(),
            url: b.url.clone(),
        };
        let targets = catalog.targets.get(&unit).map(Vec::as_slice).unwrap_or(&[]);
        queued += crate::notify::outbox::enqueue_to(conn, &unit, targets, None, &message, now)?;
        told.push(unit);
    }
    Ok((told, queued))
}
