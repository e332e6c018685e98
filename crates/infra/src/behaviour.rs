//! Observed behaviour: what the stored connection summaries (Zeek `conn`,
//! see `cairn-kb`'s `conns.rs`) say an address did, as readable judgements.
//!
//! - [`Behaviour::Scanner`]: an external address that opened connections
//!   to at least [`Thresholds::scan_targets`] distinct internal addresses,
//!   at least [`Thresholds::scan_failed_share`] of them failed (unanswered,
//!   rejected, or reset before any payload). Reconnaissance.
//! - [`Behaviour::BeaconDestination`]: an external address that internal
//!   hosts contact repeatedly at regular intervals with small transfers:
//!   per client at least [`Thresholds::beacon_connections`] connections, a
//!   mean gap between starts of at least [`Thresholds::beacon_min_interval_s`],
//!   a coefficient of variation of the gaps of at most
//!   [`Thresholds::beacon_max_cv`] (0 for a clock, about 1 for random
//!   arrivals), and at most [`Thresholds::beacon_max_bytes`] payload bytes
//!   per connection on average. Command and control.
//!
//! Internal means Zeek's `local_orig`/`local_resp` when the log has them
//! (true once any record said so), else a private or otherwise non-routed
//! address: RFC 1918, shared (100.64/10), loopback, link-local, IPv6 unique
//! local, and IPv4-mapped forms of these. Documentation ranges
//! (192.0.2/24, …) count as external.
//!
//! Each source is judged on its own, so every judgement names the sensor
//! whose observations support it.

use crate::errors::InfraError;
use cairn_kb::{ConnLink, ConnSide, Store};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The limits of the judgements (see the module notes); [`Default`] gives
/// the documented values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Least distinct internal targets of a scanner (default 20).
    pub scan_targets: usize,
    /// Least share of failed connections to them (default 0.6).
    pub scan_failed_share: f64,
    /// Least connections from one client to call it beaconing (default 8).
    pub beacon_connections: u64,
    /// Least mean gap between a client's connections, in seconds (default
    /// 10: faster is a session, not a check-in).
    pub beacon_min_interval_s: f64,
    /// Most coefficient of variation of a client's gaps (default 0.25;
    /// ±10 % uniform jitter gives about 0.06).
    pub beacon_max_cv: f64,
    /// Most payload bytes per connection, both ways, on average (default
    /// 16,384).
    pub beacon_max_bytes: f64,
    /// Most summaries read per side of an address (default 100,000): the
    /// judgement of a larger hub rests on the first ones.
    pub max_links: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            scan_targets: 20,
            scan_failed_share: 0.6,
            beacon_connections: 8,
            beacon_min_interval_s: 10.0,
            beacon_max_cv: 0.25,
            beacon_max_bytes: 16_384.0,
            max_links: 100_000,
        }
    }
}

/// One judgement of what an address did, with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "behaviour", rename_all = "kebab-case")]
pub enum Behaviour {
    /// It swept internal hosts, mostly unanswered.
    Scanner {
        /// Distinct internal addresses it connected to.
        targets: usize,
        /// Connections to them.
        connections: u64,
        /// Share of those that failed (0–1).
        failed_share: f64,
        /// Distinct responder ports seen (sorted; each pair keeps at most
        /// `cairn_model::observe::MAX_PORTS`).
        ports: Vec<u16>,
        /// The source whose observations say so.
        source: String,
    },
    /// Internal hosts checked in with it at regular intervals.
    BeaconDestination {
        /// Internal clients whose connections look like beacons.
        clients: usize,
        /// Their connections.
        connections: u64,
        /// Mean gap between a client's connections (s), over all their gaps.
        mean_interval_s: f64,
        /// The largest coefficient of variation of a client's gaps (lower is
        /// more regular).
        regularity: f64,
        /// Payload bytes per connection, both ways, on average.
        mean_bytes: f64,
        /// The source whose observations say so.
        source: String,
    },
}

