//! Compiling indicators into an [`Index`]: each value normalised for its
//! kind and fingerprinted (domains, addresses, URLs, e-mail addresses,
//! hashes, TLS fingerprints, file names), networks grouped with their keys,
//! then the table, the network maps and the filters built.

use super::filters::{NO_DOMAINS, labels, parent_filter, v4_filter, v4_first_of, v4_sixteens};
use super::lpm::Lpm4;
use super::table::{
    FpTable, NS_AGENT, NS_DOMAIN, NS_EMAIL, NS_FILENAME, NS_HEX, NS_IP, NS_JA4, NS_MAC, NS_PATH,
    NS_URL, fp, kind_code, kinds_present,
};
use super::{Index, IndexStats, Suppressed, next_id};
use crate::normalize;
use cairn_model::{IndicatorKind, Observable};
use cairn_warninglist::WarningLists;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The namespace and key of a value matched whole: MAC addresses in
/// lower-case colon form, user agents with their spaces collapsed, file
/// paths case-blind (Windows paths are).
pub(super) fn simple_key(kind: IndicatorKind, value: &str) -> (u64, String) {
    match kind {
        IndicatorKind::Ja4 => (NS_JA4, normalize::lower(value.trim()).into_owned()),
        IndicatorKind::Mac => (NS_MAC, kind.normalize(value)),
        IndicatorKind::UserAgent => (NS_AGENT, kind.normalize(value)),
        IndicatorKind::FilePath => (NS_PATH, kind.normalize(value).to_lowercase()),
        _ => (NS_FILENAME, value.trim().to_lowercase()),
    }
}

/// Collects indicators, then compiles them into an [`Index`].
#[derive(Default)]
pub struct IndexBuilder<'w> {
    entries: Vec<(u64, u32, u8)>,
    v4: Vec<(Ipv4Net, u32)>,
    v6: Vec<(Ipv6Net, u32)>,
    /// The /24 of every exact IPv4 value in `entries` (for the /24 filter).
    v4_exact24: Vec<u32>,
    warninglists: Option<&'w WarningLists>,
    /// Fewest and most labels of a domain indicator (none yet: `None`).
    domain_labels: Option<(u8, u8)>,
    /// Every domain indicator's normalised host, each ending in `\n`.
    domain_hosts: Vec<u8>,
    suppressed: BTreeMap<String, u64>,
    stats: IndexStats,
    tag: String,
}

