//! The pivot walk: from a domain, address or certificate outwards over the
//! observation edges (passive DNS, TLS) and registration records (a
//! domain's registrar, its name servers, a registrant e-mail when not
//! redacted; a registrar or name server back to the other domains
//! registered with it) and, for an address, its AS from the newest AS
//! table (a leaf), breadth first, to a depth and
//! within a budget of nodes, each reached node annotated with the actors
//! the store's indicators link it to (with their sources) and the path
//! that reached it.
//!
//! Common-pivot damping: a value with more distinct neighbours than
//! `max_fan_out` (shared hosting, CDNs, sinkholes, parking name servers,
//! free CAs) or that the caller calls common (warninglisted) is shown with
//! its fan-out but not expanded, unless `expand_common`: walking through it
//! would link everything to everything. The fan-out is counted with
//! `LIMIT`, so a hub of a million names costs as much as one of a hundred.
//! The start value is always expanded: the analyst asked for it.

use crate::errors::InfraError;
use cairn_kb::{ObsLink, ObsNode, ObsWindow, Registration, Store, registrar_key};
use cairn_model::time;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// How far and how wide to walk.
#[derive(Debug, Clone, Copy)]
pub struct PivotOptions {
    /// Hops from the start value.
    pub depth: usize,
    /// Most nodes reported (the start included).
    pub budget: usize,
    /// Neighbours above which a value is common (damped).
    pub max_fan_out: usize,
    /// Expand common values too.
    pub expand_common: bool,
    /// Only edges seen in this window.
    pub window: ObsWindow,
}

impl Default for PivotOptions {
    fn default() -> Self {
        PivotOptions {
            depth: 2,
            budget: 200,
            max_fan_out: 50,
            expand_common: false,
            window: ObsWindow::ALL,
        }
    }
}

/// An actor a node is linked to, and who says so.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActorLink {
    /// The actor's resolved name.
    pub name: String,
    /// Sources of the indicators linking the value to it.
    pub sources: Vec<String>,
}

/// A reached value.
#[derive(Debug, Clone, Serialize)]
pub struct PivotNode {
    /// The value.
    pub value: String,
    /// `domain`, `address`, `certificate`, … (`indicator` kinds for values
    /// only the store's indicators know).
    #[serde(rename = "type")]
    pub kind: String,
    /// Actors the store's indicators link it to.
    pub actors: Vec<ActorLink>,
    /// Earliest first-seen of its walked edges.
    pub first_seen: Option<String>,
    /// Latest last-seen of its walked edges.
    pub last_seen: Option<String>,
    /// Sources of its edges and indicators.
    pub sources: Vec<String>,
    /// Values from the start to this one.
    pub path: Vec<String>,
}

/// An observed edge between two reached values, all sources together.
#[derive(Debug, Clone, Serialize)]
pub struct PivotEdge {
    /// Subject value.
    pub from: String,
    /// Object value.
    pub to: String,
    /// Relation (`resolves-to`, `serves`, …).
    pub kind: String,
    /// Earliest first-seen among the sources.
    pub first_seen: Option<String>,
    /// Latest last-seen.
    pub last_seen: Option<String>,
    /// Times seen, summed over the sources.
    pub count: i64,
    /// Sources that reported it.
    pub sources: Vec<String>,
}

/// A common value reached but not expanded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Damped {
    /// The value.
    pub value: String,
    /// Its distinct neighbours (counted up to [`FAN_OUT_SHOWN`]).
    pub fan_out: usize,
}

/// The walk's result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Pivot {
    /// Reached values, in the order reached (the start first).
    pub nodes: Vec<PivotNode>,
    /// Edges between reached values.
    pub edges: Vec<PivotEdge>,
    /// Common values not expanded.
    pub damped: Vec<Damped>,
    /// Whether the budget stopped the walk.
    #[serde(skip)]
    pub truncated: bool,
}

/// Fan-outs of damped values are counted up to this.
pub const FAN_OUT_SHOWN: usize = 100_000;

struct NodeState {
    value: String,
    kind: String,
    obs_ids: Vec<i64>,
    path: Vec<String>,
    depth: usize,
    first: Option<i64>,
    last: Option<i64>,
    sources: BTreeSet<String>,
}

struct EdgeState {
    first: i64,
    last: i64,
    count: i64,
    sources: BTreeSet<String>,
}

/// The start value as observations store it: names lower-cased without a
/// final dot, addresses in canonical form, fingerprints lower-cased.
pub fn normalize_start(value: &str) -> String {
    let v = value.trim();
    if let Ok(a) = v.parse::<std::net::IpAddr>() {
        return a.to_string();
    }
    if v.contains('=') {
        // A certificate subject or issuer: kept as written.
        return v.to_string();
    }
    v.trim_end_matches('.').to_ascii_lowercase()
}

