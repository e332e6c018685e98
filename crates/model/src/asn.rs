//! One range of an address → AS table, as intake reads it and the store
//! keeps it.

use std::net::IpAddr;

/// Addresses `first..=last` announced by AS `asn` (organisation `org`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnRange {
    /// First address of the range.
    pub first: IpAddr,
    /// Last address of the range (inclusive).
    pub last: IpAddr,
    /// The autonomous system announcing it.
    pub asn: u32,
    /// The AS's organisation, as the table names it.
    pub org: String,
}
