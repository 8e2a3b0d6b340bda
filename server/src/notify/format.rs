//! The three notification formats and their signatures. Pure: the outbox worker builds the
//! request from a stored message with [`build_request`] and sends it.
//!
//! - `webhook`: the message as JSON; headers `X-Anju-Event`, `X-Anju-Delivery`,
//!   `X-Anju-Timestamp` (Unix seconds) and `X-Anju-Signature: sha256=<hex>` where the hex is
//!   HMAC-SHA256 with the unit's secret over `"{timestamp}.{body}"`.
//! - `wecom` (企业微信群机器人): `{"msgtype":"markdown","markdown":{"content":…}}` posted to the
//!   robot URL (which carries its `key`).
//!
//! Robots are third-party services: their markdown carries the headline, ticket number,
//! category, community (小区), responsible unit, deadline and the console link, never the
//! message's free text (which may quote what a resident wrote). The signed webhook, which goes
//! to the unit's own system, carries the whole message.
//! - `dingtalk` (钉钉自定义机器人): `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`; with
//!   a secret the URL gets `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret,
//!   "{timestamp}\n{secret}"))).

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

/// What a notification says, independent of the target format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Event kind: `ticket_dispatched`, `reminder`, `escalation`, ….
    pub event: String,
    /// Public ticket number.
    pub ticket_no: String,
    /// Category name (zh).
    pub category: String,
    /// The community (小区) the complaint is about (zh); empty when unknown.
    #[serde(default)]
    pub community: String,
    /// The receiving unit's name (zh).
    pub unit: String,
    /// One-line headline (zh).
    pub title: String,
    /// Short text (zh), never personal data of the resident; sent only in the signed webhook,
    /// never to a robot.
    pub text: String,
    /// Resolution deadline, RFC 3339 with offset.
    pub resolution_due: String,
    /// Link to the ticket in the console.
    pub url: String,
}

/// An HTTP request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    /// Full URL (with DingTalk signature parameters when signed).
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body bytes.
    pub body: Vec<u8>,
}

/// Target formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Signed generic JSON webhook.
    Webhook,
    /// WeCom group robot.
    Wecom,
    /// DingTalk robot.
    Dingtalk,
}

impl TargetKind {
    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<TargetKind> {
        match s {
            "webhook" => Some(TargetKind::Webhook),
            "wecom" => Some(TargetKind::Wecom),
            "dingtalk" => Some(TargetKind::Dingtalk),
            _ => None,
        }
    }
}

/// HMAC-SHA256 of `data` with `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The generic webhook signature header value for `body` at `timestamp_s`.
pub fn webhook_signature(secret: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp_s}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &signed))
    )
}

/// DingTalk's `sign` parameter (already URL-encoded) for `timestamp_ms`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    let raw = hmac_sha256(secret.as_bytes(), to_sign.as_bytes());
    url_encode(&base64::engine::general_purpose::STANDARD.encode(raw))
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The robots' markdown: no free text (see the module documentation). A bulletin's summary
/// (`bulletin_issued`, 通报) is the exception: it is written by the server from unit names and
/// figures only, so the robots carry it.
fn markdown(m: &Message) -> String {
    if m.event == "bulletin_issued" {
        return cut(format!(
            "### {}\n> 通报 **{}** · {}\n> 发往：{}\n> 印发时间：{}\n\n{}\n\n[查看通报]({})",
            m.title, m.ticket_no, m.category, m.unit, m.resolution_due, m.text, m.url
        ));
    }
    let community = if m.community.is_empty() {
        String::new()
    } else {
        format!("\n> 小区：{}", m.community)
    };
    cut(format!(
        "### {}\n> 工单 **{}** · {}{}\n> 责任单位：{}\n> 办结时限：{}\n\n[查看工单]({})",
        m.title, m.ticket_no, m.category, community, m.unit, m.resolution_due, m.url
    ))
}

/// WeCom limits markdown content to 4096 bytes; cut on a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > 4000 {
        let mut cut = 4000;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Build the request for a target. `now_ms` signs; `secret` is the unit's signing secret, when