impl Behaviour {
    /// The judgement's name: `scanner`, `beacon-destination`.
    pub fn kind(&self) -> &'static str {
        match self {
            Behaviour::Scanner { .. } => "scanner",
            Behaviour::BeaconDestination { .. } => "beacon-destination",
        }
    }

    /// The STIX infrastructure type it suggests: `reconnaissance` for a
    /// scanner, `command-and-control` for a beacon destination.
    pub fn infrastructure_type(&self) -> &'static str {
        match self {
            Behaviour::Scanner { .. } => "reconnaissance",
            Behaviour::BeaconDestination { .. } => "command-and-control",
        }
    }

    /// The source whose observations support it.
    pub fn source(&self) -> &str {
        match self {
            Behaviour::Scanner { source, .. } | Behaviour::BeaconDestination { source, .. } => {
                source
            }
        }
    }

    /// The judgement in a sentence, with its figures and source.
    pub fn reason(&self) -> String {
        match self {
            Behaviour::Scanner {
                targets,
                connections,
                failed_share,
                ports,
                source,
            } => format!(
                "scanner: connected to {targets} internal hosts ({connections} connections, \
                 {:.0} % failed) on port(s) {} (seen by {source})",
                failed_share * 100.0,
                port_list(ports)
            ),
            Behaviour::BeaconDestination {
                clients,
                connections,
                mean_interval_s,
                regularity,
                mean_bytes,
                source,
            } => format!(
                "beacon destination: {clients} internal host(s) connected {connections} times, \
                 every {mean_interval_s:.0} s on average (variation {regularity:.2}), \
                 {mean_bytes:.0} bytes per connection (seen by {source})"
            ),
        }
    }
}

fn port_list(ports: &[u16]) -> String {
    const SHOWN: usize = 8;
    let mut s: Vec<String> = ports.iter().take(SHOWN).map(u16::to_string).collect();
    if ports.len() > SHOWN {
        s.push(format!("… ({} in all)", ports.len()));
    }
    s.join(", ")
}

