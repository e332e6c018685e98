//! The worker's side: pull one piece at a time from the work stream,
//! fetch the index its hunt names when it is not the one in hand (a piece
//! whose index cannot be had is turned back, to come again), scan it on
//! all cores while telling JetStream the work goes on, publish its result
//! in parts that each carry a message id (a repeat within two minutes is
//! dropped by the stream, a later one by the hunt), and only then
//! acknowledge it. A worker killed mid-piece leaves it unacknowledged, and
//! JetStream hands it to another worker after the ack wait.

use crate::conn::{IndexRef, Queue, Stop, data_bucket, fetch_index, object_to_file};
use crate::errors::{QueueError, nats};
use crate::metrics::WorkerStats;
use crate::wire::{HitWire, SummaryWire, WorkItem, into_parts};
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use cairn_hunt::{FieldMap, Hit, Index, ReportExtractor, ScanOptions, Scanner};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long JetStream waits for an acknowledgement before giving the
    /// piece to another worker (progress is reported every third of it).
    pub ack_wait: Duration,
    /// Stop after this many pieces (for tests and batch jobs).
    pub max_chunks: Option<u64>,
    /// Pieces in hand at once: a compressed file is read by one thread, so
    /// a worker takes as many pieces as it has cores (plain chunks share the
    /// cores between them).
    pub concurrency: usize,
    /// Wait this long before publishing each part of a result: a window in
    /// which fault-injection tests kill the worker with its piece scanned
    /// but not (or not wholly) published.
    pub pause: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            ack_wait: Duration::from_secs(30),
            max_chunks: None,
            concurrency: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pause: Duration::ZERO,
        }
    }
}

/// What every piece in flight shares.
struct Shared {
    js: async_nats::jetstream::Context,
    name: String,
    max_payload: usize,
    opts: WorkerOptions,
    stats: Arc<WorkerStats>,
    /// The index in hand; locked while one is fetched, so pieces of a new
    /// generation wait for one fetch instead of each making its own.
    index: tokio::sync::Mutex<Option<Arc<Index>>>,
}

impl Queue {
    /// Works on the queue until `stop` is requested (the pieces in hand
    /// are finished first) or `opts.max_chunks` are done.
    pub fn work(
        &self,
        opts: &WorkerOptions,
        stats: &Arc<WorkerStats>,
        stop: &Stop,
    ) -> Result<(), QueueError> {
        self.rt.block_on(async {
            let stream = self.work_stream().await?;
            self.results_stream().await?;
            let consumer = stream
                .get_or_create_consumer(
                    "workers",
                    pull::Config {
                        durable_name: Some("workers".into()),
                        ack_policy: AckPolicy::Explicit,
                        ack_wait: opts.ack_wait,
                        filter_subject: self.work_subject(),
                        ..Default::default()
                    },
                )
                .await
                .map_err(nats("joining the workers"))?;
            let shared = Arc::new(Shared {
                js: self.js.clone(),
                name: self.name.clone(),
                max_payload: self.client.server_info().max_payload,
                opts: opts.clone(),
                stats: stats.clone(),
                index: tokio::sync::Mutex::new(None),
            });
            let width = opts.concurrency.max(1);
            let mut inflight: tokio::task::JoinSet<Result<(), QueueError>> =
                tokio::task::JoinSet::new();
            let mut taken = 0u64;
            let mut failure = None;
            loop {
                while let Some(done) = inflight.try_join_next() {
                    if let Ok(Err(e)) = done {
                        failure.get_or_insert(e);
                    }
                }
                if failure.is_some()
                    || stop.requested()
                    || opts.max_chunks.is_some_and(|m| taken >= m)
                {
                    break;
                }
                if inflight.len() >= width {
                    tokio::select! {
                        _ = inflight.join_next() => {}
                        () = stop.wait() => {}
                    }
                    // Reaped (with its error) at the top of the loop.
                    continue;
                }
                let want = (width - inflight.len()) as u64;
                let want = opts.max_chunks.map_or(want, |m| want.min(m - taken));
                // Short pulls while pieces are in hand, so finished ones are
                // replaced soon; a longer one when idle.
                let expires = if inflight.is_empty() { 1000 } else { 100 };
                let mut batch = consumer
                    .fetch()
                    .max_messages(want as usize)
                    .expires(Duration::from_millis(expires))
                    .messages()
                    .await
                    .map_err(nats("pulling work"))?;
                loop {
                    let next = tokio::select! {
                        m = batch.next() => m,
                        () = stop.wait() => None,
                    };
                    // Errors are pull timeouts and heartbeats: pull again.
                    let Some(Ok(msg)) = next else { break };
                    taken += 1;
                    inflight.spawn(piece(shared.clone(), msg));
                }
            }
            // Drain: the pieces in hand are finished and acknowledged.
            stats.draining.store(true, Ordering::Relaxed);
            while let Some(done) = inflight.join_next().await {
                if let Ok(Err(e)) = done {
                    failure.get_or_insert(e);
                }
            }
            failure.map_or(Ok(()), Err)
        })
    }
}