/// configured.
pub fn build_request(
    kind: TargetKind,
    url: &str,
    secret: Option<&str>,
    delivery_id: &str,
    message: &Message,
    now_ms: i64,
) -> OutgoingRequest {
    match kind {
        TargetKind::Webhook => {
            let body = serde_json::to_vec(&json!({"delivery": delivery_id, "message": message}))
                .unwrap_or_default();
            let ts = now_ms.div_euclid(1000);
            let mut headers = vec![
                ("X-Anju-Event".to_string(), message.event.clone()),
                ("X-Anju-Delivery".to_string(), delivery_id.to_string()),
                ("X-Anju-Timestamp".to_string(), ts.to_string()),
            ];
            if let Some(secret) = secret {
                headers.push((
                    "X-Anju-Signature".to_string(),
                    webhook_signature(secret, ts, &body),
                ));
            }
            OutgoingRequest {
                url: url.to_string(),
                headers,
                body,
            }
        }
        TargetKind::Wecom => {
            let body: Value =
                json!({"msgtype": "markdown", "markdown": {"content": markdown(message)}});
            OutgoingRequest {
                url: url.to_string(),
                headers: Vec::new(),
                body: serde_json::to_vec(&body).unwrap_or_default(),
            }
        }
        TargetKind::Dingtalk => {
            let body: Value = json!({
                "msgtype": "markdown",
                "markdown": {"title": message.title, "text": markdown(message)}
            });
            let url = match secret {
                Some(secret) => {
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!(
                        "{url}{sep}timestamp={now_ms}&sign={}",
                        dingtalk_sign(secret, now_ms)
                    )
                }
                None => url.to_string(),
            };
            OutgoingRequest {
                url,
                headers: Vec::new(),
                body: serde_json::to_vec(&body).unwrap_or_default(),
            }
        }
    }
}

/// Whether a robot's JSON answer reports success (`errcode` 0). Robots answer HTTP 200 with an
/// error code inside for bad keys or signatures.
pub fn robot_accepted(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("errcode").and_then(Value::as_i64))
        == Some(0)
}

/// Exponential backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s, … capped at 1 h.
pub fn backoff_ms(attempts: i32) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    (5_000i64.saturating_mul(1i64 << exp)).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            event: "ticket_dispatched".into(),
            ticket_no: "2026-000001".into(),
            category: "施工扬尘".into(),
            community: "建设一社区".into(),
            unit: "建设街道".into(),
            title: "新工单".into(),
            text: "居民原话：3号楼502室 13812345678".into(),
            resolution_due: "2026-11-26T09:30:00+08:00".into(),
            url: "http://x/console".into(),
        }
    }

    #[test]
    fn webhook_is_signed_over_timestamp_and_body() {
        let r = build_request(
            TargetKind::Webhook,
            "http://h/x",
            Some("s3cret"),
            "d1",
            &msg(),
            1_700_000_000_123,
        );
        let ts = r
            .headers
            .iter()
            .find(|h| h.0 == "X-Anju-Timestamp")
            .unwrap()
            .1
            .clone();
        assert_eq!(ts, "1700000000");
        let sig = r
            .headers
            .iter()
            .find(|h| h.0 == "X-Anju-Signature")
            .unwrap()
            .1
            .clone();
        assert_eq!(sig, webhook_signature("s3cret", 1_700_000_000, &r.body));
        assert_ne!(sig, webhook_signature("other", 1_700_000_000, &r.body));
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn robot_formats() {
        let r = build_request(
            TargetKind::Wecom,
            "http://h/send?key=k",
            None,
            "d",
            &msg(),
            0,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["msgtype"], "markdown");
        let content = v["markdown"]["content"].as_str().unwrap();
        for part in [
            "2026-000001",
            "施工扬尘",
            "建设一社区",
            "2026-11-26T09:30:00+08:00",
        ] {
            assert!(content.contains(part), "{part} in {content}");
        }
        assert!(
            !content.contains("502") && !content.contains("138"),
            "{content}"
        );
        let r = build_request(
            TargetKind::Dingtalk,
            "http://h/robot/send?access_token=t",
            Some("SEC1"),
            "d",
            &msg(),
            1_700_000_000_000,
        );
        assert!(
            r.url
                .starts_with("http://h/robot/send?access_token=t&timestamp=1700000000000&sign=")
        );
        assert!(r.url.ends_with(&dingtalk_sign("SEC1", 1_700_000_000_000)));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["markdown"]["title"], "新工单");
        assert!(!v.to_string().contains("13812345678"));
        assert!(robot_accepted(br#"{"errcode":0,"errmsg":"ok"}"#));
        assert!(!robot_accepted(
            br#"{"errcode":310000,"errmsg":"sign not match"}"#
        ));
    }

    #[test]
    fn a_bulletin_summary_reaches_the_robots() {
        let m = Message {
            event: "bulletin_issued".into(),
            ticket_no: "2026年第12期".into(),
            category: "工作通报".into(),
            community: String::new(),
            unit: "河西区和平街道办事处".into(),
            title: "2026年第12期 “三改”工作月通报".into(),
            text: "通报批评：河西区和平街道办事处（综合 0.0%）。".repeat(200),
            resolution_due: "2026-12-03T10:00:00+08:00".into(),
            url: "http://x/bulletins/1".into(),
        };
        let r = build_request(TargetKind::Wecom, "http://h/send?key=k", None, "d", &m, 0);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let content = v["markdown"]["content"].as_str().unwrap();
        assert!(
            content.contains("2026年第12期") && content.contains("通报批评"),
            "{content}"
        );
        assert!(content.len() <= 4000);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(0), 5_000);
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(30), 3_600_000);
    }
}
