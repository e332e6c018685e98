//! Every error type of the crate.

use std::path::PathBuf;

/// What can go wrong loading rules or reading a log file.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A log-source table is not valid YAML of the expected shape.
    #[error("{origin}: not a log-source table: {message}")]
    LogSources {
        /// The table's file.
        origin: String,
        /// What the YAML reader said.
        message: String,
    },
    /// A processing pipeline could not be read.
    #[error("{origin}: not a Sigma processing pipeline: {message}")]
    Pipeline {
        /// The pipeline's file.
        origin: String,
        /// What rsigma said.
        message: String,
    },
    /// A log file is neither EVTX nor JSON, or is broken beyond reading.
    #[error("{}: {message}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the place (record, line or byte offset).
        message: String,
    },
}
