//! The extraction pipeline: refang, scan, validate, type by context, dedup.

use crate::cues::Cues;
use crate::refang::{Refanged, refang};
use crate::scan::{self, Scanner, Shape};
use crate::{
    Document, Extracted, Extraction, Found, IndicatorKind as K, Occurrence, Options, Suppressed,
    benign,
};
use std::collections::HashMap;

mod ctx;
mod forms;
mod paths;
mod urls;

use ctx::{Ctx, Need, valid_host};
use forms::hex_kind;
use paths::registry_end;
use urls::{host_path_end, inner_urls};

/// Finds indicators in documents. Build once and share: it holds the
/// compiled automata and is `Send + Sync`.
pub struct Extractor {
    scanner: Scanner,
    options: Options,
}

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor")
            .field("options", &self.options)
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    need: Need,
    /// Clean (refanged) span.
    cs: usize,
    ce: usize,
    /// Original span.
    os: usize,
    oe: usize,
    line: usize,
}

enum Slot {
    Kept(usize),
    Suppressed(usize),
}

/// Collects results; shared by document and line extraction.
struct Sink<'a> {
    ex: &'a Extractor,
    vendors: Vec<(&'static str, &'static str)>,
    /// Per kind (by discriminant), value → where it went.
    seen: Vec<HashMap<String, Slot>>,
    out: Extraction,
}

impl Sink<'_> {
    fn add(&mut self, kind: K, value: String, occ: Occurrence) {
        if let Some(slot) = self.seen[kind as usize].get(value.as_str()) {
            match slot {
                Slot::Kept(i) => self.out.indicators[*i].occurrences.push(occ),
                Slot::Suppressed(i) => self.out.suppressed[*i].occurrences.push(occ),
            }
            return;
        }
        let reason = if self.ex.options.keep_benign {
            None
        } else {
            benign::check(kind, &value, &self.vendors).or_else(|| {
                self.ex
                    .options
                    .benign
                    .as_ref()
                    .and_then(|f| f.check(kind, &value))
            })
        };
        let slot = match reason {
            Some(reason) => {
                self.out.suppressed.push(Suppressed {
                    kind,
                    value: value.clone(),
                    reason,
                    occurrences: vec![occ],
                });
                Slot::Suppressed(self.out.suppressed.len() - 1)
            }
            None => {
                self.out.indicators.push(Extracted {
                    kind,
                    value: value.clone(),
                    occurrences: vec![occ],
                });
                Slot::Kept(self.out.indicators.len() - 1)
            }
        };
        self.seen[kind as usize].insert(value, slot);
    }
}

impl Extractor {
    /// An extractor with these options.
    pub fn new(options: Options) -> Extractor {
        Extractor {
            scanner: Scanner::new(),
            options,
        }
    }

    /// The options it was built with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Every indicator in the document, with context, deduplicated.
    pub fn extract(&self, doc: &Document) -> Extraction {
        let text = doc.text();
        let mut sink = Sink {
            ex: self,
            vendors: if self.options.vendor_domains {
                benign::vendor_domains(text)
            } else {
                Vec::new()
            },
            seen: (0..K::all().len()).map(|_| HashMap::new()).collect(),
            out: Extraction {
                warnings: doc.warnings().to_vec(),
                ..Extraction::default()
            },
        };
        let ascii = text.is_ascii();
        let tlp = self.run(text, true, |cand, kind, value, rule, ctx| {
            let ls = ctx.line_starts[cand.line];
            let column = if ascii {
                cand.os - ls
            } else {
                text[ls..cand.os].chars().count()
            } + 1;
            let line = cand.line as u32 + 1;
            let occ = Occurrence {
                original: text[cand.os..cand.oe].to_string(),
                line,
                column: column as u32,
                page: doc.page_of_line(line),
                context: ctx.context(kind),
                rule,
            };
            sink.add(kind, value, occ);
        });
        sink.out.tlp = tlp.map(|t| forms::tlp_name(t).to_string());
        sink.out
    }

