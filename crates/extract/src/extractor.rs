//! The extraction pipeline: refang, scan, validate, type by context, dedup.

use crate::cues::{Cues, HexCue, seen_dates};
use crate::refang::{Refanged, refang};
use crate::scan::{self, Scanner, Shape};
use crate::{
    Context, Document, Extracted, Extraction, Found, IndicatorKind as K, Occurrence, Options,
    Suppressed, benign,
};
use std::collections::HashMap;

mod forms {
    //! Recognisers for the host, network and document forms that came after the
    //! first kinds: file paths, user agents, MAC and socket addresses, ssdeep,
    //! analytics ids, ATT&CK tactics and mitigations, XMPP addresses, TLP
    //! labels; and the words ("the heading says …") that type an ambiguous
    //! value, named in [`crate::Occurrence::rule`].

    use super::paths::{unix_path_end, unix_root, win_path_end};
    use super::{Ctx, Need};
    use crate::IndicatorKind as K;
    use crate::cues::{AddrCue, Cues, HexCue};
    use cairn_model::Tlp;

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

    /// What the hex cue that typed a value calls it, for its rule.
    pub(super) fn hex_cue_name(cue: HexCue) -> &'static str {
        match cue {
            HexCue::FileHash => "file",
            HexCue::NotHash => "not a hash",
            HexCue::Authentihash => "Authenticode",
            HexCue::Cert => "certificate",
            HexCue::Imphash => "imphash",
            HexCue::Serial => "serial",
            HexCue::Jarm => "JARM",
            HexCue::Ja3 => "JA3",
            HexCue::Ja3s => "JA3S",
        }
    }

    /// The kind a hex string of `len` digits has without any cue.
    pub(super) fn hex_default(len: usize) -> Option<K> {
        match len {
            32 => Some(K::Md5),
            40 => Some(K::Sha1),
            62 => Some(K::Jarm),
            64 => Some(K::Sha256),
            128 => Some(K::Sha512),
            _ => None,
        }
    }

    /// The kind of a bare hex string of `len` digits, by its cue.
    pub(super) fn hex_kind(len: usize, cue: Option<HexCue>) -> Option<K> {
        match (len, cue) {
            (_, Some(HexCue::NotHash)) => None,
            (8..=40, Some(HexCue::Serial)) => Some(K::CertSerial),
            (32, Some(HexCue::Ja3s)) => Some(K::Ja3s),
            (32, Some(HexCue::Ja3)) => Some(K::Ja3),
            (32, Some(HexCue::Imphash)) => Some(K::Imphash),
            (40 | 64, Some(HexCue::Authentihash)) => Some(K::Authentihash),
            (62, _) => Some(K::Jarm),
            (40, Some(HexCue::Cert)) => Some(K::CertSha1),
            (64, Some(HexCue::Cert)) => Some(K::CertSha256),
            (32, _) => Some(K::Md5),
            (40, _) => Some(K::Sha1),
            (64, _) => Some(K::Sha256),
            (128, _) => Some(K::Sha512),
            _ => None,
        }
    }

    /// The kind of colon-separated hex of `bytes` bytes, by its cue.
    pub(super) fn hex_colon_kind(bytes: usize, cue: Option<HexCue>) -> Option<K> {
        match (bytes, cue) {
            (_, Some(HexCue::Serial)) => Some(K::CertSerial),
            (20, Some(HexCue::FileHash)) => Some(K::Sha1),
            (32, Some(HexCue::FileHash)) => Some(K::Sha256),
            (20 | 32, Some(HexCue::Authentihash)) => Some(K::Authentihash),
            (16, Some(HexCue::Imphash)) => Some(K::Imphash),
            (20, _) => Some(K::CertSha1),
            (32, _) => Some(K::CertSha256),
            (16, Some(HexCue::FileHash)) => Some(K::Md5),
            (_, Some(HexCue::Cert)) => Some(K::CertSerial),
            _ => None,
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

        /// Where "user-agent" names a value at line bytes `from..to`: on the
        /// line only between the previous value and this one ("User-Agent:
        /// curl/7.68.0", not "… while an admin upgraded curl/8.4.0"), else a
        /// table header, lead-in or heading.
        pub(super) fn agent_said(&self, line: &Cues, from: usize, to: usize) -> Option<Said> {
            if line.agent.iter().any(|&at| at >= from && at < to) {
                return Some(Said::Line);
            }
            self.sources_said()
                .find(|(_, c)| !c.agent.is_empty())
                .map(|(s, _)| s)
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

        /// `user@host` as an XMPP address or an e-mail address, with the rule
        /// that made it XMPP. `before`/`after`: the line's bytes between this
        /// value and its neighbours.
        pub(super) fn address_kind(
            &self,
            value: &str,
            line: &Cues,
            before: (usize, usize),
            after: (usize, usize),
        ) -> (K, Option<String>) {
            let host = value.rsplit_once('@').map_or("", |(_, h)| h);
            let host = host.to_ascii_lowercase();
            if XMPP_SERVERS.contains(&host.as_str()) {
                return (K::Xmpp, Some("well-known XMPP server".into()));
            }
            if host.starts_with("jabber.") || host.starts_with("xmpp.") {
                return (K::Xmpp, Some("server name says XMPP".into()));
            }
            // The nearest word before the value, else the first after it.
            let near = line
                .addr
                .iter()
                .filter(|(at, _)| *at >= before.0 && *at < before.1)
                .max_by_key(|(at, _)| *at)
                .or_else(|| {
                    line.addr
                        .iter()
                        .filter(|(at, _)| *at >= after.0 && *at < after.1)
                        .min_by_key(|(at, _)| *at)
                })
                .map(|(_, a)| (Said::Line, *a));
            let near = near.or_else(|| {
                // Elsewhere on the line, then the headings: XMPP only where
                // e-mail is not also said.
                std::iter::once((Said::Line, line))
                    .chain(self.sources_said())
                    .find_map(|(s, c)| c.addr_any().map(|a| (s, a)))
            });
            match near {
                Some((s, AddrCue::Xmpp)) => (K::Xmpp, Some(format!("{} says XMPP", s.name()))),
                _ => (K::Email, None),
            }
        }
    }

    /// Public XMPP services whose addresses are chat accounts, not mailboxes
    /// (servers named `jabber.*` or `xmpp.*` need no listing).
    const XMPP_SERVERS: &[&str] = &[
        "exploit.im",
        "jabb.im",
        "thesecure.biz",
        "creep.im",
        "jabbim.com",
        "jabbim.cz",
        "404.city",
        "blabber.im",
        "conversations.im",
        "yax.im",
        "xabber.org",
        "darkness.su",
        "jabbers.one",
        "omemo.im",
        "wiuwiu.de",
        "draugr.de",
    ];

    /// Context-free validation of the newer shapes, as `prepare` does for
    /// the others: the need, the trimmed clean span, where to resume.
    pub(super) fn prepare_path(
        clean: &str,
        unix: bool,
        s: usize,
        e: usize,
    ) -> (Option<Need>, usize, usize, usize) {
        let b = clean.as_bytes();
        // Resume inside: names, domains and addresses in a path are still
        // found as before (`C:\x\svchost.exe` is also a file name).
        let reject = (None, s, e, s + 1);
        let before = s.checked_sub(1).map(|i| b[i]);
        if unix {
            // Inside a word, a path or a URL ("and/or", "TCP/IP/UDP",
            // "a/b/c"), or a drive's forward-slash path already read.
            if before.is_some_and(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        b'/' | b'\\' | b'.' | b'-' | b'_' | b'~' | b'$' | b'@' | b':' | b'%' | b'+'
                    )
            }) {
                return reject;
            }
            let end = unix_path_end(clean, s);
            let path = &clean[s..end];
            // A query: a URL's path, not a file's. `~` and `$HOME` count as a
            // component.
            if matches!(b.get(end), Some(b'?' | b'&' | b'='))
                || path.matches('/').count() < 2 && !path.starts_with(['~', '$'])
            {
                return reject;
            }
            if path.starts_with('~') && path.len() < 3 {
                return reject;
            }
            let quoted =
                before.is_some_and(|q| matches!(q, b'`' | b'"' | b'\'') && b.get(end) == Some(&q));
            let need = if unix_root(path).is_some() {
                Need::Ruled(K::FilePath, "path under a known root")
            } else if quoted {
                Need::Ruled(K::FilePath, "path in quotes or backticks")
            } else {
                Need::UnixPath
            };
            return (Some(need), s, end, s + 1);
        }
        let tok = &clean[s..e];
        let (sep, from) = if tok.starts_with("\\\\") {
            // UNC: not the second `\` of an escaped `C:\\x`.
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'\\')) {
                return reject;
            }
            (b'\\', s + tok.rfind('\\').map_or(0, |i| i + 1))
        } else if tok.starts_with('%') {
            (b'\\', s + tok.rfind('\\').map_or(0, |i| i + 1))
        } else {
            (b[s + 2], s + 3)
        };
        let end = win_path_end(clean, from, sep);
        if end <= from {
            return reject;
        }
        (Some(Need::Ready(K::FilePath)), s, end, s + 1)
    }

    /// A user agent's products and comments from its first product at `s`:
    /// the end, and whether it is a browser's (`Mozilla/5.0 (…) …`, two tokens
    /// at least), typed without a cue. `None` for a protocol (`HTTP/1.1`).
    pub(super) fn prepare_agent(
        clean: &str,
        s: usize,
        e: usize,
    ) -> (Option<Need>, usize, usize, usize) {
        let b = clean.as_bytes();
        let name = &clean[s..e - 2];
        const PROTOCOLS: &[&str] = &[
            "http", "https", "tls", "ssl", "smb", "tcp", "udp", "ip", "quic", "ssh", "spdy", "h2",
            "rtsp", "sip", "ftp", "dns", "os", "as", "ipv4", "ipv6", "dtls", "snmp", "smtp",
        ];
        if PROTOCOLS.iter().any(|p| name.eq_ignore_ascii_case(p)) {
            return (None, s, e, e);
        }
        let Some(mut end) = product_end(b, s) else {
            return (None, s, e, e);
        };
        let mut tokens = 1;
        loop {
            let mut i = end;
            match b.get(i) {
                Some(b' ') => i += 1,
                Some(b'(') => {}
                _ => break,
            }
            // A second agent written after the first starts afresh.
            if starts_ci(b, i, b"mozilla/") {
                break;
            }
            if let Some(ce) = comment_end(b, i).or_else(|| product_end(b, i)) {
                end = ce;
                tokens += 1;
                continue;
            }
            // Bare words ("Gecko", "Mobile") only before a further product.
            let mut j = i;
            let mut next = None;
            for _ in 0..2 {
                let we = j + b[j..]
                    .iter()
                    .take(24)
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
                    .count();
                if we == j || b.get(we) != Some(&b' ') || !b[j].is_ascii_alphabetic() {
                    break;
                }
                if !starts_ci(b, we + 1, b"mozilla/")
                    && let Some(pe) = product_end(b, we + 1)
                {
                    next = Some(pe);
                    break;
                }
                j = we + 1;
            }
            match next {
                Some(pe) => {
                    end = pe;
                    tokens += 1;
                }
                None => break,
            }
        }
        let end = s + clean[s..end].trim_end_matches(['.', ',', ';', ':']).len();
        let browser = ["mozilla", "opera"]
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p));
        if browser && tokens >= 2 {
            // Nothing inside a browser's agent is an indicator (`Chrome/120.0.0.0`).
            (Some(Need::Ready(K::UserAgent)), s, end, end)
        } else {
            // Resume past the name: `Go-http-client/1.1` holds no other agent.
            (Some(Need::Agent), s, end, e - 2)
        }
    }

    fn starts_ci(b: &[u8], i: usize, p: &[u8]) -> bool {
        b.get(i..i + p.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(p))
    }

    /// `Name/version` at `i`: its end.
    fn product_end(b: &[u8], i: usize) -> Option<usize> {
        if !b.get(i)?.is_ascii_alphabetic() {
            return None;
        }
        let name = b[i..]
            .iter()
            .take(48)
            .take_while(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'+' | b'!')
            })
            .count();
        if b.get(i + name) != Some(&b'/') {
            return None;
        }
        let v = i + name + 1;
        let ver = b[v..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'+'))
            .count();
        (ver > 0).then_some(v + ver)
    }

    /// A `( … )` comment at `i` on one line, brackets balanced: its end.
    fn comment_end(b: &[u8], i: usize) -> Option<usize> {
        if b.get(i) != Some(&b'(') {
            return None;
        }
        let mut depth = 0usize;
        for (n, &c) in b[i..].iter().enumerate().take(300) {
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + n + 1);
                    }
                }
                b'\n' | b'\r' | b'"' | b'`' | b'|' => return None,
                _ => {}
            }
        }
        None
    }

    /// A MAC address not inside a longer run of hex groups; the dotted
    /// (Cisco) form needs a digit, so `dead.beef.cafe` stays a domain.
    pub(super) fn mac_ok(clean: &str, s: usize, e: usize) -> bool {
        let b = clean.as_bytes();
        let tok = &clean[s..e];
        let glued = |c: Option<&u8>| c.is_some_and(|c| matches!(c, b':' | b'-' | b'.'));
        if glued(b.get(e)) && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
        if matches!(b.get(e), Some(b':' | b'-')) {
            return false;
        }
        // A one- or two-digit hex group glued before ("11:" of a longer run),
        // not a word ("MAC:").
        if s >= 2 && glued(b.get(s - 1)) {
            let run = b[..s - 1]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if (1..=2).contains(&run) && b[s - 1 - run..s - 1].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
        }
        !tok.contains('.') || tok.bytes().any(|c| c.is_ascii_digit())
    }

    /// An ssdeep value whose hashes are whole (not cut at the pattern's limit)
    /// and not only digits.
    pub(super) fn ssdeep_ok(clean: &str, s: usize, e: usize) -> bool {
        let b = clean.as_bytes();
        let b64 = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+');
        let mut parts = clean[s..e].split(':').skip(1);
        let h1 = parts.next().unwrap_or("");
        !b.get(e).is_some_and(b64) && h1.bytes().any(|c| !c.is_ascii_digit())
    }

    /// A port right after byte `at` (which must be `:`): where it ends. Not a
    /// time or a longer number (`1.2.3.4:12:30`, `:443.5`).
    pub(super) fn port_end(clean: &str, at: usize) -> Option<usize> {
        let b = clean.as_bytes();
        if b.get(at) != Some(&b':') {
            return None;
        }
        let n = b[at + 1..]
            .iter()
            .take(6)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=5).contains(&n) {
            return None;
        }
        let pe = at + 1 + n;
        let port: u32 = clean[at + 1..pe].parse().ok()?;
        if !(1..=65535).contains(&port) {
            return None;
        }
        match b.get(pe) {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b':' | b'_' | b'@') => None,
            Some(b'.' | b',') if b.get(pe + 1).is_some_and(u8::is_ascii_digit) => None,
            _ => Some(pe),
        }
    }

    /// A Google "G-" measurement id needs a digit (and, from the caller, a
    /// cue); the other analytics shapes stand alone.
    pub(super) fn prepare_analytics(tok: &str) -> Option<Need> {
        if let Some(id) = tok.strip_prefix("G-") {
            return id
                .bytes()
                .any(|c| c.is_ascii_digit())
                .then_some(Need::Analytics);
        }
        Some(Need::Ready(K::AnalyticsId))
    }

    /// The TLP level a `TLP:AMBER`-like match names (WHITE is CLEAR).
    pub(super) fn tlp_label(tok: &str) -> Option<Tlp> {
        let lower = tok.to_ascii_lowercase();
        let word = lower
            .trim_start_matches("tlp")
            .trim_start_matches([' ', ':', '-', '_']);
        let word: String = word.chars().filter(|c| *c != ' ').collect();
        Some(match word.as_str() {
            "red" => Tlp::Red,
            "amber+strict" => Tlp::AmberStrict,
            "amber" => Tlp::Amber,
            "green" => Tlp::Green,
            "clear" | "white" => Tlp::Clear,
            _ => return None,
        })
    }

    /// A TLP level as [`crate::Extraction::tlp`] spells it.
    pub(super) fn tlp_name(t: Tlp) -> &'static str {
        match t {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}
