//! Zeek TSV blocks. A line's wanted columns are found in one pass
//! (`simd::ColumnSplitter`) and their values turned into deferred probes
//! (names a thread has seen turned away are skipped: `clean`); a batch of
//! lines' probes is tested together, and only the lines (and columns) a
//! probe confirms are read in full and matched.

use super::block::{BlockCtx, BlockResult, RelHit};
use super::clean::{self, CleanCache};
use super::columns::{split_columns, split_set, unescape_zeek};
use super::field::gather_field;
use super::format::ZeekSchema;
use crate::fields::FieldType;
use crate::index::Match;
use crate::index::probe::Probe;
use crate::normalize;
use crate::simd::{ColumnSplitter, Split};
use cairn_model::IndicatorKind;

/// A probe's slot: the line's place in its batch and the column the value
/// came from, so that a confirmed value sends only its column to be matched.
#[inline]
fn probe_slot(line: u32, col: usize) -> u32 {
    line << 6 | (col & 63) as u32
}

/// The line's place and the column's bit of a [`probe_slot`].
#[inline]
fn slot_parts(slot: u32) -> (usize, u64) {
    ((slot >> 6) as usize, 1 << (slot & 63))
}

/// Lines of a block gathered for [`BlockCtx::zeek_flush`].
#[derive(Default)]
struct ZeekBatch {
    /// (start, end, line number) of each line.
    lines: Vec<(usize, usize, u64)>,
    /// Per line: the columns to read in full (bit `i`: column `i`), all
    /// of them (`u64::MAX`) for a line its probes cannot decide.
    full: Vec<u64>,
    probes: Vec<Probe>,
    /// The probes that passed their filter (places in `probes`).
    passed: Vec<u32>,
    /// Column bounds of the line being gathered.
    cols: Vec<(usize, usize)>,
    /// (column, start, end) of its wanted columns.
    wcols: Vec<(usize, usize, usize)>,
    /// Names whose probes were gathered (probe slot, cache key): the ones
    /// the probes turn away go into the thread's [`CleanCache`].
    names: Vec<(u32, clean::Key)>,
}

impl ZeekBatch {
    /// Adds the line at `start` (`len` bytes, number `lno`), to be read in
    /// full unless its probes `decided` it; true when the batch is full.
    fn push(&mut self, start: usize, len: usize, lno: u64, decided: bool) -> bool {
        self.lines.push((start, start + len, lno));
        self.full.push(if decided { 0 } else { u64::MAX });
        self.lines.len() == ZEEK_BATCH
    }
}

/// Lines gathered before their probes are tested together.
const ZEEK_BATCH: usize = 64;

