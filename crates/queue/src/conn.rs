//! A connection to NATS and the names of one queue's streams: work items
//! (`<queue>.work`, a work-queue stream: each item goes to one worker and
//! is gone once acknowledged), chunk results (`<queue>.results.<run>`,
//! kept an hour, duplicates dropped by message id) and the hunt index in
//! an object store bucket, one object per store generation.

use crate::errors::{QueueError, nats};
use async_nats::jetstream::{self, object_store, stream};
use cairn_hunt::Index;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A connection to a NATS server with JetStream, for one queue.
pub struct Queue {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) name: String,
}

/// Where a hunt's index is: its tag (store id and generation, as the
/// index cache keys it) and its object in the queue's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRef {
    /// The index's tag.
    pub tag: String,
    /// Its object's name.
    pub object: String,
}

/// A request to stop, set by a signal or by the caller: a worker finishes
/// the pieces in hand, acknowledges them and returns; a feed returns.
#[derive(Clone)]
pub struct Stop {
    flag: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            flag: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

impl Stop {
    /// A stop nobody has asked for yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks whoever watches this to stop.
    pub fn request(&self) {
        self.flag.send_replace(true);
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        *self.flag.borrow()
    }

    /// Resolves once a stop is asked for.
    pub(crate) async fn wait(&self) {
        let _ = self.flag.subscribe().wait_for(|stop| *stop).await;
    }
}

impl Queue {
    /// Connects to `url` (`nats://host:4222`) for the queue `name`
    /// (`cairn` unless several deployments share a server).
    pub fn connect(url: &str, name: &str) -> Result<Queue, QueueError> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(QueueError::Name(name.to_string()));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("cairn-nats")
            .build()
            .map_err(|source| QueueError::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let client = rt
            .block_on(
                async_nats::ConnectOptions::new()
                    .name("cairn")
                    .connection_timeout(Duration::from_secs(5))
                    .connect(url),
            )
            .map_err(|e| QueueError::Connect {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        // The context spawns a task: made inside the runtime.
        let js = {
            let _in = rt.enter();
            jetstream::new(client.clone())
        };
        Ok(Queue {
            rt,
            client,
            js,
            name: name.to_string(),
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Asks `stop` to be requested on SIGTERM or Ctrl-C (the handlers are
    /// in place when this returns).
    pub fn stop_on_signals(&self, stop: &Stop) {
        let stop = stop.clone();
        let _in = self.rt.enter();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            self.rt.spawn(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                stop.request();
            });
        }
        #[cfg(not(unix))]
        self.rt.spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.request();
        });
    }

    /// Removes the queue's streams and buckets, with whatever they hold
    /// (work not yet taken, results not yet read, indexes, shipped logs).
    pub fn remove(&self) -> Result<(), QueueError> {
        self.rt.block_on(async {
            for stream in [
                format!("{}_WORK", self.name),
                format!("{}_RESULTS", self.name),
            ] {
                if self.js.get_stream(&stream).await.is_ok() {
                    self.js
                        .delete_stream(&stream)
                        .await
                        .map_err(nats("removing the queue"))?;
                }
            }
            for bucket in [
                format!("{}_index", self.name),
                format!("{}_data", self.name),
            ] {
                if self.js.get_object_store(&bucket).await.is_ok() {
                    self.js
                        .delete_object_store(&bucket)
                        .await
                        .map_err(nats("removing the queue"))?;
                }
            }
            Ok(())
        })
    }

    pub(crate) fn work_subject(&self) -> String {
        format!("{}.work", self.name)
    }

    pub(crate) fn results_subject(&self, run: &str) -> String {
        format!("{}.results.{run}", self.name)
    }

    /// The work stream, created when missing.
    pub(crate) async fn work_stream(&self) -> Result<stream::Stream, QueueError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("{}_WORK", self.name),
                subjects: vec![self.work_subject()],
                retention: stream::RetentionPolicy::WorkQueue,
                // Work nobody took within a day is for a hunt long gone.
                max_age: Duration::from_secs(24 * 3600),
                ..Default::default()
            })
            .await
            .map_err(nats("creating the work stream"))
    }

