//! The population an actor is compared with, the actor's profile, and the
//! score of a candidate: each a count of features, and each weight a
//! log-likelihood ratio an analyst can read.
//!
//! A feature value's weight is `ln(P_actor / P_population)`. The actor's
//! share is an m-estimate pulled towards the population's
//! (`(count + m·P_pop) / (N + m)`), so a value the actor was never seen with
//! weighs `ln(m / (N + m))`, whatever its rarity, and only values the actor
//! shows more often than the population lift a score. The population is
//! ordinary names (the popularity lists among the warninglists), every other
//! actor's infrastructure in the store, and, for networks, the routed
//! address space: an AS holding 1 % of it is expected to hold 1 % of random
//! addresses.

use crate::features::{
    Brands, DomainParts, Language, Network, Registered, Trait, address_traits, domain_parts,
    domain_traits, registration_traits, size_band,
};
use cairn_model::Tlp;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// How strongly an actor's few values are pulled towards the population.
const M: f64 = 2.0;
/// Additive smoothing of population counts.
const BETA: f64 = 0.5;
/// Roughly the routed IPv4 space, when no AS table says.
const DEFAULT_SPACE: f64 = 3.0e9;

/// Counts of feature keys over a set of values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    keys: HashMap<(&'static str, String), u32>,
    totals: HashMap<&'static str, u32>,
    distinct: HashMap<&'static str, u32>,
}

impl Counts {
    fn add(&mut self, traits: &[Trait]) {
        for t in traits {
            let n = self.keys.entry((t.feature, t.key.clone())).or_default();
            if *n == 0 {
                *self.distinct.entry(t.feature).or_default() += 1;
            }
            *n += 1;
            *self.totals.entry(t.feature).or_default() += 1;
        }
    }

    pub(crate) fn count(&self, feature: &'static str, key: &str) -> u32 {
        self.keys
            .get(&(feature, key.to_string()))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn total(&self, feature: &'static str) -> u32 {
        self.totals.get(feature).copied().unwrap_or(0)
    }

    /// Smoothed share of `key` among the values with `feature`.
    fn share(&self, feature: &'static str, key: &str) -> f64 {
        let k = f64::from(self.distinct.get(feature).copied().unwrap_or(0) + 1);
        (f64::from(self.count(feature, key)) + BETA) / (f64::from(self.total(feature)) + BETA * k)
    }

    fn iter(&self) -> impl Iterator<Item = (&'static str, &str, u32)> {
        self.keys.iter().map(|((f, k), n)| (*f, k.as_str(), *n))
    }
}

/// What the actor is compared with.
#[derive(Debug, Clone, Default)]
pub struct Population {
    pub(crate) lang: Language,
    pub(crate) brands: Brands,
    domains: Counts,
    addresses: Counts,
    /// Routed IPv4 addresses per AS and per organisation key.
    asn_space: HashMap<String, u64>,
    org_space: HashMap<String, u64>,
    /// Routed space per AS-size band.
    band_space: HashMap<&'static str, u64>,
    total_space: u64,
    /// Networks known to host servers: the ASes of the VPN exits and
    /// scanners the warninglists list, with their routed space.
    hosting: std::collections::HashSet<u32>,
    hosting_space: u64,
    /// How many ordinary names and other actors' values it holds.
    pub(crate) ordinary: usize,
    pub(crate) others: usize,
    /// How many registration records of other domains it holds.
    pub(crate) registrations: usize,
}

impl Population {
    /// A population of ordinary registered domains (a popularity list): they
    /// teach what names look like and which names are brands.
    pub fn new<'a>(ordinary: impl IntoIterator<Item = &'a str>) -> Population {
        let parts: Vec<DomainParts> = ordinary.into_iter().filter_map(domain_parts).collect();
        let lang = Language::train(parts.iter().map(|p| p.label.as_str()));
        let brands = Brands::new(parts.iter().map(|p| p.label.as_str()));
        let mut pop = Population {
            lang,
            brands,
            ..Population::default()
        };
        let mut seen = std::collections::HashSet::new();
        for p in &parts {
            if seen.insert(p.registered.clone()) {
                let t = domain_traits(p, &pop.lang, &pop.brands);
                pop.domains.add(&t);
                pop.ordinary += 1;
            }
        }
        pop
    }

