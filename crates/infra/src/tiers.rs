//! Tiers: what each piece of an actor's infrastructure is for, as STIX 2.1
//! `infrastructure-type-ov` values, each with the reasons that say so.
//!
//! Reasons, strongest first (their weights decide a value's main type when
//! several apply; every reason is kept and shown):
//! - **stated** (1.0): a source gives the value a role (a report heading
//!   such as "C2 IP Addresses", a STIX label) that maps to a type;
//! - **behaviour** (0.8): connection logs show the address sweeping many
//!   internal hosts (reconnaissance) or contacted by internal hosts at
//!   regular intervals with small transfers (command-and-control), see
//!   [`crate::behaviour()`];
//! - **certificate** (0.8): the value presented a certificate with a known
//!   attack framework's default subject (Cobalt Strike, PoshC2);
//! - **inherited** (0.6): the value resolved to, or was resolved from, one
//!   of the actor's values whose type a source states, while both were seen;
//! - **self-signed** (0.3): it presented a certificate whose subject is its
//!   issuer — common on command-and-control servers, but not proof.
//!
//! A value nothing speaks for is `undefined` (the STIX word). Lifetime — how
//! long observations saw the value — is reported beside the type: it tells
//! long-term access servers (kept for years) from short-lived ones, but no
//! type follows from it alone.

use crate::errors::InfraError;
use crate::model::InfraValue;
use crate::store::ActorInfra;
use cairn_kb::{ObsLink, ObsWindow, Store};
use cairn_model::{Tlp, time};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// STIX 2.1 `infrastructure-type-ov` values Cairn assigns.
pub const INFRASTRUCTURE_TYPES: [&str; 11] = [
    "amplification",
    "anonymization",
    "botnet",
    "command-and-control",
    "exfiltration",
    "hosting-malware",
    "hosting-target-lists",
    "phishing",
    "reconnaissance",
    "staging",
    "undefined",
];

/// Edges read per value: a value with more is a hub, and its first edges
/// say enough.
const LINKS_PER_VALUE: usize = 500;
/// Days under which a value counts as short-lived.
const SHORT_DAYS: i64 = 30;
/// Days from which a value counts as long-lived.
const LONG_DAYS: i64 = 365;

/// One reason a value is of a type.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TierReason {
    /// The type it supports.
    pub infrastructure_type: String,
    /// `stated`, `behaviour`, `certificate`, `inherited` or `self-signed`.
    pub basis: &'static str,
    /// Its weight (see the module notes).
    pub weight: f64,
    /// What was seen, in words.
    pub reason: String,
    /// The sources it rests on.
    pub sources: Vec<String>,
    /// The most restrictive marking among the facts it rests on.
    pub tlp: Tlp,
}

/// An actor's value with its types.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tiered {
    /// The domain or address.
    pub value: String,
    /// `domain`, `ipv4` or `ipv6`.
    pub kind: String,
    /// Its types, the best supported first; `["undefined"]` when nothing speaks.
    pub types: Vec<String>,
    /// Why, every reason kept.
    pub reasons: Vec<TierReason>,
    /// First observed (passive DNS, TLS), when observed.
    pub first_seen: Option<String>,
    /// Last observed.
    pub last_seen: Option<String>,
    /// `short-lived` (under 30 days), `months`, `long-lived` (a year or more).
    pub lifetime: Option<&'static str>,
    /// The most restrictive marking among the statements and observations used.
    pub tlp: Tlp,
}

impl Tiered {
    /// The value's main type.
    pub fn main_type(&self) -> &str {
        self.types.first().map_or("undefined", String::as_str)
    }
}

/// The STIX type a stated role names, if any.
pub fn role_type(role: &str) -> Option<&'static str> {
    let r = role.trim().to_ascii_lowercase();
    if let Some(t) = INFRASTRUCTURE_TYPES
        .iter()
        .find(|t| **t == r && **t != "undefined")
    {
        return Some(t);
    }
    Some(match r.as_str() {
        "c2" | "c&c" | "cnc" | "command and control" => "command-and-control",
        "recon" | "scanning" | "scanner" => "reconnaissance",
        "delivery" | "stager" | "download" | "downloader" => "staging",
        "payload" | "malware" => "hosting-malware",
        "exfil" => "exfiltration",
        "proxy" | "vpn" | "tor" | "relay" => "anonymization",
        _ => return None,
    })
}

/// A certificate subject an attack framework uses by default.
fn framework_default(subject: &str) -> Option<&'static str> {
    // Defaults as the frameworks ship them; operators who keep them are
    // common enough that scanners fingerprint on them.
    const DEFAULTS: [(&str, &str); 3] = [
        ("major cobalt strike", "Cobalt Strike"),
        ("o=cobaltstrike", "Cobalt Strike"),
        ("cn=p18055077", "PoshC2"),
    ];
    let s = subject.to_ascii_lowercase();
    DEFAULTS
        .iter()
        .find(|(needle, _)| s.contains(needle))
        .map(|(_, name)| *name)
}

