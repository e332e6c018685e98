//! Words in headings, table headers and lines that say what nearby values
//! are: role, malware family, the kind of a bare hex string, dates.
//! One Aho-Corasick pass per text finds them all.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use std::sync::OnceLock;

/// What a bare hex string is, according to nearby words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HexCue {
    // Ordered from weakest to strongest: in one text the strongest wins.
    FileHash,
    NotHash,
    // Below Cert: "Authenticode certificate thumbprint" is a certificate's.
    Authentihash,
    Cert,
    Imphash,
    Serial,
    Jarm,
    Ja3,
    Ja3s,
}

#[derive(Debug, Clone, Copy)]
enum Cue {
    /// A role, with its priority (lower wins).
    Role(u8, &'static str),
    Family(&'static str),
    Hex(HexCue),
    Domain,
    File,
    Agent,
    Addr(AddrCue),
    Analytics,
}

/// What an `user@host` address is, according to nearby words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AddrCue {
    Mail,
    Xmpp,
}

const ROLES: &[(&str, u8, &str)] = &[
    ("c2", 0, "c2"),
    ("c&c", 0, "c2"),
    ("cnc", 0, "c2"),
    ("command and control", 0, "c2"),
    ("command-and-control", 0, "c2"),
    ("exploitation", 1, "exploitation"),
    ("exploit", 1, "exploitation"),
    ("exploited", 1, "exploitation"),
    ("reconnaissance", 2, "reconnaissance"),
    ("recon", 2, "reconnaissance"),
    ("scanning", 2, "reconnaissance"),
    ("scanner", 2, "reconnaissance"),
    ("delivery", 3, "delivery"),
    ("phishing", 3, "delivery"),
    ("spearphishing", 3, "delivery"),
    ("dropper", 3, "delivery"),
    ("downloader", 3, "delivery"),
    ("download", 3, "delivery"),
    ("initial access", 3, "delivery"),
    ("lure", 3, "delivery"),
    ("staging", 3, "delivery"),
    ("stager", 3, "delivery"),
    ("certificate", 4, "certificate"),
    ("tls", 4, "certificate"),
    ("ssl", 4, "certificate"),
    ("x509", 4, "certificate"),
    ("x.509", 4, "certificate"),
    ("compromised", 5, "compromised"),
    ("exfiltration", 6, "exfiltration"),
    ("exfil", 6, "exfiltration"),
    ("payload", 7, "payload"),
    ("loader", 7, "payload"),
    ("implant", 7, "payload"),
    ("backdoor", 7, "payload"),
    ("beacon", 7, "payload"),
    ("webshell", 7, "payload"),
    ("web shell", 7, "payload"),
    ("malware", 7, "payload"),
];

const FAMILIES: &[(&str, &str)] = &[
    ("cobalt strike", "Cobalt Strike"),
    ("cobaltstrike", "Cobalt Strike"),
    ("brute ratel", "Brute Ratel"),
    ("bruteratel", "Brute Ratel"),
    ("brc4", "Brute Ratel"),
    ("winnti", "Winnti"),
    ("shadowpad", "ShadowPad"),
    ("plugx", "PlugX"),
    ("korplug", "PlugX"),
    ("spyder", "Spyder"),
    ("funnyswitch", "FunnySwitch"),
    ("sliver", "Sliver"),
    ("metasploit", "Metasploit"),
    ("meterpreter", "Metasploit"),
    ("mimikatz", "Mimikatz"),
    ("keyplug", "KEYPLUG"),
    ("crosswalk", "CROSSWALK"),
    ("hyperbro", "HyperBro"),
    ("sysupdate", "SysUpdate"),
    ("toneshell", "TONESHELL"),
    ("china chopper", "China Chopper"),
    ("godzilla", "Godzilla"),
    ("behinder", "Behinder"),
    ("havoc", "Havoc"),
    ("mythic", "Mythic"),
    ("emotet", "Emotet"),
    ("trickbot", "TrickBot"),
    ("qakbot", "QakBot"),
    ("qbot", "QakBot"),
    ("icedid", "IcedID"),
    ("asyncrat", "AsyncRAT"),
    ("njrat", "njRAT"),
    ("remcos", "Remcos"),
    ("gh0st", "Gh0st RAT"),
    ("poison ivy", "PoisonIvy"),
    ("poisonivy", "PoisonIvy"),
    ("quasar", "QuasarRAT"),
    ("nanocore", "NanoCore"),
    ("agent tesla", "Agent Tesla"),
    ("agenttesla", "Agent Tesla"),
    ("formbook", "FormBook"),
    ("redline", "RedLine"),
    ("lumma", "Lumma"),
    ("vidar", "Vidar"),
    ("socgholish", "SocGholish"),
    ("darkgate", "DarkGate"),
    ("pikabot", "Pikabot"),
    ("bumblebee", "Bumblebee"),
    ("dridex", "Dridex"),
    ("bazarloader", "BazarLoader"),
    ("lockbit", "LockBit"),
    ("blackcat", "BlackCat"),
    ("alphv", "BlackCat"),
    ("conti", "Conti"),
    ("ryuk", "Ryuk"),
    ("xmrig", "XMRig"),
    ("sunburst", "SUNBURST"),
];

const HEX: &[(&str, HexCue)] = &[
    ("ja3s", HexCue::Ja3s),
    ("ja3", HexCue::Ja3),
    ("jarm", HexCue::Jarm),
    ("serial", HexCue::Serial),
    ("certificate", HexCue::Cert),
    ("cert", HexCue::Cert),
    ("tls", HexCue::Cert),
    ("ssl", HexCue::Cert),
    ("x509", HexCue::Cert),
    ("x.509", HexCue::Cert),
    ("thumbprint", HexCue::Cert),
    ("fingerprint", HexCue::Cert),
    ("commit", HexCue::NotHash),
    ("git", HexCue::NotHash),
    ("guid", HexCue::NotHash),
    ("uuid", HexCue::NotHash),
    ("imphash", HexCue::Imphash),
    ("imphashes", HexCue::Imphash),
    ("import hash", HexCue::Imphash),
    ("import hashes", HexCue::Imphash),
    ("import table hash", HexCue::Imphash),
    ("authentihash", HexCue::Authentihash),
    ("authentihashes", HexCue::Authentihash),
    ("authenticode", HexCue::Authentihash),
    ("ssdeep", HexCue::NotHash),
    ("tlsh", HexCue::NotHash),
    ("api key", HexCue::NotHash),
    ("token", HexCue::NotHash),
    ("nonce", HexCue::NotHash),
    ("mutex", HexCue::NotHash),
    ("session id", HexCue::NotHash),
    ("file", HexCue::FileHash),
    ("sample", HexCue::FileHash),
    ("payload", HexCue::FileHash),
    ("malware", HexCue::FileHash),
    ("loader", HexCue::FileHash),
    ("dropper", HexCue::FileHash),
    ("binary", HexCue::FileHash),
    ("executable", HexCue::FileHash),
    ("implant", HexCue::FileHash),
    ("backdoor", HexCue::FileHash),
];

const DOMAIN: &[&str] = &[
    "domain",
    "hostname",
    "host",
    "dns",
    "c2",
    "url",
    "infrastructure",
    "server",
    "website",
    "resolve",
    "resolved",
    "resolving",
    "subdomain",
];

const FILE: &[&str] = &[
    "file",
    "filename",
    "file name",
    "dropped",
    "attachment",
    "archive",
    "lure",
    "named",
];

const AGENT: &[&str] = &["user-agent", "user agent", "useragent", "http agent"];

const ADDR: &[(&str, AddrCue)] = &[
    ("xmpp", AddrCue::Xmpp),
    ("jabber", AddrCue::Xmpp),
    ("jid", AddrCue::Xmpp),
    ("omemo", AddrCue::Xmpp),
    ("email", AddrCue::Mail),
    ("e-mail", AddrCue::Mail),
    ("mail", AddrCue::Mail),
    ("sender", AddrCue::Mail),
    ("mailbox", AddrCue::Mail),
];

const ANALYTICS: &[&str] = &[
    "analytics",
    "gtag",
    "measurement id",
    "tag manager",
    "tracking id",
    "google tag",
    "adsense",
];

fn automaton() -> &'static (AhoCorasick, Vec<Cue>) {
    static AC: OnceLock<(AhoCorasick, Vec<Cue>)> = OnceLock::new();
    AC.get_or_init(|| {
        let mut pats: Vec<&str> = Vec::new();
        let mut cues = Vec::new();
        for (k, p, r) in ROLES {
            pats.push(k);
            cues.push(Cue::Role(*p, r));
        }
        for (k, f) in FAMILIES {
            pats.push(k);
            cues.push(Cue::Family(f));
        }
        for (k, h) in HEX {
            pats.push(k);
            cues.push(Cue::Hex(*h));
        }
        for k in DOMAIN {
            pats.push(k);
            cues.push(Cue::Domain);
        }
        for k in FILE {
            pats.push(k);
            cues.push(Cue::File);
        }
        for k in AGENT {
            pats.push(k);
            cues.push(Cue::Agent);
        }
        for (k, a) in ADDR {
            pats.push(k);
            cues.push(Cue::Addr(*a));
        }
        for k in ANALYTICS {
            pats.push(k);
            cues.push(Cue::Analytics);
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            // A full DFA: a few hundred KB, and the fastest search.
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .build(&pats)
            // The patterns are the constants above; building cannot fail on them.
            .expect("cue automaton");
        (ac, cues)
    })
}

/// What one text (a heading, a header cell, a line) says.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cues {
    pub role: Option<(u8, &'static str)>,
    pub family: Option<(usize, &'static str)>,
    /// Hex cues with their byte offsets, for finding the one nearest a value.
    pub hex: Vec<(usize, HexCue)>,
    pub domain: bool,
    pub file: bool,
    /// Where "user-agent" is said (byte offsets).
    pub agent: Vec<usize>,
    /// Address cues (e-mail, XMPP) with their byte offsets.
    pub addr: Vec<(usize, AddrCue)>,
    /// Web analytics ("Google Analytics", "gtag") is said.
    pub analytics: bool,
}

impl Cues {
    pub fn of(text: &str) -> Cues {
        Cues::of_masked(text, &[])
    }

    /// Like [`Cues::of`], ignoring words inside `masked` byte spans (the
    /// values themselves: "c2" in `c2.evil.net` says nothing).
    pub fn of_masked(text: &str, masked: &[(usize, usize)]) -> Cues {
        let (ac, table) = automaton();
        let mut c = Cues::default();
        let b = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let (s, e) = (m.start(), m.end());
            if s > 0 && b[s - 1].is_ascii_alphanumeric() {
                continue;
            }
            if masked.iter().any(|&(a, z)| s < z && e > a) {
                continue;
            }
            // Allow a plural: "loaders", "certificates", "domains".
            let e2 = if b.get(e) == Some(&b's') { e + 1 } else { e };
            if b.get(e).is_some_and(u8::is_ascii_alphanumeric)
                && b.get(e2).is_some_and(u8::is_ascii_alphanumeric)
            {
                continue;
            }
            match table[m.pattern().as_usize()] {
                Cue::Role(p, r) => {
                    if c.role.is_none_or(|(q, _)| p < q) {
                        c.role = Some((p, r));
                    }
                }
                Cue::Family(f) => {
                    if c.family.is_none_or(|(at, _)| s < at) {
                        c.family = Some((s, f));
                    }
                }
                Cue::Hex(h) => c.hex.push((s, h)),
                Cue::Domain => c.domain = true,
                Cue::File => c.file = true,
                Cue::Agent => c.agent.push(s),
                Cue::Addr(a) => c.addr.push((s, a)),
                Cue::Analytics => c.analytics = true,
            }
        }
        c
    }

    pub fn role(&self) -> Option<&'static str> {
        self.role.map(|(_, r)| r)
    }

