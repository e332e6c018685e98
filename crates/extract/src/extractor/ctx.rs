//! Where a candidate sits in the document (heading stack, lead-in sentence,
//! table header), what a candidate still needs before it has a kind, and the
//! host rule both the extractor and the URL forms apply.

use crate::cues::{Cues, HexCue, seen_dates};
use crate::scan;
use crate::{Context, IndicatorKind as K};

/// What a candidate still needs before it has a kind.
#[derive(Debug, Clone, Copy)]
pub(super) enum Need {
    Ready(K),
    /// Bare hex of this many digits.
    Hex(usize),
    /// Colon-separated hex of this many bytes.
    HexColon(usize),
    /// A valid domain whose TLD is also a file extension (`.zip`).
    DomainOrFile,
    /// A file name; `true` when its extension is executable-like.
    File(bool),
    /// A host with a path but no scheme (`evil[.]com/gate.php`): a URL over
    /// the whole span and a domain over the host, which ends at clean byte
    /// `de` and original byte `doe`.
    HostPath {
        de: usize,
        doe: usize,
    },
    /// This kind, typed by the named rule (an ambiguous form).
    Ruled(K, &'static str),
    /// A Unix path with no known root, outside quotes: a path on a code line.
    UnixPath,
    /// A tool's user agent (`curl/7.68.0`): one when the context says so.
    Agent,
    /// A Google `G-` id: one when the context speaks of analytics.
    Analytics,
    /// `user@host`: e-mail, or XMPP when the server or the words say so.
    Address,
    /// A host with a port: a socket over the whole span and the host (of
    /// this kind) over clean `hs..he`, original `hos..hoe`.
    WithPort {
        kind: K,
        hs: usize,
        he: usize,
        hos: usize,
        hoe: usize,
    },
}

/// A host: a valid domain (an upper-case TLD only when defanged, so that
/// "ASP.NET" or "campaign.It" in prose are not domains) or an IP.
pub(super) fn valid_host(host: &str, defanged: bool) -> bool {
    let tld = host.rsplit('.').next().unwrap_or("");
    if !defanged && tld.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        scan::valid_domain(&host.to_ascii_lowercase())
    } else {
        scan::valid_domain(host)
    }
}

pub(super) struct Heading {
    pub(super) level: u8,
    pub(super) text: String,
    pub(super) cues: Cues,
    pub(super) dates: (Option<String>, Option<String>),
}

/// Document position state: the heading stack, the lead-in sentence, the
/// current table's header, advanced line by line as candidates arrive.
pub(super) struct Ctx<'t> {
    pub(super) text: &'t str,
    pub(super) line_starts: Vec<usize>,
    pub(super) headings: bool,
    pub(super) next_line: usize,
    pub(super) stack: Vec<Heading>,
    pub(super) lead_in: Option<(String, Cues)>,
    pub(super) table: Option<Vec<(String, Cues)>>,
    pub(super) prev_blank: bool,
    pub(super) prev_heading: bool,
    /// The current candidate's table cell header.
    pub(super) cell: Option<(String, Cues)>,
    /// Cues of the current line.
    pub(super) line_cues: Cues,
    /// Inside a fenced code block.
    pub(super) in_fence: bool,
}