impl<'w> IndexBuilder<'w> {
    /// An empty builder.
    pub fn new() -> IndexBuilder<'w> {
        IndexBuilder::default()
    }

    /// Indicators covered by these warninglists are left out (and counted per
    /// list in [`IndexStats::suppressed`]). Call before [`IndexBuilder::add`].
    pub fn suppress_with(mut self, lists: &'w WarningLists) -> IndexBuilder<'w> {
        self.warninglists = Some(lists);
        self
    }

    /// A free-form label saved with the index (the CLI stores the store's
    /// generation in it, to know when a cached index is stale).
    pub fn tag(mut self, tag: impl Into<String>) -> IndexBuilder<'w> {
        self.tag = tag.into();
        self
    }

    /// Adds one indicator value under `key` (the caller's handle). Several
    /// keys may share a value; every one is reported on a hit. Returns
    /// whether the value was indexed (false: suppressed, unhuntable or
    /// unparseable; see [`IndexStats`]).
    pub fn add(&mut self, observable: &Observable, key: u32) -> bool {
        self.stats.offered += 1;
        let kind = observable.kind;
        let value = observable.value.trim();
        if let Some(wl) = self.warninglists
            && let Some(hit) = wl.check(kind, value)
        {
            *self.suppressed.entry(hit.list).or_insert(0) += 1;
            return false;
        }
        let ok = self.insert(kind, value, key);
        if ok {
            *self
                .stats
                .by_kind
                .entry(kind.as_str().to_string())
                .or_insert(0) += 1;
        } else {
            self.stats.skipped += 1;
        }
        ok
    }

    fn insert(&mut self, kind: IndicatorKind, value: &str, key: u32) -> bool {
        use IndicatorKind as K;
        let code = kind_code(kind);
        let mut buf = Vec::new();
        match kind {
            K::Domain => {
                let v = value.trim_start_matches("*.");
                if let Some(ip) = normalize::parse_ip(v.as_bytes()) {
                    return self.insert_ip(ip, key, kind_code(ip_kind(ip)));
                }
                match normalize::host_into(v.as_bytes(), &mut buf) {
                    Some(h) => {
                        let n = labels(h);
                        let (lo, hi) = self.domain_labels.unwrap_or((n, n));
                        self.domain_labels = Some((lo.min(n), hi.max(n)));
                        self.entries.push((fp(NS_DOMAIN, h), key, code));
                        self.domain_hosts.extend_from_slice(h);
                        self.domain_hosts.push(b'\n');
                    }
                    None => return false,
                }
            }
            K::Ipv4 | K::Ipv6 => match normalize::parse_ip(value.as_bytes()) {
                Some(ip) => return self.insert_ip(ip, key, code),
                None => return false,
            },
            K::Cidr => match value.parse::<IpNet>() {
                Ok(IpNet::V4(n)) => self.v4.push((n.trunc(), key)),
                Ok(IpNet::V6(n)) => {
                    let n = n.trunc();
                    // ::ffff:a.b.c.d/96+n is the IPv4 network a.b.c.d/n.
                    match n.addr().to_ipv4_mapped() {
                        Some(a) if n.prefix_len() >= 96 => {
                            match Ipv4Net::new(a, n.prefix_len() - 96) {
                                Ok(v4) => self.v4.push((v4.trunc(), key)),
                                Err(_) => return false,
                            }
                        }
                        _ => self.v6.push((n, key)),
                    }
                }
                Err(_) => match normalize::parse_ip(value.as_bytes()) {
                    Some(ip) => return self.insert_ip(ip, key, kind_code(ip_kind(ip))),
                    None => return false,
                },
            },
            K::Url => match normalize::url(value) {
                Some(u) => self.entries.push((fp(NS_URL, u.as_bytes()), key, code)),
                None => return false,
            },
            K::Email => {
                let v = normalize::lower(value);
                if !v.contains('@') {
                    return false;
                }
                self.entries.push((fp(NS_EMAIL, v.as_bytes()), key, code));
            }
            K::Md5
            | K::Sha1
            | K::Sha256
            | K::Sha512
            | K::CertSha1
            | K::CertSha256
            | K::CertSerial
            | K::Ja3
            | K::Ja3s
            | K::Jarm
            | K::Imphash
            | K::Authentihash => match normalize::hex_into(value.as_bytes(), &mut buf) {
                Some(h) => self.entries.push((fp(NS_HEX, h), key, code)),
                None => return false,
            },
            K::Ja4 => {
                let v = normalize::lower(value);
                self.entries.push((fp(NS_JA4, v.as_bytes()), key, code));
            }
            K::FileName => {
                let v = value.to_lowercase();
                if v.is_empty() {
                    return false;
                }
                self.entries
                    .push((fp(NS_FILENAME, v.as_bytes()), key, code));
            }
            K::Mac | K::UserAgent | K::FilePath => {
                let (ns, v) = simple_key(kind, value);
                if v.is_empty() {
                    return false;
                }
                self.entries.push((fp(ns, v.as_bytes()), key, code));
            }
            // Not matched in logs, so not indexed: a socket is a (host, port)
            // pair that logs keep in two columns (its host, extracted beside
            // it, is indexed); ssdeep is compared by similarity, not equality;
            // XMPP addresses, analytics ids, tactics and mitigations have no
            // log field to meet.
            _ => return false,
        }
        true
    }

    fn insert_ip(&mut self, ip: IpAddr, key: u32, code: u8) -> bool {
        if let IpAddr::V4(a) = ip {
            self.v4_exact24.push(u32::from(a) >> 8);
        }
        let mut b = [0u8; 16];
        let bytes = normalize::ip_bytes(ip, &mut b);
        self.entries.push((fp(NS_IP, bytes), key, code));
        true
    }

    /// Compiles the index.
    pub fn build(self) -> Index {
        let IndexBuilder {
            mut entries,
            mut v4,
            mut v6,
            mut v4_exact24,
            suppressed,
            mut stats,
            tag,
            domain_labels,
            domain_hosts,
            ..
        } = self;
        let domain_labels = domain_labels.unwrap_or(NO_DOMAINS);
        let parents = parent_filter(&domain_hosts, domain_labels.0);
        entries.sort_unstable();
        entries.dedup();
        let mut fps = Vec::with_capacity(entries.len());
        let mut keys = Vec::with_capacity(entries.len());
        let mut kinds = Vec::with_capacity(entries.len());
        for (f, k, c) in entries {
            fps.push(f);
            keys.push(k);
            kinds.push(c);
        }
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        let mut cidr_keys = Vec::with_capacity(v4.len() + v6.len());
        let t4 = Lpm4::new(group_into(&v4, &mut cidr_keys));
        let nets4: Vec<Ipv4Net> = t4.iter().map(|(n, _)| *n).collect();
        let t6: PrefixMap<Ipv6Net, (u32, u32)> =
            group_into(&v6, &mut cidr_keys).into_iter().collect();
        stats.indexed = (keys.len() + cidr_keys.len()) as u64;
        let mut sup: Vec<Suppressed> = suppressed
            .into_iter()
            .map(|(list, count)| Suppressed { list, count })
            .collect();
        sup.sort_by(|a, b| b.count.cmp(&a.count).then(a.list.cmp(&b.list)));
        stats.suppressed = sup;
        v4_exact24.sort_unstable();
        v4_exact24.dedup();
        let v4_filter = v4_filter(&nets4, &v4_exact24);
        let v4_16 = v4_sixteens(&nets4, &v4_exact24);
        Index {
            kinds_present: kinds_present(&kinds),
            table: FpTable::from_sorted(fps, keys, kinds),
            v4_filter,
            v4_first: v4_first_of(&v4_16),
            v4_16,
            v4: t4,
            v6: t6,
            cidr_keys,
            domain_labels,
            parents,
            stats,
            tag,
            id: next_id(),
        }
    }
}

