//! Errors of the crate.

/// A saved reader that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProseError {
    /// Not a saved reader, or one this build cannot read.
    #[error("not a saved reader of this version of cairn-prose ({0})")]
    Format(&'static str),
    /// The bytes are damaged: truncated, or parts that do not fit together.
    #[error("damaged saved reader: {0}")]
    Damaged(String),
}
