//! The compiled indicator index: fixed-size fingerprints in a sorted array
//! with a radix directory for exact values (domains by label suffix); IPv4
//! networks as sorted ranges, IPv6 ones in a prefix trie.

use crate::errors::HuntError;
use crate::lpm::Lpm4;
use crate::normalize;
use crate::prefilter::Prefilter;
use cairn_model::{IndicatorKind, Observable};
use cairn_warninglist::WarningLists;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

// Fingerprint namespaces: the same text in two namespaces never meets.
const NS_DOMAIN: u64 = 1;
const NS_IP: u64 = 2;
const NS_URL: u64 = 3;
const NS_EMAIL: u64 = 4;
const NS_HEX: u64 = 5;
const NS_JA4: u64 = 6;
const NS_FILENAME: u64 = 7;

const MAGIC: &[u8; 8] = b"CAIRNHX\0";
const FORMAT_VERSION: u32 = 8;

/// How a log value met an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The value equals the indicator (after normalisation).
    Exact,
    /// The value is a subdomain of a domain indicator.
    Subdomain,
    /// The address lies in a network indicator (longest prefix wins).
    Cidr,
    /// A URL equals a URL indicator (after normalisation).
    Url,
    /// A URL's host is (or is under) a domain or address indicator.
    Host,
}

impl MatchKind {
    /// Lower-case name (`exact`, `subdomain`, `cidr`, `url`, `host`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Subdomain => "subdomain",
            MatchKind::Cidr => "cidr",
            MatchKind::Url => "url",
            MatchKind::Host => "host",
        }
    }
}

/// One indicator value a log value matched, and every key that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The indicator, normalised (for CIDR matches, the network).
    pub indicator: Observable,
    /// How it matched.
    pub match_kind: MatchKind,
    /// The caller's keys for this value (several sources may share one).
    pub keys: Vec<u32>,
}

/// A suppression count for one warninglist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    /// The warninglist's name.
    pub list: String,
    /// Indicators it suppressed.
    pub count: u64,
}

/// What went into an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Indicators offered to the builder.
    pub offered: u64,
    /// Indicators indexed (after suppression and de-duplication of keys).
    pub indexed: u64,
    /// Indexed indicators by kind name.
    pub by_kind: BTreeMap<String, u64>,
    /// Suppressed by a warninglist, per list (largest first).
    pub suppressed: Vec<Suppressed>,
    /// Kinds no log field carries (CVE, technique, ASN, wallet, registry key),
    /// and values that do not parse for their kind.
    pub skipped: u64,
}

fn kind_code(kind: IndicatorKind) -> u8 {
    IndicatorKind::all()
        .iter()
        .position(|k| *k == kind)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

fn kind_of_code(code: u8) -> Option<IndicatorKind> {
    IndicatorKind::all().get(usize::from(code)).copied()
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
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if (1..=32).contains(&raw.len()) {
        // SAFETY: `host_class_sse2` only needs SSE2, which this cfg
        // guarantees for the whole build (it is in the x86_64 baseline).
        return unsafe { host_class_sse2(raw) };
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

/// [`host_class`] for names of 1 to 32 bytes (nearly all log names) with
/// sixteen bytes compared at once, a fifth of the byte loop's
/// instructions. Longer than 16 bytes, the name is read as its first and
/// last sixteen: the class is an OR over bytes, so the overlap is harmless,
/// and its dots are counted once.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
fn host_class_sse2(raw: &[u8]) -> (u8, usize) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8, _mm_sub_epi8,
    };
    /// Bit masks of the bytes of `x`: special, dot, digit, bad, upper.
    #[target_feature(enable = "sse2")]
    fn classes(x: __m128i) -> [u32; 5] {
        let eq = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        // Unsigned `x - from <= span`.
        let within = |from: u8, span: u8| {
            let d = _mm_sub_epi8(x, _mm_set1_epi8(from as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span as i8)), d)
        };
        let mask = |v: __m128i| _mm_movemask_epi8(v) as u32;
        [
            // Bytes >= 0x80 are negative as signed bytes.
            mask(_mm_or_si128(
                _mm_or_si128(eq(b':'), eq(b'[')),
                _mm_or_si128(eq(b'%'), _mm_cmplt_epi8(x, _mm_set1_epi8(0))),
            )),
            mask(eq(b'.')),
            mask(within(b'0', 9)),
            mask(_mm_or_si128(
                _mm_or_si128(within(0, b' '), eq(b'/')),
                eq(b'@'),
            )),
            mask(within(b'A', 25)),
        ]
    }
    let len = raw.len();
    let word = |at: usize| -> i64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[at..at + 8]);
        i64::from_le_bytes(b)
    };
    let (m, dots) = if len <= 16 {
        let (lo, hi) = normalize::padded16(raw);
        let valid = (1u32 << len) - 1;
        let m = classes(_mm_set_epi64x(hi as i64, lo as i64)).map(|c| c & valid);
        // Padding bytes are zero: neither digit nor dot, so not "quad".
        let not_quad = (m[2] | m[1]) != valid;
        (([m[0], m[1], m[3], m[4]], not_quad), m[1].count_ones())
    } else {
        let a = classes(_mm_set_epi64x(word(8), word(0)));
        let b = classes(_mm_set_epi64x(word(len - 8), word(len - 16)));
        let or = |i: usize| a[i] | b[i];
        // `b` holds bytes len-16.., of which those from 16 on are new.
        let new = !((1u32 << (32 - len)) - 1);
        let not_quad = (a[2] | a[1]) != 0xffff || (b[2] | b[1]) != 0xffff;
        (
            ([or(0), or(1), or(3), or(4)], not_quad),
            a[1].count_ones() + (b[1] & new).count_ones(),
        )
    };
    let ([special, _dot, bad, upper], not_quad) = m;
    let mut class = 0u8;
    class |= if special != 0 { C_SPECIAL } else { 0 };
    class |= if not_quad { C_NOT_QUAD } else { 0 };
    class |= if bad != 0 { C_BAD } else { 0 };
    class |= if upper != 0 { C_UPPER } else { 0 };
    (class, dots as usize)
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

