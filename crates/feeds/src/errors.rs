//! Every error a feed run can end in. Each names the feed's URL (or the
//! file inside it) and what went wrong; none leaves anything half-stored.

/// A feed failure.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The request never got an answer (refused, reset, timed out, no such
    /// host), after the retries.
    #[error("{url}: {message}")]
    Transport {
        /// What was fetched.
        url: String,
        /// The cause, with the number of attempts.
        message: String,
    },
    /// The server answered with an error status, after the retries.
    #[error("{url}: HTTP {status}{detail}")]
    Status {
        /// What was fetched.
        url: String,
        /// The status code.
        status: u16,
        /// Extra words (attempts).
        detail: String,
    },
    /// The body ended before the length the server announced, or broke off.
    #[error("{url}: body truncated: {message}")]
    Truncated {
        /// What was fetched.
        url: String,
        /// How much came.
        message: String,
    },
    /// The body is larger than the configured limit.
    #[error("{url}: body exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// What was fetched.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The body could not be decompressed or unpacked.
    #[error("{url}: {message}")]
    Archive {
        /// What was fetched.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The content is not what the feed kind expects.
    #[error("{url}: {message}")]
    Content {
        /// What was fetched.
        url: String,
        /// What was wrong, and where.
        message: String,
    },
    /// Intake refused the content (its message names the URL and place).
    #[error("{source}")]
    Parse {
        /// What was fetched.
        url: String,
        /// The intake error.
        source: cairn_intake::errors::IntakeError,
    },
    /// The feed's own settings are wrong (unknown kind, missing secret…).
    #[error("{0}")]
    Config(String),
    /// The store refused a write; it rolled back.
    #[error(transparent)]
    Store(#[from] cairn_kb::errors::KbError),
}
