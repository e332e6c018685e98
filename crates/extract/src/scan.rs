//! The single scanning pass: one multi-pattern lazy DFA over the refanged
//! text finds every candidate, tagged with the pattern (shape) it matched;
//! the validators below then decide, without allocating, whether a candidate
//! is a value of some kind.

use regex_automata::{Input, meta::Regex};
use sha2::{Digest, Sha256};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Which pattern a candidate matched. Order = priority at one start offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Url,
    Email,
    Registry,
    WinPath,
    UnixPath,
    Cve,
    Ja4,
    Technique,
    Tactic,
    Mitigation,
    Analytics,
    Tlp,
    Ssdeep,
    Ipv4,
    HexColon,
    Mac,
    Ipv6,
    Dotted,
    Hex,
    Btc,
    Xmr,
    Asn,
    Agent,
}

const SHAPES: [Shape; 23] = [
    Shape::Url,
    Shape::Email,
    Shape::Registry,
    Shape::WinPath,
    Shape::UnixPath,
    Shape::Cve,
    Shape::Ja4,
    Shape::Technique,
    Shape::Tactic,
    Shape::Mitigation,
    Shape::Analytics,
    Shape::Tlp,
    Shape::Ssdeep,
    Shape::Ipv4,
    Shape::HexColon,
    Shape::Mac,
    Shape::Ipv6,
    Shape::Dotted,
    Shape::Hex,
    Shape::Btc,
    Shape::Xmr,
    Shape::Asn,
    Shape::Agent,
];

const PATTERNS: [&str; 23] = [
    r#"(?-u:\b)(?i:https?|ftps?|sftp|wss?|smb)://[^\s<>"'`{}|\\^\[\]]+"#,
    r"(?-u:\b)[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+",
    // Only the hive and the first component: where the key ends (spaces,
    // commas, the next hive) is decided by `registry_end`, which a regex
    // cannot say cheaply.
    r#"<?(?-u:\b)(?i:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC)>?:?\\[^\\\s"'|,;]"#,
    // Windows paths: a drive, an environment variable or a UNC host, then a
    // first component; the end is `paths::win_path_end`'s.
    r#"(?:(?-u:\b)[A-Za-z]:[\\/]|%[A-Za-z_][A-Za-z0-9_]{1,30}(?:\(x86\))?%\\|\\\\[A-Za-z0-9_$\-][A-Za-z0-9_.$\-]*\\)[^\\/\s"'|,;<>*?]"#,
    // Unix paths: two components at least (`~` counts as one); the end is
    // `paths::unix_path_end`'s.
    r"(?:~|\$HOME)/[A-Za-z0-9._\-]|/[A-Za-z0-9._\-+@%]+/[A-Za-z0-9._\-+@%]",
    r"(?-u:\b)(?i:CVE)[- ][0-9]{4}-[0-9]{4,7}(?-u:\b)",
    r"(?-u:\b)[tqd][0-9]{2}[di][0-9]{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}(?-u:\b)",
    r"(?-u:\b)[Tt]1[0-9]{3}(?:\.[0-9]{3})?(?-u:\b)",
    r"(?-u:\b)[Tt][Aa]0[0-9]{3}(?-u:\b)",
    r"(?-u:\b)M1[0-9]{3}(?-u:\b)",
    r"(?-u:\b)(?:UA-[0-9]{4,10}-[0-9]{1,4}|G-[A-Z0-9]{10}|GTM-[A-Z0-9]{4,9}|(?:ca-)?pub-[0-9]{16})(?-u:\b)",
    r"(?-u:\b)(?i:tlp)[ :\-_]{0,2}(?i:amber ?\+ ?strict|amber|red|green|clear|white)(?-u:\b)",
    // ssdeep: a block size (3 times a power of two) and two base64 hashes,
    // the first longer than any IPv6 group.
    r"(?-u:\b)(?:3|6|12|24|48|96|192|384|768|1536|3072|6144|12288|24576|49152|98304|196608|393216|786432|1572864|3145728|6291456|12582912|25165824|50331648|100663296|201326592|402653184|805306368|1610612736):[A-Za-z0-9/+]{6,64}:[A-Za-z0-9/+]{3,64}",
    r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?:/[0-9]{1,2})?(?-u:\b)",
    r"(?-u:\b)[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7,63}(?-u:\b)",
    r"(?-u:\b)(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?-u:\b)",
    r"(?:[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,8}(?:/[0-9]{1,3})?",
    r"[\w\-]+(?:\.[\w\-]+)+",
    r"(?-u:\b)[0-9A-Fa-f]{8,128}(?-u:\b)",
    r"(?-u:\b)(?:[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,71})(?-u:\b)",
    r"(?-u:\b)[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}(?:[1-9A-HJ-NP-Za-km-z]{11})?(?-u:\b)",
    // Upper-case AS/ASN may stand apart from the number; lower-case "as"
    // only when glued to it ("as1234"), so that "as 2 files" is prose;
    // "asn" in any case is unambiguous. Two digits at least: "asn1" is
    // ASN.1 more often than AS1.
    r"(?-u:\b)(?:AS[ ]?[0-9]{2,10}|(?i:asn):?[ ]?[0-9]{2,10}|(?i:as)[0-9]{2,10})(?-u:\b)",
    // A user agent's first product (`Mozilla/5.0`, `curl/7.68.0`); the
    // rest is `forms::agent_end`'s. Last: any shape above wins at one start.
    r"(?-u:\b)[A-Za-z][A-Za-z0-9_\-]{0,40}/[0-9]",
];

