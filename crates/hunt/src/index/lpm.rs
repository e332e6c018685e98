//! Longest-prefix match over IPv4 networks, as flat sorted arrays.
//!
//! The networks cut the address space into disjoint ranges, each labelled
//! with the longest network covering it (or none); a lookup finds its range
//! by a binary search among the few that start in its /16. Built from a
//! sorted list in one sweep, with no per-node allocation: a general prefix
//! trie costs about a microsecond per network to build and walks a chain
//! of nodes per lookup, where this is a handful of reads in two arrays.

use ipnet::Ipv4Net;

/// Label of a range no network covers.
const NONE: u32 = u32::MAX;

/// IPv4 networks, each with a value, answering longest-prefix queries.
#[derive(Debug)]
pub(crate) struct Lpm4<V> {
    /// The networks, sorted by (address, prefix length), with their values.
    nets: Vec<(Ipv4Net, V)>,
    /// First address of each range, ascending, the first one 0.
    starts: Vec<u32>,
    /// Per range: its longest covering network (an index into `nets`) or
    /// [`NONE`].
    label: Vec<u32>,
    /// `dir[h]`: how many ranges start below `h << shift`.
    dir: Vec<u32>,
    /// The directory has one entry per `1 << shift` addresses: about one per
    /// network, at most one per /16 (a small set does not pay 256 KB).
    shift: u32,
}

impl<V> Default for Lpm4<V> {
    fn default() -> Self {
        Lpm4 {
            nets: Vec::new(),
            starts: Vec::new(),
            label: Vec::new(),
            dir: Vec::new(),
            shift: 32,
        }
    }
}

impl<V> Lpm4<V> {
    /// The map of `nets` (host bits are ignored; of two equal networks the
    /// first is kept).
    pub(crate) fn new(nets: impl IntoIterator<Item = (Ipv4Net, V)>) -> Lpm4<V> {
        let mut nets: Vec<(Ipv4Net, V)> = nets.into_iter().map(|(n, v)| (n.trunc(), v)).collect();
        if nets.is_empty() {
            return Lpm4::default();
        }
        nets.sort_by_key(|(n, _)| (u32::from(n.network()), n.prefix_len()));
        nets.dedup_by_key(|(n, _)| *n);
        let mut starts: Vec<u32> = Vec::with_capacity(2 * nets.len() + 1);
        let mut label: Vec<u32> = Vec::with_capacity(2 * nets.len() + 1);
        // Adjacent ranges of one label are one range.
        let mut emit = |from: u64, lab: u32| {
            if label.last() != Some(&lab) {
                starts.push(from as u32);
                label.push(lab);
            }
        };
        // Networks nest or are disjoint, so the open ones form a chain: the
        // innermost, on top, labels whatever the sweep passes over.
        let mut open: Vec<(u64, u32)> = Vec::new();
        let mut cursor: u64 = 0;
        let mut close_before = |until: u64, open: &mut Vec<(u64, u32)>, cursor: &mut u64| {
            while let Some(&(last, i)) = open.last() {
                if last >= until {
                    break;
                }
                if *cursor <= last {
                    emit(*cursor, i);
                    *cursor = last + 1;
                }
                open.pop();
            }
            if *cursor < until {
                emit(*cursor, open.last().map_or(NONE, |t| t.1));
                *cursor = until;
            }
        };
        for (i, (net, _)) in nets.iter().enumerate() {
            let first = u64::from(u32::from(net.network()));
            close_before(first, &mut open, &mut cursor);
            open.push((u64::from(u32::from(net.broadcast())), i as u32));
        }
        close_before(1 << 32, &mut open, &mut cursor);
        let bits = nets.len().next_power_of_two().trailing_zeros().min(16);
        let shift = 32 - bits;
        let mut dir = Vec::with_capacity((1 << bits) + 1);
        let mut k = 0usize;
        for h in 0..=(1u64 << bits) {
            while k < starts.len() && u64::from(starts[k]) < h << shift {
                k += 1;
            }
            dir.push(k as u32);
        }
        Lpm4 {
            nets,
            starts,
            label,
            dir,
            shift,
        }
    }

    /// Starts loading the directory entry [`Lpm4::get_lpm`] reads first
    /// for `addr` (a hint).
    #[inline]
    pub(crate) fn prefetch(&self, addr: u32) {
        let h = addr.checked_shr(self.shift).unwrap_or(0) as usize;
        if let Some(d) = self.dir.get(h) {
            crate::simd::prefetch(d);
        }
    }

