//! Every error of the crate.

use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// What can go wrong between Cairn and NATS.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The server could not be reached or refused the connection.
    #[error("NATS at {url}: {reason}")]
    Connect {
        /// The address given.
        url: String,
        /// The client's message.
        reason: String,
    },
    /// A JetStream or NATS operation failed.
    #[error("NATS {what}: {reason}")]
    Nats {
        /// What was being done.
        what: String,
        /// The client's or server's message.
        reason: String,
    },
    /// A queue name NATS cannot use in stream and bucket names.
    #[error("queue name `{0}`: use letters, digits, `-` and `_` only")]
    Name(String),
    /// A local file (an index written for upload, an input) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading an index fetched from the object store failed.
    #[error(transparent)]
    Hunt(#[from] cairn_hunt::errors::HuntError),
    /// No worker answered for this long.
    #[error(
        "no worker answered for {waited:?} ({done} of {total} chunks done); is `cairn worker` running against this queue?"
    )]
    NoWorkers {
        /// How long the hunt waited.
        waited: Duration,
        /// Chunks finished.
        done: usize,
        /// Chunks queued.
        total: usize,
    },
}

/// Turns any displayable error into a [`QueueError::Nats`] for `what`.
pub(crate) fn nats<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> QueueError + '_ {
    move |e| QueueError::Nats {
        what: what.to_string(),
        reason: e.to_string(),
    }
}
