//! Recognisers for the host, network and document forms that came after the
//! first kinds: file paths, user agents, MAC and socket addresses, ssdeep,
//! analytics ids, ATT&CK tactics and mitigations, XMPP addresses, TLP
//! labels; and the words ("the heading says …") that type an ambiguous
//! value, named in [`crate::Occurrence::rule`].

use super::ctx::{Ctx, Need, Said};
use super::paths::{unix_path_end, unix_root, win_path_end};
use crate::IndicatorKind as K;
use crate::cues::{AddrCue, Cues, HexCue};
use cairn_model::Tlp;

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
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'+' | b'!'))
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
