//! The hunt's side of a distributed hunt: inputs cut into work items,
//! published to the work stream, results read back from the run's subject,
//! each chunk kept once however often it was delivered, and the chunks of
//! each input put back together in order (their line numbers made
//! absolute) before their hits are handed on.

use crate::conn::{IndexRef, Queue, data_bucket};
use crate::errors::{QueueError, nats};
use crate::wire::{HitWire, ResultPart, ScanSpec, SummaryWire, WorkItem};
use async_nats::jetstream::consumer::pull;
use cairn_hunt::errors::HuntError;
use cairn_hunt::{Chunk, FileSummary, Hit, Progress, Summary, plan_chunks};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A hunt to spread over the queue's workers.
pub struct HuntJob<'a> {
    /// The index the workers match with (see [`Queue::publish_index`]).
    pub index: &'a IndexRef,
    /// How to read the logs.
    pub scan: ScanSpec,
    /// Plain files larger than two chunks of this many bytes are cut.
    pub chunk_bytes: u64,
    /// Bytes per block (chunks are whole blocks; the scanner's block size).
    pub block: u64,
    /// Called with the input bytes each finished piece covered.
    pub progress: Option<Progress>,
    /// Send every input through the queue (each file one piece, in the
    /// queue's data bucket) instead of having workers read it by path: for
    /// workers that do not share the hunt's file system.
    pub ship: bool,
    /// Give up when no result came for this long (none: wait forever).
    pub patience: Option<Duration>,
    /// Called every few seconds without a result, with the pieces done and
    /// queued: the place to say that workers are awaited.
    pub on_wait: Option<&'a (dyn Fn(usize, usize) + Sync)>,
}

/// One input of the hunt and its pieces, in order.
struct Planned {
    name: Arc<str>,
    seqs: Vec<u32>,
    /// Pieces handed on so far, and their lines.
    next: usize,
    lines: u64,
    summary: Option<FileSummary>,
    error: Option<String>,
}

/// A finished piece, kept until the pieces before it are in.
struct Done {
    summary: Option<SummaryWire>,
    error: Option<String>,
    hits: Vec<HitWire>,
}

/// The parts of a piece received so far.
#[derive(Default)]
struct Parts {
    parts: u32,
    got: HashMap<u32, ResultPart>,
}

/// A hunt cut into work: the items, the inputs they belong to, and the
/// inputs that could not be opened.
struct Plan {
    items: Vec<WorkItem>,
    files: Vec<Planned>,
    /// Per piece: the input's file index and the bytes it covers.
    of: HashMap<u32, (usize, u64)>,
    errors: Vec<HuntError>,
}

impl Plan {
    /// Each input one piece, or (plain and large, unless shipped) its
    /// chunks.
    fn new(job: &HuntJob<'_>, run: &str, inputs: &[PathBuf]) -> Plan {
        let mut plan = Plan {
            items: Vec::new(),
            files: Vec::new(),
            of: HashMap::new(),
            errors: Vec::new(),
        };
        for path in inputs {
            let name = path.display().to_string();
            let planned = std::fs::canonicalize(path).and_then(|abs| {
                let chunks = if job.ship {
                    Vec::new()
                } else {
                    plan_chunks(&abs, job.chunk_bytes, job.block)?
                };
                let len = std::fs::metadata(&abs)?.len();
                Ok((abs, chunks, len))
            });
            let (abs, chunks, len) = match planned {
                Ok(p) => p,
                Err(source) => {
                    plan.errors.push(HuntError::Io { file: name, source });
                    continue;
                }
            };
            let pieces: Vec<Option<Chunk>> = if chunks.is_empty() {
                vec![None]
            } else {
                chunks.into_iter().map(Some).collect()
            };
            let mut seqs = Vec::new();
            for chunk in pieces {
                let seq = plan.items.len() as u32;
                plan.of
                    .insert(seq, (plan.files.len(), chunk.map_or(len, |c| c.bytes())));
                seqs.push(seq);
                plan.items.push(WorkItem {
                    run: run.to_string(),
                    seq,
                    path: abs.display().to_string(),
                    name: name.clone(),
                    chunk,
                    data: job.ship.then(|| format!("{run}-{seq}")),
                    tag: job.index.tag.clone(),
                    object: job.index.object.clone(),
                    scan: job.scan.clone(),
                });
            }
            plan.files.push(Planned {
                name: Arc::from(name.as_str()),
                seqs,
                next: 0,
                lines: 0,
                summary: None,
                error: None,
            });
        }
        plan
    }

