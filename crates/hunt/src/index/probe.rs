//! The prefilter pass over log values: what a value would look up,
//! gathered as deferred [`Probe`]s into the filters (a batch of lines'
//! probes is tested together, so their cache misses overlap), then the
//! second look at the few that pass. A value no probe confirms matches
//! nothing; one that is confirmed is matched in full (`lookup`).

use super::Index;
use super::filters::suffix_start;
use super::table::{NS_DOMAIN, NS_HEX, NS_IP, fp};
use crate::normalize;
use crate::simd;
use ipnet::Ipv6Net;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A deferred prefilter lookup made while gathering a batch of log lines:
/// the line's slot in the batch, which filter, the word and the bits that
/// must all be set in it for the value to possibly match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub(crate) slot: u32,
    word: u32,
    bits: u64,
    /// The fingerprint, or for the /24 filter the IPv4 address.
    value: u64,
    in_v4: bool,
}

/// Byte classes for [`Index::gather_host`]: `:` `[` `%` and non-ASCII send
/// a value the full way; anything but digits and dots makes it not a
/// dotted quad; controls, space, `/`, `@` make it no host; upper case needs
/// lowering.
const C_SPECIAL: u8 = 1;
const C_NOT_QUAD: u8 = 2;
const C_BAD: u8 = 4;
const C_UPPER: u8 = 8;
/// The OR of the [`HOST_CLASS`] bits of `raw`'s bytes, and its dots.
#[inline]
fn host_class(raw: &[u8]) -> (u8, usize) {
    if let Some(h) = simd::host_bytes(raw) {
        let mut class = 0u8;
        class |= if h.special { C_SPECIAL } else { 0 };
        class |= if h.not_quad { C_NOT_QUAD } else { 0 };
        class |= if h.bad { C_BAD } else { 0 };
        class |= if h.upper { C_UPPER } else { 0 };
        return (class, h.dots);
    }
    host_class_bytes(raw)
}

/// [`host_class`] a byte at a time: a table lookup and an OR per byte.
fn host_class_bytes(raw: &[u8]) -> (u8, usize) {
    raw.iter().fold((0u8, 0usize), |(acc, dots), &c| {
        (
            acc | HOST_CLASS[usize::from(c)],
            dots + usize::from(c == b'.'),
        )
    })
}

static HOST_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut k = 0;
        if c == b':' || c == b'[' || c == b'%' || c >= 0x80 {
            k |= C_SPECIAL;
        }
        if !(c.is_ascii_digit() || c == b'.') {
            k |= C_NOT_QUAD;
        }
        if c <= b' ' || c == b'/' || c == b'@' {
            k |= C_BAD;
        }
        if c.is_ascii_uppercase() {
            k |= C_UPPER;
        }
        t[i] = k;
        i += 1;
    }
    t
};

impl Index {
    fn probe_fp(&self, slot: u32, f: u64, probes: &mut Vec<Probe>) {
        let (word, bits) = self.table.filter.probe(f);
        self.table.filter.prefetch(word);
        probes.push(Probe {
            slot,
            word,
            bits,
            value: f,
            in_v4: false,
        });
    }

    /// Whether a gathered probe passes: false means the value it was made
    /// for cannot match (no false negatives: see the prefilter's tests).
    #[inline]
    pub(crate) fn probe_passes(&self, p: &Probe) -> bool {
        if p.in_v4 {
            self.v4_filter
                .get(p.word as usize)
                .is_none_or(|w| w & p.bits != 0)
        } else {
            self.table.filter.test(p.word, p.bits)
        }
    }

    /// The second look at a probe that passed its filter: whether its
    /// value is in the table (or, for an address, in the table or a
    /// network). False means the value matches nothing.
    /// Starts loading what [`Index::probe_confirms`] reads first, so that
    /// the confirmations of a batch overlap their cache misses.
    #[inline]
    pub(crate) fn prefetch_confirm(&self, p: &Probe) {
        if p.in_v4 {
            self.v4.prefetch(p.value as u32);
        } else {
            self.table.prefetch(p.value);
        }
    }