    pub fn family(&self) -> Option<&'static str> {
        self.family.map(|(_, f)| f)
    }

    /// The strongest hex cue among those in `range` of the text.
    pub fn hex_in(&self, from: usize, to: usize) -> Option<HexCue> {
        self.hex
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, h)| *h)
            .max()
    }

    pub fn hex_any(&self) -> Option<HexCue> {
        self.hex.iter().map(|(_, h)| *h).max()
    }

    /// The address cue a heading or header gives: XMPP only when it does
    /// not also speak of e-mail.
    pub fn addr_any(&self) -> Option<AddrCue> {
        self.addr.iter().map(|(_, a)| *a).min()
    }
}

/// First/last-seen dates a heading states: "seen May to June 2023",
/// "(observed 2021-03-01 – 2021-05-30)", "active since March 2022".
/// Month precision widens to the month's first and last day.
pub(crate) fn seen_dates(text: &str) -> (Option<String>, Option<String>) {
    let lower = text.to_ascii_lowercase();
    let gate = [
        "seen", "observed", "active", "between", "from", "since", "until", "through", "during",
        "dated",
    ];
    if !gate.iter().any(|g| lower.contains(g)) {
        return (None, None);
    }
    // (year, month, day) with 0 for "unknown so far".
    let mut points: Vec<(u32, u32, u32)> = Vec::new();
    for word in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if word.is_empty() {
            continue;
        }
        let parts: Vec<&str> = word.split('-').collect();
        if parts.len() >= 2
            && parts[0].len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let y = parts[0].parse().unwrap_or(0);
            let m = parts[1].parse().unwrap_or(0);
            let d = parts.get(2).and_then(|d| d.parse().ok()).unwrap_or(0);
            if (1990..2100).contains(&y) && (1..=12).contains(&m) && d <= 31 {
                points.push((y, m, d));
            }
            continue;
        }
        if word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()) {
            let y: u32 = word.parse().unwrap_or(0);
            if (1990..2100).contains(&y) {
                // A year completes the months before it that had none.
                let mut filled = false;
                for p in points.iter_mut().rev() {
                    if p.0 == 0 {
                        p.0 = y;
                        filled = true;
                    } else {
                        break;
                    }
                }
                if !filled {
                    points.push((y, 0, 0));
                }
            }
            continue;
        }
        if let Some(m) = month(word) {
            points.push((0, m, 0));
        }
    }
    // Months still without a year take the nearest year stated before them.
    let mut last_year = 0;
    for p in points.iter_mut() {
        if p.0 == 0 {
            p.0 = last_year;
        } else {
            last_year = p.0;
        }
    }
    points.retain(|p| p.0 != 0);
    let (Some(&first), Some(&last)) = (points.first(), points.last()) else {
        return (None, None);
    };
    let start = |(y, m, d): (u32, u32, u32)| format!("{y:04}-{:02}-{:02}", m.max(1), d.max(1));
    let end = |(y, m, d): (u32, u32, u32)| {
        let m2 = if m == 0 { 12 } else { m };
        let d2 = if d == 0 { days_in_month(y, m2) } else { d };
        format!("{y:04}-{m2:02}-{d2:02}")
    };
    let since = lower.contains("since") || lower.contains("from") && points.len() == 1;
    let until = lower.contains("until") || lower.contains("through") && points.len() == 1;
    match (since, until) {
        (true, false) => (Some(start(first)), None),
        (false, true) => (None, Some(end(last))),
        _ => (Some(start(first)), Some(end(last))),
    }
}