pub(super) fn trim_line(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

pub(super) fn is_separator_row(t: &str) -> bool {
    t.contains('-')
        && t.bytes()
            .all(|b| matches!(b, b'|' | b'-' | b':' | b' ' | b'\t'))
}

pub(super) fn clean_heading(t: &str) -> String {
    let t = t.trim_start_matches('#').trim();
    let t = t.trim_matches(|c: char| c == '*' || c == '_' || c == '=' || c.is_whitespace());
    let t = t.trim_end_matches(':').trim();
    // Drop numbering ("3.", "2.1", "A.").
    let t = match t.split_once(' ') {
        Some((n, rest))
            if n.trim_end_matches('.').split('.').all(|p| {
                !p.is_empty() && (p.bytes().all(|b| b.is_ascii_digit()) || p.len() == 1)
            }) && n.len() <= 6
                && !rest.is_empty() =>
        {
            rest.trim()
        }
        _ => t,
    };
    t.to_string()
}

impl<'t> Ctx<'t> {
    pub(super) fn new(text: &'t str, line_starts: Vec<usize>, headings: bool) -> Ctx<'t> {
        Ctx {
            text,
            line_starts,
            headings,
            next_line: 0,
            stack: Vec::new(),
            lead_in: None,
            table: None,
            prev_blank: true,
            prev_heading: false,
            cell: None,
            line_cues: Cues::default(),
            in_fence: false,
        }
    }

    pub(super) fn line(&self, i: usize) -> &'t str {
        let s = self.line_starts[i];
        let e = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e - 1);
        let l = &self.text[s..e.max(s)];
        l.strip_suffix('\r').unwrap_or(l)
    }

    pub(super) fn set_line(&mut self, _line: usize, cues: &Cues) {
        self.line_cues = cues.clone();
    }

    pub(super) fn advance(&mut self, to: usize) {
        if !self.headings {
            return;
        }
        while self.next_line < to {
            self.observe(self.next_line, false);
            self.next_line += 1;
        }
    }

    pub(super) fn push_heading(&mut self, level: u8, raw: &str) {
        let text = clean_heading(raw);
        if text.is_empty() {
            return;
        }
        while self.stack.last().is_some_and(|h| h.level >= level) {
            self.stack.pop();
        }
        let cues = Cues::of(&text);
        let dates = seen_dates(&text);
        self.stack.push(Heading {
            level,
            text,
            cues,
            dates,
        });
        self.lead_in = None;
        self.table = None;
        self.prev_heading = true;
    }

    /// Updates the state after line `i`; `has_values`: indicators were found on it.
    pub(super) fn observe(&mut self, i: usize, has_values: bool) {
        if !self.headings {
            return;
        }
        let t = trim_line(self.line(i));
        if t.is_empty() {
            self.prev_blank = true;
            return;
        }
        self.fence(t);
        let was_blank = self.prev_blank;
        let was_heading = self.prev_heading;
        self.prev_blank = false;
        self.prev_heading = false;
        let next = if i + 1 < self.line_starts.len() {
            trim_line(self.line(i + 1))
        } else {
            ""
        };
        if t.starts_with('|') {
            if is_separator_row(t) {
                return;
            }
            if is_separator_row(next) && next.starts_with('|') {
                let cells = t
                    .trim_matches('|')
                    .split('|')
                    .map(|c| {
                        let c = c.trim().trim_matches('*').to_string();
                        let cues = Cues::of(&c);
                        (c, cues)
                    })
                    .collect();
                self.table = Some(cells);
                return;
            }
            if self.table.is_some() {
                return;
            }
        } else {
            self.table = None;
        }
        if t.starts_with('#') {
            let level = t.bytes().take_while(|&b| b == b'#').count();
            if level <= 6 && t.as_bytes().get(level) == Some(&b' ') {
                self.push_heading(level as u8, t);
                return;
            }
        }
        if t.bytes()
            .all(|b| matches!(b, b'-' | b'=' | b'*' | b'_' | b' '))
        {
            return;
        }
        if has_values {
            return;
        }
        if next.len() >= 3 && next.bytes().all(|b| b == b'=') {
            self.push_heading(1, t);
            return;
        }
        if next.len() >= 3 && next.bytes().all(|b| b == b'-') {
            self.push_heading(2, t);
            return;
        }
        if plain_heading(t) && (was_blank || was_heading) && (next.is_empty() || t.ends_with(':')) {
            self.push_heading(7, t);
        } else if t.ends_with(':') {
            let l = t.to_string();
            let cues = Cues::of(&l);
            self.lead_in = Some((l, cues));
        } else {
            self.lead_in = None;
        }
    }

    /// Sources of context, most specific first: the table cell's header,
    /// the lead-in sentence, the headings from the nearest up.
    pub(super) fn sources(&self) -> impl Iterator<Item = &Cues> {
        self.cell
            .iter()
            .map(|c| &c.1)
            .chain(self.lead_in.iter().map(|l| &l.1))
            .chain(self.stack.iter().rev().map(|h| &h.cues))
    }

    pub(super) fn hex_cue(
        &self,
        line: &Cues,
        prev_end: usize,
        start: usize,
        end: usize,
        next_start: usize,
    ) -> Option<(HexCue, Said)> {
        line.hex_in(prev_end, start)
            .or_else(|| line.hex_in(end, next_start))
            .map(|h| (h, Said::Line))
            .or_else(|| {
                self.sources_said()
                    .find_map(|(s, c)| c.hex_any().map(|h| (h, s)))
            })
    }

    /// An IOC list: line `line` is nothing but `value` (after a bullet), and
    /// the line above or below is also one bare dotted token. Such a block
    /// keeps `ptgp.pl` or `holishit.in` as a domain even without a heading
    /// that says "domains"; a file name in a sentence stays out.
    pub(super) fn in_value_list(&self, line: usize, value: &str) -> bool {
        fn bare(t: &str) -> Option<&str> {
            let t = trim_line(t);
            let t = t
                .strip_prefix(['-', '*', '\u{2022}'])
                .map_or(t, str::trim_start);
            (!t.is_empty() && !t.contains(char::is_whitespace)).then_some(t)
        }
        if bare(self.line(line)) != Some(value) {
            return false;
        }
        // A neighbour that can only be a file (`config.json`, `a.exe`) makes
        // the block a file listing, not an IOC list.
        let neighbour = |i: usize| {
            bare(self.line(i)).is_some_and(|t| {
                let ext = t.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
                t.contains('.') && (scan::file_ext(&ext).is_none() || scan::ambiguous_tld(&ext))
            })
        };
        (line > 0 && neighbour(line - 1))
            || (line + 1 < self.line_starts.len() && neighbour(line + 1))
    }

    pub(super) fn context(&self, kind: K) -> Context {
        if !self.headings {
            return Context::default();
        }
        let role = self
            .sources()
            .find_map(Cues::role)
            .or_else(|| self.line_cues.role());
        let family = self
            .stack
            .iter()
            .rev()
            .map(|h| &h.cues)
            .chain(self.cell.iter().map(|c| &c.1))
            .chain(self.lead_in.iter().map(|l| &l.1))
            .find_map(Cues::family)
            .or_else(|| self.line_cues.family());
        // Defaults a section implies: hashes under a family heading are its
        // payloads; certificate fingerprints are certificates.
        let role = role.or(match kind {
            K::CertSha1 | K::CertSha256 | K::CertSerial => Some("certificate"),
            K::Md5 | K::Sha1 | K::Sha256 | K::Sha512 if family.is_some() => Some("payload"),
            _ => None,
        });
        let first_seen = self.stack.iter().rev().find_map(|h| h.dates.0.clone());
        let last_seen = self.stack.iter().rev().find_map(|h| h.dates.1.clone());
        Context {
            heading: self.stack.last().map(|h| h.text.clone()),
            table_header: self.cell.as_ref().map(|c| c.0.clone()),
            role: role.map(str::to_string),
            family: family.map(str::to_string),
            first_seen,
            last_seen,
        }
    }
}

