//! A plain file read as independent line-aligned blocks: block `i` holds
//! the lines that *start* in bytes `[i * size, (i + 1) * size)`, the last
//! one read on to its newline. Any worker can read and match any block
//! without a pass over the ones before it, and a block is matched by the
//! thread that read it, while its bytes are still in that core's cache (a
//! separate reader thread hands over blocks the matcher must fetch again
//! from memory).
//!
//! Positioned reads (`pread`) leave the file offset alone, so workers share
//! one open file. Only for regular, uncompressed files: pipes and
//! compressed streams can only be read in order.

use super::input::Codec;
use std::fs::File;
use std::io;

/// Bytes read at a time past a block's end while looking for the end of
/// its last line (log lines are mostly a few hundred bytes).
const READ_ON: usize = 4 << 10;

/// A reusable block buffer: `data[..len]` is the block, `data` beyond it
/// stale bytes kept so that reading into a reused buffer never zero-fills.
#[derive(Default)]
pub(crate) struct BlockBuf {
    data: Vec<u8>,
    len: usize,
    start: usize,
}

impl BlockBuf {
    /// The block's lines (each ending in `\n`, except a last line that
    /// ends with the file).
    pub(crate) fn lines(&self) -> &[u8] {
        &self.data[self.start..self.len]
    }