fn month(w: &str) -> Option<u32> {
    const M: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let i = M
        .iter()
        .position(|m| *m == w)
        .or_else(|| FULL.iter().position(|m| *m == w))
        .or_else(|| (w == "sept").then_some(8))?;
    Some(i as u32 + 1)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_cues() {
        let c = Cues::of("Fishmaster Cobalt Strike Loaders");
        assert_eq!(c.family(), Some("Cobalt Strike"));
        assert_eq!(c.role(), Some("payload"));
        let c = Cues::of("C2 IP Addresses (seen May to June 2023)");
        assert_eq!(c.role(), Some("c2"));
        assert!(c.domain);
        let c = Cues::of("TLS Certificate (SHA256 Fingerprints):");
        assert_eq!(c.role(), Some("certificate"));
        assert_eq!(c.hex_any(), Some(HexCue::Cert));
        assert_eq!(Cues::of("JA3S: x").hex_any(), Some(HexCue::Ja3s));
        assert_eq!(Cues::of("Initial Access Droppers").role(), Some("delivery"));
        assert_eq!(Cues::of("Winnti").family(), Some("Winnti"));
        // Words inside other words do not count.
        assert_eq!(Cues::of("Scontinent").family(), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            seen_dates("C2 IP Addresses (seen May to June 2023)"),
            (Some("2023-05-01".into()), Some("2023-06-30".into()))
        );
        assert_eq!(
            seen_dates("observed between 2021-03-04 and 2021-05"),
            (Some("2021-03-04".into()), Some("2021-05-31".into()))
        );
        assert_eq!(
            seen_dates("Active since February 2024"),
            (Some("2024-02-01".into()), None)
        );
        assert_eq!(
            seen_dates("Seen in 2022"),
            (Some("2022-01-01".into()), Some("2022-12-31".into()))
        );
        assert_eq!(seen_dates("Cobalt Strike Loaders"), (None, None));
        assert_eq!(seen_dates("CVE-2021-44228 exploitation"), (None, None));
    }
}
