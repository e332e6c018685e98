//! Observations: what a sensor saw (passive DNS, TLS), aggregated to one
//! edge per (subject, relation, object) with first/last seen and a count.
//!
//! Intake builds an [`Observations`] while it streams a log (memory bounded
//! by the distinct values and pairs, not by lines); the store keeps each
//! edge as one row of integers (see `cairn-kb`'s `observations.rs`).

use std::collections::HashMap;

/// What an observed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// A DNS name.
    Domain,
    /// An IPv4 or IPv6 address.
    Address,
    /// A certificate, by fingerprint (SHA-256 or SHA-1 hex as logged).
    Certificate,
    /// A certificate's subject DN.
    Subject,
    /// A certificate's issuer DN.
    Issuer,
    /// A TLS client fingerprint (JA3).
    Ja3,
    /// A TLS server fingerprint (JA3S).
    Ja3s,
}

impl NodeKind {
    /// Every kind, in code order.
    pub const ALL: [NodeKind; 7] = [
        NodeKind::Domain,
        NodeKind::Address,
        NodeKind::Certificate,
        NodeKind::Subject,
        NodeKind::Issuer,
        NodeKind::Ja3,
        NodeKind::Ja3s,
    ];

    /// The kind's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Domain => "domain",
            NodeKind::Address => "address",
            NodeKind::Certificate => "certificate",
            NodeKind::Subject => "x509-subject",
            NodeKind::Issuer => "x509-issuer",
            NodeKind::Ja3 => "ja3",
            NodeKind::Ja3s => "ja3s",
        }
    }

    /// The kind named `s` ([`NodeKind::as_str`]).
    pub fn parse(s: &str) -> Option<NodeKind> {
        NodeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// How an observed subject relates to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObsRelation {
    /// Domain → address (DNS A/AAAA answer).
    ResolvesTo,
    /// Domain → domain (CNAME answer).
    Cname,
    /// Domain → name server (NS answer).
    Ns,
    /// Domain → mail exchanger (MX answer).
    Mx,
    /// Address or server name → certificate it presented.
    Serves,
    /// Server name (SNI) → the address that answered for it.
    SniAt,
    /// Certificate → a DNS name or address among its SANs.
    San,
    /// Certificate → its subject.
    SubjectOf,
    /// Certificate → its issuer.
    IssuedBy,
    /// Server address → JA3 of a client that connected.
    Ja3,
    /// Server address → its JA3S.
    Ja3s,
}

impl ObsRelation {
    /// Every relation, in code order.
    pub const ALL: [ObsRelation; 11] = [
        ObsRelation::ResolvesTo,
        ObsRelation::Cname,
        ObsRelation::Ns,
        ObsRelation::Mx,
        ObsRelation::Serves,
        ObsRelation::SniAt,
        ObsRelation::San,
        ObsRelation::SubjectOf,
        ObsRelation::IssuedBy,
        ObsRelation::Ja3,
        ObsRelation::Ja3s,
    ];

    /// The small integer the store keeps (stable: stored rows use it).
    pub fn code(self) -> i64 {
        match self {
            ObsRelation::ResolvesTo => 1,
            ObsRelation::Cname => 2,
            ObsRelation::Ns => 3,
            ObsRelation::Mx => 4,
            ObsRelation::Serves => 10,
            ObsRelation::SniAt => 11,
            ObsRelation::San => 12,
            ObsRelation::SubjectOf => 13,
            ObsRelation::IssuedBy => 14,
            ObsRelation::Ja3 => 15,
            ObsRelation::Ja3s => 16,
        }
    }

    /// The relation stored as `code`.
    pub fn from_code(code: i64) -> Option<ObsRelation> {
        ObsRelation::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The relation's name as shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ObsRelation::ResolvesTo => "resolves-to",
            ObsRelation::Cname => "cname",
            ObsRelation::Ns => "ns",
            ObsRelation::Mx => "mx",
            ObsRelation::Serves => "serves",
            ObsRelation::SniAt => "sni-at",
            ObsRelation::San => "san",
            ObsRelation::SubjectOf => "subject",
            ObsRelation::IssuedBy => "issuer",
            ObsRelation::Ja3 => "ja3",
            ObsRelation::Ja3s => "ja3s",
        }
    }
}

