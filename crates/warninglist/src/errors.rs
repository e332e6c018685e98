//! Errors raised while loading warninglists.

use thiserror::Error;

/// A warninglist document that cannot be used. Every variant names the list.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WarningListError {
    /// The document is not valid JSON, or lacks a required member.
    #[error("warninglist `{list}`: not a MISP warninglist document: {reason}")]
    Parse {
        /// The list's name (its `name`, or the hint given by the caller).
        list: String,
        /// What is wrong.
        reason: String,
    },
    /// The list's `type` is not one MISP defines.
    #[error(
        "warninglist `{list}`: unknown list type `{found}` (expected string, hostname, substring, cidr or regex)"
    )]
    UnknownType {
        /// The list's name.
        list: String,
        /// The type found.
        found: String,
    },
    /// An entry cannot be read for the list's type (a bad CIDR or regex).
    #[error("warninglist `{list}`: entry #{index} `{entry}` is not a valid {expected}: {reason}")]
    BadEntry {
        /// The list's name.
        list: String,
        /// Zero-based position of the entry in `list`.
        index: usize,
        /// The entry as written.
        entry: String,
        /// What the list's type needs (`CIDR`, `regex`).
        expected: &'static str,
        /// The parser's message.
        reason: String,
    },
}
