//! Prometheus text metrics, kept by hand: a few counters need no exporter crate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

pub struct Metrics {
    started: Instant,
    requests: [AtomicU64; 5],
    duration_us: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            requests: Default::default(),
            duration_us: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn observe(&self, status: u16, micros: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
        self.duration_us.fetch_add(micros, Ordering::Relaxed);
    }

    fn text(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP taizhang_http_requests_total HTTP requests by status class.\n");
        s.push_str("# TYPE taizhang_http_requests_total counter\n");
        for (i, c) in self.requests.iter().enumerate() {
            s.push_str(&format!(
                "taizhang_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                c.load(Ordering::Relaxed)
            ));
        }
        s.push_str("# HELP taizhang_http_request_duration_seconds_sum Total time spent serving requests.\n");
        s.push_str("# TYPE taizhang_http_request_duration_seconds_sum counter\n");
        s.push_str(&format!(
            "taizhang_http_request_duration_seconds_sum {:.6}\n",
            self.duration_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        s.push_str("# HELP taizhang_uptime_seconds Seconds since the server started.\n");
        s.push_str("# TYPE taizhang_uptime_seconds gauge\n");
        s.push_str(&format!(
            "taizhang_uptime_seconds {}\n",
            self.started.elapsed().as_secs()
        ));
        s
    }
}

pub async fn render(State(st): State<AppState>) -> impl IntoResponse {
    let mut body = st.metrics.text();
    body.push_str("# HELP taizhang_up Whether the database answers.\n# TYPE taizhang_up gauge\n");
    let up = u8::from(st.app.store.ping().await.is_ok());
    body.push_str(&format!("taizhang_up {up}\n"));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
