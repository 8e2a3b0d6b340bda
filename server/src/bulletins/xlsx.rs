//! A bulletin as an XLSX workbook (rust_xlsxwriter, as the register exports): one sheet per
//! section with bold Chinese headers: 说明, 计划完成情况, 单位考核, 超期情况, 物业服务企业.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::compute::{BulletinData, UnitRow};
use super::rules::{Standing, Verdict};
use super::store::BulletinRow;
use crate::error::ApiError;
use crate::registers::sheet::Cell;

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn num(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Number)
}

fn int(v: u64) -> Cell {
    Cell::Number(v as f64)
}

/// 通报批评 / 通报表扬 / 样本不足 / —.
pub fn verdict_zh(s: &Standing) -> &'static str {
    match (s.verdict, s.small_sample) {
        (Some(Verdict::Criticised), _) => "通报批评",
        (Some(Verdict::Commended), _) => "通报表扬",
        (None, true) => "样本不足",
        (None, false) => "—",
    }
}

struct Sheet {
    name: &'static str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

fn unit_row(u: &UnitRow) -> Vec<Cell> {
    vec![
        u.standing
            .rank
            .map_or(text("—"), |r| Cell::Number(r as f64)),
        text(u.name_zh.clone()),
        int(u.dispatched),
        int(u.accepted_in_time),
        num(u.response_rate),
        int(u.closed_answered),
        int(u.confirmed_solved),
        num(u.resolution_rate),
        int(u.ratings),
        int(u.satisfied),
        num(u.satisfaction_rate),
        int(u.orders.due),
        int(u.orders.on_time),
        int(u.orders.late),
        int(u.orders.overdue_open),
        num(u.orders.on_time_rate),
        num(u.standing.score),
        int(u.standing.sample),
        text(verdict_zh(&u.standing)),
    ]
}

fn sheets(r: &BulletinRow, d: &BulletinData, tz: &jiff::tz::TimeZone) -> Vec<Sheet> {
    let names = |v: &[super::compute::Named]| {
        if v.is_empty() {
            "无".to_owned()
        } else {
            v.iter()
                .map(|n| n.name_zh.clone())
                .collect::<Vec<_>>()
                .join("、")
        }
    };
    let pair = |k: &str, v: String| vec![text(k), text(v)];
    let overview = vec![
        pair(
            "编号",
            r.number
                .clone()
                .unwrap_or_else(|| "（草稿，未编号）".into()),
        ),
        pair("标题", r.title.clone()),
        pair(
            "类型",
            if r.kind == "weekly" {
                "周通报"
            } else {
                "月通报"
            }
            .into(),
        ),
        pair(
            "统计周期",
            format!(
                "{}（{} 至 {}）",
                d.period.label_zh, d.period.start, d.period.end
            ),
        ),
        pair("数据截至", d.period.through.clone()),
        pair(
            "状态",
            if r.status == "issued" {
                "已印发"
            } else {
                "草稿"
            }
            .into(),
        ),
        pair(
            "印发时间",
            r.issued_at
                .map_or(String::new(), |t| crate::clock::format_local(t, tz)),
        ),
        pair("计算时间", crate::clock::format_local(d.computed_at, tz)),
        pair("摘要", super::notice::summary_text(d)),
        pair("通报批评", names(&d.criticised)),
        pair("通报表扬", names(&d.commended)),
        pair(
            "阈值",
            format!(
                "样本不少于 {}；综合得分低于 {}% 通报批评，不低于 {}% 通报表扬",
                d.thresholds.min_sample, d.thresholds.criticise_below, d.thresholds.commend_at
            ),
        ),
        pair("备注", r.remarks.clone()),
        pair("数据校验（SHA-256）", r.data_sha256.clone()),
    ];
    let mut progress = Vec::new();
    for dist in d.progress.districts.iter().chain([&d.progress.city]) {
        for (prog, p) in &dist.programmes {
            let prog_zh = match prog.as_str() {
                "shantytown" => "棚户区改造",
                "dangerous_housing" => "危旧房改造",
                _ => "老旧小区改造",
            };
            progress.push(vec![
                text(dist.name_zh.clone()),
                text(prog_zh),
                text(p.label_zh.clone()),
                p.planned.map_or(Cell::Empty, |v| Cell::Number(v as f64)),
                Cell::Number(p.done as f64),
                Cell::Number(p.done_in_period as f64),
                num(p.percent),
                num(p.even_pace),
                p.rank.map_or(Cell::Empty, |v| Cell::Number(v as f64)),
                num(dist.percent),
                dist.rank.map_or(Cell::Empty, |v| Cell::Number(v as f64)),
            ]);
        }
    }
    let managers = d
        .property_managers
        .iter()
        .map(|m| {
            vec![
                m.standing
                    .rank
                    .map_or(text("—"), |r| Cell::Number(r as f64)),
                text(m.name_zh.clone()),
                text(
                    m.communities
                        .iter()
                        .map(|c| format!("{}（{} 接管）", c.name_zh, c.took_over_on))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                int(m.received),
                int(m.dispatched),
                num(m.response_rate),
                num(m.resolution_rate),
                num(m.satisfaction_rate),
                int(m.overdue),
                num(m.standing.score),
                text(verdict_zh(&m.standing)),
            ]
        })
        .collect();
    vec![
        Sheet {
            name: "说明",
            headers: vec!["项目", "内容"],
            rows: overview,
        },
        Sheet {
            name: "计划完成情况",
            headers: vec![
                "区县",
                "改造类型",
                "指标",
                "年度计划",
                "累计完成",
                "本期完成",
                "完成率(%)",
                "均衡进度",
                "排名",
                "综合完成率(%)",
                "综合排名",
            ],
            rows: progress,
        },
        Sheet {
            name: "单位考核",
            headers: vec![
                "排名",
                "单位",
                "派单数",
                "按时签收",
                "响应率(%)",
                "回访数",
                "解决数",
                "解决率(%)",
                "评价数",
                "满意数",
                "满意率(%)",
                "到期整改通知",
                "按期整改",
                "逾期整改",
                "超期未整改",
                "按期整改率(%)",
                "综合得分(%)",
                "样本量",
                "结论",
            ],
            rows: d.units.iter().map(unit_row).collect(),
        },
        Sheet {
            name: "超期情况",
            headers: vec!["单位", "超期工单", "超期整改通知"],
            rows: d
                .overdue
                .iter()
                .map(|o| {
                    vec![
                        text(o.name_zh.clone()),
                        int(o.overdue_tickets),
                        int(o.overdue_orders),
                    ]
                })
                .collect(),
        },
        Sheet {
            name: "物业服务企业",
            headers: vec![
                "排名",
                "企业",
                "接管小区",
                "设施类投诉",
                "派单数",
                "响应率(%)",
                "解决率(%)",
                "满意率(%)",
                "超期",
                "综合得分(%)",
                "结论",
            ],
            rows: managers,
        },
    ]
}

/// The workbook of bulletin `r`.
pub fn workbook(r: &BulletinRow, tz: &jiff::tz::TimeZone) -> Result<Vec<u8>, ApiError> {
    let d: BulletinData = serde_json::from_str(&r.data)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("bulletin data: {e}")))?;
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        for s in sheets(r, &d, tz) {
            let ws = wb.add_worksheet();
            ws.set_name(s.name)?;
            for (c, h) in s.headers.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                ws.write_string_with_format(0, c, *h, &bold)?;
                ws.set_column_width(c, if s.name == "说明" && c == 1 { 80 } else { 14 })?;
            }
            ws.set_freeze_panes(1, 0)?;
            if s.rows.is_empty() {
                ws.write_string(1, 0, "本期无数据")?;
            }
            for (i, row) in s.rows.iter().enumerate() {
                let ri = u32::try_from(i + 1).unwrap_or(u32::MAX);
                for (c, cell) in row.iter().enumerate() {
                    let c = u16::try_from(c).unwrap_or(u16::MAX);
                    match cell {
                        Cell::Text(t) => {
                            ws.write_string(ri, c, t)?;
                        }
                        Cell::Number(n) => {
                            ws.write_number(ri, c, *n)?;
                        }
                        Cell::Empty => {}
                    }
                }
            }
        }
        wb.save_to_buffer()
    };
    build().map_err(|e| ApiError::internal(anyhow::anyhow!("xlsx: {e}")))
}