    /// Indicators anywhere in one log line, without heading context (a bare
    /// hex string is typed by its length and the words on the line). Benign
    /// values are left out unless [`Options::keep_benign`]; repeats are kept.
    pub fn extract_line(&self, line: &str) -> Vec<Found> {
        let vendors = Vec::new();
        let mut found = Vec::new();
        self.run(line, false, |cand, kind, value, _, _| {
            if !self.options.keep_benign
                && (benign::check(kind, &value, &vendors).is_some()
                    || self
                        .options
                        .benign
                        .as_ref()
                        .is_some_and(|f| f.check(kind, &value).is_some()))
            {
                return;
            }
            found.push(Found {
                kind,
                value,
                start: cand.os,
                end: cand.oe,
            });
        });
        found
    }

    /// The pipeline. `headings`: track headings, tables and lead-ins (off
    /// for single log lines). Returns the strictest TLP label met.
    fn run<'t>(
        &self,
        text: &'t str,
        headings: bool,
        mut emit: impl FnMut(&Cand, K, String, Option<String>, &Ctx<'t>),
    ) -> Option<cairn_model::Tlp> {
        let rf = refang(text);
        let clean: &str = &rf.text;
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        let mut cands: Vec<Cand> = Vec::new();
        let mut last_line = 0usize;
        let mut tlp = None;
        self.scanner.scan(clean, |shape, s, e| {
            if shape == Shape::Tlp {
                tlp = tlp.max(forms::tlp_label(&clean[s..e]));
                return e;
            }
            let (need, s, e, resume) = prepare(&rf, clean, shape, s, e);
            if let Some(need) = need {
                let os = rf.to_orig(s);
                let oe = rf.to_orig(e).max(os);
                // Candidates come in order: search forward from the last line.
                let line = last_line + line_starts[last_line..].partition_point(|&l| l <= os) - 1;
                last_line = line;
                cands.push(Cand {
                    need,
                    cs: s,
                    ce: e,
                    os,
                    oe,
                    line,
                });
            }
            resume
        });
        let mut ctx = Ctx::new(text, line_starts, headings);
        let mut i = 0;
        while i < cands.len() {
            let line = cands[i].line;
            let j = i + cands[i..].iter().take_while(|c| c.line == line).count();
            ctx.advance(line);
            let n = self.line_group(&cands[i..j], clean, &mut ctx, &mut emit);
            ctx.observe(line, n > 0);
            ctx.next_line = line + 1;
            i = j;
        }
        tlp
    }

