//! Inputs in pieces, for a scan spread over several processes: a plain
//! file is cut into chunks of whole blocks (the same line-aligned blocks a
//! local scan reads, so a chunk's lines are exactly the lines that start
//! in its bytes), each scanned wherever it is sent; the lines a chunk
//! reports are numbered from its own start and made absolute by whoever
//! puts the chunks back together. Compressed and small files are one
//! piece. Messages that carry log events are scanned from memory.

use super::block::BlockCtx;
use super::driver::{FileSummary, Hit, Scanner, absorb};
use super::format::Schema;
use super::input::Input;
use super::ranges;
use crate::errors::HuntError;
use std::path::Path;
use std::sync::Arc;

/// A piece of a plain file: the lines that start in blocks
/// `first..end` of `block` bytes, the file `len` bytes long when the
/// pieces were planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chunk {
    /// The file's length when it was cut.
    pub len: u64,
    /// Bytes per block.
    pub block: u64,
    /// The chunk's first block.
    pub first: u64,
    /// One past its last block.
    pub end: u64,
}

impl Chunk {
    /// The chunk's bytes in the file.
    pub fn bytes(&self) -> u64 {
        (self.end * self.block).min(self.len) - (self.first * self.block).min(self.len)
    }
}

/// Cuts `path` into chunks of about `chunk_bytes` (whole blocks of
/// `block` bytes each). Empty when the file is read whole: compressed, not
/// a regular file, or no larger than two chunks' worth.
pub fn plan_chunks(path: &Path, chunk_bytes: u64, block: u64) -> std::io::Result<Vec<Chunk>> {
    let block = block.max(1 << 12);
    let per = chunk_bytes.div_ceil(block).max(1);
    let f = std::fs::File::open(path)?;
    let Some(len) = ranges::plain_len(&f, block) else {
        return Ok(Vec::new());
    };
    let blocks = ranges::block_count(len, block);
    if blocks < 2 * per {
        return Ok(Vec::new());
    }
    Ok((0..blocks)
        .step_by(per as usize)
        .map(|first| Chunk {
            len,
            block,
            first,
            end: (first + per).min(blocks),
        })
        .collect())
}

