//! A worker's counters, as Prometheus reads them, and the small HTTP
//! endpoint that serves them (`/metrics`, `/healthz`).

use crate::conn::Queue;
use crate::errors::QueueError;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// What a worker has done since it started.
#[derive(Debug)]
pub struct WorkerStats {
    started: Instant,
    /// Pieces scanned and acknowledged.
    pub chunks: AtomicU64,
    /// Pieces that arrived again (another worker died, or this one was slow).
    pub redelivered: AtomicU64,
    /// Pieces turned back because their index could not be had.
    pub refused: AtomicU64,
    /// Pieces whose input could not be read (reported to the hunt).
    pub failed: AtomicU64,
    /// Input bytes scanned.
    pub bytes: AtomicU64,
    /// Lines scanned.
    pub lines: AtomicU64,
    /// Hits found.
    pub hits: AtomicU64,
    /// Milliseconds spent scanning.
    pub busy_ms: AtomicU64,
    /// Indexes fetched from the bucket.
    pub index_loads: AtomicU64,
    /// Set once the worker drains (a stop was asked for).
    pub draining: AtomicBool,
}

impl Default for WorkerStats {
    fn default() -> Self {
        WorkerStats {
            started: Instant::now(),
            chunks: AtomicU64::new(0),
            redelivered: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            busy_ms: AtomicU64::new(0),
            index_loads: AtomicU64::new(0),
            draining: AtomicBool::new(false),
        }
    }
}

impl WorkerStats {
    /// The counters in Prometheus' text format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 9] = [
            (
                "chunks_total",
                "Pieces of input scanned and acknowledged.",
                &self.chunks,
            ),
            (
                "redelivered_total",
                "Pieces that arrived more than once.",
                &self.redelivered,
            ),
            (
                "refused_total",
                "Pieces turned back: their index was not to be had.",
                &self.refused,
            ),
            (
                "failed_total",
                "Pieces whose input could not be read.",
                &self.failed,
            ),
            ("bytes_total", "Input bytes scanned.", &self.bytes),
            ("lines_total", "Log lines scanned.", &self.lines),
            ("hits_total", "Indicator hits found.", &self.hits),
            (
                "busy_milliseconds_total",
                "Time spent scanning.",
                &self.busy_ms,
            ),
            (
                "index_loads_total",
                "Hunt indexes fetched from the bucket.",
                &self.index_loads,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP cairn_worker_{name} {help}\n# TYPE cairn_worker_{name} counter\ncairn_worker_{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP cairn_worker_uptime_seconds Seconds since the worker started.\n# TYPE cairn_worker_uptime_seconds gauge\ncairn_worker_uptime_seconds {:.3}",
            self.started.elapsed().as_secs_f64()
        );
        let _ = writeln!(
            out,
            "# HELP cairn_worker_draining 1 once the worker finishes its piece and stops.\n# TYPE cairn_worker_draining gauge\ncairn_worker_draining {}",
            u8::from(self.draining.load(Ordering::Relaxed))
        );
        out
    }
}

impl Queue {
    /// Serves `stats` on `addr` (`/metrics` in Prometheus' text format;
    /// `/healthz`: 200 while working, 503 once draining) for as long as
    /// the queue's connection lives. Returns the address bound.
    pub fn serve_metrics(
        &self,
        addr: SocketAddr,
        stats: Arc<WorkerStats>,
    ) -> Result<SocketAddr, QueueError> {
        use axum::http::{StatusCode, header};
        use axum::routing::get;
        let io = |source| QueueError::Io {
            path: addr.to_string().into(),
            source,
        };
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(addr))
            .map_err(io)?;
        let bound = listener.local_addr().map_err(io)?;
        let m = stats.clone();
        let app = axum::Router::new()
            .route(
                "/metrics",
                get(move || {
                    let m = m.clone();
                    async move {
                        (
                            [(
                                header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            m.prometheus(),
                        )
                    }
                }),
            )
            .route(
                "/healthz",
                get(move || {
                    let s = stats.clone();
                    async move {
                        if s.draining.load(Ordering::Relaxed) {
                            (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
                        } else {
                            (StatusCode::OK, "ok\n")
                        }
                    }
                }),
            );
        self.rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(bound)
    }
}
