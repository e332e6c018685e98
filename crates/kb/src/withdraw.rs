//! What an ingest may withdraw: everything the delivery no longer says (a
//! whole file), or only named statements (a feed's partial delivery).

use std::collections::HashSet;

/// Which of a source's stored statements an ingest withdraws when the new
/// delivery does not carry them.
#[derive(Debug, Clone, Copy)]
pub enum Withdraw<'a> {
    /// Everything the delivery does not say: a full copy of the source
    /// (files, whole-file feeds).
    Unsaid,
    /// Only these STIX ids, and only if the delivery does not carry them: a
    /// partial delivery (a TAXII page: none; a MISP feed: the statements of
    /// events gone from the manifest or no longer in a changed event).
    Only(&'a HashSet<String>),
}

impl Withdraw<'_> {
    pub(crate) fn is_unsaid(&self) -> bool {
        matches!(self, Withdraw::Unsaid)
    }
}