/// Walks from `start` (see the module notes). `common` says whether a
/// value of a kind is known-benign (warninglisted): such values are damped.
pub fn pivot(
    store: &Store,
    start: &str,
    opts: &PivotOptions,
    common: &dyn Fn(&str, &str) -> bool,
) -> Result<Pivot, InfraError> {
    let start = normalize_start(start);
    let mut out = Pivot::default();
    let mut nodes: Vec<NodeState> = Vec::new();
    let mut by_value: HashMap<(String, String), usize> = HashMap::new();
    let mut edges: BTreeMap<(String, String, String), EdgeState> = BTreeMap::new();
    let mut edge_seen: HashSet<(String, String, String, String)> = HashSet::new();

    let found = store.obs_nodes(&start)?;
    if found.is_empty() {
        if store.indicator_keys(&start)?.is_empty()
            && store.registration(&start)?.is_empty()
            && store.registrations_by_email(&start, 1)?.is_empty()
        {
            return Ok(out);
        }
        let kind = cairn_model::IndicatorKind::detect(&start)
            .map_or("indicator".to_string(), |k| k.as_str().to_string());
        by_value.insert((start.clone(), kind.clone()), 0);
        nodes.push(NodeState {
            value: start.clone(),
            kind,
            obs_ids: Vec::new(),
            path: vec![start.clone()],
            depth: 0,
            first: None,
            last: None,
            sources: BTreeSet::new(),
        });
    }
    for n in found {
        // One value may be stored under two kinds: one node per kind.
        by_value.insert(node_key(&n), nodes.len());
        nodes.push(NodeState {
            value: n.value.clone(),
            kind: n.kind,
            obs_ids: vec![n.id],
            path: vec![n.value],
            depth: 0,
            first: None,
            last: None,
            sources: BTreeSet::new(),
        });
    }
    let mut queue: VecDeque<usize> = (0..nodes.len()).collect();
    let budget = opts.budget.max(nodes.len());
    let cap = opts.max_fan_out.saturating_add(1);

    while let Some(i) = queue.pop_front() {
        let (value, kind) = (nodes[i].value.clone(), nodes[i].kind.clone());
        let id = nodes[i].obs_ids.first().copied();
        if nodes[i].depth >= opts.depth || (id.is_none() && !registered(&kind)) {
            continue;
        }
        if nodes[i].depth > 0 && !opts.expand_common {
            let is_common = common(&value, &kind)
                || fan_out(store, id, &kind, &value, opts.window, cap)? > opts.max_fan_out;
            if is_common {
                out.damped.push(Damped {
                    fan_out: fan_out(store, id, &kind, &value, opts.window, FAN_OUT_SHOWN)?,
                    value,
                });
                continue;
            }
        }
        let limit = if opts.expand_common {
            budget.saturating_add(1)
        } else {
            cap.max(budget.saturating_add(1))
        };
        let mut links = match id {
            Some(id) => store.obs_links(id, opts.window, limit)?,
            None => Vec::new(),
        };
        links.extend(registration_links(
            store,
            &kind,
            &value,
            opts.window,
            limit,
        )?);
        if kind == "address" {
            links.extend(network_link(store, &value)?);
        }
        for l in links {
            let this_is_subject = l.subject.value == value && l.subject.kind == kind;
            let other = if this_is_subject {
                &l.object
            } else {
                &l.subject
            };
            let key = node_key(other);
            let j = match by_value.get(&key) {
                Some(&j) => j,
                None => {
                    if nodes.len() >= budget {
                        out.truncated = true;
                        continue;
                    }
                    let mut path = nodes[i].path.clone();
                    path.push(other.value.clone());
                    let j = nodes.len();
                    let obs_ids = if other.id >= 0 {
                        vec![other.id]
                    } else {
                        // Reached through a registration: its observations too.
                        store
                            .obs_nodes(&other.value)?
                            .into_iter()
                            .filter(|n| n.kind == other.kind)
                            .map(|n| n.id)
                            .collect()
                    };
                    nodes.push(NodeState {
                        value: other.value.clone(),
                        kind: other.kind.clone(),
                        obs_ids,
                        path,
                        depth: nodes[i].depth + 1,
                        first: None,
                        last: None,
                        sources: BTreeSet::new(),
                    });
                    by_value.insert(key, j);
                    queue.push_back(j);
                    j
                }
            };
            add_edge(&mut edges, &mut edge_seen, &l);
            for k in [i, j] {
                let n = &mut nodes[k];
                n.sources.insert(l.source.clone());
                if l.first_ms == UNDATED {
                    continue;
                }
                n.first = Some(n.first.map_or(l.first_ms, |f| f.min(l.first_ms)));
                n.last = Some(n.last.map_or(l.last_ms, |f| f.max(l.last_ms)));
            }
        }
    }

    for n in nodes {
        out.nodes.push(node_out(store, n)?);
    }
    out.edges = edges
        .into_iter()
        .map(|((from, to, kind), e)| PivotEdge {
            from,
            to,
            kind,
            first_seen: time::from_epoch_ms(e.first),
            last_seen: time::from_epoch_ms(e.last),
            count: e.count,
            sources: e.sources.into_iter().collect(),
        })
        .collect();
    Ok(out)
}

