//! Zeek `dns` TSV lines folded by their raw fields before they are parsed.
//!
//! DNS repeats itself: a network asks the same names and gets the same
//! answers all day (the zed sample's 53,615 dns lines hold 2,853 distinct
//! query/answer sets). Checking, lower-casing and interning names and
//! addresses is the costly part of a line, so a line costs only its field
//! split, its timestamp and one hash lookup of its raw `query`, `qtype_name`
//! and `answers`; each distinct set is parsed once, with its lines' first and
//! last time and count. The edges are the ones line-by-line reading gives.
//!
//! A plain (not gzip) file large enough is split at line boundaries over
//! threads, each folding its own part ([`read_parallel`]).

use super::dns::dns;
use super::tsv::{Tsv, header, trim_eol, unescape};
use cairn_model::observe::Observations;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

/// Distinct sets held before they are parsed into the observations, so a
/// log that never repeats itself costs bounded memory on top of them.
const FOLD_CAP: usize = if cfg!(test) { 16 } else { 1 << 20 };

/// Below this a file is read on one thread.
const PARALLEL_MIN_BYTES: u64 = 32 << 20;

#[derive(Clone, Copy)]
struct Span {
    first: i64,
    last: i64,
    count: u64,
}

impl Span {
    fn add(&mut self, o: Span) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
    }
}

/// Distinct raw (query, qtype, answers) sets of dns lines with their spans.
#[derive(Default)]
pub(super) struct DnsFold {
    sets: HashMap<Box<[u8]>, Span, foldhash::fast::RandomState>,
    key: Vec<u8>,
}

impl DnsFold {
    /// Folds one TSV line; an error for a missing or unreadable `ts`, as a
    /// line read on its own gives.
    pub(super) fn line(&mut self, t: &Tsv, sep: u8, line: &[u8]) -> Result<(), String> {
        let c = &t.cols;
        let [ts, query, qtype, answers] = fields(line, sep, [c.ts, c.query, c.qtype, c.answers]);
        let set = |f| t.present(f);
        let ts = t.ts_ms(ts)?;
        // Length-prefixed, so no byte inside a field can make two sets one.
        self.key.clear();
        for f in [set(query), set(qtype)] {
            let f = f.unwrap_or_default();
            self.key
                .extend_from_slice(&u32::try_from(f.len()).unwrap_or(u32::MAX).to_le_bytes());
            self.key.extend_from_slice(f);
        }
        self.key.extend_from_slice(set(answers).unwrap_or_default());
        let span = Span {
            first: ts,
            last: ts,
            count: 1,
        };
        match self.sets.get_mut(self.key.as_slice()) {
            Some(s) => s.add(span),
            None => {
                self.sets.insert(self.key.as_slice().into(), span);
            }
        }
        Ok(())
    }

    /// Whether the fold should be parsed into the observations now.
    pub(super) fn full(&self) -> bool {
        self.sets.len() >= FOLD_CAP
    }

    /// Adds `other`'s sets.
    fn merge(&mut self, other: DnsFold) {
        for (k, o) in other.sets {
            self.sets.entry(k).and_modify(|s| s.add(o)).or_insert(o);
        }
    }

    /// Parses every held set into `obs` (in key order, so names arrive
    /// sorted) and empties the fold. `t` must be the header the lines were
    /// read under.
    pub(super) fn flush(&mut self, t: &Tsv, obs: &mut Observations) {
        let mut sets: Vec<_> = self.sets.drain().collect();
        sets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, s) in sets {
            let (query, rest) = part(&key);
            let (qtype, answers) = part(rest);
            let text = |f| t.present(Some(f)).map(unescape);
            let answers = t.items(Some(answers));
            dns(
                obs,
                (s.first, s.last, s.count),
                text(query).as_deref(),
                text(qtype).as_deref(),
                answers.iter().map(|a| a.as_ref()),
            );
        }
    }
}

/// A length-prefixed field of a key and the rest.
fn part(key: &[u8]) -> (&[u8], &[u8]) {
    let (len, rest) = key.split_at(4.min(key.len()));
    let len = u32::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
    rest.split_at(len.min(rest.len()))
}

/// The fields at `cols` of a line, splitting no further than the last.
fn fields<const N: usize>(line: &[u8], sep: u8, cols: [Option<usize>; N]) -> [Option<&[u8]>; N] {
    let mut out = [None; N];
    let Some(last) = cols.iter().flatten().max().copied() else {
        return out;
    };
    let mut start = 0;
    let ends = memchr::memchr_iter(sep, line).chain(std::iter::once(line.len()));
    for (col, end) in ends.enumerate().take(last + 1) {
        for (o, c) in out.iter_mut().zip(cols) {
            if c == Some(col) {
                *o = Some(&line[start..end]);
            }
        }
        start = end + 1;
    }
    out
}

/// Why a part could not be read in parallel.
enum PartEnd {
    /// A line is bad: its number within the part, and why.
    Bad(u64, String),
    /// The part holds what parallel reading does not follow (another
    /// header, a JSON line): the file is read on one thread instead.
    Mixed,
}