    /// The longest network holding `addr`, with its value.
    #[inline]
    pub(crate) fn get_lpm(&self, addr: u32) -> Option<(Ipv4Net, &V)> {
        // `checked_shr`: a one-network map has `shift` 32 (one entry).
        let h = addr.checked_shr(self.shift).unwrap_or(0) as usize;
        let (lo, hi) = (*self.dir.get(h)? as usize, *self.dir.get(h + 1)? as usize);
        let k = lo + self.starts.get(lo..hi)?.partition_point(|&s| s <= addr);
        // `starts[0]` is 0, so some range starts at or below `addr`.
        let lab = *self.label.get(k.checked_sub(1)?)?;
        self.nets.get(lab as usize).map(|(n, v)| (*n, v))
    }

    /// Networks held.
    pub(crate) fn len(&self) -> usize {
        self.nets.len()
    }

    /// No networks.
    pub(crate) fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The networks and their values, by address then prefix length.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Ipv4Net, &V)> {
        self.nets.iter().map(|(n, v)| (n, v))
    }

    /// Heap bytes held.
    pub(crate) fn mem_size(&self) -> usize {
        self.nets.capacity() * std::mem::size_of::<(Ipv4Net, V)>()
            + (self.starts.capacity() + self.label.capacity() + self.dir.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prefix_trie::PrefixMap;
    use std::net::Ipv4Addr;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins_at_every_edge() {
        let m = Lpm4::new([
            (net("10.0.0.0/8"), 1),
            (net("10.1.0.0/16"), 2),
            (net("10.1.2.0/24"), 3),
            (net("10.255.0.0/16"), 4),
            (net("0.0.0.0/32"), 5),
            (net("255.255.255.255/32"), 6),
        ]);
        let at = |a: &str| {
            m.get_lpm(u32::from(a.parse::<Ipv4Addr>().unwrap()))
                .map(|(_, v)| *v)
        };
        assert_eq!(at("9.255.255.255"), None);
        assert_eq!(at("10.0.0.0"), Some(1));
        assert_eq!(at("10.0.255.255"), Some(1));
        assert_eq!(at("10.1.0.0"), Some(2));
        assert_eq!(at("10.1.1.255"), Some(2));
        assert_eq!(at("10.1.2.0"), Some(3));
        assert_eq!(at("10.1.2.255"), Some(3));
        assert_eq!(at("10.1.3.0"), Some(2));
        assert_eq!(at("10.2.0.0"), Some(1));
        assert_eq!(at("10.255.255.255"), Some(4));
        assert_eq!(at("11.0.0.0"), None);
        assert_eq!(at("0.0.0.0"), Some(5));
        assert_eq!(at("0.0.0.1"), None);
        assert_eq!(at("255.255.255.254"), None);
        assert_eq!(at("255.255.255.255"), Some(6));
        assert_eq!(m.len(), 6);
        assert!(Lpm4::<u8>::new([]).get_lpm(0).is_none());
        let all = Lpm4::new([(net("0.0.0.0/0"), 7)]);
        assert_eq!(
            all.get_lpm(u32::MAX).map(|(n, v)| (n, *v)),
            Some((net("0.0.0.0/0"), 7))
        );
    }

    #[test]
    fn agrees_with_a_prefix_trie() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20 {
            let mut nets = Vec::new();
            let mut trie = PrefixMap::new();
            // Few distinct high bits, so networks nest and touch.
            // The last round is large enough for the full /16 directory.
            let count = if round == 19 { 70_000 } else { 50 + round * 40 };
            for i in 0..count {
                let r = rnd();
                let addr = ((r as u32) & 0x0f0f_ffff) | 0x0a00_0000;
                let len = [0u8, 4, 8, 12, 16, 20, 23, 24, 25, 28, 31, 32][(r >> 40) as usize % 12];
                let n = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc();
                if trie.get(&n).is_none() {
                    trie.insert(n, i);
                    nets.push((n, i));
                }
            }
            let m = Lpm4::new(nets.iter().copied());
            for _ in 0..2000 {
                let r = rnd() as u32;
                let a = if r & 1 == 0 {
                    r
                } else {
                    (r & 0x0f0f_ffff) | 0x0a00_0000
                };
                let want = trie
                    .get_lpm(&Ipv4Net::from(Ipv4Addr::from(a)))
                    .map(|(n, v)| (n, *v));
                assert_eq!(
                    m.get_lpm(a).map(|(n, v)| (n, *v)),
                    want,
                    "{}",
                    Ipv4Addr::from(a)
                );
            }
            for (n, v) in &nets {
                // Each network's own first and last address find it or a longer one.
                let got = m
                    .get_lpm(u32::from(n.network()))
                    .map(|(g, _)| g.prefix_len());
                assert!(got >= Some(n.prefix_len()), "{n} {v}");
            }
        }
    }
}