    /// Types and emits the candidates of one line; returns how many it emitted.
    fn line_group<'t>(
        &self,
        group: &[Cand],
        clean: &str,
        ctx: &mut Ctx<'t>,
        emit: &mut impl FnMut(&Cand, K, String, Option<String>, &Ctx<'t>),
    ) -> usize {
        let line = group[0].line;
        let ls = ctx.line_starts[line];
        let lt = ctx.line(line);
        let needs_cues = group.iter().any(|c| {
            !matches!(
                c.need,
                Need::Ready(_) | Need::Ruled(..) | Need::WithPort { .. }
            )
        });
        let cues = if needs_cues || ctx.headings {
            let spans: Vec<(usize, usize)> = group.iter().map(|c| (c.os - ls, c.oe - ls)).collect();
            Cues::of_masked(lt, &spans)
        } else {
            Cues::default()
        };
        ctx.set_line(line, &cues);
        let row = ctx.headings && ctx.table.is_some() && lt.trim_start().starts_with('|');
        let mut n = 0;
        let mut skip_until = 0usize;
        for (k, c) in group.iter().enumerate() {
            if c.os < skip_until {
                continue;
            }
            let col = c.os - ls;
            ctx.cell = if row {
                ctx.table
                    .as_ref()
                    .and_then(|t| cell_index(lt, col).and_then(|i| t.get(i)))
                    .map(|h| (h.0.clone(), h.1.clone()))
            } else {
                None
            };
            // A whole table cell under a "file name" column is one file name,
            // spaces and all.
            if let Some((h, _)) = &ctx.cell {
                let hl = h.to_ascii_lowercase();
                if (hl.contains("file") || hl.contains("name"))
                    && !hl.contains("hash")
                    && !matches!(c.need, Need::Hex(_))
                    && let Some((a, b)) = cell_span(lt, col)
                {
                    let cell = &lt[a..b];
                    // A path in the cell is a path (and its file name).
                    if has_file_ext(cell) && !cell.contains(['\\', '/']) {
                        skip_until = ls + b;
                        n += 1;
                        let cand = Cand {
                            os: ls + a,
                            oe: ls + b,
                            ..*c
                        };
                        emit(&cand, K::FileName, K::FileName.normalize(cell), None, ctx);
                        continue;
                    }
                }
            }
            let prev_end = if k > 0 { group[k - 1].oe - ls } else { 0 };
            // Words after a value name it up to a comma or semicolon: in
            // "X, imphash Y" the cue is Y's.
            let next_start = group.get(k + 1).map_or(lt.len(), |g| g.os - ls);
            let next_start = lt
                .get(c.oe - ls..next_start)
                .and_then(|w| w.find([',', ';']))
                .map_or(next_start, |i| c.oe - ls + i);
            let value = &clean[c.cs..c.ce];
            let mut rule: Option<String> = None;
            let mut ruled = |k: K, r: String| {
                rule = Some(r);
                Some(k)
            };
            let kind = match c.need {
                Need::Ready(kind) => Some(kind),
                Need::Ruled(kind, r) => ruled(kind, r.to_string()),
                Need::Hex(len) => {
                    let cue = ctx.hex_cue(&cues, prev_end, col, c.oe - ls, next_start);
                    let kind = hex_kind(len, cue.map(|h| h.0));
                    match (kind, cue) {
                        (Some(k), Some((h, said))) if kind != forms::hex_default(len) => ruled(
                            k,
                            format!("{} says {}", said.name(), forms::hex_cue_name(h)),
                        ),
                        _ => kind,
                    }
                }
                Need::HexColon(bytes) => {
                    let cue = ctx.hex_cue(&cues, prev_end, col, c.oe - ls, next_start);
                    let kind = forms::hex_colon_kind(bytes, cue.map(|h| h.0));
                    match (kind, cue) {
                        (Some(k), Some((h, said)))
                            if kind != forms::hex_colon_kind(bytes, None) =>
                        {
                            ruled(
                                k,
                                format!("{} says {}", said.name(), forms::hex_cue_name(h)),
                            )
                        }
                        _ => kind,
                    }
                }
                Need::DomainOrFile => {
                    if let Some(said) = ctx.said(&cues, |c| c.domain) {
                        ruled(K::Domain, format!("{} says domain", said.name()))
                    } else if let Some(said) = ctx.said(&cues, |c| c.file) {
                        ruled(K::FileName, format!("{} says file", said.name()))
                    } else if ctx.in_value_list(line, &lt[col..c.oe - ls]) {
                        ruled(K::Domain, "in a list of bare values: a domain".into())
                    } else if ctx.code_line(line) {
                        ruled(K::FileName, "file extension on a code line".into())
                    } else {
                        None
                    }
                }
                Need::File(true) => Some(K::FileName),
                Need::File(false) => {
                    if let Some(said) = ctx.said(&cues, |c| c.file) {
                        ruled(K::FileName, format!("{} says file", said.name()))
                    } else if ctx.code_line(line) {
                        ruled(K::FileName, "file extension on a code line".into())
                    } else {
                        None
                    }
                }
                Need::UnixPath if ctx.code_line(line) => {
                    ruled(K::FilePath, "path on a code line".into())
                }
                Need::UnixPath => None,
                Need::Agent => match ctx.agent_said(&cues, prev_end, col) {
                    Some(said) => ruled(K::UserAgent, format!("{} says user-agent", said.name())),
                    None => None,
                },
                Need::Analytics => match ctx.said(&cues, |c| c.analytics) {
                    Some(said) => ruled(K::AnalyticsId, format!("{} says analytics", said.name())),
                    None => None,
                },
                Need::Address => {
                    let (k, r) =
                        ctx.address_kind(value, &cues, (prev_end, col), (c.oe - ls, next_start));
                    match r {
                        Some(r) => ruled(k, r),
                        None => Some(k),
                    }
                }
                Need::WithPort {
                    kind,
                    hs,
                    he,
                    hos,
                    hoe,
                } => {
                    // The bare host as before, and the socket.
                    n += 2;
                    let host = Cand {
                        cs: hs,
                        ce: he,
                        os: hos,
                        oe: hoe,
                        ..*c
                    };
                    emit(&host, kind, kind.normalize(&clean[hs..he]), None, ctx);
                    emit(c, K::Socket, K::Socket.normalize(value), None, ctx);
                    continue;
                }
                Need::HostPath { de, doe } => {
                    n += 2;
                    emit(c, K::Url, K::Url.normalize(value), None, ctx);
                    let host = Cand {
                        ce: de,
                        oe: doe,
                        ..*c
                    };
                    emit(
                        &host,
                        K::Domain,
                        K::Domain.normalize(&clean[c.cs..de]),
                        None,
                        ctx,
                    );
                    continue;
                }
            };
            let Some(kind) = kind else { continue };
            if kind == K::Url {
                n += 1;
                emit(c, kind, kind.normalize(value), None, ctx);
                // The value also points somewhere else: a redirector's target.
                if value.contains('?') {
                    for inner in inner_urls(value) {
                        emit(c, K::Url, K::Url.normalize(&inner), None, ctx);
                    }
                }
                continue;
            }
            // Paths and agents as written (refanging is for hosts).
            let value = match kind {
                K::FilePath | K::UserAgent => &ctx.text[c.os..c.oe],
                _ => value,
            };
            let value = match kind {
                // "CVE 2021-44228" is written with a space.
                K::Cve => std::borrow::Cow::Owned(value.replace(' ', "-")),
                // "<HKCU>\Software": the brackets mark a placeholder style,
                // not part of the hive's name.
                K::RegistryKey if value.contains('>') => {
                    std::borrow::Cow::Owned(match value.split_once('\\') {
                        Some((hive, rest)) if hive.ends_with('>') || hive.ends_with(">:") => {
                            format!(
                                "{}\\{rest}",
                                hive.trim_end_matches(':').trim_end_matches('>')
                            )
                        }
                        _ => value.to_string(),
                    })
                }
                _ => std::borrow::Cow::Borrowed(value),
            };
            let value: &str = &value;
            // "<hash> - <file name>": the rest of the line names the file.
            if kind.is_hex()
                && kind != K::CertSerial
                && let Some((a, b)) = named_after(lt, c.oe - ls)
            {
                n += 1;
                emit(c, kind, kind.normalize(value), rule, ctx);
                let name = &lt[a..b];
                let cand = Cand {
                    os: ls + a,
                    oe: ls + b,
                    ..*c
                };
                // A path names the file too: the path, and its last part.
                match name.rfind(['\\', '/']) {
                    Some(i) => {
                        emit(&cand, K::FilePath, K::FilePath.normalize(name), None, ctx);
                        let base = Cand {
                            os: ls + a + i + 1,
                            ..cand
                        };
                        let file = &name[i + 1..];
                        emit(&base, K::FileName, K::FileName.normalize(file), None, ctx);
                    }
                    None => emit(&cand, K::FileName, K::FileName.normalize(name), None, ctx),
                }
                skip_until = ls + b;
                continue;
            }
            n += 1;
            emit(c, kind, kind.normalize(value), rule, ctx);
        }
        n
    }
}