fn fp(ns: u64, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, ns)
}

/// Sorted fingerprints with a directory on their top bits: one probe into the
/// directory, then (on average) under one comparison.
#[derive(Debug, Default)]
struct FpTable {
    shift: u32,
    dir: Vec<u32>,
    fps: Vec<u64>,
    keys: Vec<u32>,
    kinds: Vec<u8>,
    /// Turns most absent fingerprints away without touching `dir`/`fps`.
    filter: Prefilter,
}

impl FpTable {
    fn from_sorted(fps: Vec<u64>, keys: Vec<u32>, kinds: Vec<u8>) -> FpTable {
        let n = fps.len();
        let bits = (n.max(16).next_power_of_two().trailing_zeros()).min(30);
        let shift = 64 - bits;
        let buckets = 1usize << bits;
        // dir[b] = first position whose top bits are >= b: the count of
        // fingerprints in the buckets below `b`. Counted, then summed: no
        // branch on the data (a merge-style walk mispredicted about once per
        // fingerprint, on the critical path of every hunt's index load).
        let mut dir = vec![0u32; buckets + 1];
        for f in &fps {
            dir[(f >> shift) as usize + 1] += 1;
        }
        let mut sum = 0u32;
        for slot in &mut dir {
            sum += *slot;
            *slot = sum;
        }
        debug_assert_eq!(sum as usize, n);
        FpTable {
            shift,
            dir,
            filter: Prefilter::build(&fps),
            fps,
            keys,
            kinds,
        }
    }

    /// Starts loading the directory entry [`FpTable::find`] reads for `f`.
    #[inline]
    fn prefetch(&self, f: u64) {
        if let Some(d) = self.dir.get((f >> self.shift) as usize) {
            crate::prefilter::prefetch(d);
        }
    }