fn ip_kind(ip: IpAddr) -> IndicatorKind {
    match ip {
        IpAddr::V4(_) => IndicatorKind::Ipv4,
        IpAddr::V6(_) => IndicatorKind::Ipv6,
    }
}

/// Groups sorted `(net, key)` pairs into networks pointing at key runs
/// (start, length) appended to `keys`.
fn group_into<P: Copy + PartialEq>(
    pairs: &[(P, u32)],
    keys: &mut Vec<u32>,
) -> Vec<(P, (u32, u32))> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let net = pairs[i].0;
        let start = keys.len() as u32;
        while i < pairs.len() && pairs[i].0 == net {
            keys.push(pairs[i].1);
            i += 1;
        }
        out.push((net, (start, keys.len() as u32 - start)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldType as F;
    use crate::index::testing::m;
    use IndicatorKind as K;

    #[test]
    fn suppression_counts_per_list() {
        let wl = WarningLists::builtin();
        let mut b = IndexBuilder::new().suppress_with(&wl);
        assert!(!b.add(&Observable::new(K::Ipv4, "10.0.0.1"), 1));
        assert!(!b.add(&Observable::new(K::Domain, "www.example.com"), 2));
        assert!(b.add(&Observable::new(K::Domain, "kb.dga.asia"), 3));
        assert!(!b.add(&Observable::new(K::Cve, "CVE-2021-1"), 4));
        let ix = b.build();
        assert_eq!(ix.stats().suppressed.len(), 2);
        assert_eq!(ix.stats().indexed, 1);
        assert_eq!(ix.stats().skipped, 1);
    }

    #[test]
    fn shared_values_report_every_key() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(K::Domain, "dga.asia"), 7);
        b.add(&Observable::new(K::Domain, "DGA.asia"), 9);
        b.add(&Observable::new(K::Domain, "dga.asia"), 7);
        let ix = b.build();
        assert_eq!(m(&ix, F::Domain, "x.dga.asia")[0].2, vec![7, 9]);
    }
}