fn has_file_ext(s: &str) -> bool {
    s.rsplit_once('.').is_some_and(|(name, ext)| {
        !name.trim().is_empty()
            && ext.len() <= 5
            && scan::file_ext(&ext.to_ascii_lowercase()).is_some()
    })
}

/// `<hash> - name.ext` / `<hash>\tname.ext`: the span of the name, if the
/// rest of the line is one file name.
fn named_after(line: &str, end: usize) -> Option<(usize, usize)> {
    let rest = line.get(end..)?;
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let lead = rest.len() - trimmed.len();
    let after = trimmed
        .strip_prefix(['-', '\u{2013}', '\u{2014}', ':', '|'])
        .or_else(|| rest.starts_with('\t').then_some(trimmed))?;
    let name = after.trim_start();
    let start = line.len() - rest.len() + lead + (trimmed.len() - name.len());
    let name = name.trim_end_matches(|c: char| c.is_whitespace() || c == '|');
    (has_file_ext(name) && !name.contains("://")).then_some((start, start + name.len()))
}

/// Which `|`-separated cell byte `col` of a table row is in (0-based).
fn cell_index(line: &str, col: usize) -> Option<usize> {
    let lead = line.len() - line.trim_start().len();
    let before = line.get(lead..col)?;
    before.matches('|').count().checked_sub(1)
}