    /// Adds another actor's domain.
    pub fn add_domain(&mut self, name: &str) {
        if let Some(p) = domain_parts(name) {
            let t = domain_traits(&p, &self.lang, &self.brands);
            self.domains.add(&t);
            self.others += 1;
        }
    }

    /// Adds the registration record of a domain that is not the actor's.
    pub fn add_registration(&mut self, r: &Registered) {
        let t = registration_traits(r);
        if !t.is_empty() {
            self.domains.add(&t);
            self.registrations += 1;
        }
    }

    /// Adds another actor's address.
    pub fn add_address(&mut self, ip: IpAddr, net: Option<&Network>) {
        let t = self.address_traits(ip, net);
        self.addresses.add(&t);
        self.others += 1;
    }

    /// The routed IPv4 space per AS (with its organisation), from the AS tables.
    pub fn set_routed_space(&mut self, space: &HashMap<u32, (u64, String)>) {
        self.asn_space.clear();
        self.org_space.clear();
        self.band_space.clear();
        self.total_space = 0;
        for (asn, (n, org)) in space {
            self.asn_space.insert(format!("AS{asn}"), *n);
            *self.band_space.entry(size_band(*n)).or_default() += n;
            *self
                .org_space
                .entry(crate::features::org_key(org))
                .or_default() += n;
            self.total_space += n;
        }
    }

    /// Marks the ASes that host servers (those of listed VPN exits and
    /// scanners): whether an address sits on a hosting network is a habit
    /// that outlives any one provider. Call after
    /// [`Population::set_routed_space`], which sizes them.
    pub fn set_hosting(&mut self, asns: impl IntoIterator<Item = u32>) {
        self.hosting = asns.into_iter().collect();
        self.hosting_space = self
            .hosting
            .iter()
            .filter_map(|a| self.asn_space.get(&format!("AS{a}")))
            .sum();
    }

    /// The features of an address: its blocks and network
    /// ([`address_traits`]), the size band of its AS, and whether the AS
    /// hosts servers.
    pub(crate) fn address_traits(&self, ip: IpAddr, net: Option<&Network>) -> Vec<Trait> {
        let mut t = address_traits(ip, net);
        if let Some(n) = net {
            if let Some(&space) = self.asn_space.get(&format!("AS{}", n.asn)) {
                let band = size_band(space);
                t.push(Trait {
                    feature: "as-size",
                    key: band.into(),
                    shown: format!("{band} addresses"),
                    presence: false,
                });
            }
            if !self.hosting.is_empty() {
                let h = self.hosting.contains(&n.asn);
                t.push(Trait {
                    feature: "hosting",
                    key: if h { "yes" } else { "no" }.into(),
                    shown: if h {
                        "yes (the AS hosts listed VPN exits or scanners)".into()
                    } else {
                        "no".into()
                    },
                    presence: false,
                });
            }
        }
        t
    }

    /// How many ordinary (popular) registered domains it was built from.
    pub fn ordinary_names(&self) -> usize {
        self.ordinary
    }

    /// What it holds, in words: `5,000 popular names, 120 other actors'
    /// values, 3.1 billion routed IPv4 addresses`.
    pub fn describe(&self) -> String {
        let space = if self.total_space > 0 {
            format!(
                "{:.2} billion routed IPv4 addresses in the AS tables",
                self.total_space as f64 / 1e9
            )
        } else {
            "no AS table (ingest one for network habits)".into()
        };
        format!(
            "{} popular names, {} other actors' values, {} registration records, {space}",
            self.ordinary, self.others, self.registrations
        )
    }

    /// The population's probability of a domain feature value; `None` when
    /// the population holds no domain with the feature (no popularity list,
    /// no other actor, no registration record): then nothing is
    /// distinctive, except that a presence feature (an exact registered
    /// domain) is as rare as one name among a million.
    fn p_domain(&self, t: &Trait) -> Option<f64> {
        if self.domains.total(t.feature) == 0 {
            return t.presence.then_some(1e-6);
        }
        Some(self.domains.share(t.feature, &t.key))
    }

