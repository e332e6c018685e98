//! A small Bloom filter in front of the fingerprint table, so that the great
//! majority of log values (which match nothing) are turned away after one
//! probe into a structure that stays in cache, never touching the large
//! sorted table in main memory.
//!
//! Register-blocked: each fingerprint selects one 64-bit word and sets
//! [`PROBES`] bits in it, so a lookup is one memory access and a mask
//! compare. Fingerprints are already uniform 64-bit hashes (xxh3), so their
//! bits are used directly: the low 32 bits choose the word (multiply-shift,
//! any word count), bits 32..56 the bit positions.
//!
//! No false negatives: every fingerprint given to [`Prefilter::build`] makes
//! [`Prefilter::may_contain`] true. False positives (about 3 % at
//! [`BITS_PER_KEY`]) only cost a probe into the table.

/// Filter bits per fingerprint.
pub(crate) const BITS_PER_KEY: usize = 10;
/// Bits set per fingerprint, all in one word.
const PROBES: u32 = 4;

#[derive(Debug, Default, Clone)]
pub(crate) struct Prefilter {
    words: Vec<u64>,
}

impl Prefilter {
    /// A filter holding `fps`.
    pub(crate) fn build(fps: &[u64]) -> Prefilter {
        let n = (fps.len() * BITS_PER_KEY).div_ceil(64).max(1);
        let mut f = Prefilter {
            words: vec![0u64; n],
        };
        for &x in fps {
            let i = f.slot(x);
            f.words[i] |= mask(x);
        }
        f
    }

    /// A filter from the words of a saved one.
    pub(crate) fn from_words(words: Vec<u64>) -> Prefilter {
        Prefilter { words }
    }

    /// The filter's words, to save it.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    #[inline]
    fn slot(&self, f: u64) -> usize {
        // Multiply-shift range reduction of the low 32 bits: < words.len().
        (((f & 0xffff_ffff) * self.words.len() as u64) >> 32) as usize
    }

    /// False only if `f` was not among the fingerprints built in.
    #[inline]
    pub(crate) fn may_contain(&self, f: u64) -> bool {
        let m = mask(f);
        // `slot` is below `words.len()` (>= 1) by construction; `get` keeps
        // a default (empty) filter safe too.
        self.words.get(self.slot(f)).is_some_and(|w| w & m == m)
    }

    /// The word and bits [`Prefilter::may_contain`] would test, so that a
    /// caller can gather many lookups and then test them together (their
    /// memory accesses overlap instead of waiting one after the other).
    #[inline]
    pub(crate) fn probe(&self, f: u64) -> (u32, u64) {
        // `slot` < words.len(), which fits u32 (the table holds < 2^32 keys
        // and the filter has BITS_PER_KEY/64 words per key).
        (self.slot(f) as u32, mask(f))
    }

    /// Asks the CPU to start loading the word of a [`Prefilter::probe`], so
    /// that [`Prefilter::test`] later finds it in cache. A hint only.
    #[inline]
    pub(crate) fn prefetch(&self, word: u32) {
        if let Some(w) = self.words.get(word as usize) {
            crate::simd::prefetch(w);
        }
    }

    /// The test of a [`Prefilter::probe`]: true if the fingerprint may be in.
    #[inline]
    pub(crate) fn test(&self, word: u32, bits: u64) -> bool {
        // Out of range (never made by `probe`) answers "maybe": sound.
        self.words
            .get(word as usize)
            .is_none_or(|w| w & bits == bits)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[inline]
fn mask(f: u64) -> u64 {
    let h = f >> 32;
    let mut m = 0u64;
    for p in 0..PROBES {
        m |= 1u64 << ((h >> (6 * p)) & 63);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_64_with_seed;

    fn fps(range: std::ops::Range<u64>, seed: u64) -> Vec<u64> {
        range
            .map(|i| xxh3_64_with_seed(&i.to_le_bytes(), seed))
            .collect()
    }

    #[test]
    fn no_false_negatives() {
        for n in [0u64, 1, 2, 63, 64, 1000, 100_000] {
            let keys = fps(0..n, 7);
            let f = Prefilter::build(&keys);
            assert!(keys.iter().all(|k| f.may_contain(*k)), "n = {n}");
        }
        // Adversarial fingerprints: all-zero and all-one bits, equal low halves.
        let odd = [0, u64::MAX, 1 << 32, (1 << 32) | 5, 5, u64::MAX >> 1];
        let f = Prefilter::build(&odd);
        assert!(odd.iter().all(|k| f.may_contain(*k)));
    }

    #[test]
    fn false_positive_rate_is_small() {
        let keys = fps(0..200_000, 1);
        let f = Prefilter::build(&keys);
        let probes = fps(1_000_000..2_000_000, 1);
        let fp = probes.iter().filter(|k| f.may_contain(**k)).count();
        let rate = fp as f64 / probes.len() as f64;
        assert!(rate < 0.05, "false positive rate {rate}");
        assert!(f.heap_bytes() <= 200_000 * BITS_PER_KEY / 8 + 8);
    }

    #[test]
    fn deferred_probes_agree_with_direct_lookups() {
        let keys = fps(0..5000, 3);
        let f = Prefilter::build(&keys);
        for k in fps(0..20_000, 3) {
            let (w, m) = f.probe(k);
            assert_eq!(f.test(w, m), f.may_contain(k));
        }
        assert!(f.test(u32::MAX, 1), "out of range means maybe");
    }

    #[test]
    fn empty_filter_rejects_everything() {
        let f = Prefilter::default();
        assert!(!f.may_contain(0));
        assert!(!f.may_contain(u64::MAX));
        let f = Prefilter::build(&[]);
        assert!(!f.may_contain(12345));
    }
}
