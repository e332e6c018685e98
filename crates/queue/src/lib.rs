//! Team scale for hunting: a hunt spread over workers through NATS
//! JetStream, and log events matched live as shippers publish them.
//!
//! A [`Queue`] is a connection to one NATS server for one queue (its
//! streams and bucket are named after it). The hunt's side puts its index
//! in the queue's object store ([`Queue::publish_index`], once per store
//! generation) and calls [`Queue::hunt`] with a [`HuntJob`]: inputs are cut
//! into pieces (whole compressed files; plain files in chunks of whole
//! line-aligned blocks, as the local scanner reads them), published as
//! work, and the hits come back through a results stream, each piece kept
//! once, its lines made absolute, handed on in order, so the caller makes
//! alerts exactly as for a local scan (`cairn_engine::hunt_from`). The
//! workers' side is [`Queue::work`]: pull a piece, fetch its index if it
//! is another generation's, scan, publish, acknowledge; counters in
//! [`WorkerStats`], served by [`Queue::serve_metrics`]. Live matching is
//! a [`Feed`] (a subscription, in a queue group) read by [`Queue::run_feed`]
//! and a [`Publisher`] for the alerts.
//!
//! Delivery is at least once; exactly-once output comes from the hunt
//! keeping the first copy of each piece's parts. Workers read inputs by
//! path, so every worker must see the files where the hunt names them (a
//! shared or replicated file system), unless the hunt ships them through
//! the queue's data bucket (`HuntJob::ship`).
//!
//! ```no_run
//! use cairn_queue::{HuntJob, Queue, ScanSpec};
//! # fn index() -> cairn_hunt::Index { cairn_hunt::IndexBuilder::new().build() }
//! let queue = Queue::connect("nats://127.0.0.1:4222", "cairn")?;
//! let index = queue.publish_index(&index())?;
//! let job = HuntJob {
//!     index: &index,
//!     scan: ScanSpec { format: "auto".into(), fields: vec![], max_line: 1 << 20 },
//!     chunk_bytes: 64 << 20,
//!     block: 256 << 10,
//!     progress: None,
//!     ship: false,
//!     patience: None,
//!     on_wait: None,
//! };
//! let summary = queue.hunt(&job, &["dns.log".into()], &|hits| {
//!     for h in hits {
//!         println!("{}:{} {}", h.file, h.line, h.value);
//!     }
//! })?;
//! # Ok::<(), cairn_queue::errors::QueueError>(())
//! ```
#![deny(missing_docs)]

mod conn;
mod coordinator;
pub mod errors;
mod live;
mod metrics;
mod wire;
mod worker;

pub use conn::{IndexRef, Queue, Stop};
pub use coordinator::HuntJob;
pub use live::{Feed, FeedEnd, Publisher};
pub use metrics::WorkerStats;
pub use wire::ScanSpec;
pub use worker::WorkerOptions;