pub(crate) struct Scanner {
    re: Regex,
}

impl Scanner {
    pub fn new() -> Scanner {
        // Constant patterns, tested below: building cannot fail.
        let re = Regex::new_many(&PATTERNS).expect("scanner patterns");
        Scanner { re }
    }

    /// Calls `f(shape, start, end)` for every candidate, in text order.
    /// `f` returns where to resume: normally `end`, earlier when a rejected
    /// candidate may hide a smaller one (`user@host` → `host`).
    pub fn scan(&self, text: &str, mut f: impl FnMut(Shape, usize, usize) -> usize) {
        let mut pos = 0;
        while pos < text.len() {
            let Some(m) = self.re.search(&Input::new(text).span(pos..text.len())) else {
                break;
            };
            let next = f(SHAPES[m.pattern().as_usize()], m.start(), m.end());
            pos = if next > m.start() {
                next
            } else {
                m.end().max(pos + 1)
            };
            while pos < text.len() && !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
    }
}

/// Trailing punctuation that belongs to the sentence, not the URL; a `)` is
/// kept when the URL opened one.
pub(crate) fn trim_url(u: &str) -> &str {
    let mut u = u;
    loop {
        let Some(c) = u.chars().last() else { return u };
        let strip = match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*' => true,
            ')' => u.matches('(').count() < u.matches(')').count(),
            _ => false,
        };
        if !strip {
            return u;
        }
        u = &u[..u.len() - c.len_utf8()];
    }
}

/// The host part of a URL, or `None` if it has none.
/// A value without a scheme (`evil.com/gate.php`) is read from its start.
pub(crate) fn url_host(u: &str) -> Option<&str> {
    // A `://` after the first `/`, `?` or `#` is in the path or query.
    let scheme = u.find("://").filter(|&i| !u[..i].contains(['/', '?', '#']));
    let rest = scheme.map_or(u, |i| &u[i + 3..]);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    (!host.is_empty()).then_some(host)
}

/// File-name extensions that are also top-level domains: such a token is a
/// domain only when defanged or when the context speaks of domains.
pub(crate) fn ambiguous_tld(tld: &str) -> bool {
    matches!(
        tld,
        "zip"
            | "mov"
            | "py"
            | "sh"
            | "pl"
            | "rs"
            | "md"
            | "so"
            | "cc"
            | "ai"
            | "ps"
            | "one"
            | "app"
            | "pub"
            | "run"
            | "ms"
            | "in"
            | "pm"
            | "mp"
    )
}

/// Extensions that make a token a file name.
pub(crate) fn file_ext(ext: &str) -> Option<bool /* executable-like */> {
    let exec = matches!(
        ext,
        "exe"
            | "dll"
            | "scr"
            | "ps1"
            | "psm1"
            | "bat"
            | "cmd"
            | "vbs"
            | "vbe"
            | "jse"
            | "wsf"
            | "hta"
            | "lnk"
            | "sys"
            | "msi"
            | "jar"
            | "cpl"
            | "ocx"
            | "elf"
            | "dylib"
            | "apk"
            | "docm"
            | "xlsm"
            | "pptm"
            | "iso"
            | "img"
            | "vhd"
            | "vhdx"
            | "chm"
            | "xll"
            | "wll"
            | "one"
            | "msc"
            | "inf"
            | "sct"
            | "ipa"
            | "dmg"
    );
    let other = matches!(
        ext,
        "doc"
            | "docx"
            | "xls"
            | "xlsx"
            | "ppt"
            | "pptx"
            | "pdf"
            | "rtf"
            | "zip"
            | "rar"
            | "7z"
            | "gz"
            | "tgz"
            | "tar"
            | "cab"
            | "js"
            | "py"
            | "sh"
            | "pl"
            | "php"
            | "asp"
            | "aspx"
            | "jsp"
            | "dat"
            | "bin"
            | "tmp"
            | "txt"
            | "log"
            | "ini"
            | "cfg"
            | "conf"
            | "json"
            | "xml"
            | "csv"
            | "html"
            | "htm"
            | "so"
            | "ko"
            | "db"
            | "png"
            | "jpg"
            | "gif"
            | "mov"
            | "mp4"
            | "ace"
            | "arj"
            | "uue"
            | "eml"
            | "msg"
            | "bz2"
            | "xz"
            | "rs"
            | "go"
    );
    if exec {
        Some(true)
    } else if other {
        Some(false)
    } else {
        None
    }
}

