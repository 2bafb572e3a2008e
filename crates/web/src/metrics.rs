//! Prometheus metrics, kept by hand: request counts by route and status class, and a latency histogram.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

pub struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(String, String, String), Series>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics { started: Instant::now(), requests: Mutex::new(BTreeMap::new()) }
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = (method.to_string(), route.to_string(), format!("{}xx", status / 100));
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let s = map.entry(key).or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP gridward_up_seconds Seconds since the server started.\n# TYPE gridward_up_seconds gauge");
        let _ = writeln!(out, "gridward_up_seconds {:.3}", self.started.elapsed().as_secs_f64());
        let _ = writeln!(out, "# HELP gridward_build_info Version and storage backend.\n# TYPE gridward_build_info gauge");
        let _ = writeln!(out, "gridward_build_info{{version=\"{}\",backend=\"{backend}\"}} 1", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(
            out,
            "# HELP gridward_http_requests_total HTTP requests by route and status class.\n# TYPE gridward_http_requests_total counter"
        );
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "gridward_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP gridward_http_request_duration_seconds Request latency.\n# TYPE gridward_http_request_duration_seconds histogram"
        );
        for ((method, route, status), s) in map.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "gridward_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "gridward_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "gridward_http_request_duration_seconds_sum{{{labels}}} {:.6}", s.sum_seconds);
            let _ = writeln!(out, "gridward_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

/// Records every request under its route pattern (never the raw path, which would explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
