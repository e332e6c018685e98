//! Reading an input: a file or stdin, gzip and zstd recognised by their
//! magic bytes, the stream cut into blocks at line boundaries (overlong
//! lines replaced by a marker, never held whole). Plain files large enough
//! are read as positioned blocks instead (`ranges`).

use std::io::{self, BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A log to hunt through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file (plain, gzip or zstd; detected by magic bytes).
    Path(PathBuf),
    /// Standard input (plain, gzip or zstd).
    Stdin,
}

impl Input {
    /// The name hits and errors use (`-` for stdin).
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// The smallest read into a block, and the buffer size in front of the
/// decompressors.
pub(super) const MIN_READ: usize = 64 << 10;

/// How an input is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    None,
    Gzip,
    Zstd,
}

impl Codec {
    /// The codec of a stream whose first bytes are `magic`.
    pub(crate) fn sniff(magic: &[u8]) -> Codec {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Codec::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Codec::Zstd
        } else {
            Codec::None
        }
    }

    /// `gzip`, `zstd` or `none`, as summaries and errors name it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }

    /// `raw`, decompressed.
    pub(super) fn decode(
        self,
        raw: impl BufRead + Send + 'static,
    ) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Codec::None => Box::new(raw),
            Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
            Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(raw)?),
        })
    }
}

/// A reader that counts the bytes read through it (as stored: before
/// decompression), for progress and error offsets.
pub(super) struct CountingReader<R> {
    pub(super) inner: R,
    pub(super) count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads a stream into blocks of about `block` bytes that end at line
/// boundaries (a longer line makes its block longer). A line longer than
/// `max_line` is replaced by a one-byte NUL line (counted malformed by the
/// matcher) without ever being held in memory.
pub(super) struct Blocks<R> {
    r: R,
    carry: Vec<u8>,
    block: usize,
    max_line: usize,
    eof: bool,
    skipping: bool,
    /// A read error held back until the lines before it are handed out.
    pending: Option<io::Error>,
    /// Buffers of blocks already matched, for reuse.
    pub(super) spare: Vec<Vec<u8>>,
    /// How many buffers to keep (two batches are in flight).
    max_spare: usize,
}

impl<R: Read> Blocks<R> {
    /// Blocks of about `block` bytes of `r`, lines longer than `max_line`
    /// replaced; `spare` buffers are reused first, and up to `max_spare`
    /// recycled ones are kept.
    pub(super) fn new(
        r: R,
        block: usize,
        max_line: usize,
        spare: Vec<Vec<u8>>,
        max_spare: usize,
    ) -> Blocks<R> {
        Blocks {
            r,
            carry: Vec::new(),
            block,
            max_line,
            eof: false,
            skipping: false,
            pending: None,
            spare,
            max_spare,
        }
    }

    /// Gives read blocks back for reuse: a reused buffer is overwritten in
    /// place, so the next blocks cost neither fresh pages nor zeroing.
    pub(super) fn recycle(&mut self, bufs: Vec<Vec<u8>>) {
        for b in bufs {
            if self.spare.len() < self.max_spare {
                self.spare.push(b);
            }
        }
    }

    pub(super) fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        // `buf[..len]` is the block so far; a recycled buffer keeps its
        // (initialised) length beyond `len`, stale bytes that reads
        // overwrite, so only growth is zero-filled.
        let mut buf = self.spare.pop().unwrap_or_default();
        let mut len = self.carry.len();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        // `buf[..no_newline]` is known to hold no line end (a long line being
        // read on), so each read is searched once.
        let mut no_newline = 0;
        loop {
            if self.eof {
                buf.truncate(len);
                return Ok((len > 0).then_some(buf));
            }
            let want = self.block.saturating_sub(len).max(MIN_READ);
            if buf.len() < len + want {
                buf.resize(len + want, 0);
            }
            let n = match self.r.read(&mut buf[len..len + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    // Hand out the complete lines read before the damage first.
                    if let Some(i) = memchr::memrchr(b'\n', &buf[..len]) {
                        buf.truncate(i + 1);
                        self.pending = Some(e);
                        self.eof = true;
                        return Ok(Some(buf));
                    }
                    return Err(e);
                }
            };
            let fresh = len;
            len += n;
            if n == 0 {
                self.eof = true;
                continue;
            }
            if self.skipping {
                // Discard the rest of an overlong line.
                match memchr::memchr(b'\n', &buf[fresh..len]) {
                    Some(i) => {
                        self.skipping = false;
                        buf.copy_within(fresh + i + 1..len, fresh);
                        len -= i + 1;
                    }
                    None => {
                        len = fresh;
                        continue;
                    }
                }
            }
            if len >= self.block {
                match memchr::memrchr(b'\n', &buf[no_newline..len]) {
                    Some(i) => {
                        let i = no_newline + i;
                        self.carry.extend_from_slice(&buf[i + 1..len]);
                        buf.truncate(i + 1);
                        return Ok(Some(buf));
                    }
                    // The whole block is one partial line, already overlong.
                    None if len > self.max_line => {
                        self.skipping = true;
                        buf.clear();
                        buf.extend_from_slice(b"\0\n");
                        len = 2;
                        no_newline = 0;
                    }
                    None => no_newline = len,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(data: &[u8], block: usize) -> Vec<Vec<u8>> {
        let mut b = Blocks::new(data, block, 200_000, Vec::new(), 8);
        let mut out = Vec::new();
        while let Some(x) = b.next_block().unwrap() {
            out.push(x.clone());
            // Reuse every other buffer, as the scanner does.
            if out.len() % 2 == 0 {
                b.recycle(vec![x]);
            }
        }
        out
    }

    #[test]
    fn blocks_end_at_lines_and_overlong_lines_become_markers() {
        let data = b"aaa\nbbb\nccc\nddd";
        let bs = blocks(data, 5);
        assert_eq!(bs.concat(), data.to_vec());
        assert!(bs[..bs.len() - 1].iter().all(|b| b.ends_with(b"\n")));
        let mut long = b"ok\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', 300_000));
        long.extend_from_slice(b"\nafter\n");
        let bs = blocks(&long, 65536);
        let joined = bs.concat();
        assert_eq!(joined, b"ok\n\0\nafter\n".to_vec());
        // Reused buffers never leak stale bytes into later blocks.
        let mut data = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while data.len() < 600_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 3000) as usize;
            data.extend(std::iter::repeat_n(b'a' + (x % 26) as u8, n));
            data.push(b'\n');
        }
        data.extend_from_slice(b"tail without newline");
        for block in [5, 4096, 65536, 100_000] {
            let bs = blocks(&data, block);
            assert_eq!(bs.concat(), data, "{block}");
            assert!(bs[..bs.len() - 1].iter().all(|b| b.ends_with(b"\n")));
        }
    }
}
