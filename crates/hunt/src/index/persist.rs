//! The index as a cache file: written once, loaded by every later hunt
//! in milliseconds. Versioned and checksummed (xxh3 of the body); a
//! damaged, truncated or foreign file is refused with a reason, never read
//! past its end.

use super::filters::{V4_16_WORDS, V4_FILTER_WORDS, v4_first_of};
use super::lpm::Lpm4;
use super::prefilter::Prefilter;
use super::table::{FpTable, kind_of_code, kinds_present};
use super::{Index, IndexStats, next_id};
use crate::errors::HuntError;
use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

const MAGIC: &[u8; 8] = b"CAIRNHX\0";
/// 9: URLs' normal form changed (a stray `%` is `%25`; ports are digits), so
/// indexes built before hold keys a log value no longer normalises to.
const FORMAT_VERSION: u32 = 9;

impl Index {
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
    use crate::fields::FieldType as F;
    use crate::index::MatchKind;
    use crate::index::build::IndexBuilder;
    use crate::index::testing::{index, m};
    use cairn_model::{IndicatorKind as K, Observable};

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
