//! Prometheus metrics kept in process: requests by route and status, a latency histogram by
//! route, and database pool use (read at scrape time). Each server process exposes its own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Counters and histograms behind one lock; recording is a map lookup and a few additions.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

impl Metrics {
    /// Records one finished request. `route` is the matched pattern (`/api/v1/track/{code}`),
    /// never the raw path, so secrets in paths do not become label values.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = inner.latency.entry(route.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The Prometheus text exposition, with the pool figures given by the caller.
    pub fn render(&self, pool: (u32, u32, u32)) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        out.push_str(
            "# HELP anju_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE anju_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "anju_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP anju_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE anju_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "anju_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "anju_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "anju_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "anju_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let (open, idle, max) = pool;
        out.push_str("# HELP anju_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE anju_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "anju_db_pool_connections{{state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
        let _ = writeln!(out, "anju_db_pool_connections{{state=\"idle\"}} {idle}");
        out.push_str(
            "# HELP anju_db_pool_max Database pool size.\n# TYPE anju_db_pool_max gauge\n",
        );
        let _ = writeln!(out, "anju_db_pool_max {max}");
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_fills_buckets_cumulatively() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, 0.002);
        m.record("GET", "/healthz", 200, 0.2);
        let text = m.render((3, 1, 8));
        assert!(text.contains(
            "anju_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.0025\"} 1"));
        assert!(text.contains("le=\"0.25\"} 2"));
        assert!(text.contains("anju_db_pool_connections{state=\"in_use\"} 2"));
    }
}
