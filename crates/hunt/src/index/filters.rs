//! The index's filters, built with it and saved with it: bit sets that
//! turn most log values away before the table is touched. For IPv4, one
//! bit per first octet, per /16 and (large sets only) per /24 that an
//! indicator or network lies in; for domains, a Bloom filter of the
//! indicators' shortest suffixes, so a name under none of them costs one
//! probe, not one per label.

use super::prefilter::Prefilter;
use super::table::{NS_DOMAIN, fp};
use ipnet::Ipv4Net;

/// The filter of the `lo`-label suffixes of the domain indicators: a log
/// name whose own `lo`-label suffix it turns away has no indicator among
/// its parents (each would end in that suffix), so costs one probe, not
/// one per label. Parents repeat (most names are under a few hundred
/// registered domains), so the probe nearly always finds its word cached.
pub(super) fn parent_filter(hosts: &[u8], lo: u8) -> Prefilter {
    let mut fps: Vec<u64> = hosts
        .split(|b| *b == b'\n')
        .filter(|h| !h.is_empty())
        .map(|h| fp(NS_DOMAIN, &h[suffix_start(h, usize::from(lo))..]))
        .collect();
    fps.sort_unstable();
    fps.dedup();
    Prefilter::build(&fps)
}

/// Where the suffix of `host` with `labels` labels starts (0 when `host`
/// has no more labels than that).
pub(super) fn suffix_start(host: &[u8], labels: usize) -> usize {
    let mut seen = 0;
    for (i, &b) in host.iter().enumerate().rev() {
        if b == b'.' {
            seen += 1;
            if seen == labels {
                return i + 1;
            }
        }
    }
    0
}

/// `domain_labels` of an index without domain indicators (min > max).
pub(super) const NO_DOMAINS: (u8, u8) = (u8::MAX, 0);

/// Labels of a host: dots + 1 (empty labels count), at most 255.
pub(super) fn labels(host: &[u8]) -> u8 {
    let dots = host.iter().filter(|b| **b == b'.').count();
    u8::try_from(dots + 1).unwrap_or(u8::MAX)
}

const V4_FILTER_MIN: usize = 4096;
pub(super) const V4_FILTER_WORDS: usize = (1 << 24) / 64;

/// Sets bits `first..first + count` (a /8 network is 65,536 /24s: whole
/// words at a time).
pub(super) fn set_bits(bits: &mut [u64], first: usize, count: usize) {
    let end = first + count;
    let mut b = first;
    while b < end {
        let (w, i) = (b >> 6, b & 63);
        let n = (64 - i).min(end - b);
        let run = if n == 64 { !0 } else { ((1u64 << n) - 1) << i };
        if let Some(word) = bits.get_mut(w) {
            *word |= run;
        }
        b += n;
    }
}

/// One bit per IPv4 /24 that holds an exact IPv4 indicator or meets a
/// network indicator; empty (no filtering) for small sets, where the 2 MB
/// would cost more than it saves.
pub(super) fn v4_filter(nets: &[Ipv4Net], exact24: &[u32]) -> Vec<u64> {
    if nets.len() + exact24.len() < V4_FILTER_MIN {
        return Vec::new();
    }
    let mut bits = vec![0u64; V4_FILTER_WORDS];
    for &b in exact24 {
        let b = b as usize;
        bits[b >> 6] |= 1 << (b & 63);
    }
    // The networks come as a list: walking the trie costs a microsecond
    // per entry.
    for net in nets {
        let first = (u32::from(net.network()) >> 8) as usize;
        set_bits(
            &mut bits,
            first,
            1usize << 24u8.saturating_sub(net.prefix_len()),
        );
    }
    bits
}

/// One bit per first octet that an exact IPv4 indicator starts with or a
/// network indicator covers: a first octet's 256 /16s are four words of
/// [`v4_sixteens`].
pub(super) fn v4_first_of(sixteens: &[u64; V4_16_WORDS]) -> [u64; 4] {
    let mut bits = [0u64; 4];
    for (o, words) in sixteens.chunks_exact(4).enumerate() {
        if words.iter().any(|w| *w != 0) {
            bits[o >> 6] |= 1 << (o & 63);
        }
    }
    bits
}