    /// The results stream, created when missing.
    pub(crate) async fn results_stream(&self) -> Result<stream::Stream, QueueError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("{}_RESULTS", self.name),
                subjects: vec![format!("{}.results.>", self.name)],
                max_age: Duration::from_secs(3600),
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(nats("creating the results stream"))
    }

    /// Puts `index` in the queue's bucket unless an index with its tag is
    /// there already, and says where it is.
    pub fn publish_index(&self, index: &Index) -> Result<IndexRef, QueueError> {
        let tag = index.tag().to_string();
        let object = object_name(&tag);
        self.rt.block_on(async {
            let bucket = bucket(&self.js, &self.name).await?;
            if bucket.info(&object).await.is_ok_and(|i| !i.deleted) {
                return Ok(IndexRef { tag, object });
            }
            let (dir, path) = scratch()?;
            index.save(&path)?;
            let mut f = tokio::fs::File::open(&path)
                .await
                .map_err(|source| QueueError::Io { path, source })?;
            bucket
                .put(object.as_str(), &mut f)
                .await
                .map_err(nats("uploading the index"))?;
            drop(dir);
            Ok(IndexRef { tag, object })
        })
    }
}

/// The object name of the index tagged `tag` (tags hold characters object
/// names may not).
fn object_name(tag: &str) -> String {
    format!("index-{:016x}", xxhash_rust::xxh3::xxh3_64(tag.as_bytes()))
}

/// The queue `name`'s index bucket, created when missing.
async fn bucket(
    js: &jetstream::Context,
    name: &str,
) -> Result<object_store::ObjectStore, QueueError> {
    named_bucket(
        js,
        format!("{name}_index"),
        "Cairn hunt indexes, one per store generation",
        Duration::from_secs(7 * 24 * 3600),
    )
    .await
}

/// The queue `name`'s bucket of shipped logs (`hunt --nats --ship`),
/// created when missing; what a hunt that died left there expires in a day.
pub(crate) async fn data_bucket(
    js: &jetstream::Context,
    name: &str,
) -> Result<object_store::ObjectStore, QueueError> {
    named_bucket(
        js,
        format!("{name}_data"),
        "Logs shipped to Cairn workers, one object per piece",
        Duration::from_secs(24 * 3600),
    )
    .await
}

async fn named_bucket(
    js: &jetstream::Context,
    bucket: String,
    description: &str,
    max_age: Duration,
) -> Result<object_store::ObjectStore, QueueError> {
    if let Ok(b) = js.get_object_store(&bucket).await {
        return Ok(b);
    }
    js.create_object_store(object_store::Config {
        bucket,
        description: Some(description.into()),
        max_age,
        ..Default::default()
    })
    .await
    .map_err(nats("creating a bucket"))
}

/// The index `r` names, from the queue `name`'s bucket, if it is there
/// and carries its tag.
pub(crate) async fn fetch_index(
    js: &jetstream::Context,
    name: &str,
    r: &IndexRef,
) -> Result<Option<Index>, QueueError> {
    let bucket = bucket(js, name).await?;
    let mut obj = match bucket.get(&r.object).await {
        Ok(o) => o,
        Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(nats("fetching the index")(e)),
    };
    let (_dir, path) = object_to_file(&mut obj).await?;
    let index = Index::load(&path)?;
    Ok((index.tag() == r.tag).then_some(index))
}

/// A scratch folder (removed when dropped) and the path of a file in it.
pub(crate) fn scratch() -> Result<(tempfile::TempDir, PathBuf), QueueError> {
    let dir = tempfile::tempdir().map_err(|source| QueueError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let path = dir.path().join("object");
    Ok((dir, path))
}

/// Copies an object of a bucket into a scratch file, streaming.
pub(crate) async fn object_to_file(
    obj: &mut object_store::Object,
) -> Result<(tempfile::TempDir, PathBuf), QueueError> {
    let (dir, path) = scratch()?;
    let mut f = tokio::fs::File::create(&path)
        .await
        .map_err(|source| QueueError::Io {
            path: path.clone(),
            source,
        })?;
    tokio::io::copy(obj, &mut f)
        .await
        .map_err(|source| QueueError::Io {
            path: path.clone(),
            source,
        })?;
    Ok((dir, path))
}
