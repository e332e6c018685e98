//! `GET /metrics`: the server's counters in Prometheus' text format —
//! HTTP responses by class and duration, requests in flight, the store
//! generation the engines serve, the hunt index's size, the answer cache
//! and the prose readers built. Operational counts only, nothing a
//! clearance hides; a reader's token (or anonymous read) sees them, as
//! with `/api/v1/stats`.

use crate::auth::ApiCaller;
use crate::http_metrics::BOUNDS;
use crate::state::App;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new().route("/metrics", get(metrics))
}

/// Counts every request the server answers (rejections included).
pub(crate) async fn count(State(app): State<App>, req: Request, next: Next) -> Response {
    let m = &app.inner.http;
    m.in_flight.fetch_add(1, Ordering::Relaxed);
    let t0 = Instant::now();
    let resp = next.run(req).await;
    m.observe(resp.status().as_u16(), t0.elapsed().as_secs_f64());
    m.in_flight.fetch_sub(1, Ordering::Relaxed);
    resp
}

async fn metrics(State(app): State<App>, ApiCaller(_c): ApiCaller) -> Response {
    let m = &app.inner.http;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP cairn_http_requests_total Responses by status class.\n# TYPE cairn_http_requests_total counter"
    );
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(
            out,
            "cairn_http_requests_total{{code=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP cairn_http_requests_in_flight Requests being answered.\n# TYPE cairn_http_requests_in_flight gauge\ncairn_http_requests_in_flight {}",
        m.in_flight.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP cairn_http_request_duration_seconds Time to answer.\n# TYPE cairn_http_request_duration_seconds histogram"
    );
    for (b, bound) in m.buckets.iter().zip(BOUNDS) {
        let _ = writeln!(
            out,
            "cairn_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            b.load(Ordering::Relaxed)
        );
    }
    let count = m.count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "cairn_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\ncairn_http_request_duration_seconds_sum {:.6}\ncairn_http_request_duration_seconds_count {count}",
        m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let engines = app.engines();
    let answers = app.answer_stats();
    let reports = app.report_stats();
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    let gauges: [(&str, &str, &str, String); 7] = [
        (
            "store_generation",
            "gauge",
            "The store generation the engines serve.",
            engines.generation.to_string(),
        ),
        (
            "index_indicators",
            "gauge",
            "Indicator values in the hunt index.",
            engines.index.len().to_string(),
        ),
        (
            "index_built_timestamp_seconds",
            "gauge",
            "When the hunt index was built.",
            engines.built.as_second().to_string(),
        ),
        (
            "answer_cache_hits_total",
            "counter",
            "Answers served from memory.",
            n(&answers, "hits").to_string(),
        ),
        (
            "answer_cache_made_total",
            "counter",
            "Answers made.",
            n(&answers, "made").to_string(),
        ),
        (
            "prose_readers_built_total",
            "counter",
            "Prose readers trained or loaded.",
            n(&reports, "trained").to_string(),
        ),
        (
            "uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            format!("{:.3}", m.started.elapsed().as_secs_f64()),
        ),
    ];
    for (name, kind, help, v) in gauges {
        let _ = writeln!(
            out,
            "# HELP cairn_{name} {help}\n# TYPE cairn_{name} {kind}\ncairn_{name} {v}"
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
