//! Infrastructure: how an actor's domains, addresses and certificates hang
//! together, and how much a new one looks like theirs.
//!
//! Reads the knowledge base (`cairn-kb`): indicators with their actors, the
//! observations (passive DNS, TLS, registrations) and the address → AS
//! tables, each with its source and dates.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod errors;
pub mod pivot;

pub use errors::InfraError;
pub use pivot::{Pivot, PivotOptions, pivot};