/// One piece: its index in hand, scanned, its result published and
/// confirmed, then acknowledged.
async fn piece(sh: Arc<Shared>, msg: async_nats::jetstream::Message) -> Result<(), QueueError> {
    let stats = &sh.stats;
    if msg.info().is_ok_and(|i| i.delivered > 1) {
        stats.redelivered.fetch_add(1, Ordering::Relaxed);
    }
    let Ok(item) = serde_json::from_slice::<WorkItem>(&msg.payload) else {
        // Not ours to read: never deliver it again.
        let _ = msg.ack_with(AckKind::Term).await;
        stats.failed.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    };
    let ix = {
        let mut held = sh.index.lock().await;
        if held.as_ref().is_none_or(|ix| ix.tag() != item.tag) {
            let r = IndexRef {
                tag: item.tag.clone(),
                object: item.object.clone(),
            };
            match fetch_index(&sh.js, &sh.name, &r).await {
                Ok(Some(ix)) => {
                    *held = Some(Arc::new(ix));
                    stats.index_loads.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    // Another generation's piece, and its index is not
                    // (yet) to be had: refused, to come again.
                    stats.refused.fetch_add(1, Ordering::Relaxed);
                    let _ = msg
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                        .await;
                    return Ok(());
                }
            }
        }
        match held.clone() {
            Some(ix) => ix,
            None => return Ok(()),
        }
    };
    // A shipped log is fetched to a scratch file first.
    let mut item = item;
    let scratch = match &item.data {
        None => None,
        Some(object) => match fetch_data(&sh, object).await {
            Ok((dir, path)) => {
                item.path = path.display().to_string();
                Some(dir)
            }
            Err(_) => {
                // Another worker may fare better; the hunt's patience ends it.
                stats.failed.fetch_add(1, Ordering::Relaxed);
                let _ = msg
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                    .await;
                return Ok(());
            }
        },
    };
    let t0 = Instant::now();
    // Scanned on the scanning pool itself, as a local hunt scans each input:
    // a compressed file's reading then takes a pool thread instead of one
    // more thread beside the pool's.
    let (done, scan) = tokio::sync::oneshot::channel();
    rayon::spawn({
        let item = item.clone();
        move || {
            let _ = done.send(scan_piece(&ix, &item));
        }
    });
    tokio::pin!(scan);
    let ack_wait = sh.opts.ack_wait;
    let mut tick = tokio::time::interval((ack_wait / 3).max(Duration::from_millis(100)));
    tick.tick().await;
    let scanned = loop {
        tokio::select! {
            r = &mut scan => break r,
            _ = tick.tick() => { let _ = msg.ack_with(AckKind::Progress).await; }
        }
    };
    stats
        .busy_ms
        .fetch_add(t0.elapsed().as_millis() as u64, Ordering::Relaxed);
    // The shipped log is read: its scratch folder goes.
    drop(scratch);
    let (summary, error, hits) = match scanned {
        Ok(r) => r,
        Err(e) => (
            None,
            Some(format!("{}: worker failed: {e}", item.name)),
            Vec::new(),
        ),
    };
    if error.is_some() {
        stats.failed.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(s) = &summary {
        stats.bytes.fetch_add(s.bytes, Ordering::Relaxed);
        stats.lines.fetch_add(s.lines, Ordering::Relaxed);
    }
    stats.hits.fetch_add(hits.len() as u64, Ordering::Relaxed);
    let budget = (sh.max_payload / 2).clamp(4 << 10, 512 << 10);
    let parts = into_parts(&item.run, item.seq, summary, error, hits, budget);
    let subject = format!("{}.results.{}", sh.name, item.run);
    let mut acks = Vec::with_capacity(parts.len());
    for (i, body) in parts.into_iter().enumerate() {
        if !sh.opts.pause.is_zero() {
            tokio::time::sleep(sh.opts.pause).await;
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("{}.{}.{i}", item.run, item.seq).as_str(),
        );
        let ack = sh
            .js
            .publish_with_headers(subject.clone(), headers, body.into())
            .await
            .map_err(nats("publishing results"))?;
        acks.push(ack);
    }
    for a in acks {
        a.await.map_err(nats("publishing results"))?;
    }
    // Results are safe in the stream; the piece is done.
    let _ = msg.double_ack().await;
    stats.chunks.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A shipped log, copied from the data bucket into a scratch file
/// (removed when the folder is dropped).
async fn fetch_data(sh: &Shared, object: &str) -> Result<(tempfile::TempDir, PathBuf), QueueError> {
    let bucket = data_bucket(&sh.js, &sh.name).await?;
    let mut obj = bucket
        .get(object)
        .await
        .map_err(nats("fetching a shipped log"))?;
    object_to_file(&mut obj).await
}

/// Scans one piece: its counts, its error, its hits in line order.
fn scan_piece(
    index: &Index,
    item: &WorkItem,
) -> (Option<SummaryWire>, Option<String>, Vec<HitWire>) {
    let mut fields = FieldMap::new();
    for spec in &item.scan.fields {
        if let Err(e) = fields.add_spec(spec) {
            return (None, Some(e.to_string()), Vec::new());
        }
    }
    let format = match item.scan.format.parse() {
        Ok(f) => f,
        Err(e) => return (None, Some(e), Vec::new()),
    };
    let opts = ScanOptions {
        format,
        fields,
        max_line_len: item.scan.max_line.max(1024),
        extractor: Arc::new(ReportExtractor::default()),
        ..ScanOptions::default()
    };
    let hits = Mutex::new(Vec::new());
    let r = Scanner::new(index, opts).scan_chunk(
        &PathBuf::from(&item.path),
        &item.name,
        item.chunk,
        &|batch: Vec<Hit>| {
            if let Ok(mut h) = hits.lock() {
                h.extend(batch.into_iter().map(HitWire::from_hit));
            }
        },
    );
    let hits = hits.into_inner().unwrap_or_default();
    match r {
        Ok(s) => (Some(SummaryWire::from_summary(&s)), None, hits),
        Err(e) => (None, Some(e.to_string()), hits),
    }
}