/// Classifies every value of `infra` (see the module notes).
pub fn tiers(store: &Store, infra: &ActorInfra) -> Result<Vec<Tiered>, InfraError> {
    let obs_tlp = store.obs_source_markings()?;
    let tlp_of = |source: &str| obs_tlp.get(source).copied().unwrap_or(Tlp::Red);
    let stated: HashMap<&str, Vec<TierReason>> = infra
        .values
        .iter()
        .map(|v| (v.value.as_str(), stated_reasons(v)))
        .collect();
    let mut out = Vec::with_capacity(infra.values.len());
    for v in &infra.values {
        let mut reasons = stated.get(v.value.as_str()).cloned().unwrap_or_default();
        let links = store.obs_value_links(&v.value, ObsWindow::ALL, LINKS_PER_VALUE)?;
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        let mut tlp = v.said.iter().map(|s| s.tlp).max().unwrap_or(Tlp::Clear);
        for l in &links {
            first = first.min(l.first_ms);
            last = last.max(l.last_ms);
            tlp = tlp.max(tlp_of(&l.source));
            if matches!(l.relation.as_str(), "resolves-to" | "sni-at") {
                let other = if l.subject.value == v.value {
                    &l.object.value
                } else {
                    &l.subject.value
                };
                for r in stated.get(other.as_str()).into_iter().flatten() {
                    reasons.push(inherited(l, other, r, tlp_of(&l.source)));
                }
            }
        }
        reasons.extend(certificate_reasons(store, &v.value, &links, &tlp_of)?);
        if v.kind != "domain" {
            for b in crate::behaviour::behaviour(store, &v.value)? {
                reasons.push(TierReason {
                    infrastructure_type: b.infrastructure_type().into(),
                    basis: "behaviour",
                    weight: 0.8,
                    reason: b.reason(),
                    sources: vec![b.source().to_string()],
                    tlp: tlp_of(b.source()),
                });
            }
        }
        let observed = first <= last;
        out.push(Tiered {
            value: v.value.clone(),
            kind: v.kind.clone(),
            types: ranked_types(&reasons),
            first_seen: observed.then(|| time::from_epoch_ms(first)).flatten(),
            last_seen: observed.then(|| time::from_epoch_ms(last)).flatten(),
            lifetime: observed.then(|| lifetime(last - first)),
            tlp: reasons.iter().map(|r| r.tlp).fold(tlp, Tlp::max),
            reasons,
        });
    }
    Ok(out)
}

fn lifetime(span_ms: i64) -> &'static str {
    let days = span_ms / 86_400_000;
    if days < SHORT_DAYS {
        "short-lived"
    } else if days < LONG_DAYS {
        "months"
    } else {
        "long-lived"
    }
}

/// Types by summed weight, best first; `undefined` when there is none.
fn ranked_types(reasons: &[TierReason]) -> Vec<String> {
    let mut sum: BTreeMap<&str, f64> = BTreeMap::new();
    for r in reasons {
        *sum.entry(&r.infrastructure_type).or_default() += r.weight;
    }
    let mut v: Vec<(&str, f64)> = sum.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    if v.is_empty() {
        return vec!["undefined".into()];
    }
    v.into_iter().map(|(t, _)| t.to_string()).collect()
}

/// What the sources themselves say the value is for.
fn stated_reasons(v: &InfraValue) -> Vec<TierReason> {
    // One reason per role, whichever sources give it.
    let mut out: Vec<TierReason> = Vec::new();
    let mut by_role: HashMap<&str, usize> = HashMap::new();
    for s in &v.said {
        for role in &s.roles {
            let Some(t) = role_type(role) else { continue };
            match by_role.get(role.as_str()) {
                Some(&i) => {
                    let r = &mut out[i];
                    if !r.sources.contains(&s.source) {
                        r.sources.push(s.source.clone());
                    }
                    r.tlp = r.tlp.max(s.tlp);
                }
                None => {
                    by_role.insert(role, out.len());
                    out.push(TierReason {
                        infrastructure_type: t.into(),
                        basis: "stated",
                        weight: 1.0,
                        reason: format!("the source gives it the role \"{role}\""),
                        sources: vec![s.source.clone()],
                        tlp: s.tlp,
                    });
                }
            }
        }
    }
    out
}

fn inherited(l: &ObsLink, other: &str, from: &TierReason, obs_tlp: Tlp) -> TierReason {
    let when = match (
        time::from_epoch_ms(l.first_ms),
        time::from_epoch_ms(l.last_ms),
    ) {
        (Some(a), Some(b)) => format!(" ({} to {})", &a[..10.min(a.len())], &b[..10.min(b.len())]),
        _ => String::new(),
    };
    let mut sources = from.sources.clone();
    sources.push(l.source.clone());
    TierReason {
        infrastructure_type: from.infrastructure_type.clone(),
        basis: "inherited",
        weight: 0.6,
        reason: format!(
            "{} {} {}{when}; {other} is stated {}",
            l.subject.value, l.relation, l.object.value, from.infrastructure_type
        ),
        sources,
        tlp: from.tlp.max(obs_tlp),
    }
}