/// A short line that reads as a title: no sentence punctuation at the end,
/// starts with a capital, digit or emphasis, few words.
pub(super) fn plain_heading(t: &str) -> bool {
    let t = t.trim_start_matches(['*', '_']);
    let Some(first) = t.chars().next() else {
        return false;
    };
    t.chars().count() <= 100
        && t.split_whitespace().count() <= 12
        && !t.ends_with(['.', ',', ';', '!', '?'])
        && (first.is_uppercase() || first.is_ascii_digit())
        && !t.starts_with("- ")
}

/// Where a word that typed a value was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Said {
    Line,
    Cell,
    LeadIn,
    Heading,
}

impl Said {
    pub(super) fn name(self) -> &'static str {
        match self {
            Said::Line => "line",
            Said::Cell => "table header",
            Said::LeadIn => "lead-in",
            Said::Heading => "heading",
        }
    }
}

impl Ctx<'_> {
    /// The heading-side sources of context with their names, most
    /// specific first (as [`Ctx::sources`]).
    pub(super) fn sources_said(&self) -> impl Iterator<Item = (Said, &Cues)> {
        self.cell
            .iter()
            .map(|c| (Said::Cell, &c.1))
            .chain(self.lead_in.iter().map(|l| (Said::LeadIn, &l.1)))
            .chain(self.stack.iter().rev().map(|h| (Said::Heading, &h.cues)))
    }

    /// Where a flag of [`Cues`] is set: the line, else the nearest source.
    pub(super) fn said(&self, line: &Cues, flag: impl Fn(&Cues) -> bool) -> Option<Said> {
        if flag(line) {
            return Some(Said::Line);
        }
        self.sources_said().find(|(_, c)| flag(c)).map(|(s, _)| s)
    }

    /// Line `line` is code: inside a fenced block, or a shell command
    /// (`$ …`).
    pub(super) fn code_line(&self, line: usize) -> bool {
        self.in_fence || self.line(line).trim_start().starts_with("$ ")
    }

    /// Tracks fenced code blocks (```` ``` ```` or `~~~`); called for
    /// every line in order.
    pub(super) fn fence(&mut self, trimmed: &str) {
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            self.in_fence = !self.in_fence;
        }
    }
}
