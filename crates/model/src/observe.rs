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
    /// Originating address → responding address (Zeek `conn`); the
    /// edge's behaviour is its [`ConnSummary`].
    Connects,
}

impl ObsRelation {
    /// Every relation, in code order.
    pub const ALL: [ObsRelation; 12] = [
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
        ObsRelation::Connects,
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
            ObsRelation::Connects => 20,
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
            ObsRelation::Connects => "connects",
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

/// How a connection went, from Zeek's `conn_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnOutcome {
    /// The handshake completed and something was said.
    Established,
    /// Unanswered, rejected, or reset before any payload.
    Failed,
    /// Neither can be told (`OTH`: no SYN seen; unset or unknown states).
    Other,
}

impl ConnOutcome {
    /// The outcome of a connection that ended in `state` after `payload`
    /// bytes (both directions). Failed: `S0` (no reply), `REJ`, `RSTOS0`,
    /// `RSTRH`, `SH`, `SHR`, and a reset (`RSTO`/`RSTR`) with no payload,
    /// which is how a half-open scan of an open port ends. Established:
    /// `S1`, `S2`, `S3`, `SF`, and resets after payload.
    pub fn of(state: Option<&str>, payload: u64) -> ConnOutcome {
        match state.unwrap_or("") {
            "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR" => ConnOutcome::Failed,
            "RSTO" | "RSTR" if payload == 0 => ConnOutcome::Failed,
            "S1" | "S2" | "S3" | "SF" | "RSTO" | "RSTR" => ConnOutcome::Established,
            _ => ConnOutcome::Other,
        }
    }
}

/// One Zeek `conn` record, as intake read it (addresses apart).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnRecord {
    /// Start (ms since the epoch).
    pub start_ms: i64,
    /// Duration (ms; 0 when unset).
    pub duration_ms: i64,
    /// The responder's port.
    pub resp_port: Option<u16>,
    /// Payload bytes the originator sent.
    pub orig_bytes: u64,
    /// Payload bytes the responder sent.
    pub resp_bytes: u64,
    /// How it went.
    pub outcome: ConnOutcome,
    /// Zeek's `local_orig`, when logged.
    pub local_orig: Option<bool>,
    /// Zeek's `local_resp`, when logged.
    pub local_resp: Option<bool>,
}

/// Most distinct responder ports a [`ConnSummary`] keeps (a port sweep of
/// one host is told by [`ConnSummary::ports_more`], not by a list).
pub const MAX_PORTS: usize = 32;

/// What the connections from one address to another add up to: the
/// summary a behaviour judgement needs (scanner, beacon), kept per edge
/// in constant memory.
///
/// Inter-arrival times are accumulated streaming (Welford's method over
/// the gaps between successive connection starts). A start earlier than
/// the latest one adds no gap: Zeek writes a connection when it ends, so
/// starts are nearly, not exactly, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnSummary {
    /// Connections.
    pub connections: u64,
    /// Of which established ([`ConnOutcome::Established`]).
    pub established: u64,
    /// Of which failed ([`ConnOutcome::Failed`]).
    pub failed: u64,
    /// Payload bytes sent by the originator, in all.
    pub orig_bytes: u64,
    /// Payload bytes sent by the responder, in all.
    pub resp_bytes: u64,
    /// Distinct responder ports, sorted, at most [`MAX_PORTS`].
    pub ports: Vec<u16>,
    /// Whether more distinct ports were seen than kept.
    pub ports_more: bool,
    /// Gaps between successive starts accumulated.
    pub intervals: u64,
    /// Mean gap (ms).
    pub interval_mean_ms: f64,
    /// Sum of squared deviations of the gaps from their mean (Welford's M2).
    pub interval_m2: f64,
    /// Start of the latest connection (ms), where the next gap begins.
    pub last_start_ms: i64,
    /// Zeek's `local_orig` (true once any record said so), when logged.
    pub local_orig: Option<bool>,
    /// Zeek's `local_resp`, likewise.
    pub local_resp: Option<bool>,
}

impl ConnSummary {
    /// Adds one connection.
    pub fn record(&mut self, r: &ConnRecord) {
        if self.connections > 0 {
            if r.start_ms >= self.last_start_ms {
                let gap = (r.start_ms - self.last_start_ms) as f64;
                self.intervals += 1;
                let delta = gap - self.interval_mean_ms;
                self.interval_mean_ms += delta / self.intervals as f64;
                self.interval_m2 += delta * (gap - self.interval_mean_ms);
                self.last_start_ms = r.start_ms;
            }
        } else {
            self.last_start_ms = r.start_ms;
        }
        self.connections += 1;
        match r.outcome {
            ConnOutcome::Established => self.established += 1,
            ConnOutcome::Failed => self.failed += 1,
            ConnOutcome::Other => {}
        }
        self.orig_bytes = self.orig_bytes.saturating_add(r.orig_bytes);
        self.resp_bytes = self.resp_bytes.saturating_add(r.resp_bytes);
        if let Some(p) = r.resp_port
            && let Err(at) = self.ports.binary_search(&p)
        {
            if self.ports.len() < MAX_PORTS {
                self.ports.insert(at, p);
            } else {
                self.ports_more = true;
            }
        }
        self.local_orig = either(self.local_orig, r.local_orig);
        self.local_resp = either(self.local_resp, r.local_resp);
    }