/// Words of [`v4_sixteens`]: one bit per IPv4 /16.
pub(super) const V4_16_WORDS: usize = (1 << 16) / 64;

/// One bit per IPv4 /16 that an exact IPv4 indicator lies in or a network
/// indicator touches. 8 KB at any size, so it stays in a core's cache: a
/// set of thousands of addresses leaves most /16s empty, and their
/// addresses are turned away without a probe into the 2 MB /24 filter (or,
/// below that filter's size, the exact table and the trie).
pub(super) fn v4_sixteens(nets: &[Ipv4Net], exact24: &[u32]) -> Box<[u64; V4_16_WORDS]> {
    let mut bits = Box::new([0u64; V4_16_WORDS]);
    for &b in exact24 {
        let h = (b >> 8) as usize;
        bits[h >> 6] |= 1 << (h & 63);
    }
    for net in nets {
        let first = (u32::from(net.network()) >> 16) as usize;
        set_bits(
            &mut bits[..],
            first,
            1usize << 16u8.saturating_sub(net.prefix_len()),
        );
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldType as F;
    use crate::index::build::IndexBuilder;
    use crate::index::testing::{index, m};
    use crate::index::{Index, MatchKind};
    use cairn_model::{IndicatorKind as K, Observable};

    #[test]
    fn set_bits_sets_exactly_the_range() {
        for (first, count) in [
            (0, 1),
            (3, 61),
            (5, 64),
            (63, 2),
            (64, 128),
            (70, 300),
            (0, 1024),
        ] {
            let mut bits = vec![0u64; 16];
            set_bits(&mut bits, first, count);
            for b in 0..1024 {
                let set = bits[b >> 6] & (1 << (b & 63)) != 0;
                assert_eq!(
                    set,
                    (first..first + count).contains(&b),
                    "{first} {count} {b}"
                );
            }
        }
    }

    #[test]
    fn first_octet_filter_covers_every_ipv4_indicator() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(K::Ipv4, "45.77.153.197"), 0);
        b.add(&Observable::new(K::Cidr, "8.0.0.0/6"), 1);
        b.add(&Observable::new(K::Cidr, "200.1.0.0/16"), 2);
        b.add(&Observable::new(K::Ipv6, "::ffff:50.1.2.3"), 3);
        b.add(&Observable::new(K::Domain, "60.1.2.3"), 4);
        b.add(&Observable::new(K::Domain, "evil.com"), 5);
        let ix = b.build();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ix.bin");
        ix.save(&p).unwrap();
        let back = Index::load(&p).unwrap();
        for ix in [&ix, &back] {
            let present: Vec<u32> = (0..=255u32)
                .filter(|o| !ix.v4_lead_absent(format!("{o}.1.2.3").as_bytes()))
                .collect();
            assert_eq!(present, [8, 9, 10, 11, 45, 50, 60, 200]);
            // Only text that starts like an address is ruled out.
            assert!(!ix.v4_lead_absent(b"evil.com"));
            assert!(!ix.v4_lead_absent(b"012.1.2.3"));
            assert!(ix.v4_lead_absent(b"12.1.2.3"));
        }
        // Without IPv4 indicators every address is ruled out.
        let ix = index(&[(K::Domain, "evil.com"), (K::Ipv6, "2001:db8::1")]);
        assert!(ix.v4_lead_absent(b"45.77.153.197"));
        assert!(!ix.v4_lead_absent(b"2001:db8::1"));
    }

    #[test]
    fn large_network_sets_use_the_slash24_filter() {
        let mut b = IndexBuilder::new();
        for i in 0..5000u32 {
            let n = format!("20.{}.{}.0/24", i / 256, i % 256);
            b.add(&Observable::new(K::Cidr, &n), i);
        }
        b.add(&Observable::new(K::Cidr, "30.0.0.0/8"), 9999);
        let ix = b.build();
        assert!(!ix.v4_filter.is_empty());
        assert_eq!(m(&ix, F::Ip, "20.0.5.77")[0].0, "20.0.5.0/24");
        assert_eq!(m(&ix, F::Ip, "20.19.135.1")[0].0, "20.19.135.0/24");
        assert!(m(&ix, F::Ip, "20.19.136.1").is_empty());
        assert_eq!(m(&ix, F::Ip, "30.200.1.1")[0].0, "30.0.0.0/8");
        assert!(m(&ix, F::Ip, "31.0.0.0").is_empty());
    }

    #[test]
    fn slash24_filter_keeps_exact_addresses_and_survives_the_cache() {
        let mut b = IndexBuilder::new();
        for i in 0..6000u32 {
            let ip = format!("40.{}.{}.{}", i / 256, i % 256, i % 200 + 1);
            assert!(b.add(&Observable::new(K::Ipv4, &ip), i));
        }
        // Exact addresses in other spellings land in the filter too.
        b.add(&Observable::new(K::Ipv6, "::ffff:50.1.2.3"), 7001);
        b.add(&Observable::new(K::Domain, "60.1.2.3"), 7002);
        b.add(&Observable::new(K::Cidr, "70.1.2.3"), 7003);
        b.add(&Observable::new(K::Cidr, "80.0.0.0/30"), 7004);
        let ix = b.build();
        assert!(!ix.v4_filter.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ix.bin");
        ix.save(&p).unwrap();
        let back = Index::load(&p).unwrap();
        assert_eq!(back.v4_filter, ix.v4_filter);
        assert_eq!(back.v4_16, ix.v4_16);
        for ix in [&ix, &back] {
            for i in (0..6000u32).step_by(7) {
                let ip = format!("40.{}.{}.{}", i / 256, i % 256, i % 200 + 1);
                assert_eq!(m(ix, F::Ip, &ip), [(ip.clone(), MatchKind::Exact, vec![i])]);
                let other = format!("40.{}.{}.{}", i / 256, i % 256, i % 200 + 2);
                assert!(m(ix, F::Ip, &other).is_empty(), "{other}");
            }
            assert_eq!(m(ix, F::Ip, "50.1.2.3")[0].2, vec![7001]);
            assert_eq!(m(ix, F::Ip, "::ffff:60.1.2.3")[0].2, vec![7002]);
            assert_eq!(m(ix, F::Auto, "70.1.2.3")[0].2, vec![7003]);
            assert_eq!(m(ix, F::Ip, "80.0.0.3")[0].1, MatchKind::Cidr);
            assert!(m(ix, F::Ip, "80.0.0.4").is_empty());
            assert!(m(ix, F::Ip, "41.0.0.1").is_empty());
        }
    }

    #[test]
    fn names_under_no_indicators_parent_cost_no_probe() {
        let ix = index(&[(K::Domain, "kb.dga.asia"), (K::Domain, "x.y.evil.net")]);
        // Three labels at least: the parents are the indicators' suffixes
        // of three labels, kb.dga.asia and y.evil.net.
        assert_eq!(ix.domain_labels, (3, 4));
        let mut probes = Vec::new();
        for name in [&b"a.b.notdga.asia"[..], b"kb.other.asia", b"q.z.evil.net"] {
            assert!(ix.gather_host(name, 0, &mut probes));
            assert!(probes.is_empty(), "{}", String::from_utf8_lossy(name));
        }
        // Under a parent, every suffix in the label range is probed.
        for name in [&b"w.v.kb.dga.asia"[..], b"z.x.Y.evil.net"] {
            probes.clear();
            assert!(ix.gather_host(name, 0, &mut probes));
            assert_eq!(probes.len(), 2);
            let found = probes
                .iter()
                .any(|p| ix.probe_passes(p) && ix.probe_confirms(p));
            assert!(found, "{}", String::from_utf8_lossy(name));
        }
        // The filter survives a save and load.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ix");
        ix.save(&path).unwrap();
        let back = Index::load(&path).unwrap();
        probes.clear();
        assert!(back.gather_host(b"a.b.notdga.asia", 0, &mut probes));
        assert!(probes.is_empty());
        assert!(back.gather_host(b"w.v.kb.dga.asia", 0, &mut probes));
        assert!(
            probes
                .iter()
                .any(|p| back.probe_passes(p) && back.probe_confirms(p))
        );
    }
}