/// Reasons from the certificates the value presented.
fn certificate_reasons(
    store: &Store,
    value: &str,
    links: &[ObsLink],
    tlp_of: &dyn Fn(&str) -> Tlp,
) -> Result<Vec<TierReason>, InfraError> {
    let mut out = Vec::new();
    for l in links
        .iter()
        .filter(|l| l.relation == "serves" && l.subject.value == value)
    {
        let cert = &l.object;
        let (mut subject, mut issuer) = (None, None);
        let mut sources = vec![l.source.clone()];
        let mut tlp = tlp_of(&l.source);
        for c in store.obs_links(cert.id, ObsWindow::ALL, LINKS_PER_VALUE)? {
            if c.subject.id != cert.id {
                continue;
            }
            match c.relation.as_str() {
                "subject" => subject = Some(c.object.value.clone()),
                "issuer" => issuer = Some(c.object.value.clone()),
                _ => continue,
            }
            if !sources.contains(&c.source) {
                sources.push(c.source.clone());
            }
            tlp = tlp.max(tlp_of(&c.source));
        }
        let Some(subject) = subject else { continue };
        let short = &cert.value[..cert.value.len().min(16)];
        if let Some(fw) = framework_default(&subject) {
            out.push(TierReason {
                infrastructure_type: "command-and-control".into(),
                basis: "certificate",
                weight: 0.8,
                reason: format!(
                    "presented certificate {short}… with {fw}'s default subject \"{subject}\""
                ),
                sources: sources.clone(),
                tlp,
            });
        } else if issuer.as_deref() == Some(subject.as_str()) {
            out.push(TierReason {
                infrastructure_type: "command-and-control".into(),
                basis: "self-signed",
                weight: 0.3,
                reason: format!("presented self-signed certificate {short}… (\"{subject}\")"),
                sources,
                tlp,
            });
        }
    }
    Ok(out)
}

/// An actor's values grouped by main type, for summaries and STIX.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tier {
    /// The STIX infrastructure type.
    pub infrastructure_type: String,
    /// Its values (their main type is this one), in value order.
    pub values: Vec<Tiered>,
}

/// Groups `tiered` by main type, in [`INFRASTRUCTURE_TYPES`] order with
/// `undefined` last.
pub fn group(tiered: &[Tiered]) -> Vec<Tier> {
    let mut by: BTreeMap<&str, Vec<Tiered>> = BTreeMap::new();
    for t in tiered {
        by.entry(t.main_type()).or_default().push(t.clone());
    }
    let undefined = by.remove("undefined");
    by.into_iter()
        .map(|(t, values)| (t.to_string(), values))
        .chain(undefined.map(|v| ("undefined".to_string(), v)))
        .map(|(infrastructure_type, values)| Tier {
            infrastructure_type,
            values,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Said;

    #[test]
    fn roles_map_to_stix_types() {
        assert_eq!(role_type("c2"), Some("command-and-control"));
        assert_eq!(role_type("Reconnaissance"), Some("reconnaissance"));
        assert_eq!(role_type("delivery"), Some("staging"));
        assert_eq!(role_type("certificate"), None);
        assert_eq!(role_type("undefined"), None);
        assert_eq!(
            framework_default("CN=Major Cobalt Strike, OU=AdvancedPenTesting"),
            Some("Cobalt Strike")
        );
        assert_eq!(framework_default("CN=example.com"), None);
    }

    #[test]
    fn stated_roles_are_kept_per_source_and_rank_types() {
        let said = |source: &str, role: &str, tlp| Said {
            source: source.into(),
            roles: vec![role.into()],
            tlp,
            ..Said::default()
        };
        let v = InfraValue {
            value: "1.2.3.4".into(),
            kind: "ipv4".into(),
            said: vec![
                said("a", "c2", Tlp::Clear),
                said("b", "c2", Tlp::Amber),
                said("b", "recon", Tlp::Amber),
            ],
            ..InfraValue::default()
        };
        let r = stated_reasons(&v);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].sources, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(r[0].tlp, Tlp::Amber);
        let mut more = r.clone();
        more.push(TierReason {
            weight: 0.6,
            ..r[0].clone()
        });
        assert_eq!(
            ranked_types(&more),
            vec!["command-and-control", "reconnaissance"]
        );
        assert_eq!(ranked_types(&[]), vec!["undefined"]);
        assert_eq!(lifetime(3 * 86_400_000), "short-lived");
        assert_eq!(lifetime(400 * 86_400_000), "long-lived");
    }
}
