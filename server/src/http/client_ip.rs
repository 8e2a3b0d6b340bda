//! Who is calling: the one place that decides a request's client address, for every limiter
//! (login throttle, intake, uploads, tracking) and for the request log line.
//!
//! Without `ANJU_TRUSTED_PROXIES` the client is the TCP peer and `X-Forwarded-For` is ignored
//! (anyone can send it). With it, when the peer is one of the trusted proxies, the
//! `X-Forwarded-For` hops are read from the right and the first hop that is not itself a
//! trusted proxy is the client: a hop left of it was written by the client and proves nothing.

use std::net::IpAddr;

use actix_web::{HttpMessage, HttpRequest, web};
use ipnet::IpNet;

use crate::state::AppState;

/// The networks whose requests may carry a client address in `X-Forwarded-For`
/// (`ANJU_TRUSTED_PROXIES`, comma-separated CIDRs or addresses). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 192.168.1.10, ::1`; a bare address is a single host. Names the
    /// first entry that is not a network.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        parse_nets(text).map(TrustedProxies)
    }

    /// Whether no proxy is trusted (the header is then ignored).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// Parses a comma- or space-separated list of CIDRs or bare addresses.
pub fn parse_nets(text: &str) -> Result<Vec<IpNet>, String> {
    text.split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| format!("{s:?} is not an address or a CIDR like 10.0.0.0/8"))
        })
        .collect()
}

/// The client address of a request, decided once per request by [`crate::http::observe`]
/// (with the server's trusted proxies) and kept in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The client address of `req`: see the module documentation. `None` only when the peer
/// address is unknown (a test request without a socket).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    if let Some(known) = req.extensions().get::<ClientIp>() {
        return known.0;
    }
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.trusted_proxies.clone())
        .unwrap_or_default();
    decide(req, &trusted)
}

/// Decides the client address of `req` with `trusted` proxies.
pub fn decide(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical());
    let headers: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    from_hops(peer, &headers, trusted)
}

/// The rule on plain values: `peer` is the TCP peer, `forwarded` the `X-Forwarded-For` header
/// values in the order received.
pub fn from_hops(
    peer: Option<IpAddr>,
    forwarded: &[&str],
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = forwarded
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage where an address should be: the proxy that passed it on is the best
            // address known.
            return Some(client);
        };
        client = ip;
        if !trusted.contains(ip) {
            return Some(ip);
        }
    }
    Some(client)
}

/// One hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            from_hops(Some(ip("10.0.0.5")), &["1.2.3.4"], &none),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        // The client forged a first hop; the proxy appended the real one.
        assert_eq!(
            from_hops(
                Some(ip("10.0.0.5")),
                &["6.6.6.6, 203.0.113.7", "192.168.1.1"],
                &t
            ),
            Some(ip("203.0.113.7"))
        );
        // A peer that is not a trusted proxy cannot speak for anyone.
        assert_eq!(
            from_hops(Some(ip("198.51.100.1")), &["203.0.113.7"], &t),
            Some(ip("198.51.100.1"))
        );
        // Ports and IPv4-mapped addresses.
        assert_eq!(
            from_hops(Some(ip("::ffff:10.0.0.5")), &["203.0.113.7:4444"], &t),
            Some(ip("203.0.113.7"))
        );
        // Garbage stops the walk at the proxy that passed it on.
        assert_eq!(
            from_hops(Some(ip("10.0.0.5")), &["nonsense"], &t),
            Some(ip("10.0.0.5"))
        );
        // No header: the peer.
        assert_eq!(
            from_hops(Some(ip("10.0.0.5")), &[], &t),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let e = TrustedProxies::parse("10.0.0.0/8,proxy.local").unwrap_err();
        assert!(e.contains("proxy.local"));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