    pub(crate) fn probe_confirms(&self, p: &Probe) -> bool {
        if p.in_v4 {
            let a = Ipv4Addr::from(p.value as u32);
            let f = fp(NS_IP, &a.octets());
            if let Some((_, &(start, _))) = self.v4.get_lpm(p.value as u32) {
                // The line is read in full next, and `match_ip` then looks
                // for an exact entry before taking this network: both of
                // its reads outside the cache start now, while the rest of
                // the batch is confirmed.
                self.table.filter.prefetch(self.table.filter.probe(f).0);
                if let Some(k) = self.cidr_keys.get(start as usize) {
                    simd::prefetch(k);
                }
                return true;
            }
            !self.table.find(f).is_empty()
        } else {
            !self.table.find(p.value).is_empty()
        }
    }

    /// Whether an IPv4 value whose text starts with `value` cannot match:
    /// no IPv4 indicator or network starts with its first octet. Decided
    /// on the text, before the address is parsed (see
    /// [`normalize::ipv4_lead_octet`] for why that is sound).
    #[inline]
    pub(crate) fn v4_lead_absent(&self, value: &[u8]) -> bool {
        normalize::ipv4_lead_octet(value).is_some_and(|o| !self.v4_first_has(o))
    }

    /// Whether some IPv4 indicator or network starts with octet `o`.
    #[inline]
    fn v4_first_has(&self, o: u8) -> bool {
        self.v4_first[usize::from(o >> 6)] & (1 << (o & 63)) != 0
    }

    /// Whether some IPv4 indicator or network lies in or meets the /16 of `a`.
    #[inline]
    pub(super) fn v4_16_has(&self, a: Ipv4Addr) -> bool {
        let h = (u32::from(a) >> 16) as usize;
        self.v4_16[h >> 6] & (1 << (h & 63)) != 0
    }

    /// The prefilter half of [`Index::match_ip`] for an IPv4 address:
    /// pushes deferred probes; false means "cannot be decided here, match
    /// the line in full".
    pub(crate) fn gather_v4(&self, a: Ipv4Addr, slot: u32, probes: &mut Vec<Probe>) -> bool {
        if !self.v4_16_has(a) {
            return true;
        }
        if !self.v4_filter.is_empty() {
            // Every exact IPv4 value and every IPv4 network has its /24s set.
            let b = u32::from(a) >> 8;
            if let Some(w) = self.v4_filter.get((b >> 6) as usize) {
                simd::prefetch(w);
            }
            probes.push(Probe {
                slot,
                word: b >> 6,
                bits: 1 << (b & 63),
                value: u64::from(u32::from(a)),
                in_v4: true,
            });
            return true;
        }
        if !self.v4.is_empty() && self.v4.get_lpm(u32::from(a)).is_some() {
            return false;
        }
        self.probe_fp(slot, fp(NS_IP, &a.octets()), probes);
        true
    }

    /// The prefilter half of [`Index::match_ip`] for an IPv6 address.
    pub(crate) fn gather_v6(&self, a: Ipv6Addr, slot: u32, probes: &mut Vec<Probe>) -> bool {
        if !self.v6.is_empty() && self.v6.get_lpm(&Ipv6Net::from(a)).is_some() {
            return false;
        }
        self.probe_fp(slot, fp(NS_IP, &a.octets()), probes);
        true
    }

    /// The prefilter half of [`Index::match_host_or_ip`] for a value in a
    /// domain field (already trimmed, not empty). Anything but plain ASCII
    /// names and dotted-quad addresses (ports, brackets, IPv6, IDNA) answers
    /// false: match the line in full.
    pub(crate) fn gather_host(&self, raw: &[u8], slot: u32, probes: &mut Vec<Probe>) -> bool {
        let (class, dots) = host_class(raw);
        let special = class & C_SPECIAL != 0;
        let not_quad = class & C_NOT_QUAD != 0;
        let bad = class & C_BAD != 0;
        let upper = class & C_UPPER != 0;
        if special {
            return false;
        }
        if !not_quad {
            // Digits and dots: a dotted quad, or close enough to leave to
            // the full parser.
            return match normalize::parse_ipv4_strict(raw) {
                Some(a) => self.gather_v4(a, slot, probes),
                None => false,
            };
        }
        // Without `:`, `[` or `%`, `parse_ip` reads only dotted quads, so
        // `match_host_or_ip` goes on to `host_ascii` and `match_host`, as
        // here: trailing dots dropped, then empty, overlong or not a host
        // (ASCII, so no IDNA either) matches nothing.
        let mut len = raw.len();
        while len > 0 && raw[len - 1] == b'.' {
            len -= 1;
        }
        if len == 0 || len > normalize::MAX_HOST || bad {
            return true;
        }
        let labels = dots - (raw.len() - len) + 1;
        if upper {
            let mut stack = [0u8; normalize::MAX_HOST];
            let host = &mut stack[..len];
            host.copy_from_slice(&raw[..len]);
            host.make_ascii_lowercase();
            self.gather_suffixes(host, labels, slot, probes);
        } else {
            // Log names are nearly always lower case already: no copy.
            self.gather_suffixes(&raw[..len], labels, slot, probes);
        }
        true
    }

