//! Full matches of log values against the index: a host and each parent
//! domain, an address exact or by its longest network, hex values, URLs
//! (and their hosts), e-mail addresses, JA4 values and file names, each
//! giving the indicators met with every key that carries them.

use super::table::{NS_DOMAIN, NS_EMAIL, NS_HEX, NS_IP, NS_URL, fp, kind_of_code};
use super::{Index, Match, MatchKind};
use crate::normalize;
use cairn_model::{IndicatorKind, Observable};
use ipnet::Ipv6Net;
use std::net::IpAddr;

impl Index {
    fn push_exact(
        &self,
        range: std::ops::Range<usize>,
        indicator_value: impl Fn() -> String,
        match_kind: MatchKind,
        accept: impl Fn(IndicatorKind) -> bool,
        out: &mut Vec<Match>,
    ) {
        // Entries of one fingerprint are sorted by key then kind; group by kind.
        let mut groups: Vec<(IndicatorKind, Vec<u32>)> = Vec::new();
        for i in range {
            let Some(kind) = kind_of_code(self.table.kinds[i]) else {
                continue;
            };
            if !accept(kind) {
                continue;
            }
            match groups.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, keys)) => keys.push(self.table.keys[i]),
                None => groups.push((kind, vec![self.table.keys[i]])),
            }
        }
        if groups.is_empty() {
            return;
        }
        let value = indicator_value();
        for (kind, keys) in groups {
            out.push(Match {
                indicator: Observable {
                    kind,
                    value: value.clone(),
                },
                match_kind,
                keys,
            });
        }
    }

    /// Matches a normalised host (lower case, no trailing dot, punycode) and
    /// each parent domain at label boundaries.
    pub(crate) fn match_host(&self, host: &[u8], via_url: bool, out: &mut Vec<Match>) {
        let mut suffix = host;
        loop {
            let r = self.table.find(fp(NS_DOMAIN, suffix));
            if !r.is_empty() {
                let mk = if via_url {
                    MatchKind::Host
                } else if suffix.len() == host.len() {
                    MatchKind::Exact
                } else {
                    MatchKind::Subdomain
                };
                let s = suffix;
                self.push_exact(
                    r,
                    || String::from_utf8_lossy(s).into_owned(),
                    mk,
                    |k| k == IndicatorKind::Domain,
                    out,
                );
            }
            match memchr::memchr(b'.', suffix) {
                Some(i) => suffix = &suffix[i + 1..],
                None => break,
            }
        }
    }

    /// Matches an address: exact first, else the longest covering network.
    pub(crate) fn match_ip(&self, ip: IpAddr, via_url: bool, out: &mut Vec<Match>) {
        if let IpAddr::V4(a) = ip {
            if !self.v4_16_has(a) {
                return;
            }
            let b = (u32::from(a) >> 8) as usize;
            if !self.v4_filter.is_empty() && self.v4_filter[b >> 6] & (1 << (b & 63)) == 0 {
                return;
            }
        }
        let mut b = [0u8; 16];
        let r = self.table.find(fp(NS_IP, normalize::ip_bytes(ip, &mut b)));
        if !r.is_empty() {
            let before = out.len();
            self.push_exact(
                r,
                || normalize::ip_text(ip),
                if via_url {
                    MatchKind::Host
                } else {
                    MatchKind::Exact
                },
                |k| matches!(k, IndicatorKind::Ipv4 | IndicatorKind::Ipv6),
                out,
            );
            if out.len() > before {
                return;
            }
        }
        let hit = match ip {
            IpAddr::V4(_) if self.v4.is_empty() => None,
            IpAddr::V6(_) if self.v6.is_empty() => None,
            IpAddr::V4(a) => self
                .v4
                .get_lpm(u32::from(a))
                .map(|(p, r)| (normalize::v4_text(p.network(), Some(p.prefix_len())), *r)),
            IpAddr::V6(a) => self
                .v6
                .get_lpm(&Ipv6Net::from(a))
                .map(|(p, r)| (p.to_string(), *r)),
        };
        if let Some((net, (start, len))) = hit {
            let keys = self.cidr_keys[start as usize..(start + len) as usize].to_vec();
            out.push(Match {
                indicator: Observable {
                    kind: IndicatorKind::Cidr,
                    value: net,
                },
                match_kind: if via_url {
                    MatchKind::Host
                } else {
                    MatchKind::Cidr
                },
                keys,
            });
        }
    }

    /// Matches a normalised hex value against the hex indicators of the
    /// kinds `accept` takes.
    pub(crate) fn match_hex(
        &self,
        hex: &[u8],
        accept: impl Fn(IndicatorKind) -> bool,
        out: &mut Vec<Match>,
    ) {
        let r = self.table.find(fp(NS_HEX, hex));
        if !r.is_empty() {
            self.push_exact(
                r,
                || String::from_utf8_lossy(hex).into_owned(),
                MatchKind::Exact,
                accept,
                out,
            );
        }
    }

    pub(crate) fn match_url(&self, url: &str, out: &mut Vec<Match>) {
        if let Some(norm) = normalize::url(url) {
            let r = self.table.find(fp(NS_URL, norm.as_bytes()));
            if !r.is_empty() {
                self.push_exact(r, || norm.clone(), MatchKind::Url, |_| true, out);
            }
        }
        if let Some(h) = normalize::url_host(url) {
            self.match_host_or_ip(h.as_bytes(), true, out);
        }
    }

    /// Matches an already normalised URL against URL indicators only.
    pub(crate) fn match_url_only(&self, norm: &str, out: &mut Vec<Match>) {
        let r = self.table.find(fp(NS_URL, norm.as_bytes()));
        if !r.is_empty() {
            self.push_exact(r, || norm.to_string(), MatchKind::Url, |_| true, out);
        }
    }

    pub(crate) fn match_host_or_ip(&self, raw: &[u8], via_url: bool, out: &mut Vec<Match>) {
        let raw = raw.trim_ascii();
        let looks_ip = |v: &[u8]| {
            v.first()
                .is_some_and(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'[')
                && v.iter()
                    .all(|b| b.is_ascii_hexdigit() || b".:[]%".contains(b))
        };
        if looks_ip(raw)
            && let Some(ip) = normalize::parse_ip(raw)
        {
            self.match_ip(ip, via_url, out);
            return;
        }
        // `host:port` as HTTP Host headers carry it.
        let raw = match memchr::memrchr(b':', raw) {
            Some(i)
                if i + 1 < raw.len()
                    && raw[i + 1..].iter().all(u8::is_ascii_digit)
                    && memchr::memchr(b':', &raw[..i]).is_none() =>
            {
                let h = &raw[..i];
                if let Some(ip) = normalize::parse_ip(h) {
                    self.match_ip(ip, via_url, out);
                    return;
                }
                h
            }
            _ => raw,
        };
        // Fast path: ASCII host lower-cased on the stack, no allocation.
        let mut stack = [0u8; normalize::MAX_HOST];
        if let Some(h) = normalize::host_ascii(raw, &mut stack) {
            self.match_host(h, via_url, out);
            return;
        }
        if !raw.is_ascii() {
            let mut buf = Vec::with_capacity(64);
            if let Some(h) = normalize::host_into(raw, &mut buf) {
                self.match_host(h, via_url, out);
            }
        }
    }

    pub(crate) fn match_email(&self, raw: &[u8], out: &mut Vec<Match>) {
        let Ok(s) = std::str::from_utf8(raw) else {
            return;
        };
        // `Name <a@b>` → a@b.
        let s = match (s.rfind('<'), s.rfind('>')) {
            (Some(a), Some(b)) if a < b => &s[a + 1..b],
            _ => s,
        };
        let v = normalize::lower(s.trim());
        let r = self.table.find(fp(NS_EMAIL, v.as_bytes()));
        if !r.is_empty() {
            self.push_exact(r, || v.to_string(), MatchKind::Exact, |_| true, out);
        }
    }

    pub(crate) fn match_simple(&self, ns_kind: IndicatorKind, raw: &[u8], out: &mut Vec<Match>) {
        let Ok(s) = std::str::from_utf8(raw) else {
            return;
        };
        let (ns, v) = super::build::simple_key(ns_kind, s);
        let r = self.table.find(fp(ns, v.as_bytes()));
        if !r.is_empty() {
            self.push_exact(r, || v.clone(), MatchKind::Exact, |_| true, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fields::FieldType as F;
    use crate::index::MatchKind;
    use crate::index::testing::{index, m};
    use cairn_model::IndicatorKind as K;

    #[test]
    fn domains_match_subdomains_at_label_boundaries() {
        let ix = index(&[(K::Domain, "dga.asia"), (K::Domain, "xn--bcher-kva.de")]);
        assert_eq!(
            m(&ix, F::Domain, "dga.asia"),
            [("dga.asia".into(), MatchKind::Exact, vec![0])]
        );
        assert_eq!(
            m(&ix, F::Domain, "KB.DGA.Asia."),
            [("dga.asia".into(), MatchKind::Subdomain, vec![0])]
        );
        assert!(m(&ix, F::Domain, "notdga.asia").is_empty());
        assert!(m(&ix, F::Domain, "dga.asia.evil.net").is_empty());
        assert!(m(&ix, F::Domain, "asia").is_empty());
        assert_eq!(m(&ix, F::Domain, "www.bücher.de").len(), 1);
        assert_eq!(m(&ix, F::Domain, "dga.asia:443").len(), 1);
    }

    #[test]
    fn ips_exact_and_longest_prefix() {
        let ix = index(&[
            (K::Ipv4, "45.77.153.197"),
            (K::Cidr, "10.0.0.0/8"),
            (K::Cidr, "10.1.0.0/16"),
            (K::Ipv6, "2001:db8::1"),
            (K::Cidr, "2001:db8:1::/48"),
        ]);
        assert_eq!(m(&ix, F::Ip, "45.77.153.197")[0].1, MatchKind::Exact);
        assert_eq!(m(&ix, F::Ip, "::ffff:45.77.153.197")[0].0, "45.77.153.197");
        assert!(m(&ix, F::Ip, "45.77.153.198").is_empty());
        assert_eq!(
            m(&ix, F::Ip, "10.1.2.3"),
            [("10.1.0.0/16".into(), MatchKind::Cidr, vec![2])]
        );
        assert_eq!(m(&ix, F::Ip, "10.2.0.0")[0].0, "10.0.0.0/8");
        assert_eq!(m(&ix, F::Ip, "10.255.255.255")[0].0, "10.0.0.0/8");
        assert!(m(&ix, F::Ip, "11.0.0.0").is_empty());
        assert!(m(&ix, F::Ip, "9.255.255.255").is_empty());
        assert_eq!(m(&ix, F::Ip, "2001:DB8:0:0::1")[0].1, MatchKind::Exact);
        assert_eq!(m(&ix, F::Ip, "2001:db8:1:ffff::9")[0].0, "2001:db8:1::/48");
        assert!(m(&ix, F::Ip, "2001:db8:2::1").is_empty());
    }

    #[test]
    fn networks_cover_exactly_to_their_edges() {
        let ix = index(&[
            (K::Cidr, "10.0.0.0/8"),
            (K::Cidr, "10.1.0.0/16"),
            (K::Cidr, "11.0.0.0/8"),
            (K::Cidr, "20.0.0.0/24"),
            (K::Cidr, "20.0.2.0/24"),
            (K::Cidr, "30.0.0.16/28"),
            // Across sixteen /16s (the /16 filter's bits), and exact
            // addresses alone in theirs.
            (K::Cidr, "172.16.0.0/12"),
            (K::Ipv4, "45.77.153.197"),
        ]);
        for (a, want) in [
            ("172.15.255.255", false),
            ("172.16.0.0", true),
            ("172.24.9.9", true),
            ("172.31.255.255", true),
            ("172.32.0.0", false),
            ("45.77.153.197", true),
            ("45.77.0.1", false),
            ("45.76.153.197", false),
            ("9.255.255.255", false),
            ("10.0.0.0", true),
            ("11.255.255.255", true),
            ("12.0.0.0", false),
            ("20.0.0.255", true),
            ("20.0.1.0", false),
            ("20.0.2.7", true),
            ("30.0.0.17", true),
            ("30.0.0.32", false),
        ] {
            assert_eq!(!m(&ix, F::Ip, a).is_empty(), want, "{a}");
        }
    }

    #[test]
    fn urls_hashes_emails() {
        let ix = index(&[
            (K::Url, "http://evil.com/a~b"),
            (K::Domain, "evil.com"),
            (K::Sha256, "AA:BB"),
            (K::CertSha1, "ccdd"),
            (K::Email, "Bad@Evil.com"),
        ]);
        let r = m(&ix, F::Url, "HTTP://EVIL.com:80/a%7Eb#x");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].1, MatchKind::Url);
        assert_eq!(r[1], ("evil.com".into(), MatchKind::Host, vec![1]));
        assert_eq!(
            m(&ix, F::Url, "http://evil.com/other"),
            [("evil.com".into(), MatchKind::Host, vec![1])]
        );
        assert_eq!(m(&ix, F::Hash, "aabb").len(), 1);
        assert_eq!(m(&ix, F::Hash, "CC:DD").len(), 1);
        assert_eq!(m(&ix, F::Email, "Someone <bad@evil.COM>").len(), 1);
    }
}