    /// The population's probability of an address feature value: the
    /// routed space's share, mixed with other actors' values as they
    /// accumulate.
    fn p_address(&self, t: &Trait) -> f64 {
        let total = if self.total_space > 0 {
            self.total_space as f64
        } else {
            DEFAULT_SPACE
        };
        let space = match t.feature {
            "address" => 1.0,
            "/24" => 256.0,
            "/16" => 65_536.0,
            "asn" => self.asn_space.get(&t.key).copied().unwrap_or(256).max(256) as f64,
            "as-org" => self.org_space.get(&t.key).copied().unwrap_or(256).max(256) as f64,
            "as-size" => self
                .band_space
                .get(t.key.as_str())
                .copied()
                .unwrap_or(256)
                .max(256) as f64,
            "hosting" => {
                let h = self.hosting_space.max(256) as f64;
                if t.key == "yes" {
                    h
                } else {
                    (total - h).max(256.0)
                }
            }
            _ => 1.0,
        } / total;
        let n = f64::from(self.addresses.total(t.feature));
        let lambda = n / (n + 50.0);
        (1.0 - lambda) * space + lambda * self.addresses.share(t.feature, &t.key)
    }
}

/// One of the actor's values, with who says it is theirs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct InfraValue {
    /// The domain or address.
    pub value: String,
    /// `domain`, `ipv4` or `ipv6`.
    pub kind: String,
    /// Roles sources give it (`c2`, …).
    pub roles: Vec<String>,
    /// The sources that link it to the actor.
    pub sources: Vec<String>,
    /// What each source said of it, kept apart (the roles above are their union).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub said: Vec<Said>,
}

/// One source's statement that a value is the actor's.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Said {
    /// The source.
    pub source: String,
    /// The roles it gives the value.
    pub roles: Vec<String>,
    /// Its marking.
    pub tlp: Tlp,
    /// First seen, as the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Last seen, as the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// What an actor's infrastructure looks like, counted.
#[derive(Debug, Clone)]
pub struct InfraProfile {
    /// The actor.
    pub actor: String,
    /// Its domains and addresses.
    pub values: Vec<InfraValue>,
    domains: Counts,
    addresses: Counts,
    domain_n: u32,
    address_n: u32,
    registered_n: u32,
}

/// A feature value the actor shows more than the population does.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Habit {
    /// Feature name.
    pub feature: String,
    /// The value.
    pub value: String,
    /// How many of the actor's values have it.
    pub count: u32,
    /// Its share among the actor's values with the feature.
    pub share: f64,
    /// Its share in the population.
    pub population_share: f64,
    /// `ln(share / population_share)` (with the m-estimate).
    pub weight: f64,
}

/// How a value of the actor reads, for the features that count.
fn traits_of(
    value: &str,
    kind: &str,
    pop: &Population,
    net: &dyn Fn(IpAddr) -> Option<Network>,
) -> Option<(bool, Vec<Trait>)> {
    if kind == "domain" {
        let p = domain_parts(value)?;
        Some((true, domain_traits(&p, &pop.lang, &pop.brands)))
    } else {
        let ip: IpAddr = value.parse().ok()?;
        Some((false, pop.address_traits(ip, net(ip).as_ref())))
    }
}

impl InfraProfile {
    /// Counts `values` (the actor's domains and addresses) with the
    /// population's language and brands; `net` looks an address's network up.
    pub fn build(
        actor: &str,
        values: Vec<InfraValue>,
        pop: &Population,
        net: &dyn Fn(IpAddr) -> Option<Network>,
    ) -> InfraProfile {
        let mut prof = InfraProfile {
            actor: actor.into(),
            values: Vec::new(),
            domains: Counts::default(),
            addresses: Counts::default(),
            domain_n: 0,
            address_n: 0,
            registered_n: 0,
        };
        let mut seen_domains = std::collections::HashSet::new();
        for v in values {
            match traits_of(&v.value, &v.kind, pop, net) {
                // A registered domain counts once however many of its
                // subdomains are listed: habits are about registrations.
                Some((true, t)) => {
                    if seen_domains.insert(t[0].key.clone()) {
                        prof.domains.add(&t);
                        prof.domain_n += 1;
                    }
                }
                Some((false, t)) => {
                    prof.addresses.add(&t);
                    prof.address_n += 1;
                }
                None => continue,
            }
            prof.values.push(v);
        }
        prof
    }

    /// Registered domains and addresses counted.
    pub fn sizes(&self) -> (u32, u32) {
        (self.domain_n, self.address_n)
    }

    /// Counts the registration record of one of the actor's registered
    /// domains (once per domain: the caller picks the record).
    pub fn add_registration(&mut self, r: &Registered) {
        let t = registration_traits(r);
        if !t.is_empty() {
            self.domains.add(&t);
            self.registered_n += 1;
        }
    }