/// A reached node as reported: the actors its indicators name, each with
/// the sources that say so (hidden ones left out), and its own sources.
fn node_out(store: &Store, n: NodeState) -> Result<PivotNode, InfraError> {
    let mut actors: Vec<ActorLink> = Vec::new();
    let mut sources = n.sources;
    for key in store.indicator_keys(&n.value)? {
        let ctx = match store.indicator_context(key) {
            Ok(c) => c,
            // Hidden from this connection (TLP) or gone: not a link.
            Err(cairn_kb::errors::KbError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let said: Vec<String> = ctx.sources.iter().map(|p| p.source.clone()).collect();
        sources.extend(said.iter().cloned());
        for a in ctx.actors {
            match actors.iter_mut().find(|x| x.name == a.name) {
                Some(x) => {
                    for s in &said {
                        if !x.sources.contains(s) {
                            x.sources.push(s.clone());
                        }
                    }
                }
                None => actors.push(ActorLink {
                    name: a.name,
                    sources: said.clone(),
                }),
            }
        }
    }
    for a in &mut actors {
        a.sources.sort();
    }
    actors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PivotNode {
        value: n.value,
        kind: n.kind,
        actors,
        first_seen: n.first.and_then(time::from_epoch_ms),
        last_seen: n.last.and_then(time::from_epoch_ms),
        sources: sources.into_iter().collect(),
        path: n.path,
    })
}

/// First/last of a registration edge whose record gives no dates.
const UNDATED: i64 = i64::MIN;

/// Node kinds registration records can expand.
fn registered(kind: &str) -> bool {
    matches!(kind, "domain" | "registrar" | "email")
}

/// The key a node is found by: registrars by their normalised name, so
/// `NameCheap, Inc.` and `Namecheap Inc` are one node.
fn node_key(n: &ObsNode) -> (String, String) {
    if n.kind == "registrar" {
        (registrar_key(&n.value), n.kind.clone())
    } else {
        (n.value.clone(), n.kind.clone())
    }
}

/// Distinct neighbours of a node, observations and registrations together,
/// counted up to `cap` each.
pub(crate) fn fan_out(
    store: &Store,
    id: Option<i64>,
    kind: &str,
    value: &str,
    window: ObsWindow,
    cap: usize,
) -> Result<usize, InfraError> {
    let obs = match id {
        Some(id) => store.obs_fan_out(id, window, cap)?,
        None => 0,
    };
    let reg = match kind {
        "registrar" => store.registrar_fan_out(value, cap)?,
        "email" => store.email_fan_out(value, cap)?,
        "domain" => store.name_server_fan_out(value, cap)?,
        _ => 0,
    };
    Ok(obs + reg)
}

/// A registration record's edges as links, dated from creation to the last
/// update (undated when the record gives no creation date); outside
/// `window` (created after it ends, expired before it starts) none.
fn record_links(r: &Registration, window: ObsWindow) -> Vec<ObsLink> {
    let ms = |s: &Option<String>| {
        s.as_deref()
            .and_then(time::parse)
            .map(|t| t.as_millisecond())
    };
    let (first, last) = match ms(&r.created) {
        Some(c) => (c, ms(&r.updated).unwrap_or(c).max(c)),
        None => (UNDATED, UNDATED),
    };
    let ends = ms(&r.expires).unwrap_or(i64::MAX);
    if (first != UNDATED && first >= window.to_ms) || ends < window.from_ms {
        return Vec::new();
    }
    let node = |kind: &str, value: &str| ObsNode {
        id: -1,
        kind: kind.into(),
        value: value.into(),
    };
    let link = |relation: &str, object: ObsNode| ObsLink {
        subject: node("domain", &r.domain),
        relation: relation.into(),
        object,
        first_ms: first,
        last_ms: last,
        count: 1,
        source: r.source.clone(),
    };
    let mut out = Vec::new();
    if let Some(reg) = r.registrar.as_deref().filter(|s| !s.trim().is_empty()) {
        out.push(link("registrar", node("registrar", reg.trim())));
    }
    for ns in &r.name_servers {
        out.push(link("whois-ns", node("domain", ns)));
    }
    if let Some(e) = r.registrant_email.as_deref().filter(|_| !r.redacted) {
        out.push(link("registrant", node("email", &e.to_ascii_lowercase())));
    }
    // An organisation is a leaf: records are not indexed by it, and two of
    // an actor's domains naming one still meet there (clusters use it).
    if let Some(o) = r
        .registrant_org
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty() && !r.redacted)
    {
        out.push(link("registrant-org", node("organisation", o)));
    }
    out
}

