//! Clusters of unattributed infrastructure: values that share a pivot — an
//! address two domains resolved to, a certificate two servers presented, a
//! name server or registrant e-mail two records name — grouped, with the
//! shared values as the reasons.
//!
//! Hubs say nothing: a shared value with more neighbours than
//! `max_fan_out`, or one the caller calls common (warninglisted), links no
//! one and is listed as damped, as in the pivot. Registrars never link:
//! sharing NameCheap is what most of the world does.

use crate::errors::InfraError;
use crate::pivot::{Damped, fan_out, normalize_start, registration_links};
use cairn_kb::{ObsLink, ObsWindow, Store};
use cairn_model::IndicatorKind;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How hubs are told from pivots.
#[derive(Debug, Clone, Copy)]
pub struct ClusterOptions {
    /// Neighbours above which a shared value is a hub.
    pub max_fan_out: usize,
    /// Only edges seen in this window.
    pub window: ObsWindow,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            max_fan_out: 50,
            window: ObsWindow::ALL,
        }
    }
}

/// A value some of a cluster's members share.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shared {
    /// The shared value.
    pub value: String,
    /// Its kind (`address`, `certificate`, `domain`, `email`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// How the members relate to it (`resolves-to`, `serves`, `whois-ns`, …).
    pub relations: Vec<String>,
    /// The members that share it.
    pub members: Vec<String>,
    /// The sources of those edges.
    pub sources: Vec<String>,
}

/// Values linked through shared pivots.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cluster {
    /// The members, in value order.
    pub values: Vec<String>,
    /// Why they are together: every shared value, most shared first.
    pub shared: Vec<Shared>,
}

/// The clusters of a set of values.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Clustering {
    /// Clusters of two or more, largest first.
    pub clusters: Vec<Cluster>,
    /// Values that share nothing with the others.
    pub alone: Vec<String>,
    /// Hubs that were not used as links, with their fan-out.
    pub damped: Vec<Damped>,
}

/// Union-find over member indices.
struct Sets(Vec<usize>);

impl Sets {
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// One neighbour of the members: who reached it and how.
#[derive(Default)]
struct Neighbour {
    kind: String,
    obs_id: Option<i64>,
    members: BTreeSet<usize>,
    relations: BTreeSet<String>,
    sources: BTreeSet<String>,
}

/// Every edge of `value`: observations and registration records (registrar
/// edges left out, see the module notes).
fn edges_of(
    store: &Store,
    value: &str,
    window: ObsWindow,
    cap: usize,
) -> Result<Vec<ObsLink>, InfraError> {
    let mut out = store.obs_value_links(value, window, cap)?;
    if value.parse::<std::net::IpAddr>().is_err() {
        out.extend(
            registration_links(store, "domain", value, window, cap)?
                .into_iter()
                .filter(|l| l.relation != "registrar"),
        );
    }
    Ok(out)
}

/// Clusters `values` (domains, addresses, any observed value) by what they
/// share (see the module notes); `common` says whether a value of a kind is
/// known-benign.
pub fn cluster(
    store: &Store,
    values: &[String],
    opts: &ClusterOptions,
    common: &dyn Fn(&str, &str) -> bool,
) -> Result<Clustering, InfraError> {
    let members: Vec<String> = values
        .iter()
        .map(|v| normalize_start(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: HashMap<&str, usize> = members
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i))
        .collect();
    let mut sets = Sets((0..members.len()).collect());
    let mut around: BTreeMap<String, Neighbour> = BTreeMap::new();
    let cap = opts.max_fan_out.saturating_add(1);
    for (i, v) in members.iter().enumerate() {
        for l in edges_of(store, v, opts.window, cap)? {
            let other = if l.subject.value == *v {
                &l.object
            } else {
                &l.subject
            };
            // A member seen with another directly: the edge is their shared
            // value, recorded once (from the first member's side).
            let direct = index.get(other.value.as_str()).copied();
            if direct.is_some_and(|j| j < i) {
                continue;
            }
            let n = around.entry(other.value.clone()).or_default();
            if let Some(j) = direct {
                n.members.insert(j);
            }
            n.kind.clone_from(&other.kind);
            if other.id >= 0 {
                n.obs_id = Some(other.id);
            }
            n.members.insert(i);
            n.relations.insert(l.relation.clone());
            n.sources.insert(l.source.clone());
        }
    }
    let mut out = Clustering::default();
    let mut linking: Vec<(String, Neighbour)> = Vec::new();
    for (value, n) in around {
        if n.members.len() < 2 {
            continue;
        }
        let hub = common(&value, &n.kind)
            || fan_out(store, n.obs_id, &n.kind, &value, opts.window, cap)? > opts.max_fan_out;
        if hub {
            out.damped.push(Damped {
                fan_out: fan_out(
                    store,
                    n.obs_id,
                    &n.kind,
                    &value,
                    opts.window,
                    crate::pivot::FAN_OUT_SHOWN,
                )?,
                value,
            });
            continue;
        }
        let mut it = n.members.iter();
        if let Some(&first) = it.next() {
            for &m in it {
                sets.union(first, m);
            }
        }
        linking.push((value, n));
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..members.len() {
        let root = sets.find(i);
        groups.entry(root).or_default().push(i);
    }
    for (root, group) in groups {
        if group.len() < 2 {
            out.alone.push(members[root].clone());
            continue;
        }
        let mut shared: Vec<Shared> = linking
            .iter()
            .filter(|(_, n)| n.members.iter().any(|&m| sets.find(m) == root))
            .map(|(value, n)| Shared {
                value: value.clone(),
                kind: n.kind.clone(),
                relations: n.relations.iter().cloned().collect(),
                members: n.members.iter().map(|&m| members[m].clone()).collect(),
                sources: n.sources.iter().cloned().collect(),
            })
            .collect();
        shared.sort_by(|a, b| {
            b.members
                .len()
                .cmp(&a.members.len())
                .then(a.value.cmp(&b.value))
        });
        out.clusters.push(Cluster {
            values: group.iter().map(|&m| members[m].clone()).collect(),
            shared,
        });
    }
    out.clusters.sort_by(|a, b| {
        b.values
            .len()
            .cmp(&a.values.len())
            .then(a.values.cmp(&b.values))
    });
    Ok(out)
}

/// The domains and addresses the store's indicators name without linking
/// them to any actor: the unattributed infrastructure.
pub fn unattributed(store: &Store) -> Result<Vec<String>, InfraError> {
    let all = store.export_indicators(&cairn_kb::ExportQuery {
        tlp_max: cairn_model::Tlp::Red,
        indicates: None,
        since: None,
    })?;
    let mut out = BTreeSet::new();
    for ind in all.into_iter().filter(|i| i.actors.is_empty()) {
        if matches!(
            ind.kind,
            IndicatorKind::Domain | IndicatorKind::Ipv4 | IndicatorKind::Ipv6
        ) {
            out.insert(ind.value);
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_transitively() {
        let mut s = Sets((0..5).collect());
        s.union(0, 3);
        s.union(3, 4);
        assert_eq!(s.find(4), 0);
        assert_ne!(s.find(1), s.find(0));
    }
}