    /// How many of the actor's registered domains have a registration record.
    pub fn registered(&self) -> u32 {
        self.registered_n
    }

    /// Every value of `feature` (`registrar`, `name-server`, `tld`, …) among
    /// the actor's domains with its share, distinctive or not, most common
    /// first: "NameCheap 72 %" whatever the population says.
    pub fn shares(&self, feature: &str, pop: &Population) -> Vec<Habit> {
        let mut out: Vec<Habit> = Vec::new();
        for (f, key, n) in self.domains.iter().filter(|(f, _, _)| *f == feature) {
            let t = Trait {
                feature: f,
                key: key.into(),
                shown: key.into(),
                presence: false,
            };
            let p = pop.p_domain(&t);
            let total = self.domains.total(f);
            out.push(Habit {
                feature: f.into(),
                value: key.into(),
                count: n,
                share: f64::from(n) / f64::from(total.max(1)),
                // No population: no comparison, no weight.
                population_share: p.unwrap_or(0.0),
                weight: p.map_or(0.0, |p| round2(weight(n, total, p))),
            });
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        out
    }

    /// The feature values the actor shows more than the population,
    /// strongest first (at least two of its values, or one presence value).
    pub fn habits(&self, pop: &Population) -> Vec<Habit> {
        let mut out = Vec::new();
        for (counts, domain) in [(&self.domains, true), (&self.addresses, false)] {
            for (feature, key, n) in counts.iter() {
                if n < 2 {
                    continue;
                }
                let t = Trait {
                    feature,
                    key: key.into(),
                    shown: key.into(),
                    presence: false,
                };
                let p = if domain {
                    match pop.p_domain(&t) {
                        Some(p) => p,
                        None => continue,
                    }
                } else {
                    pop.p_address(&t)
                };
                let total = counts.total(feature);
                let w = weight(n, total, p);
                if w > 0.0 {
                    out.push(Habit {
                        feature: feature.into(),
                        value: key.into(),
                        count: n,
                        share: f64::from(n) / f64::from(total.max(1)),
                        population_share: p,
                        weight: round2(w),
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(b.count.cmp(&a.count))
                .then(a.value.cmp(&b.value))
        });
        out
    }
}

fn weight(count: u32, total: u32, p_pop: f64) -> f64 {
    let p_actor = (f64::from(count) + M * p_pop) / (f64::from(total) + M);
    (p_actor / p_pop).ln()
}

fn round2(x: f64) -> f64 {
    // `+ 0.0` turns the -0.0 an empty float sum gives into 0.0.
    (x * 100.0).round() / 100.0 + 0.0
}

/// One readable part of a score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Contribution {
    /// Feature name.
    pub feature: String,
    /// The candidate's value of it, as shown.
    pub value: String,
    /// Its weight: positive when the actor shows it more than the population.
    pub weight: f64,
}

/// A candidate scored against an actor's profile.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scored {
    /// The candidate as given (normalised).
    pub value: String,
    /// `domain`, `ipv4` or `ipv6`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The sum of the contributions.
    pub score: f64,
    /// What the score is made of, largest first.
    pub contributions: Vec<Contribution>,
}

/// Scores candidates against one actor's profile.
pub struct Scorer<'a> {
    profile: &'a InfraProfile,
    pop: &'a Population,
}

impl<'a> Scorer<'a> {
    /// A scorer for `profile` against `pop`.
    pub fn new(profile: &'a InfraProfile, pop: &'a Population) -> Scorer<'a> {
        Scorer { profile, pop }
    }

    /// Scores a domain or address (`net`: its network, for an address);
    /// `None` when the value is neither.
    pub fn score(&self, value: &str, net: Option<&Network>) -> Option<Scored> {
        self.score_registered(value, net, None)
    }

