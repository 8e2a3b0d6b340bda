//! Sending one outbox message to its target, safely: the targets are admin-set, but a target
//! must still not become a way into the server's own network or a place where secrets leak.
//!
//! - no redirect is followed (a 3xx is a failed attempt);
//! - every attempt is bounded in time ([`TIMEOUT`]) and the answer read is bounded in size
//!   ([`MAX_RESPONSE_BYTES`]);
//! - a target whose address is loopback, link-local, private or otherwise not public is refused,
//!   unless `ANJU_WEBHOOK_ALLOW` names its network or host. The check is in the client's DNS
//!   resolver, so the address checked is the address connected to (no re-resolution between);
//!   address literals in URLs are checked before sending. Requests go direct, never through
//!   an HTTP proxy, so the check is about the real target;
//! - a signing secret is read only from an environment variable named `ANJU_WEBHOOK_…`;
//! - the failure recorded (`last_error`, logs) never carries the URL (robot URLs carry their
//!   key), nor the robot's answer beyond its error code and message.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::config::WebhookAllowList;

use super::format::{Message, TargetKind, build_request};
use super::outbox::OutboxRow;

/// The prefix every `secret_env` must have: the server reads no other variable for a target.
pub const SECRET_ENV_PREFIX: &str = "ANJU_WEBHOOK_";
/// The longest one attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes of a target's answer that are read.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024;

/// Sends outbox messages under the rules above. Cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    allow: Arc<WebhookAllowList>,
}

impl Deliverer {
    /// A deliverer that allows non-public targets only where `allow` names them.
    pub fn new(allow: WebhookAllowList) -> Result<Deliverer, anyhow::Error> {
        let allow = Arc::new(allow);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .dns_resolver(PublicOnly {
                allow: allow.clone(),
            })
            .build()
            .map_err(|e| anyhow::anyhow!("webhook client: {}", e.without_url()))?;
        Ok(Deliverer { client, allow })
    }

    /// Sends one message; `Err` carries the reason for the log and `last_error`, without the
    /// URL or any secret.
    pub async fn send(&self, row: &OutboxRow, now_ms: i64) -> Result<(), String> {
        let kind = TargetKind::parse(&row.target_kind).ok_or("unknown target kind")?;
        let message: Message =
            serde_json::from_str(&row.payload).map_err(|_| "unreadable stored message")?;
        let secret = match row.secret_env.as_deref().filter(|n| !n.is_empty()) {
            None => None,
            Some(name) if !name.starts_with(SECRET_ENV_PREFIX) => {
                return Err(format!(
                    "secret_env {name} refused: only variables named {SECRET_ENV_PREFIX}… are read"
                ));
            }
            Some(name) => Some(
                std::env::var(name)
                    .map_err(|_| format!("signing secret {name} is not set on this server"))?,
            ),
        };
        let target = reqwest::Url::parse(&row.url).map_err(|_| "the target URL is not valid")?;
        if !matches!(target.scheme(), "http" | "https") {
            return Err("the target URL is not http(s)".into());
        }
        let host = target.host_str().ok_or("the target URL has no host")?;
        // Address literals never reach the resolver: checked here.
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            self.check_literal(ip)?;
        }
        let req = build_request(kind, &row.url, secret.as_deref(), &row.id, &message, now_ms);
        let mut builder = self
            .client
            .post(&req.url)
            .header("Content-Type", "application/json")
            .body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let mut resp = builder
            .send()
            .await
            .map_err(|e| redact(&describe(e), &req.url))?;
        let status = resp.status();
        if !status.is_success() {
            // Includes 3xx: redirects are not followed.
            return Err(format!("HTTP {}", status.as_u16()));
        }
        if kind == TargetKind::Webhook {
            return Ok(());
        }
        let body = read_capped(&mut resp, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| redact(&describe(e), &req.url))?;
        match robot_answer(&body) {
            Some((0, _)) => Ok(()),
            Some((code, msg)) => Err(redact(
                &format!("robot refused: errcode {code} {msg}"),
                &req.url,
            )),
            None => Err("robot answered something that is not its JSON".into()),
        }
    }

    fn check_literal(&self, ip: IpAddr) -> Result<(), String> {
        if is_public(ip) || self.allow.permits(&ip.to_string(), ip) {
            Ok(())
        } else {
            Err(refusal(ip))
        }
    }
}

fn refusal(ip: IpAddr) -> String {
    format!(
        "target refused: {ip} is a loopback, link-local or private address (allow it with ANJU_WEBHOOK_ALLOW)"
    )
}

/// The resolver of the webhook client: drops addresses that are not public unless allowed.
struct PublicOnly {
    allow: Arc<WebhookAllowList>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addrs) => addrs.collect(),
                Err(e) => return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            };
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()) || allow.permits(&host, a.ip()))
                .collect();
            match (kept.is_empty(), found.first()) {
                (true, Some(first)) => Err(refusal(first.ip()).into()),
                _ => Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// Whether `ip` is an ordinary public unicast address: not loopback, private (RFC 1918,
/// unique local), link-local, shared (CGNAT), unspecified, broadcast, multicast, documentation
/// or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, _, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Reads at most `cap` bytes of the answer and stops there.
async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

/// A robot's `errcode` and (short) `errmsg`.
fn robot_answer(body: &[u8]) -> Option<(i64, String)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("errcode")?.as_i64()?;
    let msg = v
        .get("errmsg")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .chars()
        .take(120)
        .collect();
    Some((code, msg))
}

/// What went wrong, without the URL: the kind, then the causes.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else if e.is_body() || e.is_decode() {
        "answer unreadable"
    } else {
        "send failed"
    };
    let e = e.without_url();
    let mut text = kind.to_string();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `text` with the URL, its query and its path (robot keys live there) cut out.
pub fn redact(text: &str, url: &str) -> String {
    let mut out = text.replace(url, "<target>");
    if let Ok(u) = reqwest::Url::parse(url) {
        if let Some(q) = u.query().filter(|q| !q.is_empty()) {
            out = out.replace(q, "<redacted>");
            for (_, v) in u.query_pairs() {
                if v.len() >= 6 {
                    out = out.replace(v.as_ref(), "<redacted>");
                }
            }
        }
        let path = u.path();
        if path.len() > 1 {
            out = out.replace(path, "<path>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "203.208.60.1", "2400:3200::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn redaction_cuts_url_query_and_key() {
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx";
        let text = format!("error sending request for url ({url}): key=693a91f6-7xxx");
        let r = redact(&text, url);
        assert!(!r.contains("693a91f6"), "{r}");
        assert!(!r.contains("qyapi.weixin.qq.com/cgi-bin"), "{r}");
    }
}