/// One part's lines read and folded, sending full folds on `tx`.
fn read_part(
    path: &Path,
    t: &Tsv,
    sep: u8,
    (start, end): (u64, u64),
    tx: &std::sync::mpsc::SyncSender<DnsFold>,
) -> Result<(u64, u64), PartEnd> {
    let io = |e: std::io::Error| PartEnd::Bad(0, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(io)?;
    // A part owns the lines that start inside it: the line running over its
    // start belongs to the part before.
    let mut at = start.saturating_sub(1);
    file.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut r = BufReader::with_capacity(1 << 18, file);
    let mut buf = Vec::with_capacity(4096);
    if start > 0 {
        at += r.read_until(b'\n', &mut buf).map_err(io)? as u64;
    }
    let mut fold = DnsFold::default();
    let (mut lines, mut records) = (0u64, 0u64);
    while at < end {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| PartEnd::Bad(lines + 1, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        at += n as u64;
        lines += 1;
        trim_eol(&mut buf);
        match buf.first() {
            None => continue,
            Some(b'#') if buf.starts_with(b"#close") => continue,
            Some(b'#' | b'{') => return Err(PartEnd::Mixed),
            Some(_) => records += 1,
        }
        fold.line(t, sep, &buf)
            .map_err(|m| PartEnd::Bad(lines, m))?;
        if fold.full() {
            // The receiver only stops early when another part failed.
            tx.send(std::mem::take(&mut fold))
                .map_err(|_| PartEnd::Mixed)?;
        }
    }
    let _ = tx.send(fold);
    Ok((lines, records))
}

/// Reads a plain Zeek dns TSV log over threads into `obs`, which must be
/// empty. `Ok(None)` when the file is not for it (gzip, small, JSON, one
/// thread, headers inside the body): read it line by line then. A bad line
/// is an error with its number in the whole file, the first in file order.
pub(super) fn read_parallel(
    path: &Path,
    obs: &mut Observations,
) -> Result<Option<u64>, (u64, String)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    read_parts(path, obs, threads, PARALLEL_MIN_BYTES)
}

fn read_parts(
    path: &Path,
    obs: &mut Observations,
    threads: usize,
    min_bytes: u64,
) -> Result<Option<u64>, (u64, String)> {
    let io = |e: std::io::Error| (0, format!("cannot read: {e}"));
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if threads < 2 || meta.len() < min_bytes || !obs.values().is_empty() {
        return Ok(None);
    }
    let mut r = BufReader::new(std::fs::File::open(path).map_err(io)?);
    // The header, read as line-by-line reading would.
    let mut tsv: Option<Tsv> = None;
    let mut sep = b'\t';
    let mut body = 0u64;
    let mut head_lines = 0u64;
    let mut line = Vec::new();
    loop {
        if r.fill_buf().map_err(io)?.first() != Some(&b'#') {
            break;
        }
        line.clear();
        body += r.read_until(b'\n', &mut line).map_err(io)? as u64;
        head_lines += 1;
        trim_eol(&mut line);
        header(&line, &mut tsv, &mut sep).map_err(|m| (head_lines, m))?;
    }
    // gzip and JSON lines start with no header.
    let Some(t) = tsv else {
        return Ok(None);
    };
    let step = (meta.len() - body).div_ceil(threads as u64);
    let parts: Vec<(u64, u64)> = (0..threads as u64)
        .map(|i| (body + i * step, (body + (i + 1) * step).min(meta.len())))
        .collect();
    let mut local = Observations::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<DnsFold>(threads);
    let ends: Vec<Result<(u64, u64), PartEnd>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|&p| {
                let tx = tx.clone();
                let t = &t;
                s.spawn(move || read_part(path, t, sep, p, &tx))
            })
            .collect();
        drop(tx);
        // Folds that filled up are parsed while the parts go on; the last
        // one of each part is merged first, so a set seen in several parts
        // is parsed once.
        let mut last = DnsFold::default();
        for mut f in rx {
            if f.full() {
                f.flush(&t, &mut local);
            } else {
                last.merge(f);
            }
        }
        last.flush(&t, &mut local);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(PartEnd::Mixed)))
            .collect()
    });
    let mut before = head_lines;
    let mut records = 0;
    for end in ends {
        match end {
            Ok((lines, n)) => {
                before += lines;
                records += n;
            }
            Err(PartEnd::Bad(n, m)) => return Err((before + n, m)),
            Err(PartEnd::Mixed) => return Ok(None),
        }
    }
    *obs = local;
    Ok(Some(records))
}

#[cfg(test)]
mod tests {
    use super::super::{ObsFormat, read_observations_from};
    use super::*;

    const HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-04-12-19-29-12\n\
#fields\tts\tuid\tquery\tqtype_name\trcode_name\tanswers\tTTLs\n";

