//! What a domain or an address looks like, as features a profile counts and
//! a score weighs.
//!
//! Every feature is a (name, key) pair: the key is what is counted (`club`,
//! `8-10`, `AS20473`), the shown text is what an analyst reads beside it.
//! Nothing here is a hand-written list of bad words: look-alikes are judged
//! against the population's own popular names, and "random-looking" against
//! a character model of the population's names.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// What a domain's registration record says that can be a habit: who it
/// was registered with and which name servers it delegates to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// The registrar as the record names it.
    pub registrar: Option<String>,
    /// The name servers it lists.
    pub name_servers: Vec<String>,
}

/// A registration's features: the registrar (spellings of one registrar
/// alike) and the registered domains of its name servers (an operator's own
/// `ns1.example-dns.net` and a registrar's parking servers tell apart).
pub(crate) fn registration_traits(r: &Registered) -> Vec<Trait> {
    let mut out = Vec::new();
    if let Some(name) = r
        .registrar
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        out.push(Trait {
            feature: "registrar",
            key: cairn_kb::registrar_key(name),
            shown: name.to_string(),
            presence: false,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for ns in &r.name_servers {
        if let Some(p) = domain_parts(ns)
            && seen.insert(p.registered.clone())
        {
            out.push(Trait {
                feature: "name-server",
                shown: p.registered.clone(),
                key: p.registered,
                presence: false,
            });
        }
    }
    out
}

/// One feature of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trait {
    /// Feature name (`tld`, `asn`, …).
    pub feature: &'static str,
    /// What is counted.
    pub key: String,
    /// What is shown (the key with its context: the brand imitated, the AS's
    /// organisation and table).
    pub shown: String,
    /// A presence feature speaks only when the profile holds its key (an
    /// exact registered domain, a /24): absence says nothing.
    pub presence: bool,
}

impl Trait {
    fn new(feature: &'static str, key: impl Into<String>) -> Trait {
        let key = key.into();
        Trait {
            feature,
            shown: key.clone(),
            key,
            presence: false,
        }
    }

    fn presence(feature: &'static str, key: impl Into<String>) -> Trait {
        Trait {
            presence: true,
            ..Trait::new(feature, key)
        }
    }
}

/// A domain split at its public suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainParts {
    /// The name, lower case, no trailing dot.
    pub name: String,
    /// The registrable domain (`officesuport.com`).
    pub registered: String,
    /// The public suffix (`com`, `co.uk`).
    pub suffix: String,
    /// The registered label (`officesuport`).
    pub label: String,
}

/// Splits `name` at its public suffix; `None` for a name with no registrable
/// part (a bare suffix, an address).
pub fn domain_parts(name: &str) -> Option<DomainParts> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let registered = psl::domain_str(&name)?.to_string();
    let suffix = psl::suffix_str(&name)?.to_string();
    let label = registered
        .strip_suffix(&suffix)?
        .trim_end_matches('.')
        .to_string();
    if label.is_empty() {
        return None;
    }
    Some(DomainParts {
        name,
        registered,
        suffix,
        label,
    })
}

/// A character-bigram model of ordinary registered labels: how surprising a
/// label's letter pairs are. Trained on the population's names, so it knows
/// what names usually look like without a dictionary.
#[derive(Debug, Clone, Default)]
pub struct Language {
    pairs: HashMap<(u8, u8), u32>,
    firsts: HashMap<u8, u32>,
    /// Cut-offs on the mean surprise: the population's 90th and 98th percentiles.
    cuts: (f64, f64),
}

const ALPHABET: f64 = 38.0;

impl Language {
    /// Learns from `labels` (registered labels of ordinary domains).
    pub fn train<'a>(labels: impl IntoIterator<Item = &'a str>) -> Language {
        let mut lang = Language::default();
        let labels: Vec<&str> = labels.into_iter().collect();
        for l in &labels {
            for (a, b) in pairs(l) {
                *lang.pairs.entry((a, b)).or_default() += 1;
                *lang.firsts.entry(a).or_default() += 1;
            }
        }
        let mut s: Vec<f64> = labels
            .iter()
            .filter_map(|l| lang.surprise(l))
            .filter(|v| v.is_finite())
            .collect();
        s.sort_by(f64::total_cmp);
        if !s.is_empty() {
            let at = |q: f64| s[((s.len() - 1) as f64 * q) as usize];
            lang.cuts = (at(0.90), at(0.98));
        }
        lang
    }

    /// Mean surprise (negative log-probability) per letter pair; `None` for
    /// a label too short to judge.
    pub fn surprise(&self, label: &str) -> Option<f64> {
        let ps: Vec<(u8, u8)> = pairs(label).collect();
        if ps.len() < 3 {
            return None;
        }
        let total: f64 = ps
            .iter()
            .map(|&(a, b)| {
                let ab = f64::from(self.pairs.get(&(a, b)).copied().unwrap_or(0));
                let a_n = f64::from(self.firsts.get(&a).copied().unwrap_or(0));
                -((ab + 0.5) / (a_n + 0.5 * ALPHABET)).ln()
            })
            .sum();
        Some(total / ps.len() as f64)
    }

    /// `usual`, `unusual` (beyond the population's 90th percentile) or
    /// `random` (beyond its 98th), or `short`; `unknown` with no population
    /// to learn from.
    pub fn band(&self, label: &str) -> &'static str {
        if self.pairs.is_empty() {
            return "unknown";
        }
        match self.surprise(label) {
            None => "short",
            Some(s) if s > self.cuts.1 => "random",
            Some(s) if s > self.cuts.0 => "unusual",
            Some(_) => "usual",
        }
    }
}