impl Scanner<'_> {
    /// Scans one piece of `path`, naming it `name` in hits and errors:
    /// the whole file (`None`, lines absolute) or a [`Chunk`] (lines
    /// numbered from the chunk's first line; its summary counts only its
    /// own lines). Hits come in line order, a batch at a time.
    pub fn scan_chunk(
        &self,
        path: &Path,
        name: &str,
        chunk: Option<Chunk>,
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> Result<FileSummary, HuntError> {
        let Some(c) = chunk else {
            return self.scan_named(&Input::Path(path.to_path_buf()), name.to_string(), on_hits);
        };
        let f = std::fs::File::open(path).map_err(|source| HuntError::Io {
            file: name.to_string(),
            source,
        })?;
        self.scan_ranges(
            &f,
            c.len,
            name,
            c.block.max(1 << 12),
            c.first..c.end,
            on_hits,
        )
    }

    /// Scans log events held in memory (whole lines, as one message of a
    /// live stream carries them), the format detected from them unless
    /// forced. Lines are numbered from 1 within `data`.
    pub fn scan_slice(
        &self,
        name: &str,
        data: &[u8],
        on_hits: &(dyn Fn(Vec<Hit>) + Sync),
    ) -> FileSummary {
        let (format, schema) = self.schema_of(data);
        let ctx: BlockCtx<'_> = self.block_ctx();
        let r = ctx.run(&schema, data, matches!(schema, Schema::Csv(_)));
        let mut fs = FileSummary::empty(name, format, "none");
        let mut hits = Vec::new();
        absorb(&mut fs, &Arc::from(name), data.len() as u64, r, &mut hits);
        if !hits.is_empty() {
            on_hits(hits);
        }
        fs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::IndexBuilder;
    use crate::scan::driver::ScanOptions;
    use cairn_model::{IndicatorKind, Observable};
    use std::sync::Mutex;

    /// (line, field, value) of every hit.
    type Seen = Vec<(u64, String, String)>;

    fn collect(run: impl FnOnce(&(dyn Fn(Vec<Hit>) + Sync))) -> Seen {
        let out = Mutex::new(Vec::new());
        run(&|hits: Vec<Hit>| {
            let mut o = out.lock().unwrap();
            o.extend(hits.into_iter().map(|h| (h.line, h.field, h.value)));
        });
        out.into_inner().unwrap()
    }

    /// A Zeek TSV log (its header only at the top) and a JSON-lines log
    /// give, chunk by chunk with lines made absolute, exactly the hits and
    /// counts of one local scan.
    #[test]
    fn chunks_put_together_equal_one_scan() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 1);
        b.add(&Observable::new(IndicatorKind::Ipv4, "45.77.153.197"), 2);
        let index = b.build();
        let dir = tempfile::tempdir().unwrap();
        let mut tsv = String::from(
            "#separator \\x09\n#fields\tts\tquery\tid.resp_h\n#types\ttime\tstring\taddr\n",
        );
        let mut json = String::new();
        for i in 0..20_000u32 {
            let q = if i % 97 == 0 {
                format!("h{i}.kb.dga.asia")
            } else {
                format!("h{i}.example.com")
            };
            let a = if i % 89 == 0 {
                "45.77.153.197"
            } else {
                "10.0.0.1"
            };
            tsv.push_str(&format!("{i}.5\t{q}\t{a}\n"));
            json.push_str(&format!(
                "{{\"ts\":{i},\"query\":\"{q}\",\"id.resp_h\":\"{a}\"}}\n"
            ));
        }
        for (name, text) in [("dns.log", tsv), ("dns.jsonl", json)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let scanner = Scanner::new(&index, ScanOptions::default());
            let whole = collect(|f| {
                scanner.scan_batches(&[Input::Path(path.clone())], f);
            });
            let chunks = plan_chunks(&path, 20_000, 4096).unwrap();
            assert!(chunks.len() > 5, "{name}: {} chunks", chunks.len());
            let mut joined = Vec::new();
            let mut base = 0;
            let mut bytes = 0;
            for c in &chunks {
                let mut fs = None;
                let part =
                    collect(|f| fs = Some(scanner.scan_chunk(&path, name, Some(*c), f).unwrap()));
                joined.extend(part.into_iter().map(|(l, f, v)| (l + base, f, v)));
                let fs = fs.unwrap();
                base += fs.lines;
                bytes += c.bytes();
            }
            assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
            assert_eq!(
                base,
                20_000 + if name == "dns.log" { 3 } else { 0 },
                "{name}: lines"
            );
            assert!(whole.len() > 400, "{name}: {} hits", whole.len());
            assert_eq!(joined, whole, "{name}");
        }
    }

    #[test]
    fn small_and_compressed_files_are_one_piece() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.log");
        std::fs::write(&small, "a\nb\n").unwrap();
        assert!(plan_chunks(&small, 1, 4096).unwrap().is_empty());
        let gz = dir.path().join("big.log.gz");
        let mut data = vec![0x1f, 0x8b];
        data.resize(1 << 20, b'x');
        std::fs::write(&gz, data).unwrap();
        assert!(plan_chunks(&gz, 4096, 4096).unwrap().is_empty());
    }

    #[test]
    fn events_in_memory_are_matched() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 7);
        let index = b.build();
        let scanner = Scanner::new(&index, ScanOptions::default());
        let data = b"{\"query\":\"x.example\"}\n{\"query\":\"kb.dga.asia\"}\n";
        let seen = collect(|f| {
            let fs = scanner.scan_slice("zeek.dns", data, f);
            assert_eq!(fs.lines, 2);
        });
        assert_eq!(
            seen,
            vec![(2, "query".to_string(), "kb.dga.asia".to_string())]
        );
    }
}