/// An address's network from the newest AS table: a leaf (an AS is a hub
/// by nature, never walked through), named with its organisation, sourced
/// to the table and its date. The table describes routing on its own date,
/// not at `--at`: the source says which.
fn network_link(store: &Store, address: &str) -> Result<Option<ObsLink>, InfraError> {
    let Ok(ip) = address.parse::<std::net::IpAddr>() else {
        return Ok(None);
    };
    let Some(a) = store.asn_of(ip)?.into_iter().next() else {
        return Ok(None);
    };
    let node = |kind: &str, value: String| ObsNode {
        id: -1,
        kind: kind.into(),
        value,
    };
    Ok(Some(ObsLink {
        subject: node("address", address.to_string()),
        relation: "announced-by".into(),
        object: node("as", format!("AS{} ({})", a.asn, a.org)),
        first_ms: UNDATED,
        last_ms: UNDATED,
        count: 1,
        source: match a.as_of {
            Some(d) => format!("{}, as of {d}", a.source),
            None => a.source,
        },
    }))
}

/// Registration edges of a node: a domain's own records and the records
/// listing it as a name server; a registrar's or a registrant e-mail's
/// domains.
pub(crate) fn registration_links(
    store: &Store,
    kind: &str,
    value: &str,
    window: ObsWindow,
    limit: usize,
) -> Result<Vec<ObsLink>, InfraError> {
    let records = match kind {
        "domain" => {
            let mut r = store.registration(value)?;
            r.extend(store.registrations_by_name_server(value, limit)?);
            r
        }
        "registrar" => store.registrations_by_registrar(value, limit)?,
        "email" => store.registrations_by_email(value, limit)?,
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for r in &records {
        for l in record_links(r, window) {
            // A name server's or registrar's other domains: only the edge to it.
            let own = r.domain == value;
            if own || l.object.value == value || (kind == "registrar" && l.relation == "registrar")
            {
                out.push(l);
            }
        }
    }
    Ok(out)
}

/// Adds one source's edge once, however many times the walk meets it.
fn add_edge(
    edges: &mut BTreeMap<(String, String, String), EdgeState>,
    seen: &mut HashSet<(String, String, String, String)>,
    l: &ObsLink,
) {
    let key = (
        l.subject.value.clone(),
        l.object.value.clone(),
        l.relation.clone(),
    );
    if !seen.insert((
        key.0.clone(),
        key.1.clone(),
        key.2.clone(),
        l.source.clone(),
    )) {
        return;
    }
    let e = edges.entry(key).or_insert(EdgeState {
        first: l.first_ms,
        last: l.last_ms,
        count: 0,
        sources: BTreeSet::new(),
    });
    if l.first_ms != UNDATED {
        e.first = if e.first == UNDATED {
            l.first_ms
        } else {
            e.first.min(l.first_ms)
        };
        e.last = if e.last == UNDATED {
            l.last_ms
        } else {
            e.last.max(l.last_ms)
        };
    }
    e.count += l.count;
    e.sources.insert(l.source.clone());
}

/// The window `--at` names: a year (`2023`), a month (`2023-06`) or a day
/// (`2023-06-14`), in UTC.
pub fn parse_at(s: &str) -> Result<ObsWindow, InfraError> {
    let bad = || InfraError::Invalid(format!("--at `{s}`: expected YYYY, YYYY-MM or YYYY-MM-DD"));
    let parts: Vec<&str> = s.trim().split('-').collect();
    let num = |p: &str, len: usize| -> Result<i64, InfraError> {
        if p.len() != len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let day_ms = 86_400_000i64;
    let (from, to) = match parts.as_slice() {
        [y] => {
            let y = num(y, 4)?;
            (days_from_civil(y, 1, 1), days_from_civil(y + 1, 1, 1))
        }
        [y, m] => {
            let (y, m) = (num(y, 4)?, num(m, 2)?);
            if !(1..=12).contains(&m) {
                return Err(bad());
            }
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (days_from_civil(y, m, 1), days_from_civil(ny, nm, 1))
        }
        [y, m, d] => {
            let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
            if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
                return Err(bad());
            }
            let f = days_from_civil(y, m, d);
            (f, f + 1)
        }
        _ => return Err(bad()),
    };
    Ok(ObsWindow {
        from_ms: from * day_ms,
        to_ms: to * day_ms,
    })
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// well-known formula).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_kb::ObsHead;
    use cairn_model::observe::{NodeKind, ObsRelation, Observations};

    #[test]
    fn at_windows() {
        let w = parse_at("2023-06").unwrap();
        assert_eq!(
            time::from_epoch_ms(w.from_ms).unwrap(),
            "2023-06-01T00:00:00.000Z"
        );
        assert_eq!(
            time::from_epoch_ms(w.to_ms).unwrap(),
            "2023-07-01T00:00:00.000Z"
        );
        let d = parse_at("2024-02-29").unwrap();
        assert_eq!(d.to_ms - d.from_ms, 86_400_000);
        assert_eq!(
            time::from_epoch_ms(parse_at("2023").unwrap().to_ms).unwrap(),
            "2024-01-01T00:00:00.000Z"
        );
        for bad in ["2023-13", "2023-02-29", "23-01", "june", "2023-06-01-02"] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
    }

    fn store_with(pairs: &[(&str, &str)], ms: i64) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let mut o = Observations::new();
        for (d, a) in pairs {
            o.add(
                (NodeKind::Domain, d),
                ObsRelation::ResolvesTo,
                (NodeKind::Address, a),
                ms,
                ms,
                1,
            );
        }
        s.ingest_observations(
            &ObsHead {
                source: "sensor".into(),
                format: "cof".into(),
                ..ObsHead::default()
            },
            &o,
            None,
            None,
        )
        .unwrap();
        s
    }

    #[test]
    fn walks_paths_damps_hubs_and_keeps_the_budget() {
        let mut pairs = vec![
            ("evil.example", "198.51.100.1"),
            ("sister.example", "198.51.100.1"),
        ];
        let names: Vec<String> = (0..60).map(|i| format!("tenant{i}.example")).collect();
        pairs.push(("evil.example", "203.0.113.9"));
        for n in &names {
            pairs.push((n.as_str(), "203.0.113.9"));
        }
        let s = store_with(&pairs, 1_000);
        let never = |_: &str, _: &str| false;
        let p = pivot(&s, "EVIL.example.", &PivotOptions::default(), &never).unwrap();
        let values: Vec<&str> = p.nodes.iter().map(|n| n.value.as_str()).collect();
        assert_eq!(
            values,
            vec![
                "evil.example",
                "198.51.100.1",
                "203.0.113.9",
                "sister.example"
            ]
        );
        assert_eq!(
            p.nodes[3].path,
            vec!["evil.example", "198.51.100.1", "sister.example"]
        );
        assert_eq!(
            p.damped,
            vec![Damped {
                value: "203.0.113.9".into(),
                fan_out: 61
            }]
        );
        assert_eq!(p.edges.len(), 3);
        let all = pivot(
            &s,
            "evil.example",
            &PivotOptions {
                expand_common: true,
                ..PivotOptions::default()
            },
            &never,
        )
        .unwrap();
        assert_eq!(all.nodes.len(), 4 + 60);
        assert!(all.damped.is_empty());
        let small = pivot(
            &s,
            "evil.example",
            &PivotOptions {
                expand_common: true,
                budget: 10,
                ..PivotOptions::default()
            },
            &never,
        )
        .unwrap();
        assert_eq!(small.nodes.len(), 10);
        assert!(small.truncated);
        // Warninglisted: damped whatever its fan-out.
        let listed = |v: &str, _: &str| v == "198.51.100.1";
        let w = pivot(&s, "evil.example", &PivotOptions::default(), &listed).unwrap();
        assert!(
            w.damped
                .iter()
                .any(|d| d.value == "198.51.100.1" && d.fan_out == 2)
        );
        assert!(!w.nodes.iter().any(|n| n.value == "sister.example"));
        // Out of the window: nothing but the start.
        let at = pivot(
            &s,
            "evil.example",
            &PivotOptions {
                window: parse_at("2023-06").unwrap(),
                ..PivotOptions::default()
            },
            &never,
        )
        .unwrap();
        assert_eq!(at.nodes.len(), 1);
        assert!(
            pivot(&s, "unknown.example", &PivotOptions::default(), &never)
                .unwrap()
                .nodes
                .is_empty()
        );
    }
}
