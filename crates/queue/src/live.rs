//! Live matching: log events as shippers (Vector, Fluent Bit, a Zeek
//! plugin) publish them on a core NATS subject, read in a queue group so
//! that several hunters share one stream, and alerts published back on a
//! subject of their own.

use crate::conn::{Queue, Stop};
use crate::errors::{QueueError, nats};
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A subscription to a subject carrying log events.
pub struct Feed {
    sub: async_nats::Subscriber,
}

/// Why [`Feed::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// The time given passed.
    Deadline,
    /// The number of events given came.
    Count,
    /// A stop was requested.
    Stopped,
    /// The server ended the subscription.
    Closed,
}

/// Publishes payloads on one subject from any thread, in order, without
/// waiting (a task of the queue's runtime sends them).
pub struct Publisher {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    task: tokio::task::JoinHandle<()>,
}

impl Queue {
    /// Subscribes to `subject`, in the queue group `group` when given
    /// (each event then goes to one member of the group).
    pub fn subscribe(&self, subject: &str, group: Option<&str>) -> Result<Feed, QueueError> {
        let subject = subject.to_string();
        let sub = self.rt.block_on(async {
            match group {
                Some(g) => self.client.queue_subscribe(subject, g.to_string()).await,
                None => self.client.subscribe(subject).await,
            }
        });
        Ok(Feed {
            sub: sub.map_err(nats("subscribing"))?,
        })
    }

    /// A publisher on `subject`.
    pub fn publisher(&self, subject: &str) -> Publisher {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let client = self.client.clone();
        let subject = subject.to_string();
        let task = self.rt.spawn(async move {
            while let Some(p) = rx.recv().await {
                if client.publish(subject.clone(), p.into()).await.is_err() {
                    break;
                }
            }
            let _ = client.flush().await;
        });
        Publisher { tx, task }
    }

    /// Hands each event's payload to `on_event` until `until` passes,
    /// `max` more events have come, `stop` is requested or the server
    /// ends the subscription.
    pub fn run_feed(
        &self,
        feed: &mut Feed,
        until: Option<Instant>,
        max: Option<u64>,
        stop: &Stop,
        on_event: &mut dyn FnMut(&[u8]),
    ) -> FeedEnd {
        self.rt.block_on(async {
            let mut n = 0u64;
            loop {
                if max.is_some_and(|m| n >= m) {
                    return FeedEnd::Count;
                }
                if stop.requested() {
                    return FeedEnd::Stopped;
                }
                let left = until.map(|u| u.saturating_duration_since(Instant::now()));
                if left == Some(Duration::ZERO) {
                    return FeedEnd::Deadline;
                }
                let wait = left
                    .unwrap_or(Duration::from_secs(3600))
                    .min(Duration::from_millis(250));
                match tokio::time::timeout(wait, feed.sub.next()).await {
                    Err(_) => continue,
                    Ok(None) => return FeedEnd::Closed,
                    Ok(Some(m)) => {
                        n += 1;
                        on_event(&m.payload);
                    }
                }
            }
        })
    }
}

impl Publisher {
    /// Queues `payload` for publication.
    pub fn send(&self, payload: Vec<u8>) {
        let _ = self.tx.send(payload);
    }

    /// Publishes what is queued, flushes, and ends.
    pub fn close(self, queue: &Queue) -> Result<(), QueueError> {
        drop(self.tx);
        queue.rt.block_on(self.task).map_err(nats("publishing"))
    }
}
