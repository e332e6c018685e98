//! Names a scanning thread has already found to meet no indicator.
//!
//! A log repeats its names: the same few thousand DNS queries, TLS server
//! names and HTTP hosts come back line after line. Looking one up in the
//! index (classing it, hashing each parent domain, testing each probe's
//! filter, most of them outside the core's cache) costs hundreds of
//! instructions; finding it here costs one hash and one 32-byte compare.
//!
//! Sound because the index is read-only: a value that met nothing once
//! meets nothing again. Only values the probes alone decided are added
//! (never a line read in full, never a confirmed column), and an entry is
//! the value's exact bytes, so a collision only evicts, never answers for
//! another value. Each thread has its own cache, emptied when it is used
//! with another index (indexes are told apart by an id each gets when
//! built or loaded).
//!
//! By hand: a fixed-size, direct-mapped set of short byte strings that
//! never allocates on lookup is not what the general caching crates offer
//! (they key on owned values, hash with SipHash or keep LRU lists).

use crate::simd::padded16;
use std::cell::RefCell;

/// Longest value kept; longer ones take the index every time.
pub(crate) const MAX_LEN: usize = 31;

/// Slots in a thread's cache: 128 KB, small enough to stay in a core's
/// L2 cache next to the block being matched.
const SLOTS: usize = 1 << 12;

/// A value as the cache holds it: its bytes zero-padded to 31, its length
/// in the last byte. Built in registers: a key assembled in memory and
/// then read back as words stalls the load on the stores.
pub(crate) type Key = [u64; 4];

/// `v` as a [`Key`], if it is short enough to be kept.
#[inline]
pub(crate) fn key(v: &[u8]) -> Option<Key> {
    let len = v.len();
    if len == 0 || len > MAX_LEN {
        return None;
    }
    let (a, b) = padded16(v);
    let (c, d) = padded16(v.get(16..).unwrap_or_default());
    Some([a, b, c, d | (len as u64) << 56])
}

/// One thread's cache (see the module documentation).
pub(crate) struct CleanCache {
    /// The index the entries were found against.
    owner: u64,
    /// Direct-mapped: a key lives only in slot [`slot`]; an empty slot is
    /// all zeros, which no key is (its length is at least 1).
    slots: Vec<Key>,
}

impl CleanCache {
    /// Whether `k` was added since the cache was last emptied.
    #[inline]
    pub(crate) fn contains(&self, k: &Key) -> bool {
        self.slots.get(slot(k)).is_some_and(|s| s == k)
    }

    /// Adds `k`, evicting whatever held its slot.
    #[inline]
    pub(crate) fn insert(&mut self, k: Key) {
        if let Some(s) = self.slots.get_mut(slot(&k)) {
            *s = k;
        }
    }
}

#[inline]
fn slot(k: &Key) -> usize {
    let h = (k[0] ^ k[1].rotate_left(17) ^ k[2].rotate_left(31) ^ k[3].rotate_left(47))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

thread_local! {
    static CLEAN: RefCell<CleanCache> = const {
        RefCell::new(CleanCache { owner: 0, slots: Vec::new() })
    };
}

/// Runs `f` with this thread's cache for the index `owner`, emptied first
/// if it last served another. `None` if the cache is already in use on
/// this thread (a nested scan): that scan goes without.
pub(crate) fn with<R>(owner: u64, f: impl FnOnce(Option<&mut CleanCache>) -> R) -> R {
    CLEAN.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => {
            if c.owner != owner || c.slots.is_empty() {
                c.slots.clear();
                c.slots.resize(SLOTS, [0; 4]);
                c.owner = owner;
            }
            f(Some(&mut c))
        }
        Err(_) => f(None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exact_values_only() {
        with(u64::MAX - 1, |c| {
            let c = c.expect("cache free");
            let k = key(b"zoom.us").expect("short");
            assert!(!c.contains(&k));
            c.insert(k);
            assert!(c.contains(&k));
            // A prefix, a longer name and the same bytes with a NUL are
            // other keys.
            for other in [&b"zoom.u"[..], b"zoom.us.", b"zoom.us\0"] {
                assert!(!c.contains(&key(other).expect("short")), "{other:?}");
            }
            // Every byte and the length count, up to the longest kept.
            let long = b"abcdefghijklmnopqrstuvwxyz01234";
            for len in 1..=MAX_LEN {
                c.insert(key(&long[..len]).expect("short"));
                assert!(c.contains(&key(&long[..len]).expect("short")), "{len}");
                for at in 0..len {
                    let mut other = long[..len].to_vec();
                    other[at] ^= 1;
                    assert!(!c.contains(&key(&other).expect("short")), "{len} {at}");
                }
            }
        });
    }

    #[test]
    fn empty_and_long_values_are_not_kept() {
        assert!(key(b"").is_none());
        assert!(key(&[b'a'; MAX_LEN]).is_some());
        assert!(key(&[b'a'; MAX_LEN + 1]).is_none());
    }

    #[test]
    fn another_index_empties_the_cache() {
        let k = key(b"example.com").expect("short");
        with(u64::MAX - 2, |c| c.expect("cache free").insert(k));
        assert!(with(u64::MAX - 2, |c| c.expect("cache free").contains(&k)));
        assert!(!with(u64::MAX - 3, |c| c.expect("cache free").contains(&k)));
    }

    #[test]
    fn a_nested_use_goes_without() {
        with(u64::MAX - 4, |outer| {
            assert!(outer.is_some());
            with(u64::MAX - 4, |inner| assert!(inner.is_none()));
        });
    }
}