/// Whether `address` is internal when no sensor flag says (see the module
/// notes); `false` for what is not an address.
pub fn is_internal_address(address: &str) -> bool {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let [b0, b1, ..] = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || (b0 == 100 && (64..128).contains(&b1))
        }
        Ok(IpAddr::V6(a)) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_internal_address(&v4.to_string());
            }
            let s0 = a.segments()[0];
            a.is_loopback() || (s0 & 0xfe00) == 0xfc00 || (s0 & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// A sensor's flag when logged, else the address ranges.
fn internal(address: &str, flag: Option<bool>) -> bool {
    flag.unwrap_or_else(|| is_internal_address(address))
}

/// What the observations say `address` did, with the default
/// [`Thresholds`]; empty when they say nothing notable.
pub fn behaviour(store: &Store, address: &str) -> Result<Vec<Behaviour>, InfraError> {
    behaviour_with(store, address, &Thresholds::default())
}

/// [`behaviour`] with other limits. Scanners first, then beacon
/// destinations, each by source name.
pub fn behaviour_with(
    store: &Store,
    address: &str,
    t: &Thresholds,
) -> Result<Vec<Behaviour>, InfraError> {
    let Ok(ip) = address.trim().parse::<IpAddr>() else {
        return Ok(Vec::new());
    };
    let address = ip.to_string();
    let mut out = Vec::new();
    let opened = store.obs_conns(&address, ConnSide::Originated, t.max_links)?;
    for (source, links) in by_source(&opened) {
        out.extend(scanner(&address, source, &links, t));
    }
    let answered = store.obs_conns(&address, ConnSide::Answered, t.max_links)?;
    for (source, links) in by_source(&answered) {
        out.extend(beacon_destination(&address, source, &links, t));
    }
    Ok(out)
}

fn by_source(links: &[ConnLink]) -> BTreeMap<&str, Vec<&ConnLink>> {
    let mut m: BTreeMap<&str, Vec<&ConnLink>> = BTreeMap::new();
    for l in links {
        m.entry(l.source.as_str()).or_default().push(l);
    }
    m
}

fn scanner(address: &str, source: &str, links: &[&ConnLink], t: &Thresholds) -> Option<Behaviour> {
    if links
        .iter()
        .any(|l| internal(address, l.summary.local_orig))
    {
        return None;
    }
    let mut targets = BTreeSet::new();
    let mut ports = BTreeSet::new();
    let (mut connections, mut failed) = (0u64, 0u64);
    for l in links {
        if !internal(&l.resp, l.summary.local_resp) {
            continue;
        }
        targets.insert(l.resp.as_str());
        connections += l.summary.connections;
        failed += l.summary.failed;
        ports.extend(l.summary.ports.iter().copied());
    }
    let failed_share = failed as f64 / connections.max(1) as f64;
    (targets.len() >= t.scan_targets && failed_share >= t.scan_failed_share).then(|| {
        Behaviour::Scanner {
            targets: targets.len(),
            connections,
            failed_share,
            ports: ports.into_iter().collect(),
            source: source.to_string(),
        }
    })
}

fn beacon_destination(
    address: &str,
    source: &str,
    links: &[&ConnLink],
    t: &Thresholds,
) -> Option<Behaviour> {
    if links
        .iter()
        .any(|l| internal(address, l.summary.local_resp))
    {
        return None;
    }
    let (mut clients, mut connections, mut bytes) = (0usize, 0u64, 0u64);
    let (mut gaps, mut gap_sum_ms, mut worst_cv) = (0u64, 0f64, 0f64);
    for l in links {
        let c = &l.summary;
        if !internal(&l.orig, c.local_orig) || c.connections < t.beacon_connections {
            continue;
        }
        let Some(cv) = c.interval_cv() else { continue };
        let per_conn = c.orig_bytes.saturating_add(c.resp_bytes) as f64 / c.connections as f64;
        if cv > t.beacon_max_cv
            || c.interval_mean_ms < t.beacon_min_interval_s * 1000.0
            || per_conn > t.beacon_max_bytes
        {
            continue;
        }
        clients += 1;
        connections += c.connections;
        bytes = bytes.saturating_add(c.orig_bytes.saturating_add(c.resp_bytes));
        gaps += c.intervals;
        gap_sum_ms += c.interval_mean_ms * c.intervals as f64;
        worst_cv = worst_cv.max(cv);
    }
    (clients > 0).then(|| Behaviour::BeaconDestination {
        clients,
        connections,
        mean_interval_s: gap_sum_ms / gaps.max(1) as f64 / 1000.0,
        regularity: worst_cv,
        mean_bytes: bytes as f64 / connections.max(1) as f64,
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_kb::ObsHead;
    use cairn_model::observe::{ConnOutcome, ConnRecord, Observations};

    fn rec(start_ms: i64, outcome: ConnOutcome, port: u16, bytes: u64) -> ConnRecord {
        ConnRecord {
            start_ms,
            duration_ms: 20,
            resp_port: Some(port),
            orig_bytes: bytes,
            resp_bytes: bytes,
            outcome,
            local_orig: None,
            local_resp: None,
        }
    }

    fn store(o: &Observations) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let h = ObsHead {
            source: "sensor-1".into(),
            format: "zeek-conn".into(),
            ..Default::default()
        };
        s.ingest_observations(&h, o, None, None).unwrap();
        s
    }

    /// `hosts` internal targets swept by `scanner`, `failed` of every 10
    /// connections failing.
    fn sweep(o: &mut Observations, scanner: &str, hosts: u8, failed: u8) {
        for h in 0..hosts {
            let outcome = if h % 10 < failed {
                ConnOutcome::Failed
            } else {
                ConnOutcome::Established
            };
            let target = format!("10.0.1.{h}");
            o.add_conn(scanner, &target, &rec(i64::from(h), outcome, 22, 0));
            o.add_conn(scanner, &target, &rec(i64::from(h) + 1, outcome, 3389, 0));
        }
    }

    /// `n` check-ins from `client` to `server` every `gap_s` ± `jitter_ms`.
    fn beacon(
        o: &mut Observations,
        client: &str,
        server: &str,
        n: i64,
        gap_s: i64,
        jitter_ms: i64,
        bytes: u64,
    ) {
        for i in 0..n {
            let j = if i % 2 == 0 { jitter_ms } else { -jitter_ms };
            o.add_conn(
                client,
                server,
                &rec(i * gap_s * 1000 + j, ConnOutcome::Established, 443, bytes),
            );
        }
    }

    #[test]
    fn scanners_need_enough_targets_mostly_failed() {
        let mut o = Observations::new();
        sweep(&mut o, "203.0.113.5", 25, 8);
        sweep(&mut o, "203.0.113.6", 19, 10); // too few targets
        sweep(&mut o, "203.0.113.7", 25, 4); // too few failures
        sweep(&mut o, "10.9.9.9", 40, 10); // internal: an inventory scan
        let s = store(&o);
        let b = behaviour(&s, "203.0.113.5").unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        let Behaviour::Scanner {
            targets,
            connections,
            failed_share,
            ports,
            source,
        } = &b[0]
        else {
            panic!("{b:?}")
        };
        // Hosts 0–7, 10–17, 20–24 of 25 fail: 21 of 25.
        assert_eq!(
            (*targets, *connections, ports.clone(), source.as_str()),
            (25, 50, vec![22, 3389], "sensor-1")
        );
        assert!((failed_share - 21.0 / 25.0).abs() < 1e-9);
        assert!(
            b[0].reason().contains("25 internal hosts"),
            "{}",
            b[0].reason()
        );
        assert_eq!(b[0].infrastructure_type(), "reconnaissance");
        for quiet in [
            "203.0.113.6",
            "203.0.113.7",
            "10.9.9.9",
            "10.0.1.3",
            "not an address",
        ] {
            assert!(behaviour(&s, quiet).unwrap().is_empty(), "{quiet}");
        }
    }

    #[test]
    fn beacon_destinations_need_regular_small_repeated_check_ins() {
        let mut o = Observations::new();
        let c2 = "198.51.100.20";
        beacon(&mut o, "10.0.0.1", c2, 30, 60, 3_000, 200);
        beacon(&mut o, "10.0.0.2", c2, 30, 60, 1_000, 300);
        beacon(&mut o, "10.0.0.3", c2, 5, 60, 0, 300); // too few
        beacon(&mut o, "10.0.0.1", "198.51.100.21", 30, 60, 25_000, 200); // irregular
        beacon(&mut o, "10.0.0.1", "198.51.100.22", 30, 60, 0, 900_000); // bulky
        beacon(&mut o, "10.0.0.1", "198.51.100.23", 30, 2, 0, 10); // too fast
        beacon(&mut o, "198.51.100.30", "10.0.0.9", 30, 60, 0, 10); // inbound to an internal host
        let s = store(&o);
        let b = behaviour(&s, c2).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        let Behaviour::BeaconDestination {
            clients,
            connections,
            mean_interval_s,
            regularity,
            mean_bytes,
            ..
        } = &b[0]
        else {
            panic!("{b:?}")
        };
        assert_eq!((*clients, *connections, *mean_bytes), (2, 60, 500.0));
        assert!((mean_interval_s - 60.0).abs() < 0.5, "{mean_interval_s}");
        // Gaps alternate 54/66 s for the first client: CV 0.1.
        assert!((regularity - 0.1).abs() < 0.01, "{regularity}");
        assert_eq!(b[0].kind(), "beacon-destination");
        assert_eq!(
            (b[0].infrastructure_type(), b[0].source()),
            ("command-and-control", "sensor-1")
        );
        for quiet in [
            "198.51.100.21",
            "198.51.100.22",
            "198.51.100.23",
            "10.0.0.9",
            "10.0.0.1",
        ] {
            assert!(behaviour(&s, quiet).unwrap().is_empty(), "{quiet}");
        }
    }

    #[test]
    fn sensor_flags_outrank_address_ranges() {
        let mut o = Observations::new();
        // A public range the sensor calls local: its sweeper is no outsider.
        for h in 0..30u8 {
            let mut r = rec(i64::from(h), ConnOutcome::Failed, 445, 0);
            r.local_orig = Some(true);
            r.local_resp = Some(true);
            o.add_conn("198.51.100.50", &format!("198.51.100.{}", 100 + h), &r);
        }
        let s = store(&o);
        assert!(behaviour(&s, "198.51.100.50").unwrap().is_empty());
        for (a, want) in [
            ("10.1.2.3", true),
            ("172.20.0.1", true),
            ("172.32.0.1", false),
            ("100.100.0.1", true),
            ("169.254.1.1", true),
            ("::ffff:192.168.1.1", true),
            ("fd00::1", true),
            ("fe80::1", true),
            ("2001:db8::1", false),
            ("192.0.2.1", false),
            ("8.8.8.8", false),
        ] {
            assert_eq!(is_internal_address(a), want, "{a}");
        }
    }
}