/// One aggregated edge: `subject` and `object` are places in
/// [`Observations::values`]; times are milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObsEdge {
    /// The subject's place in the values.
    pub subject: u32,
    /// The relation.
    pub relation: ObsRelation,
    /// The object's place in the values.
    pub object: u32,
    /// First seen (ms).
    pub first_ms: i64,
    /// Last seen (ms).
    pub last_ms: i64,
    /// How many times it was seen.
    pub count: u64,
}

/// Observations of one source, aggregated while a log is read.
#[derive(Debug, Default)]
pub struct Observations {
    values: Vec<(NodeKind, String)>,
    index: [HashMap<String, u32>; 7],
    edges: HashMap<(u32, ObsRelation, u32), (i64, i64, u64)>,
}

impl Observations {
    /// No observations yet.
    pub fn new() -> Observations {
        Observations::default()
    }

    /// The place of `value` of `kind`, added if new.
    pub fn intern(&mut self, kind: NodeKind, value: &str) -> u32 {
        let map = &mut self.index[kind.slot()];
        if let Some(&i) = map.get(value) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push((kind, value.to_string()));
        map.insert(value.to_string(), i);
        i
    }

    /// Records `count` sightings of an edge between `first_ms` and `last_ms`.
    pub fn add(
        &mut self,
        subject: (NodeKind, &str),
        relation: ObsRelation,
        object: (NodeKind, &str),
        first_ms: i64,
        last_ms: i64,
        count: u64,
    ) {
        let s = self.intern(subject.0, subject.1);
        let o = self.intern(object.0, object.1);
        let e = self
            .edges
            .entry((s, relation, o))
            .or_insert((first_ms, last_ms, 0));
        e.0 = e.0.min(first_ms);
        e.1 = e.1.max(last_ms);
        e.2 = e.2.saturating_add(count);
    }

    /// Every value, by place.
    pub fn values(&self) -> &[(NodeKind, String)] {
        &self.values
    }

    /// Number of distinct edges.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether no edge was recorded.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The edges, sorted by (subject, relation, object).
    pub fn edges(&self) -> Vec<ObsEdge> {
        let mut out: Vec<ObsEdge> = self
            .edges
            .iter()
            .map(|(&(subject, relation, object), &(f, l, c))| ObsEdge {
                subject,
                relation,
                object,
                first_ms: f,
                last_ms: l,
                count: c,
            })
            .collect();
        out.sort_unstable_by_key(|e| (e.subject, e.relation, e.object));
        out
    }

    /// The edges as values (subject kind and value, relation, object kind
    /// and value, first, last, count), sorted: comparable across readers.
    #[allow(clippy::type_complexity)]
    pub fn resolved(&self) -> Vec<(NodeKind, &str, ObsRelation, NodeKind, &str, i64, i64, u64)> {
        let mut out: Vec<_> = self
            .edges()
            .into_iter()
            .map(|e| {
                let (sk, sv) = &self.values[e.subject as usize];
                let (ok, ov) = &self.values[e.object as usize];
                (
                    *sk,
                    sv.as_str(),
                    e.relation,
                    *ok,
                    ov.as_str(),
                    e.first_ms,
                    e.last_ms,
                    e.count,
                )
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_pairs_with_times_and_counts() {
        let mut o = Observations::new();
        let d = (NodeKind::Domain, "a.example");
        let a = (NodeKind::Address, "192.0.2.1");
        o.add(d, ObsRelation::ResolvesTo, a, 2000, 2000, 1);
        o.add(d, ObsRelation::ResolvesTo, a, 1000, 1000, 1);
        o.add(d, ObsRelation::ResolvesTo, a, 3000, 3000, 2);
        o.add(
            d,
            ObsRelation::Cname,
            (NodeKind::Domain, "b.example"),
            5,
            5,
            1,
        );
        assert_eq!(o.values().len(), 3);
        let e = o.edges();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].first_ms, e[0].last_ms, e[0].count), (1000, 3000, 4));
        for r in ObsRelation::ALL {
            assert_eq!(ObsRelation::from_code(r.code()), Some(r));
        }
        for k in NodeKind::ALL {
            assert_eq!(NodeKind::parse(k.as_str()), Some(k));
        }
    }
}