    /// Probes for `host` (of `labels` labels) and each parent domain (at
    /// label boundaries) with as many labels as some domain indicator.
    fn gather_suffixes(&self, host: &[u8], labels: usize, slot: u32, probes: &mut Vec<Probe>) {
        let (lo, hi) = (
            usize::from(self.domain_labels.0),
            usize::from(self.domain_labels.1),
        );
        if labels < lo {
            return;
        }
        let parent = fp(NS_DOMAIN, &host[suffix_start(host, lo)..]);
        if !self.parents.may_contain(parent) {
            return;
        }
        let mut from = 0;
        // Labels of `host[from..]`.
        let mut n = labels;
        while n >= lo {
            if n == lo {
                self.probe_fp(slot, parent, probes);
            } else if n <= hi {
                self.probe_fp(slot, fp(NS_DOMAIN, &host[from..]), probes);
            }
            // Labels are short: a plain loop beats a memchr call here.
            match host[from..].iter().position(|b| *b == b'.') {
                Some(i) => {
                    from += i + 1;
                    n -= 1;
                }
                None => break,
            }
        }
    }

    /// The prefilter half of [`Index::match_hex`] (`hex` canonical).
    pub(crate) fn gather_hex(&self, hex: &[u8], slot: u32, probes: &mut Vec<Probe>) {
        self.probe_fp(slot, fp(NS_HEX, hex), probes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::testing::index;
    use cairn_model::IndicatorKind as K;

    #[test]
    fn host_class_agrees_with_the_byte_loop() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet: &[u8] = b"aZ09.-:[%@/ \x00\x7f\x80\xffAz_";
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Both halves of the wide case, and past it.
            let len = 1 + (x % 40) as usize;
            let v: Vec<u8> = (0..len)
                .map(|j| alphabet[((x >> ((j * 3) % 60)) as usize + j) % alphabet.len()])
                .collect();
            assert_eq!(host_class(&v), host_class_bytes(&v), "{v:?}");
        }
        for v in [
            &b"kb.dga.asia"[..],
            b"1.2.3.4",
            b"EVIL.COM.",
            b"a b",
            b"\x00",
        ] {
            assert_eq!(host_class(v), host_class_bytes(v), "{v:?}");
        }
    }

    #[test]
    fn suffixes_outside_the_indicators_label_range_are_not_probed() {
        let ix = index(&[(K::Domain, "dga.asia"), (K::Domain, "a.b.evil.net")]);
        assert_eq!(ix.domain_labels, (2, 4));
        let found = |probes: &[Probe]| {
            probes
                .iter()
                .any(|p| ix.probe_passes(p) && ix.probe_confirms(p))
        };
        let mut probes = Vec::new();
        assert!(ix.gather_host(b"q.w.e.r.t.dga.asia", 0, &mut probes));
        // Seven labels: only the suffixes of four, three and two are probed.
        assert_eq!(probes.len(), 3);
        assert!(found(&probes));
        probes.clear();
        assert!(ix.gather_host(b"x.A.b.Evil.net", 0, &mut probes));
        assert_eq!(probes.len(), 3);
        assert!(found(&probes));
        // Trailing dots are not labels.
        probes.clear();
        assert!(ix.gather_host(b"kb.dga.asia..", 0, &mut probes));
        assert_eq!(probes.len(), 2);
        assert!(found(&probes));
        // A name shorter than every indicator costs no probe.
        probes.clear();
        assert!(ix.gather_host(b"asia", 0, &mut probes));
        assert!(probes.is_empty());
        // Nor does any name when no indicator is a domain.
        let ips = index(&[(K::Ipv4, "1.2.3.4")]);
        assert!(ips.gather_host(b"kb.dga.asia", 0, &mut probes));
        assert!(probes.is_empty());
    }
}
