//! Reading what the engine needs from the knowledge base: an actor's
//! domains and addresses with their sources, everyone else's, the
//! popularity lists among the warninglists, and the AS tables.

use crate::errors::InfraError;
use crate::features::{Network, Registered};
use crate::model::{InfraValue, Population, Said};
use cairn_kb::{ExportQuery, Store};
use cairn_model::{IndicatorKind, Tlp, normalize_name, url_host};
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// An actor's infrastructure as the store holds it.
#[derive(Debug, Clone)]
pub struct ActorInfra {
    /// The actor's display name.
    pub actor: String,
    /// Every name the linked sources give it (normalised), to tell its
    /// values from everyone else's.
    pub names: HashSet<String>,
    /// Its domains and addresses (URLs give their host), one per value.
    pub values: Vec<InfraValue>,
}

/// The domain or address an indicator names, if any.
pub(crate) fn infra_value(kind: &str, value: &str) -> Option<(String, &'static str)> {
    match kind {
        "domain" => Some((value.to_ascii_lowercase(), "domain")),
        "ipv4" => Some((value.into(), "ipv4")),
        "ipv6" => Some((value.into(), "ipv6")),
        "url" => {
            let host = url_host(value)?;
            match IndicatorKind::detect(host) {
                Some(IndicatorKind::Ipv4) => Some((host.to_string(), "ipv4")),
                Some(IndicatorKind::Ipv6) => Some((host.to_string(), "ipv6")),
                Some(IndicatorKind::Domain) => Some((host.to_ascii_lowercase(), "domain")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Roles that say a value is the actor's victim, not its infrastructure.
fn is_victim(roles: &[String]) -> bool {
    roles.iter().any(|r| {
        let r = r.to_ascii_lowercase();
        r.contains("victim") || r.contains("compromised") || r.contains("target")
    })
}

/// The actor `query` names (any source's name, alias or ATT&CK id) and its
/// infrastructure; `None` when no actor answers to it.
pub fn actor_infrastructure(store: &Store, query: &str) -> Result<Option<ActorInfra>, InfraError> {
    let Some(profile) = store.actor(query)? else {
        return Ok(None);
    };
    let ids: Vec<String> = profile.members.iter().map(|m| m.stix_id.clone()).collect();
    let (rows, _) = store.actor_indicators(&ids, usize::MAX >> 1)?;
    let mut by_value: BTreeMap<(String, &'static str), InfraValue> = BTreeMap::new();
    for r in rows {
        if is_victim(&r.roles) {
            continue;
        }
        let Some((value, kind)) = infra_value(&r.kind, &r.value) else {
            continue;
        };
        let e = by_value
            .entry((value.clone(), kind))
            .or_insert_with(|| InfraValue {
                value,
                kind: kind.into(),
                ..InfraValue::default()
            });
        for role in &r.roles {
            if !e.roles.contains(role) {
                e.roles.push(role.clone());
            }
        }
        if !e.sources.contains(&r.source) {
            e.sources.push(r.source.clone());
        }
        e.said.push(Said {
            source: r.source,
            roles: r.roles,
            tlp: r.tlp.parse().unwrap_or(Tlp::Red),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
        });
    }
    let mut names: HashSet<String> = profile
        .aliases
        .iter()
        .map(|a| normalize_name(&a.name))
        .collect();
    names.insert(normalize_name(&profile.name));
    for m in &profile.members {
        names.insert(normalize_name(&m.name));
    }
    Ok(Some(ActorInfra {
        actor: profile.name,
        names,
        values: by_value.into_values().collect(),
    }))
}

/// What the registration record of `domain`'s registered domain says (the
/// first source's, by name, when several hold one).
pub fn registered(store: &Store, domain: &str) -> Result<Option<Registered>, InfraError> {
    let Some(p) = crate::features::domain_parts(domain) else {
        return Ok(None);
    };
    Ok(store
        .registration(&p.registered)?
        .into_iter()
        .next()
        .map(|r| Registered {
            registrar: r.registrar,
            name_servers: r.name_servers,
        }))
}

/// The network of `ip` in the newest AS table that covers it.
pub fn network(store: &Store, ip: IpAddr) -> Result<Option<Network>, InfraError> {
    Ok(store.asn_of(ip)?.into_iter().next().map(|a| Network {
        asn: a.asn,
        org: a.org,
        table: match a.as_of {
            Some(d) => format!("{}, as of {d}", a.source),
            None => a.source,
        },
    }))
}

/// The ASes announcing `ranges` (CIDRs or single addresses; a range is
/// looked up by its first address).
pub fn asns_of_ranges<'a>(
    store: &Store,
    ranges: impl IntoIterator<Item = &'a str>,
) -> Result<HashSet<u32>, InfraError> {
    let mut out = HashSet::new();
    for r in ranges {
        let first = r.split('/').next().unwrap_or(r).trim();
        if let Ok(ip) = first.parse::<IpAddr>()
            && let Some(n) = network(store, ip)?
        {
            out.insert(n.asn);
        }
    }
    Ok(out)
}

/// Whether a warninglist (by its name) lists servers on hosting networks:
/// VPN exits and scanners.
pub fn is_hosting_list(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("vpn") || n.contains("scan")
}

/// Warninglists that list popular names (Tranco, Majestic, Umbrella,
/// Cloudflare Radar, Alexa top lists): the ordinary names a profile is
/// compared with.
fn is_popularity_list(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("top") && (n.contains("site") || n.contains("domain"))
}

/// The population for comparing `actor` with: the popularity lists among
/// the store's warninglists, every other actor's domains and addresses, and
/// the routed space of the AS tables.
pub fn population(store: &Store, actor: &ActorInfra) -> Result<Population, InfraError> {
    #[derive(serde::Deserialize)]
    struct List {
        name: String,
        #[serde(default, rename = "type")]
        kind: String,
        #[serde(default)]
        list: Vec<String>,
    }
    let mut ordinary: Vec<String> = Vec::new();
    let mut hosted: Vec<String> = Vec::new();
    for (_, json) in store.warninglist_documents()? {
        let Ok(l) = serde_json::from_str::<List>(&json) else {
            continue;
        };
        if is_popularity_list(&l.name) {
            ordinary.extend(l.list);
        } else if l.kind == "cidr" && is_hosting_list(&l.name) {
            hosted.extend(l.list);
        }
    }
    let mut pop = Population::new(ordinary.iter().map(String::as_str));
    let space = store.asn_ipv4_space()?;
    pop.set_routed_space(&space);
    pop.set_hosting(asns_of_ranges(store, hosted.iter().map(String::as_str))?);
    let mine: HashSet<(&str, &str)> = actor
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.kind.as_str()))
        .collect();
    let all = store.export_indicators(&ExportQuery {
        tlp_max: Tlp::Red,
        indicates: None,
        since: None,
    })?;
    let mut seen = HashSet::new();
    for ind in all {
        if ind.actors.is_empty()
            || ind
                .actors
                .iter()
                .any(|a| actor.names.contains(&normalize_name(a)))
            || is_victim(&ind.roles)
        {
            continue;
        }
        let Some((value, kind)) = infra_value(ind.kind.as_str(), &ind.value) else {
            continue;
        };
        if mine.contains(&(value.as_str(), kind)) || !seen.insert((value.clone(), kind)) {
            continue;
        }
        if kind == "domain" {
            pop.add_domain(&value);
        } else if let Ok(ip) = value.parse::<IpAddr>() {
            let net = network(store, ip)?;
            pop.add_address(ip, net.as_ref());
        }
    }
    // Registration records of every domain not the actor's: one per
    // registered domain, the first source's.
    let own: HashSet<String> = actor
        .values
        .iter()
        .filter_map(|v| crate::features::domain_parts(&v.value).map(|p| p.registered))
        .collect();
    let mut last: Option<String> = None;
    for (domain, registrar, name_servers) in store.registration_summaries()? {
        if own.contains(&domain) || last.as_deref() == Some(domain.as_str()) {
            continue;
        }
        pop.add_registration(&Registered {
            registrar,
            name_servers,
        });
        last = Some(domain);
    }
    Ok(pop)
}