fn pairs(label: &str) -> impl Iterator<Item = (u8, u8)> + '_ {
    let b = label.as_bytes();
    b.windows(2).map(|w| (class(w[0]), class(w[1])))
}

/// Digits are one class: `itcom666` and `itcom888` read alike.
fn class(c: u8) -> u8 {
    if c.is_ascii_digit() {
        b'0'
    } else {
        c.to_ascii_lowercase()
    }
}

/// Popular names a look-alike imitates: registered labels of the population's
/// best-known domains (five letters or more, so `mail` or `cdn` is no brand).
#[derive(Debug, Clone, Default)]
pub struct Brands {
    labels: Vec<String>,
    set: HashSet<String>,
}

impl Brands {
    /// Brands from `labels`, most popular first (duplicates ignored).
    pub fn new<'a>(labels: impl IntoIterator<Item = &'a str>) -> Brands {
        let mut b = Brands::default();
        for l in labels {
            if l.len() >= 5 && l.bytes().all(|c| c.is_ascii_alphabetic()) && b.set.insert(l.into())
            {
                b.labels.push(l.into());
            }
        }
        b
    }

    /// The brand `label` imitates without being it: one or two edits away
    /// (`0nenote`, `officesuport`), or the brand with words added
    /// (`symantecupd`, `alexa-api`, `google-images`).
    pub fn imitated(&self, label: &str) -> Option<&str> {
        if self.set.contains(label) {
            return None;
        }
        // Digits that pass for letters (`micros0ft`, `g00gle`) read as the letters.
        let plain: String = label
            .chars()
            .filter(|c| *c != '-')
            .map(|c| match c {
                '0' => 'o',
                '1' => 'l',
                '3' => 'e',
                '5' => 's',
                _ => c,
            })
            .collect();
        self.labels
            .iter()
            .find(|brand| {
                let edits = if brand.len() >= 8 { 2 } else { 1 };
                (plain.len() + edits >= brand.len()
                    && brand.len() + edits >= plain.len()
                    && strsim::damerau_levenshtein(&plain, brand) <= edits)
                    || (plain.len() > brand.len() && plain.contains(brand.as_str()))
            })
            .map(String::as_str)
    }
}

fn length_band(n: usize) -> &'static str {
    match n {
        0..=4 => "1-4",
        5..=7 => "5-7",
        8..=10 => "8-10",
        11..=14 => "11-14",
        _ => "15+",
    }
}

fn shape(label: &str) -> &'static str {
    let digits = label.bytes().any(|c| c.is_ascii_digit());
    let letters = label.bytes().any(|c| c.is_ascii_alphabetic());
    match (label.contains('-'), digits, letters) {
        (true, _, _) => "hyphenated",
        (false, true, true) => "letters+digits",
        (false, true, false) => "digits",
        _ => "letters",
    }
}

/// The features of a domain name.
pub fn domain_traits(parts: &DomainParts, lang: &Language, brands: &Brands) -> Vec<Trait> {
    let mut out = vec![
        Trait::presence("registered-domain", parts.registered.clone()),
        Trait::new("tld", parts.suffix.clone()),
        Trait::new("label-length", length_band(parts.label.len())),
        Trait::new("label-shape", shape(&parts.label)),
        Trait::new("label-randomness", lang.band(&parts.label)),
    ];
    let mut look = Trait::new("look-alike", "no");
    if let Some(brand) = brands.imitated(&parts.label) {
        look.key = "yes".into();
        look.shown = format!("yes ({brand})");
    }
    out.push(look);
    out
}

/// An address's network, as an AS table gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// AS number.
    pub asn: u32,
    /// Organisation as the table names it.
    pub org: String,
    /// Where it comes from: `table (as of date)`.
    pub table: String,
}

/// The organisation as a key: case, punctuation and company forms dropped,
/// so `G-Core Labs S.A.` and `G-CORE LABS SA` count together.
pub fn org_key(org: &str) -> String {
    let words: Vec<String> = org
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| {
            !matches!(
                w.as_str(),
                "inc"
                    | "llc"
                    | "ltd"
                    | "limited"
                    | "sa"
                    | "s"
                    | "a"
                    | "co"
                    | "corp"
                    | "gmbh"
                    | "bv"
            )
        })
        .collect();
    words.join(" ")
}