    /// The summary of the pieces handed on, with the inputs' errors.
    fn summary(self) -> Summary {
        let mut summary = Summary {
            errors: self.errors,
            ..Summary::default()
        };
        for f in self.files {
            if let Some(s) = f.summary {
                summary.lines += s.lines;
                summary.bytes += s.bytes;
                summary.malformed += s.malformed;
                summary.hits += s.hits;
                summary.files.push(s);
            }
            if let Some(e) = f.error {
                summary.errors.push(HuntError::Elsewhere {
                    file: f.name.to_string(),
                    message: e,
                });
            }
        }
        summary
    }
}

impl Queue {
    /// Hunts `inputs` on the queue's workers, handing every hit to
    /// `on_hits` (within an input, in line order, lines absolute) and
    /// returning the summary a local scan of the same inputs returns.
    /// Every piece's hits are handed on exactly once, however many times
    /// the piece was delivered or scanned.
    pub fn hunt(
        &self,
        job: &HuntJob<'_>,
        inputs: &[PathBuf],
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<Summary, QueueError> {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let mut plan = Plan::new(job, &run, inputs);
        if plan.items.is_empty() {
            return Ok(plan.summary());
        }
        self.rt.block_on(async {
            let results = self.results_stream().await?;
            self.work_stream().await?;
            let subject = self.results_subject(&run);
            // Read from the start of the run's subject: results that come
            // before the reader is ready are kept by the stream.
            let consumer = results
                .create_consumer(pull::OrderedConfig {
                    filter_subject: subject.clone(),
                    ..Default::default()
                })
                .await
                .map_err(nats("reading results"))?;
            let mut messages = consumer.messages().await.map_err(nats("reading results"))?;
            let data = self.enqueue(&plan.items, job.ship).await?;
            let collected = self
                .collect(job, &run, &mut plan, &mut messages, on_hits)
                .await;
            // The run's results are read (or given up): drop them, and
            // what was shipped.
            let _ = results.purge().filter(subject).await;
            if let Some(bucket) = &data {
                for object in plan.items.iter().filter_map(|i| i.data.as_ref()) {
                    let _ = bucket.delete(object).await;
                }
            }
            collected
        })?;
        Ok(plan.summary())
    }

    /// Ships the items' logs when asked (returning the data bucket), then
    /// publishes the items and waits for the server to hold them.
    async fn enqueue(
        &self,
        items: &[WorkItem],
        ship: bool,
    ) -> Result<Option<async_nats::jetstream::object_store::ObjectStore>, QueueError> {
        let data = if ship {
            Some(data_bucket(&self.js, &self.name).await?)
        } else {
            None
        };
        if let Some(bucket) = &data {
            for item in items {
                let Some(object) = &item.data else { continue };
                let mut f =
                    tokio::fs::File::open(&item.path)
                        .await
                        .map_err(|source| QueueError::Io {
                            path: item.path.clone().into(),
                            source,
                        })?;
                bucket
                    .put(object.as_str(), &mut f)
                    .await
                    .map_err(nats("shipping a log"))?;
            }
        }
        let mut acks = Vec::with_capacity(items.len());
        for item in items {
            let body = serde_json::to_vec(item).unwrap_or_default();
            let ack = self
                .js
                .publish(self.work_subject(), body.into())
                .await
                .map_err(nats("queueing work"))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(nats("queueing work"))?;
        }
        Ok(data)
    }

    /// Reads the run's result parts until every piece is whole and handed
    /// on; the first copy of each part is kept.
    async fn collect(
        &self,
        job: &HuntJob<'_>,
        run: &str,
        plan: &mut Plan,
        messages: &mut async_nats::jetstream::consumer::pull::Ordered,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<(), QueueError> {
        let total = plan.items.len();
        let mut parts: HashMap<u32, Parts> = HashMap::new();
        // Pieces whole but waiting for earlier pieces of their input.
        let mut waiting: HashMap<u32, Done> = HashMap::new();
        let mut finished: HashSet<u32> = HashSet::new();
        let mut last = Instant::now();
        while finished.len() < total {
            let msg = match tokio::time::timeout(Duration::from_secs(5), messages.next()).await {
                Err(_) => {
                    if let Some(w) = job.on_wait {
                        w(finished.len(), total);
                    }
                    if let Some(p) = job.patience
                        && last.elapsed() >= p
                    {
                        return Err(QueueError::NoWorkers {
                            waited: last.elapsed(),
                            done: finished.len(),
                            total,
                        });
                    }
                    continue;
                }
                Ok(None) => {
                    return Err(QueueError::Nats {
                        what: "reading results".into(),
                        reason: "the server closed the subscription".into(),
                    });
                }
                Ok(Some(Err(e))) => return Err(nats("reading results")(e)),
                Ok(Some(Ok(m))) => m,
            };
            last = Instant::now();
            let Ok(part) = serde_json::from_slice::<ResultPart>(&msg.payload) else {
                continue;
            };
            let seq = part.seq;
            let Some(&(file, bytes)) = plan.of.get(&seq) else {
                continue;
            };
            if part.run != run || finished.contains(&seq) {
                continue;
            }
            let entry = parts.entry(seq).or_default();
            entry.parts = part.parts;
            entry.got.entry(part.part).or_insert(part);
            if entry.got.len() < entry.parts as usize {
                continue;
            }
            if let Some(p) = parts.remove(&seq) {
                waiting.insert(seq, p.join());
            }
            finished.insert(seq);
            if let Some(pr) = &job.progress {
                pr(bytes);
            }
            hand_on(&mut plan.files[file], &mut waiting, on_hits);
        }
        Ok(())
    }
}

impl Parts {
    /// The piece from its parts, hits in order.
    fn join(mut self) -> Done {
        let mut done = Done {
            summary: None,
            error: None,
            hits: Vec::new(),
        };
        for i in 0..self.parts {
            if let Some(mut part) = self.got.remove(&i) {
                done.hits.append(&mut part.hits);
                if i == 0 {
                    done.summary = part.summary;
                    done.error = part.error;
                }
            }
        }
        done
    }
}

/// Hands on the pieces of `f` that are in and follow those handed on,
/// in order, their lines made absolute, and adds them to its summary.
fn hand_on(f: &mut Planned, waiting: &mut HashMap<u32, Done>, on_hits: &(dyn Fn(Vec<Hit>) + Sync)) {
    while let Some(&seq) = f.seqs.get(f.next) {
        let Some(d) = waiting.remove(&seq) else {
            return;
        };
        let base = f.lines;
        if !d.hits.is_empty() {
            on_hits(
                d.hits
                    .into_iter()
                    .map(|h| h.into_hit(&f.name, base))
                    .collect(),
            );
        }
        if let Some(s) = &d.summary {
            let piece = s.to_summary(&f.name, base);
            match &mut f.summary {
                None => f.summary = Some(piece),
                Some(t) => {
                    t.bytes += piece.bytes;
                    t.malformed += piece.malformed;
                    t.hits += piece.hits;
                    let room = 5usize.saturating_sub(t.malformed_examples.len());
                    t.malformed_examples
                        .extend(piece.malformed_examples.into_iter().take(room));
                    t.lines += piece.lines;
                }
            }
            f.lines += s.lines;
        }
        if let Some(e) = d.error {
            f.error.get_or_insert(e);
        }
        f.next += 1;
    }
}
