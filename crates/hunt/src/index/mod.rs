//! The compiled indicator index: what a hunt matches log values against.
//!
//! - [`table`]: exact values as 64-bit fingerprints in a sorted array with a
//!   radix directory (domains hashed per label suffix), a Bloom filter
//!   ([`prefilter`]) in front.
//! - Networks: IPv4 as flat sorted ranges ([`lpm`]), IPv6 in a prefix
//!   trie; the longest prefix wins.
//! - [`filters`]: bit sets per first octet, /16 and /24, and the domain
//!   parents' filter, which turn most log values away unread.
//! - [`build`]: [`build::IndexBuilder`] compiles indicators into an [`Index`].
//! - [`probe`]: the prefilter pass (deferred probes, tested a batch at a
//!   time) and [`lookup`]: the full match.
//! - [`persist`]: the versioned, checksummed cache file.
//!
//! The scanner's per-field dispatch (`scan::field`) sits on top of
//! [`probe`] and [`lookup`]; nothing here knows about log formats.

pub(crate) mod build;
pub(crate) mod filters;
mod lookup;
mod lpm;
mod persist;
mod prefilter;
pub(crate) mod probe;
mod table;

use cairn_model::{IndicatorKind, Observable};
use filters::V4_16_WORDS;
use ipnet::Ipv6Net;
use lpm::Lpm4;
use prefilter::Prefilter;
use prefix_trie::PrefixMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use table::{FpTable, kind_code};

/// How a log value met an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The value equals the indicator (after normalisation).
    Exact,
    /// The value is a subdomain of a domain indicator.
    Subdomain,
    /// The address lies in a network indicator (longest prefix wins).
    Cidr,
    /// A URL equals a URL indicator (after normalisation).
    Url,
    /// A URL's host is (or is under) a domain or address indicator.
    Host,
}

impl MatchKind {
    /// Lower-case name (`exact`, `subdomain`, `cidr`, `url`, `host`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Subdomain => "subdomain",
            MatchKind::Cidr => "cidr",
            MatchKind::Url => "url",
            MatchKind::Host => "host",
        }
    }
}

/// One indicator value a log value matched, and every key that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The indicator, normalised (for CIDR matches, the network).
    pub indicator: Observable,
    /// How it matched.
    pub match_kind: MatchKind,
    /// The caller's keys for this value (several sources may share one).
    pub keys: Vec<u32>,
}

/// A suppression count for one warninglist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    /// The warninglist's name.
    pub list: String,
    /// Indicators it suppressed.
    pub count: u64,
}

/// What went into an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Indicators offered to the builder.
    pub offered: u64,
    /// Indicators indexed (after suppression and de-duplication of keys).
    pub indexed: u64,
    /// Indexed indicators by kind name.
    pub by_kind: BTreeMap<String, u64>,
    /// Suppressed by a warninglist, per list (largest first).
    pub suppressed: Vec<Suppressed>,
    /// Kinds no log field carries (CVE, technique, ASN, wallet, registry key),
    /// and values that do not parse for their kind.
    pub skipped: u64,
}

/// The compiled, read-only indicator index. Cheap to share across threads.
#[derive(Debug)]
pub struct Index {
    table: FpTable,
    /// One bit per IPv4 /24 that an exact IPv4 indicator lies in or a
    /// network indicator touches: most addresses are turned away by one bit
    /// (built only for large sets; empty means "no filter").
    v4_filter: Vec<u64>,
    /// One bit per first octet of an IPv4 indicator or network, at any
    /// size: the internal addresses most log lines carry (10/8, 192/8, ...)
    /// are turned away on the text of their first octet, before parsing.
    v4_first: [u64; 4],
    /// One bit per IPv4 /16 of an indicator or network ([`filters::v4_sixteens`]).
    v4_16: Box<[u64; V4_16_WORDS]>,
    v4: Lpm4<(u32, u32)>,
    v6: PrefixMap<Ipv6Net, (u32, u32)>,
    cidr_keys: Vec<u32>,
    /// Bit `kind_code(k)` set when some exact entry has kind `k`.
    kinds_present: u64,
    /// Fewest and most labels of any domain indicator: no suffix of a log
    /// name outside that range can match, so it is never hashed.
    domain_labels: (u8, u8),
    /// The domain indicators' suffixes of `domain_labels.0` labels
    /// ([`filters::parent_filter`]).
    parents: Prefilter,
    stats: IndexStats,
    tag: String,
    /// Unique among the indexes of this process ([`next_id`]): what a
    /// per-thread cache of answers is keyed on.
    id: u64,
}

/// An id no other index of this process has.
pub(super) fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Index {
    /// What went into the index.
    pub fn stats(&self) -> &IndexStats {
        &self.stats
    }

    /// This index's id, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The label given with [`IndexBuilder::tag`](build::IndexBuilder::tag).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Number of (value, key) entries indexed.
    pub fn len(&self) -> usize {
        self.table.keys.len() + self.cidr_keys.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the index occupies (directory, fingerprints, keys,
    /// networks).
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.v4_filter.len() * 8
            + V4_16_WORDS * 8
            + self.v4.mem_size()
            + self.v6.mem_size()
            + self.cidr_keys.len() * 4
            + self.parents.heap_bytes()
    }

    /// Whether some exact entry has this kind.
    pub(crate) fn has_kind(&self, kind: IndicatorKind) -> bool {
        let c = u32::from(kind_code(kind));
        c >= 64 || self.kinds_present & (1u64 << c) != 0
    }
}

/// Helpers shared by the index's tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::build::IndexBuilder;
    use super::{Index, MatchKind};
    use crate::fields::FieldType;
    use cairn_model::{IndicatorKind, Observable};

    pub(crate) fn index(items: &[(IndicatorKind, &str)]) -> Index {
        let mut b = IndexBuilder::new();
        for (i, (k, v)) in items.iter().enumerate() {
            assert!(b.add(&Observable::new(*k, v), i as u32), "{v}");
        }
        b.build()
    }

    pub(crate) fn m(ix: &Index, ty: FieldType, v: &str) -> Vec<(String, MatchKind, Vec<u32>)> {
        let mut out = Vec::new();
        ix.match_value(ty, v, &mut out);
        out.into_iter()
            .map(|m| (m.indicator.value, m.match_kind, m.keys))
            .collect()
    }
}
