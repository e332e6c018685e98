//! Errors of index building, caching and log scanning.

use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while hunting. Log-content problems that
/// affect one line are not errors: they are counted as malformed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HuntError {
    /// A log file (or stdin) could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file, `-` for stdin.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A compressed log ends early or is corrupt.
    #[error(
        "{file}: {codec} stream is truncated or corrupt after line {line} (at compressed byte offset {offset}): {reason}"
    )]
    Truncated {
        /// The file.
        file: String,
        /// `gzip` or `zstd`.
        codec: &'static str,
        /// Last complete line read before the damage.
        line: u64,
        /// Compressed bytes consumed when the damage was found.
        offset: u64,
        /// The decoder's message.
        reason: String,
    },
    /// A cached index file cannot be read back (the caller rebuilds it).
    #[error("index cache {path}: {reason}")]
    CorruptIndex {
        /// The cache file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Writing the index cache failed.
    #[error("index cache {path}: {source}")]
    CacheIo {
        /// The cache file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `--field name=type` specification is wrong.
    #[error("field mapping `{spec}`: {reason}")]
    FieldSpec {
        /// The specification as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// An input scanned by another process (a distributed hunt's worker)
    /// failed there; `message` is that process's error, file included.
    #[error("{message}")]
    Elsewhere {
        /// The input.
        file: String,
        /// The error as the worker reported it.
        message: String,
    },
    /// More indicators than the index can address.
    #[error("too many indicators for one index ({0}); the limit is 4,294,967,295")]
    TooLarge(usize),
}