    /// Standard deviation of the gaps over their mean (coefficient of
    /// variation: 0 for a clock, about 1 for random arrivals); `None` with
    /// fewer than two gaps or a zero mean.
    pub fn interval_cv(&self) -> Option<f64> {
        if self.intervals < 2 || self.interval_mean_ms <= 0.0 {
            return None;
        }
        let sd = (self.interval_m2.max(0.0) / self.intervals as f64).sqrt();
        Some(sd / self.interval_mean_ms)
    }
}

/// A logged flag: true once any record said true.
fn either(old: Option<bool>, new: Option<bool>) -> Option<bool> {
    match (old, new) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (a, b) => b.or(a),
    }
}

/// Observations of one source, aggregated while a log is read.
#[derive(Debug, Default)]
pub struct Observations {
    values: Vec<(NodeKind, String)>,
    index: [HashMap<String, u32>; 7],
    edges: HashMap<(u32, ObsRelation, u32), (i64, i64, u64)>,
    conns: HashMap<(u32, u32), ConnSummary>,
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

    /// Records one connection from `orig` to `resp` (addresses): a
    /// `connects` edge from its start to its end, and its [`ConnSummary`].
    pub fn add_conn(&mut self, orig: &str, resp: &str, r: &ConnRecord) {
        let end = r.start_ms.saturating_add(r.duration_ms.max(0));
        let o = self.intern(NodeKind::Address, orig);
        let s = self.intern(NodeKind::Address, resp);
        let e = self
            .edges
            .entry((o, ObsRelation::Connects, s))
            .or_insert((r.start_ms, end, 0));
        e.0 = e.0.min(r.start_ms);
        e.1 = e.1.max(end);
        e.2 = e.2.saturating_add(1);
        self.conns.entry((o, s)).or_default().record(r);
    }

    /// The connection summaries by (originator, responder) places, sorted.
    pub fn conns(&self) -> Vec<(u32, u32, &ConnSummary)> {
        let mut out: Vec<_> = self.conns.iter().map(|(&(o, r), c)| (o, r, c)).collect();
        out.sort_unstable_by_key(|c| (c.0, c.1));
        out
    }

    /// The summary of the connections from `orig` to `resp` (addresses).
    pub fn conn(&self, orig: &str, resp: &str) -> Option<&ConnSummary> {
        let map = &self.index[NodeKind::Address.slot()];
        let key = (*map.get(orig)?, *map.get(resp)?);
        self.conns.get(&key)
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

    fn rec(start_ms: i64, state: &str, port: u16, bytes: u64) -> ConnRecord {
        ConnRecord {
            start_ms,
            duration_ms: 500,
            resp_port: Some(port),
            orig_bytes: bytes,
            resp_bytes: bytes * 2,
            outcome: ConnOutcome::of(Some(state), bytes * 3),
            local_orig: None,
            local_resp: None,
        }
    }

    #[test]
    fn conn_summaries_count_outcomes_ports_and_regularity() {
        let mut o = Observations::new();
        // Every 60 s ± 1 s, one reset before payload (a failure), one odd start.
        let starts = [0i64, 61_000, 120_000, 179_000, 240_000, 239_000];
        for (i, t) in starts.iter().enumerate() {
            let state = if i == 2 { "RSTO" } else { "SF" };
            let bytes = if i == 2 { 0 } else { 100 };
            o.add_conn("10.0.0.5", "198.51.100.9", &rec(*t, state, 443, bytes));
        }
        let c = o.conn("10.0.0.5", "198.51.100.9").unwrap();
        assert_eq!((c.connections, c.established, c.failed), (6, 5, 1));
        assert_eq!((c.orig_bytes, c.resp_bytes), (500, 1000));
        assert_eq!(c.ports, vec![443]);
        // Four gaps (the start before the latest adds none): 61, 59, 59, 61 s.
        assert_eq!(c.intervals, 4);
        assert!((c.interval_mean_ms - 60_000.0).abs() < 1e-6);
        let cv = c.interval_cv().unwrap();
        assert!((cv - 1_000.0 / 60_000.0).abs() < 1e-9, "{cv}");
        let e = o.edges();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].relation, e[0].first_ms, e[0].last_ms, e[0].count),
            (ObsRelation::Connects, 0, 240_500, 6)
        );
        assert!(o.conn("198.51.100.9", "10.0.0.5").is_none());
    }

    #[test]
    fn conn_ports_are_capped_and_outcomes_read() {
        let mut o = Observations::new();
        for p in 0..(MAX_PORTS as u16 + 5) {
            o.add_conn(
                "203.0.113.4",
                "10.1.1.1",
                &rec(i64::from(p), "REJ", 1000 + p, 0),
            );
        }
        let c = o.conn("203.0.113.4", "10.1.1.1").unwrap();
        assert_eq!(
            (c.ports.len(), c.ports_more, c.failed),
            (MAX_PORTS, true, MAX_PORTS as u64 + 5)
        );
        assert_eq!(c.interval_cv(), Some(0.0));
        assert_eq!(ConnOutcome::of(Some("RSTR"), 10), ConnOutcome::Established);
        assert_eq!(ConnOutcome::of(Some("OTH"), 10), ConnOutcome::Other);
        assert_eq!(ConnOutcome::of(None, 0), ConnOutcome::Other);
        assert_eq!(either(Some(true), Some(false)), Some(true));
        assert_eq!(either(None, Some(false)), Some(false));
        assert_eq!(either(Some(false), None), Some(false));
    }
}
