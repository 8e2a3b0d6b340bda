//! A raw keep-alive HTTP/1.1 client for load: requests are prepared bytes written to a TCP
//! stream, responses are read only as far as their status and `Content-Length` body, so the
//! client costs next to nothing beside the server it measures.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bytes of `POST path` with a JSON `body`, for [`round_trip`].
pub fn post_json(addr: SocketAddr, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The bytes of `GET path` with a bearer `token`, for [`round_trip`].
pub fn get_with_token(addr: SocketAddr, path: &str, token: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n")
        .into_bytes()
}

/// Opens a connection to `addr` with Nagle off; `None` when it is refused.
pub async fn connect(addr: SocketAddr) -> Option<TcpStream> {
    let s = TcpStream::connect(addr).await.ok()?;
    let _ = s.set_nodelay(true);
    Some(s)
}

/// Writes `req` on `s` and reads one whole response (head and `Content-Length` body) into
/// `buf` (grown as needed). Returns its status, or `None` when the write failed or the
/// connection closed before a whole response arrived (the connection is then unusable).
pub async fn round_trip(s: &mut TcpStream, req: &[u8], buf: &mut Vec<u8>) -> Option<u16> {
    if buf.is_empty() {
        buf.resize(16 * 1024, 0);
    }
    s.write_all(req).await.ok()?;
    let mut have = 0usize;
    loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match s.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        have += n;
        let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if have >= end + 4 + len {
            return head.get(9..12).and_then(|c| c.parse().ok());
        }
    }
}

/// Microseconds since `t0`, saturated to `u32`.
pub fn elapsed_us(t0: std::time::Instant) -> u32 {
    t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32
}