    /// Appends up to `want` bytes read at `pos`; fewer only at the end of
    /// the file. Returns how many were read.
    fn read_at(&mut self, file: &File, pos: u64, want: usize) -> io::Result<usize> {
        if self.data.len() < self.len + want {
            self.data.resize(self.len + want, 0);
        }
        let mut got = 0;
        while got < want {
            let dst = &mut self.data[self.len + got..self.len + want];
            match pread(file, dst, pos + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.len += got;
        Ok(got)
    }
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn pread(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

/// The length of `file` if it can be read as independent blocks of
/// `size` bytes: a regular, uncompressed file of at least two blocks.
pub(crate) fn plain_len(file: &File, size: u64) -> Option<u64> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < 2 * size {
        return None;
    }
    let mut magic = [0u8; 4];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(file, &mut magic, 0).ok()?;
    #[cfg(windows)]
    std::os::windows::fs::FileExt::seek_read(file, &mut magic, 0).ok()?;
    (Codec::sniff(&magic) == Codec::None).then_some(meta.len())
}

/// How many blocks of `size` bytes a file of `len` bytes is cut into.
pub(crate) fn block_count(len: u64, size: u64) -> u64 {
    len.div_ceil(size.max(1))
}

/// Reads block `i` of `file` (`len` bytes when the scan began, cut every
/// `size` bytes) into `buf`. A line that runs on past the block's end for
/// more than `max_line` bytes becomes a lone NUL line, as with the
/// streaming reader: counted malformed, never held in memory. A file that
/// shrinks under the scan ends where the reads stop.
pub(crate) fn read_block(
    file: &File,
    len: u64,
    size: u64,
    i: u64,
    max_line: usize,
    buf: &mut BlockBuf,
) -> io::Result<()> {
    buf.len = 0;
    buf.start = 0;
    let s = i.saturating_mul(size);
    if s >= len {
        return Ok(());
    }
    let e = s.saturating_add(size).min(len);
    // One byte early, to see whether a line starts right at `s`; and a
    // little past the end, where the last line most likely ends.
    let from = s.saturating_sub(1);
    let want = (e.saturating_add(READ_ON as u64).min(len) - from) as usize;
    buf.read_at(file, from, want)?;
    // `buf.data[..own]` are the block's bytes (and the one before it).
    let own = ((e - from) as usize).min(buf.len);
    if i > 0 {
        match memchr::memchr(b'\n', &buf.data[..own]) {
            Some(q) if q + 1 < own => buf.start = q + 1,
            // No line starts in the block: it is inside one that started
            // in an earlier block.
            _ => {
                buf.len = 0;
                return Ok(());
            }
        }
    }
    // The last line ends at the first newline from the block's last byte on.
    let mut seen = own.saturating_sub(1).max(buf.start);
    let last_start =
        memchr::memrchr(b'\n', &buf.data[buf.start..seen]).map_or(buf.start, |q| buf.start + q + 1);
    loop {
        if let Some(q) = memchr::memchr(b'\n', &buf.data[seen..buf.len]) {
            buf.len = seen + q + 1;
            return Ok(());
        }
        // Room for a `\r` before the newline: `max_line` counts content.
        if buf.len - last_start > max_line.saturating_add(1) {
            buf.len = last_start;
            buf.read_marker();
            return Ok(());
        }
        seen = buf.len;
        let pos = from + buf.len as u64;
        // Growing with the line: a long one costs a few reads, not one per 4 KB.
        let more = READ_ON.max(buf.len - last_start);
        if pos >= len || buf.read_at(file, pos, more)? == 0 {
            // The last line ends with the file.
            return Ok(());
        }
    }
}

impl BlockBuf {
    fn read_marker(&mut self) {
        if self.data.len() < self.len + 2 {
            self.data.resize(self.len + 2, 0);
        }
        self.data[self.len..self.len + 2].copy_from_slice(b"\0\n");
        self.len += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(content).unwrap();
        t.flush().unwrap();
        let f = File::open(t.path()).unwrap();
        (t, f)
    }

    /// The blocks' lines, in order, for every block size: together they
    /// must be the file's lines, each exactly once.
    fn blocks(content: &[u8], size: u64, max_line: usize) -> Vec<Vec<u8>> {
        let (_t, f) = file_with(content);
        let len = content.len() as u64;
        let mut buf = BlockBuf::default();
        (0..block_count(len, size))
            .map(|i| {
                read_block(&f, len, size, i, max_line, &mut buf).unwrap();
                buf.lines().to_vec()
            })
            .collect()
    }

    #[test]
    fn blocks_hold_every_line_once_at_every_size() {
        let content = b"alpha\nbe\n\ngamma delta\nx\nlast without newline";
        for size in 1..=content.len() as u64 + 1 {
            let joined: Vec<u8> = blocks(content, size, 1 << 20).concat();
            assert_eq!(joined, content, "block size {size}");
        }
        let ending = b"one\ntwo\nthree\n";
        for size in 1..=ending.len() as u64 + 1 {
            assert_eq!(
                blocks(ending, size, 1 << 20).concat(),
                ending,
                "size {size}"
            );
        }
    }

    #[test]
    fn a_block_starts_at_a_line_start() {
        // "ab\n" then "cd\n": with 3-byte blocks, block 1 starts right at "cd".
        let b = blocks(b"ab\ncd\nef\n", 3, 100);
        assert_eq!(
            b,
            vec![b"ab\n".to_vec(), b"cd\n".to_vec(), b"ef\n".to_vec()]
        );
        // With 4-byte blocks, "cd" starts in block 0 and is read on; block 1
        // holds no line start but "ef".
        let b = blocks(b"ab\ncd\nef\n", 4, 100);
        assert_eq!(b, vec![b"ab\ncd\n".to_vec(), b"ef\n".to_vec(), Vec::new()]);
    }

    #[test]
    fn lines_running_past_max_line_become_markers() {
        // Longer than what is read past a block at once.
        let long = vec![b'x'; 3 * READ_ON];
        let mut content = b"short\n".to_vec();
        content.extend_from_slice(&long);
        content.extend_from_slice(b"\nafter\n");
        // Blocks of 8 bytes: the long line starts in block 0 and runs far past it.
        let b = blocks(&content, 8, 20);
        assert_eq!(b.concat(), b"short\n\0\nafter\n");
        // Within max_line it is read whole.
        let b = blocks(&content, 8, 4 * READ_ON);
        assert_eq!(b.concat(), content);
        // A long line met in the first read is left to the matcher (which
        // counts it malformed), as is one inside a block.
        let near = b"short\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nafter\n";
        assert_eq!(blocks(near, 8, 20).concat(), near);
        let b = blocks(&content, 1 << 20, 20);
        assert_eq!(b.concat(), content);
    }

    #[test]
    fn a_shrunken_file_ends_where_reads_stop() {
        let (_t, f) = file_with(b"abc\ndef\n");
        let mut buf = BlockBuf::default();
        // The scan believed the file twice as long.
        read_block(&f, 16, 6, 0, 100, &mut buf).unwrap();
        assert_eq!(buf.lines(), b"abc\ndef\n");
        read_block(&f, 16, 6, 1, 100, &mut buf).unwrap();
        assert_eq!(buf.lines(), b"");
    }
}