    /// [`Scorer::score`], with a domain's registration record when one is
    /// known: its registrar and name servers count too.
    pub fn score_registered(
        &self,
        value: &str,
        net: Option<&Network>,
        reg: Option<&Registered>,
    ) -> Option<Scored> {
        let value = value.trim().trim_end_matches('.').to_ascii_lowercase();
        let (kind, traits, counts, n_values) = match value.parse::<IpAddr>() {
            Ok(ip) => (
                if ip.is_ipv4() { "ipv4" } else { "ipv6" },
                self.pop.address_traits(ip, net),
                &self.profile.addresses,
                self.profile.address_n,
            ),
            Err(_) => {
                let p = domain_parts(&value)?;
                let mut t = domain_traits(&p, &self.pop.lang, &self.pop.brands);
                // Only what the actor's own records showed can speak.
                if self.profile.registered_n > 0 && self.pop.registrations > 0 {
                    t.extend(reg.map(registration_traits).unwrap_or_default());
                }
                ("domain", t, &self.profile.domains, self.profile.domain_n)
            }
        };
        let mut contributions = Vec::new();
        if n_values > 0 {
            for t in &traits {
                let c = counts.count(t.feature, &t.key);
                if t.presence && c == 0 {
                    continue;
                }
                let p = if kind == "domain" {
                    match self.pop.p_domain(t) {
                        Some(p) => p,
                        None => continue,
                    }
                } else {
                    self.pop.p_address(t)
                };
                contributions.push(Contribution {
                    feature: t.feature.into(),
                    value: t.shown.clone(),
                    weight: round2(weight(c, counts.total(t.feature), p)),
                });
            }
        }
        contributions.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(a.feature.cmp(&b.feature))
        });
        let score = round2(contributions.iter().map(|c| c.weight).sum());
        Some(Scored {
            value,
            kind: kind.into(),
            score,
            contributions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop() -> Population {
        Population::new([
            "google.com",
            "microsoft.com",
            "wikipedia.org",
            "amazon.com",
            "onenote.com",
            "weather.com",
            "bbc.co.uk",
            "example.net",
            "facebook.com",
            "github.com",
        ])
    }

    fn value(v: &str, kind: &str) -> InfraValue {
        InfraValue {
            value: v.into(),
            kind: kind.into(),
            sources: vec!["test".into()],
            ..InfraValue::default()
        }
    }

    #[test]
    fn a_score_is_the_sum_of_its_contributions_and_habits_lift_it() {
        let pop = pop();
        let vultr = Network {
            asn: 20473,
            org: "The Constant Company, LLC".into(),
            table: "t".into(),
        };
        let net = |ip: IpAddr| ip.to_string().starts_with("45.").then(|| vultr.clone());
        let prof = InfraProfile::build(
            "RedHotel",
            vec![
                value("kb.hostingupdate.club", "domain"),
                value("mrgt.hostingupdate.club", "domain"),
                value("windowshostnamehost.club", "domain"),
                value("45.77.153.197", "ipv4"),
                value("45.76.186.26", "ipv4"),
            ],
            &pop,
            &net,
        );
        assert_eq!(prof.sizes(), (2, 2), "two registered domains");
        let s = Scorer::new(&prof, &pop);
        let club = s.score("newname.club", None).unwrap();
        let com = s.score("newname.com", None).unwrap();
        assert!(club.score > com.score, "{club:?} {com:?}");
        let total: f64 = club.contributions.iter().map(|c| c.weight).sum();
        assert!((total - club.score).abs() < 0.05);
        let same = s.score("x.hostingupdate.club", None).unwrap();
        let reg = same
            .contributions
            .iter()
            .find(|c| c.feature == "registered-domain")
            .expect("a registered domain of the actor's speaks");
        assert!(reg.weight > 0.0);
        assert!(
            s.score("x.otherdomain.club", None)
                .unwrap()
                .contributions
                .iter()
                .all(|c| c.feature != "registered-domain"),
            "absence of a presence feature says nothing"
        );
        let addr = s.score("45.77.1.1", Some(&vultr)).unwrap();
        let other = s.score("8.8.8.8", None).unwrap();
        assert!(addr.score > other.score);
        assert!(addr.contributions.iter().any(|c| c.feature == "asn"));
        let habits = prof.habits(&pop);
        assert!(
            habits
                .iter()
                .any(|h| h.feature == "tld" && h.value == "club")
        );
        assert!(
            habits
                .iter()
                .any(|h| h.feature == "asn" && h.value == "AS20473")
        );
    }

    #[test]
    fn an_actor_with_no_values_scores_nothing() {
        let pop = pop();
        let prof = InfraProfile::build("X", vec![], &pop, &|_| None);
        let s = Scorer::new(&prof, &pop).score("a.com", None).unwrap();
        assert_eq!(s.score, 0.0);
        assert!(s.contributions.is_empty());
        assert!(Scorer::new(&prof, &pop).score("not a name", None).is_none());
    }
}