/// The size of an AS's routed space as a band of powers of two
/// (`2^16-2^17`): hosting providers are mid-sized, access networks large.
pub(crate) fn size_band(addresses: u64) -> &'static str {
    const BANDS: [&str; 13] = [
        "<2^8",
        "2^8-2^9",
        "2^10-2^11",
        "2^12-2^13",
        "2^14-2^15",
        "2^16-2^17",
        "2^18-2^19",
        "2^20-2^21",
        "2^22-2^23",
        "2^24-2^25",
        "2^26-2^27",
        "2^28-2^29",
        "2^30+",
    ];
    let log = 63 - addresses.max(1).leading_zeros() as usize;
    if log < 8 {
        BANDS[0]
    } else {
        BANDS[(1 + (log - 8) / 2).min(BANDS.len() - 1)]
    }
}

/// The features of an address (`net`: its network, when an AS table covers it).
pub fn address_traits(ip: IpAddr, net: Option<&Network>) -> Vec<Trait> {
    let mut out = vec![Trait::presence("address", ip.to_string())];
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            out.push(Trait::presence(
                "/24",
                format!("{}.{}.{}.0/24", o[0], o[1], o[2]),
            ));
            out.push(Trait::presence("/16", format!("{}.{}.0.0/16", o[0], o[1])));
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            out.push(Trait::presence(
                "/48",
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]),
            ));
        }
    }
    if let Some(n) = net {
        let mut asn = Trait::new("asn", format!("AS{}", n.asn));
        asn.shown = format!("AS{} {} ({})", n.asn, n.org, n.table);
        out.push(asn);
        let mut org = Trait::new("as-org", org_key(&n.org));
        org.shown = n.org.clone();
        out.push(org);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_public_suffix() {
        let p = domain_parts("Kb.DGA.asia.").unwrap();
        assert_eq!(
            (p.registered.as_str(), p.suffix.as_str(), p.label.as_str()),
            ("dga.asia", "asia", "dga")
        );
        assert_eq!(domain_parts("www.bbc.co.uk").unwrap().suffix, "co.uk");
        assert!(domain_parts("co.uk").is_none());
        assert!(domain_parts("45.77.153.197").is_none());
    }

    #[test]
    fn look_alikes_are_judged_against_popular_names() {
        let brands = Brands::new(["microsoft", "onenote", "symantec", "alexa", "google", "cdn"]);
        assert_eq!(brands.imitated("0nenote"), Some("onenote"));
        assert_eq!(brands.imitated("symantecupd"), Some("symantec"));
        assert_eq!(brands.imitated("alexa-api"), Some("alexa"));
        assert_eq!(brands.imitated("micros0ft-update"), Some("microsoft"));
        assert_eq!(brands.imitated("microsoft"), None, "the brand itself");
        assert_eq!(
            brands.imitated("asia-cdn"),
            None,
            "cdn is too short to be a brand"
        );
        assert_eq!(brands.imitated("freehighways"), None);
    }

    #[test]
    fn random_labels_stand_out_from_the_population() {
        let names = [
            "google",
            "facebook",
            "amazon",
            "wikipedia",
            "microsoft",
            "apple",
            "netflix",
            "twitter",
            "instagram",
            "linkedin",
            "yahoo",
            "office",
            "support",
            "online",
            "weather",
            "shopping",
            "travel",
            "booking",
            "people",
            "market",
            "bank",
            "news",
            "times",
            "post",
            "daily",
            "mail",
            "store",
            "games",
            "music",
            "video",
            "photo",
            "cloud",
            "search",
        ];
        let lang = Language::train(names.iter().copied());
        let s = |l: &str| lang.surprise(l).unwrap();
        assert!(s("nfdkjbfwjakd") > s("officesupport"));
        assert!(s("ekaldhfl") > s("liveonline"));
        assert_eq!(lang.band("ab"), "short");
    }

    #[test]
    fn addresses_carry_their_blocks_and_network() {
        let net = Network {
            asn: 20473,
            org: "The Constant Company, LLC".into(),
            table: "routeviews (2026-06-17)".into(),
        };
        let t = address_traits("45.77.153.197".parse().unwrap(), Some(&net));
        let keys: Vec<(&str, &str)> = t.iter().map(|t| (t.feature, t.key.as_str())).collect();
        assert!(keys.contains(&("/24", "45.77.153.0/24")));
        assert!(keys.contains(&("/16", "45.77.0.0/16")));
        assert!(keys.contains(&("asn", "AS20473")));
        assert!(keys.contains(&("as-org", "the constant company")));
        assert_eq!(org_key("G-Core Labs S.A."), org_key("G-CORE LABS SA"));
    }
}
