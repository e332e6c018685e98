//! `cairn worker`: take pieces of distributed hunts (`cairn hunt --nats`)
//! from a NATS JetStream queue until SIGTERM or Ctrl-C, which finish the
//! piece in hand first. A worker needs no store: each hunt's index comes
//! through the queue. The work is `cairn_queue`'s.

use crate::Global;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The NATS JetStream server (`nats://host:4222`).
    #[arg(long, env = "CAIRN_NATS", value_name = "URL")]
    nats: String,
    /// The queue on the server (its streams and bucket are named after it).
    #[arg(
        long,
        env = "CAIRN_QUEUE",
        default_value = "cairn",
        value_name = "NAME"
    )]
    queue: String,
    /// Seconds JetStream waits for a piece's acknowledgement before giving it
    /// to another worker (progress is reported every third of it).
    #[arg(
        long,
        env = "CAIRN_ACK_WAIT",
        default_value_t = 30.0,
        value_name = "SECONDS"
    )]
    ack_wait: f64,
    /// Serve `/metrics` (Prometheus text format) and `/healthz` here.
    #[arg(long, env = "CAIRN_METRICS", value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// Scanning threads (default: one per core).
    #[arg(long, env = "CAIRN_THREADS", value_name = "N")]
    threads: Option<usize>,
    /// Pieces in hand at once (default: the scanning threads; a compressed
    /// file is read by one thread).
    #[arg(long, env = "CAIRN_PIECES", value_name = "N")]
    pieces: Option<usize>,
    /// Stop after this many pieces.
    #[arg(long, value_name = "N")]
    max_chunks: Option<u64>,
    /// Milliseconds to wait before publishing each part of a result (for
    /// fault-injection tests).
    #[arg(long, default_value_t = 0, hide = true)]
    pause_ms: u64,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    let queue = cairn_queue::Queue::connect(&args.nats, &args.queue)?;
    let stop = cairn_queue::Stop::new();
    queue.stop_on_signals(&stop);
    let stats = Arc::new(cairn_queue::WorkerStats::default());
    if let Some(addr) = args.metrics {
        let bound = queue.serve_metrics(addr, stats.clone())?;
        if !global.quiet {
            eprintln!("cairn: metrics on http://{bound}/metrics");
        }
    }
    if !global.quiet {
        eprintln!(
            "cairn: working for queue `{}` on {} (SIGTERM or Ctrl-C: finish the piece in hand, then stop)",
            args.queue, args.nats
        );
    }
    let opts = cairn_queue::WorkerOptions {
        ack_wait: Duration::from_secs_f64(args.ack_wait.clamp(1.0, 3600.0)),
        max_chunks: args.max_chunks,
        concurrency: args
            .pieces
            .or(args.threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        pause: Duration::from_millis(args.pause_ms),
    };
    queue.work(&opts, &stats, &stop)?;
    if !global.quiet {
        eprintln!(
            "cairn: {} piece(s), {} line(s), {} hit(s); {} redelivered, {} refused, {} failed",
            stats.chunks.load(Ordering::Relaxed),
            stats.lines.load(Ordering::Relaxed),
            stats.hits.load(Ordering::Relaxed),
            stats.redelivered.load(Ordering::Relaxed),
            stats.refused.load(Ordering::Relaxed),
            stats.failed.load(Ordering::Relaxed),
        );
    }
    Ok(ExitCode::SUCCESS)
}