/// The trimmed span of the cell containing byte `col`.
fn cell_span(line: &str, col: usize) -> Option<(usize, usize)> {
    let a = line[..col].rfind('|')? + 1;
    let b = line[col..].find('|').map_or(line.len(), |i| col + i);
    let cell = &line[a..b];
    let s = a + (cell.len() - cell.trim_start().len());
    let e = b - (cell.len() - cell.trim_end().len());
    (s < e).then_some((s, e))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Context-free validation of one scanner match: its kind (or what it still
/// needs), its trimmed clean span, and where to resume scanning.
fn prepare(
    rf: &Refanged<'_>,
    clean: &str,
    shape: Shape,
    s: usize,
    e: usize,
) -> (Option<Need>, usize, usize, usize) {
    let b = clean.as_bytes();
    let tok = &clean[s..e];
    let reject = (None, s, e, e);
    match shape {
        Shape::Url => {
            let u = scan::trim_url(tok);
            let e = s + u.len();
            let Some(host) = scan::url_host(u) else {
                return reject;
            };
            let ok = scan::ipv4(host).is_some() || valid_host(host, rf.edited(s, e));
            if ok {
                (Some(Need::Ready(K::Url)), s, e, e)
            } else {
                reject
            }
        }
        Shape::Email => {
            let at = tok.find('@').unwrap_or(0);
            let (local, host) = (&tok[..at], &tok[at + 1..]);
            if !local.ends_with('.') && valid_host(host, rf.edited(s, e)) {
                (Some(Need::Address), s, e, e)
            } else {
                // The part after `@` may still be a domain.
                (None, s, e, s + at + 1)
            }
        }
        Shape::Registry => {
            // `<HKCU>\...`: the value starts at the hive.
            let s = if b[s] == b'<' { s + 1 } else { s };
            let end = registry_end(clean, e);
            let t = clean[s..end].trim_end_matches(['.', ',', ';', ':', ')', ' ']);
            (Some(Need::Ready(K::RegistryKey)), s, s + t.len(), end)
        }
        Shape::WinPath => forms::prepare_path(clean, false, s, e),
        Shape::UnixPath => forms::prepare_path(clean, true, s, e),
        // Glued to a dot and a label, these ids are a host's first label
        // (`00-1a-2b-3c-4d-5e.lan`, `ta0001.example.net`): read it whole.
        Shape::Tactic | Shape::Mitigation | Shape::Analytics | Shape::Mac
            if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric) =>
        {
            let de = e + b[e..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                .count();
            dotted(rf, clean, s, de)
        }
        Shape::Tactic => (Some(Need::Ready(K::Tactic)), s, e, e),
        Shape::Mitigation => (Some(Need::Ready(K::Mitigation)), s, e, e),
        Shape::Analytics => (forms::prepare_analytics(tok), s, e, e),
        // Read in `run`: a marking, not a value.
        Shape::Tlp => reject,
        Shape::Ssdeep => {
            let ok = forms::ssdeep_ok(clean, s, e);
            (ok.then_some(Need::Ready(K::Ssdeep)), s, e, e)
        }
        Shape::Mac => {
            let ok = forms::mac_ok(clean, s, e);
            (ok.then_some(Need::Ready(K::Mac)), s, e, e)
        }
        Shape::Agent => forms::prepare_agent(clean, s, e),
        Shape::Cve => (Some(Need::Ready(K::Cve)), s, e, e),
        Shape::Ja4 => (Some(Need::Ready(K::Ja4)), s, e, e),
        Shape::Technique => {
            // "T1156.0012": a sub-technique has exactly three digits, so the
            // token is not an id at all (not T1156 followed by junk).
            if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
                let end = e
                    + 1
                    + b[e + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .count();
                return (None, s, e, end);
            }
            (Some(Need::Ready(K::Technique)), s, e, e)
        }
        Shape::Ipv4 => {
            let (addr, len) = match tok.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (tok, None),
            };
            if scan::ipv4(addr).is_none() {
                return reject;
            }
            // Part of a longer dotted number (OID, version "1.2.3.4.5").
            if (s > 0 && b[s - 1] == b'.')
                || (b.get(e) == Some(&b'.')
                    && b.get(e + 1).is_some_and(|c| c.is_ascii_alphanumeric()))
            {
                return reject;
            }
            let defanged = rf.edited(s, e);
            if !defanged && after_version_word(&clean[..s]) {
                return reject;
            }
            match len {
                Some(l) if l.parse::<u8>().is_ok_and(|l| l <= 32) => {
                    (Some(Need::Ready(K::Cidr)), s, e, e)
                }
                Some(_) => {
                    let e = s + addr.len();
                    (Some(Need::Ready(K::Ipv4)), s, e, e)
                }
                None => match forms::port_end(clean, e) {
                    Some(pe) => (Some(with_port(rf, K::Ipv4, s, e)), s, pe, pe),
                    None => (Some(Need::Ready(K::Ipv4)), s, e, e),
                },
            }
        }
        Shape::HexColon => (Some(Need::HexColon(tok.len().div_ceil(3))), s, e, e),
        Shape::Ipv6 => {
            let before_ok =
                s == 0 || !(is_word_byte(b[s - 1]) || b[s - 1] == b':' || b[s - 1] == b'.');
            let after_ok = b.get(e).is_none_or(|c| !(is_word_byte(*c) || *c == b':'));
            match scan::ipv6(tok) {
                // `[2001:db8::1]:8443`
                Some((_, None)) if s > 0 && b[s - 1] == b'[' && b.get(e) == Some(&b']') => {
                    match forms::port_end(clean, e + 1) {
                        Some(pe) => (Some(with_port(rf, K::Ipv6, s, e)), s - 1, pe, pe),
                        None => (Some(Need::Ready(K::Ipv6)), s, e, e),
                    }
                }
                Some((_, len)) if before_ok && after_ok => {
                    let k = if len.is_some() { K::Cidr } else { K::Ipv6 };
                    (Some(Need::Ready(k)), s, e, e)
                }
                // Started inside a word ("MAC:00:1A:…" from "AC"): what
                // follows may still be a value.
                _ if !before_ok => (None, s, e, s + 1),
                _ => reject,
            }
        }
        Shape::Dotted => dotted(rf, clean, s, e),
        Shape::Hex => (Some(Need::Hex(tok.len())), s, e, e),
        Shape::Btc => {
            let ok = if tok.starts_with("bc1") {
                scan::btc_bech32(tok)
            } else {
                scan::btc_base58(tok)
            };
            (ok.then_some(Need::Ready(K::Btc)), s, e, e)
        }
        Shape::Xmr => (Some(Need::Ready(K::Xmr)), s, e, e),
        Shape::Asn => {
            let digits = tok.trim_start_matches(|c: char| !c.is_ascii_digit());
            let ok = digits.parse::<u32>().is_ok_and(|n| n > 0);
            (ok.then_some(Need::Ready(K::Asn)), s, e, e)
        }
    }
}

/// A host of `kind` at clean `hs..he`, with a port after it.
fn with_port(rf: &Refanged<'_>, kind: K, hs: usize, he: usize) -> Need {
    let hos = rf.to_orig(hs);
    Need::WithPort {
        kind,
        hs,
        he,
        hos,
        hoe: rf.to_orig(he).max(hos),
    }
}

fn dotted(
    rf: &Refanged<'_>,
    clean: &str,
    s: usize,
    e: usize,
) -> (Option<Need>, usize, usize, usize) {
    let tok = &clean[s..e];
    let ext_raw = tok.rsplit('.').next().unwrap_or("");
    let mut ext_buf = [0u8; 8];
    let ext = if ext_raw.len() <= 8 && ext_raw.is_ascii() {
        let eb = &mut ext_buf[..ext_raw.len()];
        eb.copy_from_slice(ext_raw.as_bytes());
        eb.make_ascii_lowercase();
        std::str::from_utf8(eb).unwrap_or("")
    } else {
        ""
    };
    // The domain reading: the ASCII run from the first alphanumeric, so that
    // "访问evil.com。" yields evil.com.
    let ds = s + tok
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphanumeric())
        .map_or(tok.len(), |(i, _)| i);
    let run = clean[ds..e]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        .count();
    let de = ds + clean[ds..ds + run].trim_end_matches(['-', '_', '.']).len();
    let dtok = &clean[ds..de];
    let defanged = rf.edited(s, e);
    let is_domain = dtok.is_ascii() && valid_host(dtok, defanged);
    if is_domain {
        let ambiguous = scan::ambiguous_tld(ext);
        if !ambiguous || defanged || multi_label_suffix(dtok) {
            if de == e
                && let Some(pe) = host_path_end(clean, ds, de)
            {
                let doe = rf.to_orig(de);
                return (Some(Need::HostPath { de, doe }), ds, pe, pe);
            }
            if let Some(pe) = forms::port_end(clean, de) {
                return (Some(with_port(rf, K::Domain, ds, de)), ds, pe, pe.max(e));
            }
            let need = match (ambiguous, defanged) {
                (false, _) => Need::Ready(K::Domain),
                (true, true) => Need::Ruled(K::Domain, "defanged: a domain"),
                (true, false) => Need::Ruled(K::Domain, "multi-label public suffix: a domain"),
            };
            return (Some(need), ds, de, e);
        }
        return (Some(Need::DomainOrFile), ds, de, e);
    }
    match scan::file_ext(ext) {
        Some(exec) => {
            let fs = s + tok.len() - tok.trim_start_matches(['-', '_']).len();
            (Some(Need::File(exec)), fs, e, e)
        }
        None => (None, s, e, e),
    }
}

/// A domain under a public suffix of two labels or more (`fmc.org.in`):
/// no file name ends that way, so an ambiguous last label (`.in`) does not
/// make it a file.
fn multi_label_suffix(host: &str) -> bool {
    let lower = host.to_ascii_lowercase();
    psl::suffix(lower.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes().contains(&b'.'))
}

/// "version 1.2.3.4", "v. 1.2.3.4", "build: 10.0.19041.1".
fn after_version_word(before: &str) -> bool {
    let t = before.trim_end_matches([' ', ':', '\t', '=']);
    // After that character whole: it may be several bytes long.
    let word_start = t
        .char_indices()
        .rfind(|&(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let w = &t[word_start..];
    let w = w.trim_end_matches('.');
    [
        "version", "ver", "v", "build", "release", "firmware", "rev", "revision", "vers",
        "versions", "update",
    ]
    .iter()
    .any(|v| w.eq_ignore_ascii_case(v))
}

#[cfg(test)]
mod kinds_tests;
#[cfg(test)]
mod tests;