    /// A dns log that repeats itself, with what line-by-line reading
    /// treats specially: case, final dots, unset and empty answers, CNAME
    /// chains, PTR and TXT, Zeek escapes; and the same records as JSON.
    fn log(lines: usize) -> (String, String) {
        let answers = [
            "192.0.2.1",
            "cdn.example.net,198.51.100.7",
            "-",
            "(empty)",
            "2001:db8::1,192.0.2.9",
            "TXT 12 v=spf1 -all",
            "a\\x2cb.example",
        ];
        let (mut tsv, mut json) = (HEAD.to_string(), String::new());
        for i in 0..lines {
            let name = match i % 5 {
                0 => format!("Host{}.Example.COM.", i % 41),
                1 => format!("host{}.example.com", i % 41),
                2 => format!("{}.2.0.192.in-addr.arpa", i % 7),
                _ => format!("svc{}.zone{}.example", i % 13, i % 3),
            };
            let qtype = if i % 5 == 2 {
                "PTR"
            } else {
                ["A", "AAAA", "NS", "MX"][i % 4]
            };
            let a = answers[(i * 7 + i / 11) % answers.len()];
            let ts = 1_600_000_000 + (i as u64 * 7919) % 100_000;
            tsv.push_str(&format!(
                "{ts}.{:06}\tC{i}\t{name}\t{qtype}\tNOERROR\t{a}\t-\n",
                i % 1_000_000
            ));
            let list: Vec<String> = match a {
                "-" => Vec::new(),
                "(empty)" => Vec::new(),
                "a\\x2cb.example" => vec!["a,b.example".into()],
                _ => a.split(',').map(String::from).collect(),
            };
            json.push_str(
                &serde_json::json!({"_path": "dns", "ts": format!("{ts}.{:06}", i % 1_000_000),
                    "query": name, "qtype_name": qtype, "answers": list})
                .to_string(),
            );
            json.push('\n');
        }
        tsv.push_str("#close\t2024-04-12-19-30-00\n");
        (tsv, json)
    }

    fn seq(text: &str) -> Result<Observations, String> {
        let mut o = Observations::new();
        read_observations_from(
            Path::new("t.log"),
            text.as_bytes(),
            ObsFormat::ZeekDns,
            &mut o,
        )
        .map_err(|e| e.to_string())?;
        Ok(o)
    }

    fn par(text: &str, threads: usize) -> Result<Option<(u64, Observations)>, (u64, String)> {
        let dir = tempfile::tempdir().map_err(|e| (0, e.to_string()))?;
        let p = dir.path().join("dns.log");
        std::fs::write(&p, text).map_err(|e| (0, e.to_string()))?;
        let mut o = Observations::new();
        Ok(read_parts(&p, &mut o, threads, 0)?.map(|n| (n, o)))
    }

    #[test]
    fn folded_lines_give_the_edges_of_records_read_one_by_one() {
        let (tsv, json) = log(2_000);
        let truth = seq(&json).unwrap();
        assert!(truth.resolved().len() > 50, "{}", truth.resolved().len());
        let folded = seq(&tsv).unwrap();
        assert_eq!(folded.resolved(), truth.resolved());
        for threads in [2, 3, 7] {
            let (records, o) = par(&tsv, threads).unwrap().expect("read in parts");
            assert_eq!(records, 2_000);
            assert_eq!(o.resolved(), truth.resolved(), "{threads} parts");
        }
        // Few sets, so every part ends holding all of them: their counts
        // and times are merged.
        let mut few = HEAD.to_string();
        for i in 0..900 {
            let a = ["192.0.2.1", "192.0.2.2,cdn.example.net"][i % 2];
            few.push_str(&format!(
                "{}.5\tC\tA.example\tA\tNOERROR\t{a}\t-\n",
                1000 + i
            ));
        }
        let (_, o) = par(&few, 3).unwrap().expect("read in parts");
        let r = o.resolved();
        assert_eq!(r, seq(&few).unwrap().resolved());
        let span = |v: &str| r.iter().find(|e| e.4 == v).map(|e| (e.5, e.6, e.7));
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(span("192.0.2.1"), Some((1_000_500, 1_898_500, 450)));
        assert_eq!(span("cdn.example.net"), Some((1_001_500, 1_899_500, 450)));
    }

    #[test]
    fn a_bad_line_is_named_by_its_place_in_the_whole_file() {
        let (tsv, _) = log(600);
        let mut lines: Vec<&str> = tsv.lines().collect();
        let head = HEAD.lines().count();
        for bad in [head + 1, head + 450, head + 599] {
            let mut l = lines.clone();
            l[bad - 1] = "17x3\tCbad\tx.example\tA\tNOERROR\t192.0.2.1\t-";
            let text = l.join("\n") + "\n";
            let want = seq(&text).unwrap_err();
            assert!(want.contains(&format!("line {bad}")), "{want}");
            for threads in [2, 5] {
                let (line, m) = par(&text, threads).unwrap_err();
                assert_eq!(line as usize, bad, "{threads} parts: {m}");
                assert!(m.contains("unreadable ts `17x3`"), "{m}");
            }
        }
        // A second header inside the body: the file is read on one thread.
        lines.insert(300, "#fields\tts\tquery\tanswers");
        let text = lines.join("\n") + "\n";
        assert!(par(&text, 3).unwrap().is_none());
        assert!(seq(&text).is_ok());
    }
}