mod paths;
mod urls {
    //! URLs in prose beyond the scanner's match: a path after a scheme-less
    //! host, and URLs carried in another URL's query.

    use super::valid_host;
    use crate::scan;

    /// Where a path right after a scheme-less host ends (`evil.com/gate.php`),
    /// or `None` when there is no path or the host sits inside a file path
    /// (`/var/www/evil.com/x`, `C:\x\evil.com/y`) or an address (`user@`).
    pub(super) fn host_path_end(clean: &str, ds: usize, de: usize) -> Option<usize> {
        let b = clean.as_bytes();
        if b.get(de) != Some(&b'/') || b.get(de + 1).is_none_or(|c| !is_path_byte(*c)) {
            return None;
        }
        if ds > 0 && matches!(b[ds - 1], b'/' | b'\\' | b'@' | b':' | b'.' | b'-' | b'_') {
            return None;
        }
        let run = b[de..].iter().take_while(|c| is_path_byte(**c)).count();
        let path = scan::trim_url(&clean[de..de + run]);
        (path.len() > 1).then_some(de + path.len())
    }

    /// A byte a URL path may hold as written in prose (ASCII, no spaces,
    /// quotes or brackets that end the sentence's mention of it).
    fn is_path_byte(c: u8) -> bool {
        c.is_ascii_graphic()
            && !matches!(
                c,
                b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'[' | b']'
            )
    }