/// A host name whose suffix is in the public suffix list, with a label
/// before it. `lower` must be lower-case ASCII.
pub(crate) fn valid_domain(lower: &str) -> bool {
    let name = lower.trim_end_matches('.');
    if name.len() > 253 || name.len() < 4 || !name.contains('.') {
        return false;
    }
    let mut labels = 0;
    for l in name.split('.') {
        labels += 1;
        if l.is_empty()
            || l.len() > 63
            || l.starts_with('-')
            || l.ends_with('-')
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
    }
    let tld = name.rsplit('.').next().unwrap_or("");
    if labels < 2
        || tld.contains('_')
        || !(tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"))
    {
        return false;
    }
    match psl::suffix(name.as_bytes()) {
        Some(s) if s.is_known() => psl::domain(name.as_bytes()).is_some(),
        _ => false,
    }
}

pub(crate) fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

/// Validates an IPv6 address (optionally with a prefix length); refuses the
/// unspecified address and short tokens that are more likely times or ratios.
pub(crate) fn ipv6(s: &str) -> Option<(Ipv6Addr, Option<u8>)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok().filter(|l| *l <= 128)?)),
        None => (s, None),
    };
    let ip: Ipv6Addr = addr.parse().ok()?;
    if ip.is_unspecified() {
        return None;
    }
    let groups = addr.split(':').filter(|g| !g.is_empty()).count();
    let hexy = addr.bytes().filter(u8::is_ascii_hexdigit).count();
    // "12:30:45" is not an address, but "fe80::1" and "2001:db8::" are.
    if !(addr.contains("::") || groups == 8) || hexy < 4 {
        return None;
    }
    Some((ip, len))
}

const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58Check (legacy and P2SH Bitcoin addresses): 25 bytes, double-SHA-256
/// checksum.
pub(crate) fn btc_base58(s: &str) -> bool {
    let mut bytes = [0u8; 25];
    for c in s.bytes() {
        let Some(mut carry) = B58.iter().position(|&b| b == c).map(|v| v as u32) else {
            return false;
        };
        for b in bytes.iter_mut().rev() {
            carry += 58 * u32::from(*b);
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    let check = Sha256::digest(Sha256::digest(&bytes[..21]));
    check[..4] == bytes[21..] && (bytes[0] == 0 || bytes[0] == 5)
}

/// Bech32/Bech32m checksum of a `bc1` address.
pub(crate) fn btc_bech32(s: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = s.to_ascii_lowercase();
    let Some((hrp, data)) = lower.rsplit_once('1') else {
        return false;
    };
    let mut values: Vec<u32> = hrp.bytes().map(|b| u32::from(b) >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|b| u32::from(b) & 31));
    for c in data.bytes() {
        match CHARSET.iter().position(|&x| x == c) {
            Some(v) => values.push(v as u32),
            None => return false,
        }
    }
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk == 1 || chk == 0x2bc8_30a3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(text: &str) -> Vec<(Shape, String)> {
        let s = Scanner::new();
        let mut v = Vec::new();
        s.scan(text, |sh, a, b| {
            v.push((sh, text[a..b].to_string()));
            b
        });
        v
    }

    #[test]
    fn finds_shapes() {
        let v = shapes(
            "https://evil.com/x a@b.com HKCU\\Software\\Run CVE-2021-44228 T1059.001 1.2.3.4/24 \
             2001:db8::1 kb.dga.asia d41d8cd98f00b204e9800998ecf8427e AS13335",
        );
        let got: Vec<Shape> = v.iter().map(|x| x.0).collect();
        assert_eq!(
            got,
            [
                Shape::Url,
                Shape::Email,
                Shape::Registry,
                Shape::Cve,
                Shape::Technique,
                Shape::Ipv4,
                Shape::Ipv6,
                Shape::Dotted,
                Shape::Hex,
                Shape::Asn
            ],
            "{v:?}"
        );
    }

    #[test]
    fn domains() {
        for d in [
            "kb.dga.asia",
            "evil.co.uk",
            "a.xn--p1ai",
            "r77wu4s847.sibersystems.xyz",
        ] {
            assert!(valid_domain(d), "{d}");
        }
        for d in [
            "report.pdf",
            "svchost.exe",
            "config.json",
            "e.g",
            "co.uk",
            "a.b",
            "x.local",
        ] {
            assert!(!valid_domain(d), "{d}");
        }
    }

    #[test]
    fn addresses() {
        assert!(ipv6("2001:db8::1").is_some());
        assert!(ipv6("fe80::1").is_some());
        assert!(ipv6("12:30:45").is_none());
        assert!(ipv6("::").is_none());
        assert!(btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(btc_base58("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx"));
    }

    #[test]
    fn urls() {
        assert_eq!(trim_url("http://a.com/x)."), "http://a.com/x");
        assert_eq!(trim_url("http://a.com/(x)"), "http://a.com/(x)");
        assert_eq!(url_host("http://u:p@a.com:8080/x"), Some("a.com"));
        assert_eq!(url_host("a.com/r?u=http://b.org/"), Some("a.com"));
    }
}