impl BlockCtx<'_> {
    /// A block of a Zeek log. When its wanted columns are all among the
    /// first 64 (all real logs), each line's columns and its end are found
    /// in one pass; else every line is split column by column.
    pub(super) fn run_zeek(&self, z: &ZeekSchema, data: &[u8], skip_first: bool) -> BlockResult {
        match z.wanted {
            Some(wanted) if !skip_first => clean::with(self.index.id(), |clean| {
                self.run_zeek_with(z, wanted, data, clean)
            }),
            _ => self.run_zeek_wide(z, data, skip_first),
        }
    }

    /// [`BlockCtx::run_zeek`] for wanted columns among the first 64, with
    /// this thread's cache of clean names, if it is free.
    fn run_zeek_with(
        &self,
        z: &ZeekSchema,
        wanted: u64,
        data: &[u8],
        mut clean: Option<&mut CleanCache>,
    ) -> BlockResult {
        let mut res = BlockResult::default();
        let mut ms: Vec<Match> = Vec::new();
        let mut unesc: Vec<u8> = Vec::new();
        let mut batch = ZeekBatch::default();
        let splitter = ColumnSplitter::detect();
        let mut pos = 0usize;
        while pos < data.len() {
            let rest = &data[pos..];
            // Comments, empty lines and the reader's overlong-line marker
            // take the plain path.
            let split = match rest[0] {
                b'#' | b'\n' | b'\r' | 0 => None,
                _ => Some(splitter.split_wanted(
                    rest,
                    z.sep,
                    wanted,
                    z.last_wanted,
                    &mut batch.wcols,
                )),
            };
            let end = match split {
                Some(sp) => pos + sp.end,
                None => memchr::memchr(b'\n', rest).map_or(data.len(), |i| pos + i),
            };
            let line_start = pos;
            let line = &data[pos..end];
            pos = end + 1;
            res.lines += 1;
            let lno = res.lines;
            let Some(line) = self.content(line, lno, &mut res) else {
                continue;
            };
            if line[0] == b'#' {
                continue;
            }
            let slot = batch.lines.len() as u32;
            let decided = match split {
                Some(sp) => self.zeek_probe(z, line, sp, slot, clean.as_deref(), &mut batch),
                None => false,
            };
            if batch.push(line_start, line.len(), lno, decided) {
                let c = clean.as_deref_mut();
                self.zeek_flush(z, data, &mut batch, c, &mut ms, &mut unesc, &mut res);
            }
        }
        self.zeek_flush(z, data, &mut batch, clean, &mut ms, &mut unesc, &mut res);
        res
    }

    /// [`BlockCtx::run_zeek`] for schemas with wanted columns past the
    /// 64th: each line's columns split in turn, and no clean names.
    fn run_zeek_wide(&self, z: &ZeekSchema, data: &[u8], skip_first: bool) -> BlockResult {
        let mut res = BlockResult::default();
        let mut ms: Vec<Match> = Vec::new();
        let mut unesc: Vec<u8> = Vec::new();
        let mut batch = ZeekBatch::default();
        self.each_line(data, skip_first, &mut res, |line, line_start, lno, res| {
            if line[0] == b'#' {
                return;
            }
            let slot = batch.lines.len() as u32;
            let decided = self.zeek_gather_all(z, line, slot, &mut batch.cols, &mut batch.probes);
            if batch.push(line_start, line.len(), lno, decided) {
                self.zeek_flush(z, data, &mut batch, None, &mut ms, &mut unesc, res);
            }
        });
        self.zeek_flush(z, data, &mut batch, None, &mut ms, &mut unesc, &mut res);
        res
    }

    /// Tests a batch's gathered probes together (their cache misses overlap),
    /// then reads in full, in order, the lines that may hold a match. Names
    /// the probes turned away go into `clean`.
    #[allow(clippy::too_many_arguments)]
    fn zeek_flush(
        &self,
        z: &ZeekSchema,
        data: &[u8],
        batch: &mut ZeekBatch,
        clean: Option<&mut CleanCache>,
        ms: &mut Vec<Match>,
        unesc: &mut Vec<u8>,
        res: &mut BlockResult,
    ) {
        // Stage 1: the cache-resident filters, all loads independent. Few
        // pass (a few in a hundred), so only those are kept for stage 2.
        for (i, p) in batch.probes.iter().enumerate() {
            if self.index.probe_passes(p) {
                self.index.prefetch_confirm(p);
                batch.passed.push(i as u32);
            }
        }
        // Stage 2, for the few that pass: the exact table and tries. Only a
        // value that really meets an indicator sends its line to be read in full.
        // A schema with wanted columns past the 64th numbers none: a
        // confirmed value there sends the whole line.
        let whole = if z.wanted.is_some() { 0 } else { u64::MAX };
        for &i in &batch.passed {
            let Some(p) = batch.probes.get(i as usize) else {
                continue;
            };
            let (line, col) = slot_parts(p.slot);
            if let Some(f) = batch.full.get_mut(line)
                && *f & col == 0
                && self.index.probe_confirms(p)
            {
                *f |= col | whole;
            }
        }
        batch.passed.clear();
        if let Some(clean) = clean {
            for &(slot, key) in &batch.names {
                let (line, col) = slot_parts(slot);
                // None of this column's probes confirmed, and the line was
                // decided by probes (a line read in full for want of them
                // has had its names dropped already: checked all the same).
                if batch
                    .full
                    .get(line)
                    .is_some_and(|f| *f != u64::MAX && f & col == 0)
                {
                    clean.insert(key);
                }
            }
        }
        batch.names.clear();
        for (&(start, end, lno), &full) in batch.lines.iter().zip(&batch.full) {
            if full != 0 {
                self.zeek_line(z, &data[start..end], lno, full, ms, unesc, res);
            }
        }
        batch.lines.clear();
        batch.full.clear();
        batch.probes.clear();
    }

    /// The prefilter pass over one Zeek line of a schema without wanted
    /// columns past the 64th: the same columns and values
    /// [`BlockCtx::zeek_line`] would match, turned into deferred probes.
    /// False: the line cannot be decided by probes (escapes, a malformed
    /// line, a field type without a prefilter); read it in full.
    fn zeek_probe(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        split: Split,
        slot: u32,
        clean: Option<&CleanCache>,
        batch: &mut ZeekBatch,
    ) -> bool {
        if split.escapes || (!split.complete && !z.names.is_empty()) {
            return false;
        }
        let ZeekBatch {
            wcols,
            probes,
            names,
            ..
        } = batch;
        // A column ending the line ends before a stripped `\r`.
        let col_of = |s: usize, e: usize| &line[s.min(line.len())..e.min(line.len())];
        let before = (probes.len(), names.len());
        // False: the line cannot be decided by probes, so what it gathered
        // is dropped (it is read in full).
        let decided = 'line: {
            for &(i, s, e) in wcols.iter() {
                let col = col_of(s, e);
                let Some(Some((ty, is_set))) = z.cols.get(i) else {
                    continue;
                };
                // Most of a log's addresses are internal, ruled out by their
                // first octet before anything else is looked at (as in
                // `gather_field`, which would come to the same answer).
                if *ty == FieldType::Ip && !*is_set {
                    if self.index.v4_lead_absent(col) {
                        continue;
                    }
                    // One address as Zeek writes it (nothing to trim): straight
                    // to its probes, where `gather_field` comes after its checks.
                    if let Some(a) = normalize::parse_ipv4_strict(col)
                        && col != z.unset.as_slice()
                        && col != z.empty.as_slice()
                    {
                        if !self.index.gather_v4(a, probe_slot(slot, i), probes) {
                            break 'line false;
                        }
                        continue;
                    }
                }
                if col == z.unset.as_slice() || col == z.empty.as_slice() {
                    continue;
                }
                // A name met before and turned away by its probes then.
                let name = match (clean, *ty, *is_set) {
                    (Some(_), FieldType::Domain, false) => clean::key(col),
                    _ => None,
                };
                if let Some(k) = &name
                    && clean.is_some_and(|c| c.contains(k))
                {
                    continue;
                }
                if !self.gather_col(*ty, *is_set, z.set_sep, col, probe_slot(slot, i), probes) {
                    break 'line false;
                }
                if let Some(k) = name {
                    names.push((probe_slot(slot, i), k));
                }
            }
            if let Some((h, u)) = z.http_host_uri
                && self.index.has_kind(IndicatorKind::Url)
            {
                let find = |c: usize| wcols.iter().find(|w| w.0 == c).map(|w| col_of(w.1, w.2));
                if let (Some(host), Some(uri)) = (find(h), find(u))
                    && host != z.unset.as_slice()
                    && uri != z.unset.as_slice()
                    && uri.starts_with(b"/")
                {
                    break 'line false;
                }
            }
            true
        };
        if !decided {
            probes.truncate(before.0);
            names.truncate(before.1);
        }
        decided
    }

    /// One typed column's values turned into probes (false: read the line
    /// in full).
    #[inline]
    fn gather_col(
        &self,
        ty: FieldType,
        is_set: bool,
        set_sep: u8,
        col: &[u8],
        slot: u32,
        probes: &mut Vec<Probe>,
    ) -> bool {
        if ty == FieldType::Hash && !set_sep.is_ascii_hexdigit() && normalize::is_canonical_hex(col)
        {
            // A canonical hash, so no set separator either: one value.
            self.index.gather_hex(col, slot, probes);
            true
        } else if is_set || matches!(ty, FieldType::Auto | FieldType::Hash) {
            // Each value of a set (a certificate chain, DNS answers) written
            // as logs nearly always write them, a canonical hash or a dotted
            // quad, straight to its probes, as `gather_field` would after its
            // trim and dispatch; anything else through it.
            split_set(col, set_sep, |v| match ty {
                FieldType::Hash if normalize::is_canonical_hex(v) => {
                    self.index.gather_hex(v, slot, probes);
                    true
                }
                FieldType::Auto | FieldType::Ip => match normalize::parse_ipv4_strict(v) {
                    Some(a) => self.index.gather_v4(a, slot, probes),
                    None => gather_field(self.index, ty, v, slot, probes),
                },
                _ => gather_field(self.index, ty, v, slot, probes),
            })
        } else {
            gather_field(self.index, ty, col, slot, probes)
        }
    }

    /// [`BlockCtx::zeek_probe`] for schemas with wanted columns past the
    /// 64th: every column split.
    fn zeek_gather_all(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        slot: u32,
        cols: &mut Vec<(usize, usize)>,
        probes: &mut Vec<Probe>,
    ) -> bool {
        let escapes = split_columns(line, z.sep, z.last_wanted + 1, cols);
        if escapes || (cols.len() <= z.last_wanted && !z.names.is_empty()) {
            return false;
        }
        for (i, &(s, e)) in cols.iter().enumerate() {
            let col = &line[s..e];
            if let Some(Some((ty, is_set))) = z.cols.get(i)
                && col != z.unset.as_slice()
                && col != z.empty.as_slice()
            {
                if *is_set || *ty == FieldType::Auto || *ty == FieldType::Hash {
                    for v in col.split(|b| *b == z.set_sep) {
                        if !gather_field(self.index, *ty, v, probe_slot(slot, 0), probes) {
                            return false;
                        }
                    }
                } else if !gather_field(self.index, *ty, col, probe_slot(slot, 0), probes) {
                    return false;
                }
            }
        }
        if let Some((h, u)) = z.http_host_uri
            && let (Some(&(hs, he)), Some(&(us, ue))) = (cols.get(h), cols.get(u))
            && line[hs..he] != *z.unset.as_slice()
            && line[us..ue] != *z.unset.as_slice()
            && line[us..ue].starts_with(b"/")
            && self.index.has_kind(IndicatorKind::Url)
        {
            return false;
        }
        true
    }

    /// Matches the columns of `line` set in `only` (bit `i`: column `i`;
    /// `u64::MAX`: every column) and its URL, if any.
    #[allow(clippy::too_many_arguments)]
    fn zeek_line(
        &self,
        z: &ZeekSchema,
        line: &[u8],
        lno: u64,
        only: u64,
        ms: &mut Vec<Match>,
        unesc: &mut Vec<u8>,
        res: &mut BlockResult,
    ) {
        if line[0] == b'#' {
            return;
        }
        let before = res.hits.len();
        let mut host_uri: (Option<&[u8]>, Option<&[u8]>) = (None, None);
        let mut ncols = 0usize;
        let mut start = 0usize;
        let mut seps = memchr::memchr_iter(z.sep, line);
        for i in 0.. {
            if start > line.len() {
                break;
            }
            let end = seps.next().unwrap_or(line.len());
            let col = &line[start..end];
            let last = end == line.len();
            start = end + 1;
            ncols = i + 1;
            if let Some((h, u)) = z.http_host_uri {
                if i == h {
                    host_uri.0 = Some(col);
                } else if i == u {
                    host_uri.1 = Some(col);
                }
            }
            let asked = only == u64::MAX || (i < 64 && only & (1 << i) != 0);
            if asked
                && let Some(Some((ty, is_set))) = z.cols.get(i)
                && col != z.unset.as_slice()
                && col != z.empty.as_slice()
            {
                let col = if memchr::memchr(b'\\', col).is_some() {
                    unescape_zeek(col, unesc);
                    &unesc[..]
                } else {
                    col
                };
                let name = || z.names[i].clone();
                if *is_set || *ty == FieldType::Auto || *ty == FieldType::Hash {
                    let mut from = 0;
                    for to in memchr::memchr_iter(z.set_sep, col).chain([col.len()]) {
                        self.check(*ty, &col[from..to], lno, &name, ms, res);
                        from = to + 1;
                    }
                } else {
                    self.check(*ty, col, lno, &name, ms, res);
                }
            }
            if i >= z.last_wanted || last || (only != u64::MAX && only >> i <= 1) {
                break;
            }
        }
        // A line its probes decided was whole when split.
        if only == u64::MAX && ncols <= z.last_wanted && !z.names.is_empty() {
            res.bad(lno);
            return;
        }
        if let (Some(h), Some(u)) = host_uri
            && h != z.unset.as_slice()
            && u != z.unset.as_slice()
            && u.starts_with(b"/")
        {
            let url = format!(
                "http://{}{}",
                String::from_utf8_lossy(h),
                String::from_utf8_lossy(u)
            );
            ms.clear();
            if let Some(norm) = normalize::url(&url) {
                self.index.match_url_only(&norm, ms);
                for m in ms.drain(..) {
                    res.hits.push(RelHit {
                        line: lno,
                        field: "host+uri".into(),
                        value: url.clone(),
                        m,
                        ts: None,
                    });
                }
            }
        }
        if res.hits.len() > before
            && let Some(t) = z.ts
            && let Some(ts) = line.split(|b| *b == z.sep).nth(t)
        {
            let ts = String::from_utf8_lossy(ts).into_owned();
            // Nearly every hit line has one hit: it takes the string itself.
            if let Some((last, others)) = res.hits[before..].split_last_mut() {
                for h in others {
                    h.ts = Some(ts.clone());
                }
                last.ts = Some(ts);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::build::IndexBuilder;
    use crate::scan::driver::{ScanOptions, Scanner};
    use crate::scan::input::Input;
    use cairn_model::Observable;

    #[test]
    fn zeek_batches_match_like_lines() {
        // More lines than one batch, with escapes, sets, unset and empty
        // values and a short (malformed) line at batch boundaries; an
        // address column with internal addresses (ruled out by their first
        // octet), exact and CIDR hits and a near miss in a hit's /24.
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Ipv4, "45.77.153.197"), 1);
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 2);
        b.add(&Observable::new(IndicatorKind::Sha256, "aabb"), 3);
        b.add(&Observable::new(IndicatorKind::Cidr, "203.0.113.0/25"), 4);
        let ix = b.build();
        let mut log = String::from(
            "#separator \\x09\n#set_separator\t,\n#fields\tts\tquery\tanswers\tcert_chain_fps\tid.resp_h\n#types\ttime\tstring\tvector[string]\tset[string]\taddr\n",
        );
        let mut want = Vec::new();
        let mut lno = 4;
        for i in 0..300u64 {
            lno += 1;
            let line = match i % 7 {
                0 => {
                    want.push((lno, "query"));
                    format!("{i}\tkb.dga.asia\t-\t(empty)\t10.0.0.1\n")
                }
                1 => {
                    want.push((lno, "answers"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tx.org\t1.1.1.1,45.77.153.197\t-\t45.77.153.197\n")
                }
                2 => {
                    want.push((lno, "query"));
                    format!("{i}\tkb\\x2edga.asia\t-\t-\t-\n")
                }
                3 => {
                    want.push((lno, "cert_chain_fps"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tnotdga.asia\t45.77.153.19\tcc,AABB\t203.0.113.9\n")
                }
                4 => format!("{i}\tonlyone\n"),
                // A comment and an empty line between records.
                5 => {
                    lno += 1;
                    format!("#comment {i}\n\n")
                }
                // CRLF: the last column ends before the `\r`.
                6 if i % 2 == 0 => {
                    want.push((lno, "cert_chain_fps"));
                    want.push((lno, "id.resp_h"));
                    format!("{i}\tx.org\t-\taabb\t203.0.113.127\r\n")
                }
                _ => format!("{i}\tdga.asia.evil.net\t45.77.153.198\tccdd\t203.0.113.128\n"),
            };
            log.push_str(&line);
        }
        want.sort();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        for block_size in [1 << 16, 4 << 20] {
            let hits = std::sync::Mutex::new(Vec::new());
            let opts = ScanOptions {
                block_size,
                ..ScanOptions::default()
            };
            let s = Scanner::new(&ix, opts).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock().unwrap().push((h.line, h.field))
            });
            let mut got = hits.into_inner().unwrap();
            got.sort();
            let got: Vec<(u64, &str)> = got.iter().map(|(l, f)| (*l, f.as_str())).collect();
            assert_eq!(got, want);
            assert_eq!(s.malformed, 300 / 7 + 1);
        }
    }

    /// The per-thread cache of names that met nothing: a name that is an
    /// indicator is never cached (however often it comes back), and names
    /// cached while hunting with one index do not answer for another.
    #[test]
    fn clean_names_never_hide_a_hit() {
        let index = |domain: &str| {
            let mut b = IndexBuilder::new();
            b.add(&Observable::new(IndicatorKind::Domain, domain), 1);
            // Enough other names that a log name's probes are not all
            // turned away by the parent filter alone.
            for i in 0..2000 {
                b.add(
                    &Observable::new(IndicatorKind::Domain, &format!("n{i}.example.org")),
                    2,
                );
            }
            b.build()
        };
        let mut log = String::from(
            "#separator \\x09\n#fields\tts\tquery\tid.resp_h\n#types\ttime\tstring\taddr\n",
        );
        let mut want = Vec::new();
        for i in 0..3000u64 {
            let name =
                ["kb.dga.asia", "x.org", "n7.example.org.evil", "kb.dga.asia"][i as usize % 4];
            if name == "kb.dga.asia" {
                want.push(i + 4);
            }
            log.push_str(&format!("{i}\t{name}\t10.0.0.1\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        let hunt = |ix: &Index| {
            let hits = std::sync::Mutex::new(Vec::new());
            let opts = ScanOptions {
                block_size: 1 << 12,
                ..ScanOptions::default()
            };
            Scanner::new(ix, opts).scan(&[Input::Path(p.clone())], &|h| {
                hits.lock().unwrap().push(h.line)
            });
            let mut got = hits.into_inner().unwrap();
            got.sort();
            got
        };
        // Every thread's cache first learns that kb.dga.asia meets nothing...
        assert!(hunt(&index("other.example")).is_empty());
        // ...which must not carry over to an index where it does.
        let ix = index("dga.asia");
        assert_eq!(hunt(&ix), want);
        assert_eq!(hunt(&ix), want);
        // On this thread: the clean names are kept, the hit is not.
        let scanner = Scanner::new(&ix, ScanOptions::default());
        let data = std::fs::read(&p).unwrap();
        let (_, schema) = scanner.schema_of(&data);
        let res = scanner.block_ctx().run(&schema, &data, false);
        assert_eq!(res.hits.len(), want.len());
        clean::with(ix.id(), |c| {
            let c = c.expect("cache free");
            let kept = |v: &[u8]| c.contains(&clean::key(v).expect("short"));
            assert!(kept(b"x.org") && kept(b"n7.example.org.evil"));
            assert!(!kept(b"kb.dga.asia"));
        });
    }

    /// Hashes in a set column (a certificate chain) are each matched, first,
    /// last or alone, canonical or not.
    #[test]
    fn every_hash_of_a_chain_is_matched() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Sha256, "aabb"), 1);
        let ix = b.build();
        let mut log = String::from(
            "#separator \\x09\n#set_separator\t,\n#fields\tts\tcert_chain_fps\n#types\ttime\tvector[string]\n",
        );
        let chains = [
            "ccdd,aabb",
            "aabb,ccdd",
            "ccdd,eeff",
            "aabb",
            "ccdd,AABB",
            "ccdd,,aabb",
        ];
        for (i, c) in chains.iter().enumerate() {
            log.push_str(&format!("{i}\t{c}\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ssl.log");
        std::fs::write(&p, log).unwrap();
        let hits = std::sync::Mutex::new(Vec::new());
        Scanner::new(&ix, ScanOptions::default()).scan(&[Input::Path(p)], &|h| {
            hits.lock().unwrap().push((h.line, h.value))
        });
        let mut got = hits.into_inner().unwrap();
        got.sort();
        let want: Vec<(u64, String)> = [
            (5, "aabb"),
            (6, "aabb"),
            (8, "aabb"),
            (9, "AABB"),
            (10, "aabb"),
        ]
        .iter()
        .map(|(l, v)| (*l, v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn scans_zeek_with_set_fields_and_escapes() {
        let mut b = IndexBuilder::new();
        b.add(&Observable::new(IndicatorKind::Ipv4, "45.77.153.197"), 1);
        b.add(&Observable::new(IndicatorKind::Domain, "dga.asia"), 2);
        let ix = b.build();
        let log = "#separator \\x09\n#set_separator\t,\n#fields\tts\tquery\tanswers\n#types\ttime\tstring\tvector[string]\n1.0\tkb.dga.asia\t1.1.1.1,45.77.153.197\n2.0\tnotdga.asia\t-\n3.0\tonlyone\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dns.log");
        std::fs::write(&p, log).unwrap();
        let hits = std::sync::Mutex::new(Vec::new());
        let s = Scanner::new(&ix, ScanOptions::default())
            .scan(&[Input::Path(p)], &|h| hits.lock().unwrap().push(h));
        let hits = hits.into_inner().unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].line, hits[0].field.as_str()), (5, "query"));
        assert_eq!(hits[0].ts.as_deref(), Some("1.0"));
        assert_eq!((hits[1].line, hits[1].field.as_str()), (5, "answers"));
        assert_eq!(s.malformed, 1);
        assert_eq!(s.files[0].malformed_examples, vec![7]);
    }
}
