//! Every error this crate returns.

use thiserror::Error;

/// Why a file's signatures or a certificate could not be read.
#[derive(Debug, Error)]
pub enum CodesignError {
    /// The file starts like a PE image but its headers do not parse.
    #[error("malformed PE: {0}")]
    MalformedPe(String),
    /// The security directory points outside the file or its entries do
    /// not add up to its size.
    #[error("bad certificate table: {0}")]
    CertificateTable(String),
    /// A DER certificate does not parse.
    #[error("bad certificate: {0}")]
    Certificate(String),
    /// The file could not be read.
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
}
