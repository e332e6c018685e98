//! Every error this crate returns.

use thiserror::Error;

/// Why one file (or archive entry) could not be read. The run goes on.
#[derive(Debug, Error)]
pub enum ScanError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A zip archive (or one of its entries) is damaged, encrypted or over
    /// a limit; or a directory could not be walked.
    #[error("{path}: {message}")]
    Archive {
        /// The archive or entry.
        path: String,
        /// What is wrong.
        message: String,
    },
}