    #[inline]
    fn find(&self, f: u64) -> std::ops::Range<usize> {
        if self.fps.is_empty() || !self.filter.may_contain(f) {
            return 0..0;
        }
        let b = (f >> self.shift) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        let slice = &self.fps[lo..hi];
        match slice.iter().position(|x| *x == f) {
            Some(i) => {
                let start = lo + i;
                let len = slice[i..].iter().take_while(|x| **x == f).count();
                start..start + len
            }
            None => 0..0,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.dir.len() * 4
            + self.fps.len() * 8
            + self.keys.len() * 4
            + self.kinds.len()
            + self.filter.heap_bytes()
    }
}

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
            | K::Jarm => match normalize::hex_into(value.as_bytes(), &mut buf) {
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

/// The filter of the `lo`-label suffixes of the domain indicators: a log
/// name whose own `lo`-label suffix it turns away has no indicator among
/// its parents (each would end in that suffix), so costs one probe, not
/// one per label. Parents repeat (most names are under a few hundred
/// registered domains), so the probe nearly always finds its word cached.
fn parent_filter(hosts: &[u8], lo: u8) -> Prefilter {
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
fn suffix_start(host: &[u8], labels: usize) -> usize {
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
const NO_DOMAINS: (u8, u8) = (u8::MAX, 0);

/// Labels of a host: dots + 1 (empty labels count), at most 255.
fn labels(host: &[u8]) -> u8 {
    let dots = host.iter().filter(|b| **b == b'.').count();
    u8::try_from(dots + 1).unwrap_or(u8::MAX)
}

const V4_FILTER_MIN: usize = 4096;
const V4_FILTER_WORDS: usize = (1 << 24) / 64;

/// Sets bits `first..first + count` (a /8 network is 65,536 /24s: whole
/// words at a time).
fn set_bits(bits: &mut [u64], first: usize, count: usize) {
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
fn v4_filter(nets: &[Ipv4Net], exact24: &[u32]) -> Vec<u64> {
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
fn v4_first_of(sixteens: &[u64; V4_16_WORDS]) -> [u64; 4] {
    let mut bits = [0u64; 4];
    for (o, words) in sixteens.chunks_exact(4).enumerate() {
        if words.iter().any(|w| *w != 0) {
            bits[o >> 6] |= 1 << (o & 63);
        }
    }
    bits
}

/// Words of [`v4_sixteens`]: one bit per IPv4 /16.
const V4_16_WORDS: usize = (1 << 16) / 64;

/// One bit per IPv4 /16 that an exact IPv4 indicator lies in or a network
/// indicator touches. 8 KB at any size, so it stays in a core's cache: a
/// set of thousands of addresses leaves most /16s empty, and their
/// addresses are turned away without a probe into the 2 MB /24 filter (or,
/// below that filter's size, the exact table and the trie).
fn v4_sixteens(nets: &[Ipv4Net], exact24: &[u32]) -> Box<[u64; V4_16_WORDS]> {
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

/// The compiled, read-only indicator index. Cheap to share across threads.
#[derive(Debug)]
pub struct Index {
    table: FpTable,
    /// One bit per IPv4 /24 that an exact IPv4 indicator lies in or a
    /// network indicator touches: most addresses are turned away by one bit
    /// (built only for large sets; empty means "no filter").
    v4_filter: Vec<u64>,
    /// One bit per first octet of an IPv4 indicator or network, at any
    /// size: the internal addresses most log lines carry (10/8, 192/8, ...)
    /// are turned away on the text of their first octet, before parsing.
    v4_first: [u64; 4],
    /// One bit per IPv4 /16 of an indicator or network ([`v4_sixteens`]).
    v4_16: Box<[u64; V4_16_WORDS]>,
    v4: Lpm4<(u32, u32)>,
    v6: PrefixMap<Ipv6Net, (u32, u32)>,
    cidr_keys: Vec<u32>,
    /// Bit `kind_code(k)` set when some exact entry has kind `k`.
    kinds_present: u64,
    /// Fewest and most labels of any domain indicator: no suffix of a log
    /// name outside that range can match, so it is never hashed.
    domain_labels: (u8, u8),
    /// The domain indicators' suffixes of `domain_labels.0` labels
    /// ([`parent_filter`]).
    parents: Prefilter,
    stats: IndexStats,
    tag: String,
    /// Unique among the indexes of this process ([`next_id`]): what a
    /// per-thread cache of answers is keyed on.
    id: u64,
}

/// An id no other index of this process has.
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn kinds_present(kinds: &[u8]) -> u64 {
    kinds
        .iter()
        .fold(0u64, |m, &c| if c < 64 { m | (1u64 << c) } else { m })
}

impl Index {
    /// What went into the index.
    pub fn stats(&self) -> &IndexStats {
        &self.stats
    }

    /// This index's id, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The label given with [`IndexBuilder::tag`].
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Number of (value, key) entries indexed.
    pub fn len(&self) -> usize {
        self.table.keys.len() + self.cidr_keys.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the index occupies (directory, fingerprints, keys,
    /// networks).
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.v4_filter.len() * 8
            + V4_16_WORDS * 8
            + self.v4.mem_size()
            + self.v6.mem_size()
            + self.cidr_keys.len() * 4
            + self.parents.heap_bytes()
    }

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

    /// Whether some exact entry has this kind.
    pub(crate) fn has_kind(&self, kind: IndicatorKind) -> bool {
        let c = u32::from(kind_code(kind));
        c >= 64 || self.kinds_present & (1u64 << c) != 0
    }

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
                    crate::prefilter::prefetch(k);
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
    fn v4_16_has(&self, a: Ipv4Addr) -> bool {
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
                crate::prefilter::prefetch(w);
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
        let (ns, v) = match ns_kind {
            IndicatorKind::Ja4 => (NS_JA4, normalize::lower(s.trim()).into_owned()),
            _ => (NS_FILENAME, s.trim().to_lowercase()),
        };
        let r = self.table.find(fp(ns, v.as_bytes()));
        if !r.is_empty() {
            self.push_exact(r, || v.clone(), MatchKind::Exact, |_| true, out);
        }
    }

    /// Matches one value as a field of type `ty` would be, appending every
    /// match to `out`. The scanner's inner step, public for callers that
    /// bring their own records.
    pub fn match_value(&self, ty: crate::FieldType, value: &str, out: &mut Vec<Match>) {
        crate::scan::match_field(self, ty, value.as_bytes(), out);
    }

    /// Writes the index to `path` (atomically: a temporary file renamed).
    pub fn save(&self, path: &Path) -> Result<(), HuntError> {
        let mut b: Vec<u8> = Vec::with_capacity(self.table.fps.len() * 13 + 1024);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        put_bytes(&mut b, self.tag.as_bytes());
        let stats = serde_json::to_vec(&self.stats).unwrap_or_default();
        put_bytes(&mut b, &stats);
        b.extend_from_slice(&(self.table.fps.len() as u64).to_le_bytes());
        for f in &self.table.fps {
            b.extend_from_slice(&f.to_le_bytes());
        }
        for k in &self.table.keys {
            b.extend_from_slice(&k.to_le_bytes());
        }
        b.extend_from_slice(&self.table.kinds);
        // IPv4 networks as columns (addresses, prefix lengths, key counts,
        // then all their keys): read back in a few bulk reads, where an
        // entry at a time was a third of a 1M index's load.
        b.extend_from_slice(&(self.v4.len() as u64).to_le_bytes());
        for (net, _) in self.v4.iter() {
            b.extend_from_slice(&u32::from(net.addr()).to_le_bytes());
        }
        for (net, _) in self.v4.iter() {
            b.push(net.prefix_len());
        }
        for (_, (_, l)) in self.v4.iter() {
            b.extend_from_slice(&l.to_le_bytes());
        }
        let v4_keys: usize = self.v4.iter().map(|(_, (_, l))| *l as usize).sum();
        b.extend_from_slice(&(v4_keys as u64).to_le_bytes());
        for (_, (s, l)) in self.v4.iter() {
            for k in &self.cidr_keys[*s as usize..(*s + *l) as usize] {
                b.extend_from_slice(&k.to_le_bytes());
            }
        }
        b.extend_from_slice(&(self.v6.len() as u64).to_le_bytes());
        for (net, (s, l)) in self.v6.iter() {
            b.extend_from_slice(&u128::from(net.addr()).to_le_bytes());
            b.push(net.prefix_len());
            b.extend_from_slice(&l.to_le_bytes());
            for k in &self.cidr_keys[*s as usize..(*s + *l) as usize] {
                b.extend_from_slice(&k.to_le_bytes());
            }
        }
        // The /24 filter holds exact IPv4 values the fingerprints no longer
        // show, so it is saved as it is (0 words: no filter).
        b.extend_from_slice(&(self.v4_filter.len() as u64).to_le_bytes());
        for w in &self.v4_filter {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(&[self.domain_labels.0, self.domain_labels.1]);
        for w in self.v4_16.iter() {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let parents = self.parents.words();
        b.extend_from_slice(&(parents.len() as u64).to_le_bytes());
        for w in parents {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let sum = xxh3_64_with_seed(&b, 0);
        b.extend_from_slice(&sum.to_le_bytes());
        let io = |source| HuntError::CacheIo {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &b).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads an index written by [`Index::save`]. A damaged or foreign file
    /// is [`HuntError::CorruptIndex`], never a panic.
    pub fn load(path: &Path) -> Result<Index, HuntError> {
        let io = |source| HuntError::CacheIo {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Index::read_from(file, len).map_err(|reason| HuntError::CorruptIndex {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a saved index of `len` bytes as it is read: each array goes
    /// from the file straight into its place, the file is never held whole
    /// (a second copy of it was the dearest part of a load).
    fn read_from(file: std::fs::File, len: u64) -> Result<Index, String> {
        if len < (MAGIC.len() + 4 + 8) as u64 {
            return Err("not a Cairn hunt index".into());
        }
        let mut c = Cursor {
            r: std::io::BufReader::with_capacity(
                64 << 10,
                Hashing {
                    file,
                    left: len - 8,
                    hash: Xxh3::new(),
                },
            ),
            chunk: Vec::new(),
        };
        let mut magic = [0u8; 8];
        c.fill(&mut magic)?;
        if &magic != MAGIC {
            return Err("not a Cairn hunt index".into());
        }
        let version = c.u32()?;
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            ));
        }
        let tag = String::from_utf8(c.bytes()?).map_err(|_| "tag is not UTF-8")?;
        let stats: IndexStats =
            serde_json::from_slice(&c.bytes()?).map_err(|e| format!("stats: {e}"))?;
        let n = c.len(13)?;
        let mut fps = Vec::new();
        c.u64s(n, &mut fps)?;
        if fps.windows(2).any(|w| w[0] > w[1]) {
            return Err("fingerprints out of order".into());
        }
        let mut keys = Vec::new();
        c.u32s(n, &mut keys)?;
        let kinds = c.vec(n)?;
        if kinds.iter().any(|k| kind_of_code(*k).is_none()) {
            return Err("unknown indicator kind code".into());
        }
        // The networks are read first, then put into their tries while the
        // fingerprint table is built (the two are the bulk of a load).
        let n4 = c.len(9)?;
        let mut addrs = Vec::new();
        c.u32s(n4, &mut addrs)?;
        let prefixes = c.vec(n4)?;
        let mut runs = Vec::new();
        c.u32s(n4, &mut runs)?;
        let n4_keys = c.len(4)?;
        let mut cidr_keys = Vec::new();
        c.u32s(n4_keys, &mut cidr_keys)?;
        let mut nets4 = Vec::with_capacity(n4);
        let mut start = 0u32;
        for ((&addr, &len), &run) in addrs.iter().zip(&prefixes).zip(&runs) {
            let net =
                Ipv4Net::new(Ipv4Addr::from(addr), len).map_err(|_| "bad IPv4 prefix length")?;
            nets4.push((net, (start, run)));
            start = start.checked_add(run).ok_or("IPv4 key counts overflow")?;
        }
        if start as usize != n4_keys {
            return Err("IPv4 key counts do not add up".into());
        }
        let n6 = c.len(21)?;
        let mut nets6 = Vec::with_capacity(n6);
        for _ in 0..n6 {
            let addr = Ipv6Addr::from(c.u128()?);
            let len = c.u8()?;
            let net = Ipv6Net::new(addr, len).map_err(|_| "bad IPv6 prefix length")?;
            nets6.push((net, c.key_run(&mut cidr_keys)?));
        }
        let nf = c.len(8)?;
        if nf != 0 && nf != V4_FILTER_WORDS {
            return Err(format!("IPv4 filter of {nf} words"));
        }
        let mut filter = Vec::new();
        c.u64s(nf, &mut filter)?;
        let domain_labels = (c.u8()?, c.u8()?);
        let mut v4_16 = Vec::new();
        c.u64s(V4_16_WORDS, &mut v4_16)?;
        let v4_16: Box<[u64; V4_16_WORDS]> = v4_16
            .into_boxed_slice()
            .try_into()
            .map_err(|_| "IPv4 /16 filter of the wrong size")?;
        let np = c.len(8)?;
        let mut parents = Vec::new();
        c.u64s(np, &mut parents)?;
        c.finish()?;
        let kinds_present = kinds_present(&kinds);
        let (table, (v4, v6)) = rayon::join(
            || FpTable::from_sorted(fps, keys, kinds),
            || {
                let v4 = Lpm4::new(nets4);
                let mut v6 = PrefixMap::new();
                for (net, run) in nets6 {
                    v6.insert(net, run);
                }
                (v4, v6)
            },
        );
        Ok(Index {
            kinds_present,
            table,
            v4_filter: filter,
            v4_first: v4_first_of(&v4_16),
            v4_16,
            v4,
            v6,
            cidr_keys,
            domain_labels,
            parents: Prefilter::from_words(parents),
            stats,
            tag,
            id: next_id(),
        })
    }
}

fn put_bytes(b: &mut Vec<u8>, v: &[u8]) {
    b.extend_from_slice(&(v.len() as u64).to_le_bytes());
    b.extend_from_slice(v);
}

/// A saved index's body as read from its file, hashed on the way (a
/// buffer-full at a time), stopping where the checksum starts.
struct Hashing {
    file: std::fs::File,
    /// Body bytes not yet read from the file.
    left: u64,
    hash: Xxh3,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        self.hash.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads a saved index's body in order. Hand-rolled rather than a
/// serialisation crate: the format is a few flat arrays, read in bulk, and
/// every count is checked against the bytes that remain.
struct Cursor {
    r: std::io::BufReader<Hashing>,
    /// Scratch for bulk reads, reused.
    chunk: Vec<u8>,
}

impl Cursor {
    /// Body bytes not yet parsed: still in the file, or buffered.
    fn left(&self) -> u64 {
        self.r.get_ref().left + self.r.buffer().len() as u64
    }
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), String> {
        if buf.len() as u64 > self.left() {
            return Err("unexpected end of data".into());
        }
        self.r.read_exact(buf).map_err(|e| format!("read: {e}"))
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        self.fill(&mut a)?;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn u128(&mut self) -> Result<u128, String> {
        Ok(u128::from_le_bytes(self.array()?))
    }
    /// A count whose items are at least `min_item` bytes: bounded by what is left.
    fn len(&mut self, min_item: usize) -> Result<usize, String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "count too large")?;
        if (n as u64).saturating_mul(min_item as u64) > self.left() {
            return Err("count exceeds file size".into());
        }
        Ok(n)
    }
    fn vec(&mut self, n: usize) -> Result<Vec<u8>, String> {
        if n as u64 > self.left() {
            return Err("unexpected end of data".into());
        }
        let mut v = vec![0u8; n];
        self.fill(&mut v)?;
        Ok(v)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len(1)?;
        self.vec(n)
    }
    fn key_run(&mut self, keys: &mut Vec<u32>) -> Result<(u32, u32), String> {
        let l = self.u32()?;
        let s = keys.len() as u32;
        // Runs are short (most are one key): word by word.
        if l <= 16 {
            for _ in 0..l {
                keys.push(self.u32()?);
            }
        } else {
            self.u32s(l as usize, keys)?;
        }
        Ok((s, l))
    }
    /// `n` little-endian words of `W` bytes appended to `out`, read a chunk
    /// at a time (a million-entry index loads in milliseconds).
    fn words<const W: usize, T>(
        &mut self,
        n: usize,
        out: &mut Vec<T>,
        word: fn([u8; W]) -> T,
    ) -> Result<(), String> {
        let total = n.checked_mul(W).ok_or("length overflow")?;
        if total as u64 > self.left() {
            return Err("unexpected end of data".into());
        }
        out.reserve(n);
        let mut chunk = std::mem::take(&mut self.chunk);
        let mut done = 0;
        while done < total {
            let step = (total - done).min(64 << 10);
            chunk.resize(step, 0);
            self.fill(&mut chunk)?;
            out.extend(chunk.as_chunks::<W>().0.iter().map(|c| word(*c)));
            done += step;
        }
        self.chunk = chunk;
        Ok(())
    }
    fn u64s(&mut self, n: usize, out: &mut Vec<u64>) -> Result<(), String> {
        self.words(n, out, u64::from_le_bytes)
    }
    fn u32s(&mut self, n: usize, out: &mut Vec<u32>) -> Result<(), String> {
        self.words(n, out, u32::from_le_bytes)
    }
    /// Checks that the body is all read and matches its checksum.
    fn finish(self) -> Result<(), String> {
        if self.left() != 0 {
            return Err("trailing bytes".into());
        }
        // All of the body is parsed, so the buffer holds none of it.
        let mut h = self.r.into_inner();
        let mut sum = [0u8; 8];
        h.file
            .read_exact(&mut sum)
            .map_err(|_| "checksum missing (truncated)")?;
        if h.hash.digest() != u64::from_le_bytes(sum) {
            return Err("checksum mismatch (truncated or damaged)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldType as F;
    use IndicatorKind as K;

    fn index(items: &[(K, &str)]) -> Index {
        let mut b = IndexBuilder::new();
        for (i, (k, v)) in items.iter().enumerate() {
            assert!(b.add(&Observable::new(*k, v), i as u32), "{v}");
        }
        b.build()
    }

    fn m(ix: &Index, ty: F, v: &str) -> Vec<(String, MatchKind, Vec<u32>)> {
        let mut out = Vec::new();
        ix.match_value(ty, v, &mut out);
        out.into_iter()
            .map(|m| (m.indicator.value, m.match_kind, m.keys))
            .collect()
    }

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

    #[test]
    fn shared_values_report_every_key() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(K::Domain, "dga.asia"), 7);
        b.add(&Observable::new(K::Domain, "DGA.asia"), 9);
        b.add(&Observable::new(K::Domain, "dga.asia"), 7);
        let ix = b.build();
        assert_eq!(m(&ix, F::Domain, "x.dga.asia")[0].2, vec![7, 9]);
    }

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

    #[test]
    fn networks_and_their_keys_survive_a_round_trip() {
        // Nested networks, one reported twice (two keys), and exact values.
        let mut b = IndexBuilder::new();
        for (v, key) in [
            ("10.0.0.0/8", 2),
            ("10.1.0.0/16", 3),
            ("10.1.0.0/16", 4),
            ("192.0.2.0/24", 6),
            ("198.51.100.7", 7),
        ] {
            let kind = if v.contains('/') { K::Cidr } else { K::Ipv4 };
            assert!(b.add(&Observable::new(kind, v), key));
        }
        let ix = b.build();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ix.bin");
        ix.save(&p).unwrap();
        let back = Index::load(&p).unwrap();
        for (v, net, keys) in [
            ("10.1.2.3", "10.1.0.0/16", vec![3, 4]),
            ("10.2.0.1", "10.0.0.0/8", vec![2]),
            ("192.0.2.9", "192.0.2.0/24", vec![6]),
        ] {
            assert_eq!(
                m(&back, F::Ip, v),
                vec![(net.to_string(), MatchKind::Cidr, keys)],
                "{v}"
            );
        }
        assert_eq!(m(&back, F::Ip, "198.51.100.7").len(), 1);
        assert!(m(&back, F::Ip, "11.0.0.1").is_empty());

        // Key counts that do not add up to the keys saved (with a checksum
        // that matches, as a bug in a writer would leave them) are refused,
        // never read past.
        let data = std::fs::read(&p).unwrap();
        let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) as usize;
        let mut at = 8 + 4;
        at += 8 + word(at); // tag
        at += 8 + word(at); // stats
        let n = word(at);
        at += 8 + n * 13;
        let n4 = word(at);
        assert_eq!(n4, 3);
        let runs = at + 8 + n4 * 5;
        let mut bad = data[..data.len() - 8].to_vec();
        bad[runs] += 1;
        let sum = xxh3_64_with_seed(&bad, 0);
        bad.extend_from_slice(&sum.to_le_bytes());
        std::fs::write(&p, &bad).unwrap();
        let err = Index::load(&p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("IPv4 key counts"), "{err}");
    }

    #[test]
    fn save_load_round_trip_and_corruption() {
        let ix = index(&[
            (K::Domain, "dga.asia"),
            (K::Cidr, "10.0.0.0/8"),
            (K::Cidr, "2001:db8::/32"),
            (K::Sha256, "aabb"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ix.bin");
        ix.save(&p).unwrap();
        let back = Index::load(&p).unwrap();
        assert_eq!(back.len(), ix.len());
        assert_eq!(m(&back, F::Domain, "a.dga.asia").len(), 1);
        assert_eq!(m(&back, F::Ip, "10.9.9.9").len(), 1);
        assert_eq!(m(&back, F::Ip, "2001:db8::7").len(), 1);
        assert_eq!(back.domain_labels, (2, 2));
        let mut data = std::fs::read(&p).unwrap();
        for cut in [0, 5, 20, data.len() / 2, data.len() - 1] {
            std::fs::write(&p, &data[..cut]).unwrap();
            assert!(
                matches!(Index::load(&p), Err(HuntError::CorruptIndex { .. })),
                "{cut}"
            );
        }
        let mid = data.len() / 2;
        data[mid] ^= 0xff;
        std::fs::write(&p, &data).unwrap();
        assert!(matches!(
            Index::load(&p),
            Err(HuntError::CorruptIndex { .. })
        ));
    }
}
