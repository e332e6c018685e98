//! The exact-value table: 64-bit fingerprints of normalised values (one
//! namespace per kind of value, so the same text in two namespaces never
//! meets), sorted, with a radix directory on their top bits and a Bloom
//! filter in front; and the kind codes stored beside them.

use super::prefilter::Prefilter;
use cairn_model::IndicatorKind;
use xxhash_rust::xxh3::xxh3_64_with_seed;

// Fingerprint namespaces: the same text in two namespaces never meets.
pub(super) const NS_DOMAIN: u64 = 1;
pub(super) const NS_IP: u64 = 2;
pub(super) const NS_URL: u64 = 3;
pub(super) const NS_EMAIL: u64 = 4;
pub(super) const NS_HEX: u64 = 5;
pub(super) const NS_JA4: u64 = 6;
pub(super) const NS_FILENAME: u64 = 7;
pub(super) const NS_MAC: u64 = 8;
pub(super) const NS_AGENT: u64 = 9;
pub(super) const NS_PATH: u64 = 10;

pub(super) fn kind_code(kind: IndicatorKind) -> u8 {
    IndicatorKind::all()
        .iter()
        .position(|k| *k == kind)
        .and_then(|p| u8::try_from(p).ok())
        .unwrap_or(u8::MAX)
}

pub(super) fn kind_of_code(code: u8) -> Option<IndicatorKind> {
    IndicatorKind::all().get(usize::from(code)).copied()
}

pub(super) fn kinds_present(kinds: &[u8]) -> u64 {
    kinds
        .iter()
        .fold(0u64, |m, &c| if c < 64 { m | (1u64 << c) } else { m })
}

pub(super) fn fp(ns: u64, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, ns)
}

/// Sorted fingerprints with a directory on their top bits: one probe into the
/// directory, then (on average) under one comparison.
#[derive(Debug, Default)]
pub(super) struct FpTable {
    shift: u32,
    dir: Vec<u32>,
    pub(super) fps: Vec<u64>,
    pub(super) keys: Vec<u32>,
    pub(super) kinds: Vec<u8>,
    /// Turns most absent fingerprints away without touching `dir`/`fps`.
    pub(super) filter: Prefilter,
}

impl FpTable {
    pub(super) fn from_sorted(fps: Vec<u64>, keys: Vec<u32>, kinds: Vec<u8>) -> FpTable {
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
    pub(super) fn prefetch(&self, f: u64) {
        if let Some(d) = self.dir.get((f >> self.shift) as usize) {
            crate::simd::prefetch(d);
        }
    }

    #[inline]
    pub(super) fn find(&self, f: u64) -> std::ops::Range<usize> {
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

    pub(super) fn heap_bytes(&self) -> usize {
        self.dir.len() * 4
            + self.fps.len() * 8
            + self.keys.len() * 4
            + self.kinds.len()
            + self.filter.heap_bytes()
    }
}