    /// URLs carried in another URL's query (`?url=http%3A%2F%2Fevil.com%2Fx`,
    /// `?u=http://evil.com/x`), percent-decoded, each with a valid host.
    pub(super) fn inner_urls(url: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(q) = url.find('?') else {
            return out;
        };
        for param in url[q + 1..].split(['&', ';']) {
            let Some((_, v)) = param.split_once('=') else {
                continue;
            };
            let lower = v.get(..14).unwrap_or(v).to_ascii_lowercase();
            if !(lower.starts_with("http") || lower.starts_with("ftp")) {
                continue;
            }
            let decoded = percent_decode(v);
            let Some(i) = decoded.find("://") else {
                continue;
            };
            let scheme = &decoded[..i];
            if !matches!(
                scheme.to_ascii_lowercase().as_str(),
                "http" | "https" | "ftp" | "ftps"
            ) {
                continue;
            }
            let u = scan::trim_url(decoded.trim_end());
            if u.contains(char::is_whitespace) {
                continue;
            }
            if let Some(host) = scan::url_host(u)
                && (scan::ipv4(host).is_some() || valid_host(host, false))
            {
                out.push(u.to_string());
            }
        }
        out
    }

    /// `%XX` escapes decoded (and `+` left alone: it is a space only in forms).
    fn percent_decode(v: &str) -> String {
        let b = v.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && let Some(h) = v.get(i + 1..i + 3)
                && let Ok(x) = u8::from_str_radix(h, 16)
            {
                out.push(x);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

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

/// What a candidate still needs before it has a kind.
#[derive(Debug, Clone, Copy)]
enum Need {
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

/// A host: a valid domain (an upper-case TLD only when defanged, so that
/// "ASP.NET" or "campaign.It" in prose are not domains) or an IP.
fn valid_host(host: &str, defanged: bool) -> bool {
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

struct Heading {
    level: u8,
    text: String,
    cues: Cues,
    dates: (Option<String>, Option<String>),
}

/// Document position state: the heading stack, the lead-in sentence, the
/// current table's header, advanced line by line as candidates arrive.
struct Ctx<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
    headings: bool,
    next_line: usize,
    stack: Vec<Heading>,
    lead_in: Option<(String, Cues)>,
    table: Option<Vec<(String, Cues)>>,
    prev_blank: bool,
    prev_heading: bool,
    /// The current candidate's table cell header.
    cell: Option<(String, Cues)>,
    /// Cues of the current line.
    line_cues: Cues,
    /// Inside a fenced code block.
    in_fence: bool,
}

fn trim_line(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn is_separator_row(t: &str) -> bool {
    t.contains('-')
        && t.bytes()
            .all(|b| matches!(b, b'|' | b'-' | b':' | b' ' | b'\t'))
}

fn clean_heading(t: &str) -> String {
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
    fn new(text: &'t str, line_starts: Vec<usize>, headings: bool) -> Ctx<'t> {
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

    fn line(&self, i: usize) -> &'t str {
        let s = self.line_starts[i];
        let e = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e - 1);
        let l = &self.text[s..e.max(s)];
        l.strip_suffix('\r').unwrap_or(l)
    }

    fn set_line(&mut self, _line: usize, cues: &Cues) {
        self.line_cues = cues.clone();
    }

    fn advance(&mut self, to: usize) {
        if !self.headings {
            return;
        }
        while self.next_line < to {
            self.observe(self.next_line, false);
            self.next_line += 1;
        }
    }

    fn push_heading(&mut self, level: u8, raw: &str) {
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
    fn observe(&mut self, i: usize, has_values: bool) {
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
    fn sources(&self) -> impl Iterator<Item = &Cues> {
        self.cell
            .iter()
            .map(|c| &c.1)
            .chain(self.lead_in.iter().map(|l| &l.1))
            .chain(self.stack.iter().rev().map(|h| &h.cues))
    }

    fn hex_cue(
        &self,
        line: &Cues,
        prev_end: usize,
        start: usize,
        end: usize,
        next_start: usize,
    ) -> Option<(HexCue, forms::Said)> {
        line.hex_in(prev_end, start)
            .or_else(|| line.hex_in(end, next_start))
            .map(|h| (h, forms::Said::Line))
            .or_else(|| {
                self.sources_said()
                    .find_map(|(s, c)| c.hex_any().map(|h| (h, s)))
            })
    }

    /// An IOC list: line `line` is nothing but `value` (after a bullet), and
    /// the line above or below is also one bare dotted token. Such a block
    /// keeps `ptgp.pl` or `holishit.in` as a domain even without a heading
    /// that says "domains"; a file name in a sentence stays out.
    fn in_value_list(&self, line: usize, value: &str) -> bool {
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

    fn context(&self, kind: K) -> Context {
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
fn plain_heading(t: &str) -> bool {
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

#[cfg(test)]
mod kinds_tests;
#[cfg(test)]
mod tests;
