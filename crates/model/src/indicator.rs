use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The kinds of atomic indicator Cairn stores, hunts and extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// A domain or host name.
    Domain,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// A URL.
    Url,
    /// An e-mail address.
    Email,
    /// MD5 of a file.
    Md5,
    /// SHA-1 of a file.
    Sha1,
    /// SHA-256 of a file.
    Sha256,
    /// SHA-512 of a file.
    Sha512,
    /// SHA-1 fingerprint of an X.509 certificate.
    CertSha1,
    /// SHA-256 fingerprint of an X.509 certificate.
    CertSha256,
    /// Serial number of an X.509 certificate.
    CertSerial,
    /// JA3 client TLS fingerprint.
    Ja3,
    /// JA3S server TLS fingerprint.
    Ja3s,
    /// JA4 TLS fingerprint.
    Ja4,
    /// JARM server fingerprint.
    Jarm,
    /// A file name.
    FileName,
    /// A Windows registry key.
    RegistryKey,
    /// A CVE id.
    Cve,
    /// An ATT&CK technique id.
    Technique,
    /// An autonomous system number.
    Asn,
    /// A Bitcoin address.
    Btc,
    /// A Monero address.
    Xmr,
    /// A file path with its directories (`C:\\Users\\Public\\svchost.exe`,
    /// `/tmp/.x/kworker`, `\\\\host\\share\\x`); a trailing separator marks a
    /// directory.
    FilePath,
    /// An HTTP User-Agent string, whole.
    UserAgent,
    /// A MAC address (EUI-48), stored lower-case with colons.
    #[serde(rename = "mac-addr")]
    Mac,
    /// A host and port, `1.2.3.4:443`, `[2001:db8::1]:8443`, `evil.com:8080`.
    Socket,
    /// An ssdeep fuzzy hash, `blocksize:hash:hash`.
    Ssdeep,
    /// The import-table hash of a PE file.
    Imphash,
    /// The Authenticode hash of a PE file (the signed digest, SHA-1 or
    /// SHA-256).
    Authentihash,
    /// An XMPP (Jabber) address, `user@server`.
    Xmpp,
    /// A web analytics or advertising account id: Google Analytics
    /// (`UA-…`, `G-…`), Tag Manager (`GTM-…`), AdSense (`pub-…`).
    AnalyticsId,
    /// An ATT&CK tactic id (`TA0001`).
    Tactic,
    /// An ATT&CK mitigation id (`M1036`).
    Mitigation,
}

/// A typed value: what an indicator matches on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observable {
    /// The kind of value.
    pub kind: IndicatorKind,
    /// The value, normalized with [`IndicatorKind::normalize`].
    pub value: String,
}

impl Observable {
    /// A normalized observable.
    pub fn new(kind: IndicatorKind, value: &str) -> Observable {
        Observable {
            kind,
            value: kind.normalize(value),
        }
    }
}

// New kinds go at the end: a kind's position is its code in the hunt
// index's cache files.
const ALL: [IndicatorKind; 35] = [
    IndicatorKind::Domain,
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Url,
    IndicatorKind::Email,
    IndicatorKind::Md5,
    IndicatorKind::Sha1,
    IndicatorKind::Sha256,
    IndicatorKind::Sha512,
    IndicatorKind::CertSha1,
    IndicatorKind::CertSha256,
    IndicatorKind::CertSerial,
    IndicatorKind::Ja3,
    IndicatorKind::Ja3s,
    IndicatorKind::Ja4,
    IndicatorKind::Jarm,
    IndicatorKind::FileName,
    IndicatorKind::RegistryKey,
    IndicatorKind::Cve,
    IndicatorKind::Technique,
    IndicatorKind::Asn,
    IndicatorKind::Btc,
    IndicatorKind::Xmr,
    IndicatorKind::FilePath,
    IndicatorKind::UserAgent,
    IndicatorKind::Mac,
    IndicatorKind::Socket,
    IndicatorKind::Ssdeep,
    IndicatorKind::Imphash,
    IndicatorKind::Authentihash,
    IndicatorKind::Xmpp,
    IndicatorKind::AnalyticsId,
    IndicatorKind::Tactic,
    IndicatorKind::Mitigation,
];

impl IndicatorKind {
    /// Every kind, in a fixed order.
    pub fn all() -> &'static [IndicatorKind] {
        &ALL
    }

    /// Stable kebab-case name (`cert-sha256`), as used in JSON and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Domain => "domain",
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Url => "url",
            IndicatorKind::Email => "email",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Sha512 => "sha512",
            IndicatorKind::CertSha1 => "cert-sha1",
            IndicatorKind::CertSha256 => "cert-sha256",
            IndicatorKind::CertSerial => "cert-serial",
            IndicatorKind::Ja3 => "ja3",
            IndicatorKind::Ja3s => "ja3s",
            IndicatorKind::Ja4 => "ja4",
            IndicatorKind::Jarm => "jarm",
            IndicatorKind::FileName => "file-name",
            IndicatorKind::RegistryKey => "registry-key",
            IndicatorKind::Cve => "cve",
            IndicatorKind::Technique => "technique",
            IndicatorKind::Asn => "asn",
            IndicatorKind::Btc => "btc",
            IndicatorKind::Xmr => "xmr",
            IndicatorKind::FilePath => "file-path",
            IndicatorKind::UserAgent => "user-agent",
            IndicatorKind::Mac => "mac-addr",
            IndicatorKind::Socket => "socket",
            IndicatorKind::Ssdeep => "ssdeep",
            IndicatorKind::Imphash => "imphash",
            IndicatorKind::Authentihash => "authentihash",
            IndicatorKind::Xmpp => "xmpp",
            IndicatorKind::AnalyticsId => "analytics-id",
            IndicatorKind::Tactic => "tactic",
            IndicatorKind::Mitigation => "mitigation",
        }
    }

    /// Whether the kind is a hash-like hex value (compared case-blind, colons ignored).
    pub fn is_hex(self) -> bool {
        matches!(
            self,
            IndicatorKind::Md5
                | IndicatorKind::Sha1
                | IndicatorKind::Sha256
                | IndicatorKind::Sha512
                | IndicatorKind::CertSha1
                | IndicatorKind::CertSha256
                | IndicatorKind::CertSerial
                | IndicatorKind::Ja3
                | IndicatorKind::Ja3s
                | IndicatorKind::Imphash
                | IndicatorKind::Authentihash
        )
    }

    /// The canonical form a value is stored and matched in: domains lower-case
    /// without trailing dot, hex lower-case without colons or spaces, IPs in
    /// their standard text form, URLs with a lower-case scheme and host.
    pub fn normalize(self, value: &str) -> String {
        let v = value.trim();
        match self {
            IndicatorKind::Domain => v.trim_end_matches('.').to_ascii_lowercase(),
            IndicatorKind::Email | IndicatorKind::Xmpp => v.to_ascii_lowercase(),
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => match v.parse::<IpAddr>() {
                Ok(ip) => ip.to_string(),
                Err(_) => v.to_ascii_lowercase(),
            },
            IndicatorKind::Cidr => normalize_cidr(v).unwrap_or_else(|| v.to_ascii_lowercase()),
            IndicatorKind::Url => normalize_url_head(v),
            IndicatorKind::Cve
            | IndicatorKind::Technique
            | IndicatorKind::Tactic
            | IndicatorKind::Mitigation => v.to_ascii_uppercase(),
            IndicatorKind::Asn => {
                let digits: String = v.chars().filter(char::is_ascii_digit).collect();
                format!("AS{digits}")
            }
            IndicatorKind::CertSerial => {
                crate::serial::canonical_hex(v).unwrap_or_else(|| v.to_ascii_lowercase())
            }
            k if k.is_hex() => v
                .chars()
                .filter(|c| !matches!(c, ':' | ' ' | '-'))
                .flat_map(|c| c.to_lowercase())
                .collect(),
            IndicatorKind::Jarm | IndicatorKind::Ja4 => v.to_ascii_lowercase(),
            IndicatorKind::Mac => normalize_mac(v).unwrap_or_else(|| v.to_ascii_lowercase()),
            IndicatorKind::Socket => match split_socket(v) {
                Some((host, port)) => format!("{}:{port}", normalize_host(host)),
                None => v.to_ascii_lowercase(),
            },
            // Quotes and backticks around a path or agent are the writer's.
            IndicatorKind::FilePath | IndicatorKind::Ssdeep => unquote(v).to_string(),
            IndicatorKind::UserAgent => unquote(v).split_whitespace().collect::<Vec<_>>().join(" "),
            IndicatorKind::AnalyticsId => normalize_analytics(v),
            _ => v.to_string(),
        }
    }

    /// Best guess at the kind of a clean (already refanged) value, for lists
    /// that give one value per line without saying what it is. Bare 32/40/64
    /// hex strings are taken as file hashes; context that says otherwise
    /// (a heading, a column name) belongs to the caller.
    pub fn detect(value: &str) -> Option<IndicatorKind> {
        let v = value.trim().trim_end_matches('.');
        if v.is_empty() || v.contains(char::is_whitespace) {
            return None;
        }
        if v.parse::<Ipv4Addr>().is_ok() {
            return Some(IndicatorKind::Ipv4);
        }
        if v.parse::<Ipv6Addr>().is_ok() {
            return Some(IndicatorKind::Ipv6);
        }
        if normalize_cidr(v).is_some() {
            return Some(IndicatorKind::Cidr);
        }
        let lower = v.to_ascii_lowercase();
        if let Some((scheme, rest)) = lower.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '.' || c == '-')
            && !rest.is_empty()
        {
            return Some(IndicatorKind::Url);
        }
        if lower.starts_with("cve-") && lower[4..].split('-').count() == 2 {
            return Some(IndicatorKind::Cve);
        }
        let compact: String = v.chars().filter(|c| *c != ':').collect();
        if compact.chars().all(|c| c.is_ascii_hexdigit()) {
            return match compact.len() {
                32 => Some(IndicatorKind::Md5),
                40 => Some(IndicatorKind::Sha1),
                64 => Some(IndicatorKind::Sha256),
                128 => Some(IndicatorKind::Sha512),
                62 if !v.contains(':') => Some(IndicatorKind::Jarm),
                _ => None,
            };
        }
        if let Some((local, host)) = v.rsplit_once('@') {
            return (!local.is_empty() && looks_like_hostname(host))
                .then_some(IndicatorKind::Email);
        }
        if looks_like_hostname(v) {
            return Some(IndicatorKind::Domain);
        }
        None
    }

    /// A STIX 2.1 pattern matching this value. Kinds STIX has no object
    /// for use a custom (`x-`) object, as the STIX 2.1 patterning grammar
    /// allows; a file path is a `directory` when it ends in a separator, else
    /// a `file` name with its parent directory; a socket is a
    /// `network-traffic` destination and port.
    pub fn stix_pattern(self, value: &str) -> String {
        let esc = stix_quote(value);
        let path = match self {
            IndicatorKind::Domain => "domain-name:value",
            IndicatorKind::Ipv4 => "ipv4-addr:value",
            IndicatorKind::Ipv6 => "ipv6-addr:value",
            IndicatorKind::Cidr if value.contains(':') => "ipv6-addr:value",
            IndicatorKind::Cidr => "ipv4-addr:value",
            IndicatorKind::Url => "url:value",
            IndicatorKind::Email => "email-addr:value",
            IndicatorKind::Md5 => "file:hashes.MD5",
            IndicatorKind::Sha1 => "file:hashes.'SHA-1'",
            IndicatorKind::Sha256 => "file:hashes.'SHA-256'",
            IndicatorKind::Sha512 => "file:hashes.'SHA-512'",
            IndicatorKind::CertSha1 => "x509-certificate:hashes.'SHA-1'",
            IndicatorKind::CertSha256 => "x509-certificate:hashes.'SHA-256'",
            IndicatorKind::CertSerial => "x509-certificate:serial_number",
            IndicatorKind::FileName => "file:name",
            IndicatorKind::RegistryKey => "windows-registry-key:key",
            IndicatorKind::Asn => "autonomous-system:number",
            IndicatorKind::Ja3 => "network-traffic:extensions.'x-ja3'",
            IndicatorKind::Ja3s => "network-traffic:extensions.'x-ja3s'",
            IndicatorKind::Ja4 => "network-traffic:extensions.'x-ja4'",
            IndicatorKind::Jarm => "network-traffic:extensions.'x-jarm'",
            IndicatorKind::Cve => "vulnerability:name",
            IndicatorKind::Technique => "attack-pattern:external_references[*].external_id",
            IndicatorKind::Btc => "x-cryptocurrency-wallet:address",
            IndicatorKind::Xmr => "x-cryptocurrency-wallet:address",
            IndicatorKind::FilePath => return file_path_pattern(value),
            IndicatorKind::UserAgent => {
                "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
            }
            IndicatorKind::Mac => "mac-addr:value",
            IndicatorKind::Socket => match split_socket(value) {
                Some((host, port)) => {
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    return format!(
                        "[network-traffic:dst_ref.value = '{}' AND network-traffic:dst_port = {port}]",
                        stix_quote(host)
                    );
                }
                None => "x-socket:value",
            },
            IndicatorKind::Ssdeep => "file:hashes.SSDEEP",
            IndicatorKind::Imphash => "file:extensions.'windows-pebinary-ext'.imphash",
            // Not in STIX's hash vocabulary: a custom hash name, which the
            // OASIS validator accepts (no error, even in strict mode).
            IndicatorKind::Authentihash => "file:hashes.'x-authentihash'",
            IndicatorKind::Xmpp => {
                // `jabber` is not in account-type-ov, an open vocabulary.
                return format!(
                    "[user-account:account_login = '{esc}' AND user-account:account_type = 'jabber']"
                );
            }
            IndicatorKind::AnalyticsId => "x-cairn-analytics-id:value",
            // ATT&CK's own object types: tactics are `x-mitre-tactic`,
            // mitigations `course-of-action` (as techniques are
            // `attack-pattern` above).
            IndicatorKind::Tactic => "x-mitre-tactic:external_references[*].external_id",
            IndicatorKind::Mitigation => "course-of-action:external_references[*].external_id",
        };
        format!("[{path} = '{esc}']")
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IndicatorKind {
    type Err = String;
    /// Accepts Cairn's names plus the common aliases of MISP and CSV feeds
    /// (`ip-dst`, `hostname`, `sha-256`, `x509-fingerprint-sha256`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('_', "-");
        if let Some(k) = ALL.iter().find(|k| k.as_str() == t) {
            return Ok(*k);
        }
        Ok(match t.as_str() {
            "hostname" | "host" | "domain-name" | "fqdn" | "dns" => IndicatorKind::Domain,
            "ip" | "ip-dst" | "ip-src" | "ipv4-addr" | "ip-address" | "ipaddress" => {
                IndicatorKind::Ipv4
            }
            "ipv6-addr" => IndicatorKind::Ipv6,
            "ip-range" | "network" | "subnet" | "prefix" => IndicatorKind::Cidr,
            "uri" | "link" => IndicatorKind::Url,
            "email-addr" | "email-src" | "email-dst" | "e-mail" | "mail" => IndicatorKind::Email,
            "sha-1" => IndicatorKind::Sha1,
            "sha-256" => IndicatorKind::Sha256,
            "sha-512" => IndicatorKind::Sha512,
            "x509-fingerprint-sha1" | "cert-sha-1" => IndicatorKind::CertSha1,
            "x509-fingerprint-sha256" | "cert-sha-256" | "tls-certificate" => {
                IndicatorKind::CertSha256
            }
            "x509-serial" | "serial" | "serial-number" => IndicatorKind::CertSerial,
            "ja3-fingerprint-md5" | "ja3-fingerprint" => IndicatorKind::Ja3,
            "ja3s-fingerprint-md5" => IndicatorKind::Ja3s,
            "jarm-fingerprint" => IndicatorKind::Jarm,
            "filename" | "file" => IndicatorKind::FileName,
            "regkey" | "registry" => IndicatorKind::RegistryKey,
            "vulnerability" => IndicatorKind::Cve,
            "attack-pattern" | "mitre-attack" => IndicatorKind::Technique,
            "as" | "autonomous-system" => IndicatorKind::Asn,
            "btc" | "bitcoin" => IndicatorKind::Btc,
            "xmr" | "monero" => IndicatorKind::Xmr,
            "ja4-fingerprint" => IndicatorKind::Ja4,
            "filepath" | "full-path" => IndicatorKind::FilePath,
            "useragent" | "http-user-agent" => IndicatorKind::UserAgent,
            "mac-address" | "mac" | "macaddress" => IndicatorKind::Mac,
            "ip-port" | "ip-dst|port" | "ip-src|port" | "hostname|port" | "host-port" => {
                IndicatorKind::Socket
            }
            "fuzzy-hash" => IndicatorKind::Ssdeep,
            "import-hash" => IndicatorKind::Imphash,
            "authenticode-hash" => IndicatorKind::Authentihash,
            "jabber-id" | "jabber" | "jid" | "xmpp-address" => IndicatorKind::Xmpp,
            "google-analytics-id" | "adsense-publisher-id" | "tracking-id" => {
                IndicatorKind::AnalyticsId
            }
            "attack-tactic" | "mitre-tactic" | "x-mitre-tactic" => IndicatorKind::Tactic,
            "attack-mitigation" | "course-of-action" => IndicatorKind::Mitigation,
            _ => return Err(format!("unknown indicator type `{s}`")),
        })
    }
}

/// A value for a STIX pattern's quoted string: `\\` and `'` escaped.
fn stix_quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\'")
}

/// `[directory:path = …]` for a path ending in a separator, else the file's
/// name and its parent directory.
fn file_path_pattern(value: &str) -> String {
    let v = unquote(value.trim());
    let is_sep = |c: char| c == '\\' || c == '/';
    let dir = |d: &str| {
        // A root keeps its separator (`/`, `C:\`).
        let t = d.trim_end_matches(is_sep);
        if t.is_empty() || t.ends_with(':') {
            d[..(t.len() + 1).min(d.len())].to_string()
        } else {
            t.to_string()
        }
    };
    if v.ends_with(is_sep) {
        return format!("[directory:path = '{}']", stix_quote(&dir(v)));
    }
    match v.rfind(is_sep) {
        Some(i) => format!(
            "[file:name = '{}' AND file:parent_directory_ref.path = '{}']",
            stix_quote(&v[i + 1..]),
            stix_quote(&dir(&v[..=i]))
        ),
        None => format!("[file:name = '{}']", stix_quote(v)),
    }
}

/// The value without quotes or backticks around it.
fn unquote(v: &str) -> &str {
    v.trim_matches(|c: char| matches!(c, '"' | '\'' | '`') || c.is_whitespace())
}

/// A MAC address in lower-case colon form, from `00:1A:2B:3C:4D:5E`,
/// `00-1a-2b-3c-4d-5e` or `001a.2b3c.4d5e`; `None` for anything else.
fn normalize_mac(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let ok = match b.len() {
        17 => {
            let sep = *b.get(2)?;
            (sep == b':' || sep == b'-')
                && b.iter().enumerate().all(|(i, c)| {
                    if i % 3 == 2 {
                        *c == sep
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }
        14 => b.iter().enumerate().all(|(i, c)| {
            if i % 5 == 4 {
                *c == b'.'
            } else {
                c.is_ascii_hexdigit()
            }
        }),
        _ => false,
    };
    if !ok {
        return None;
    }
    let hex: Vec<u8> = b
        .iter()
        .filter(|c| c.is_ascii_hexdigit())
        .map(u8::to_ascii_lowercase)
        .collect();
    let pairs: Vec<&str> = hex
        .chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    Some(pairs.join(":"))
}

/// The host and port of a socket value: `1.2.3.4:443`, `[2001:db8::1]:8443`,
/// `evil.com:8080`, or MISP's `1.2.3.4|443`. The host keeps IPv6 brackets;
/// the port is 1–65535. `None` when there is no port, or when an IPv6 host
/// is not bracketed (`2001:db8::1:443` cannot be read).
pub fn split_socket(value: &str) -> Option<(&str, u16)> {
    let v = value.trim();
    let (host, port) = v.rsplit_once('|').or_else(|| v.rsplit_once(':'))?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) {
        return None;
    }
    Some((host, port))
}

/// A socket's host in canonical form: addresses in their standard text
/// form (IPv6 bracketed), names lower-case without a trailing dot.
fn normalize_host(host: &str) -> String {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => format!("[{ip}]"),
            Err(_) => format!("[{}]", inner.to_ascii_lowercase()),
        };
    }
    match host.parse::<Ipv4Addr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.trim_end_matches('.').to_ascii_lowercase(),
    }
}

/// Google ids upper-case (`UA-…`, `G-…`, `GTM-…`); an AdSense publisher id
/// as `pub-…`, the `ca-` prefix (the ad client's spelling of the same
/// account) dropped so both spellings are one value.
fn normalize_analytics(v: &str) -> String {
    let lower = v.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("ca-pub-") {
        return format!("pub-{rest}");
    }
    if lower.starts_with("pub-") {
        return lower;
    }
    v.to_ascii_uppercase()
}

/// Network address, canonical (host bits cleared), or `None` if not CIDR.
fn normalize_cidr(v: &str) -> Option<String> {
    let (addr, len) = v.split_once('/')?;
    let len: u8 = len.parse().ok()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Some(format!("{}/{len}", Ipv4Addr::from(u32::from(a) & mask)))
        }
        IpAddr::V6(a) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            Some(format!("{}/{len}", Ipv6Addr::from(u128::from(a) & mask)))
        }
        _ => None,
    }
}

/// The host of a URL as written: no scheme, userinfo, port or brackets
/// (`https://u@[2001:db8::1]:8443/x` → `2001:db8::1`); a value without a
/// scheme is read from its start. `None` when there is no host.
pub fn url_host(url: &str) -> Option<&str> {
    let v = url.trim();
    let rest = v.split_once("://").map_or(v, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let host = match auth.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => auth.split(':').next().unwrap_or(auth),
    };
    (!host.is_empty()).then_some(host)
}

/// Lower-cases a URL's scheme and host; the path is kept as given (the hunt
/// engine applies the full normalization when it compares).
fn normalize_url_head(v: &str) -> String {
    let Some((scheme, rest)) = v.split_once("://") else {
        return v.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase(),
        tail
    )
}

/// A syntactically plausible host name with an alphabetic last label. The
/// public-suffix check lives in the extractor, which needs it for prose.
fn looks_like_hostname(v: &str) -> bool {
    let v = v.trim_end_matches('.');
    if v.len() > 253 || !v.contains('.') {
        return false;
    }
    let labels: Vec<&str> = v.split('.').collect();
    let ok_labels = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    });
    let tld = labels.last().copied().unwrap_or("");
    ok_labels && tld.len() >= 2 && (tld.chars().all(char::is_alphabetic) || tld.starts_with("xn--"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    #[test]
    fn every_kind_has_one_name_in_json_text_and_parsing() {
        // Warninglists keep kinds in a 64-bit mask.
        assert!(IndicatorKind::all().len() <= 64);
        for &k in IndicatorKind::all() {
            let json = serde_json::to_string(&k).expect("serialises");
            assert_eq!(json, format!("\"{}\"", k.as_str()), "{k:?}");
            assert_eq!(k.as_str().parse::<IndicatorKind>().ok(), Some(k), "{k:?}");
            let back: IndicatorKind = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, k);
        }
    }

    #[test]
    fn detects_kinds() {
        let cases = [
            ("kb.dga.asia", Some(K::Domain)),
            ("R77wu4s847.sibersystems.xyz", Some(K::Domain)),
            ("1.13.82.101", Some(K::Ipv4)),
            ("2001:db8::1", Some(K::Ipv6)),
            ("10.0.0.0/8", Some(K::Cidr)),
            ("https://evil.com/a", Some(K::Url)),
            ("a@evil.com", Some(K::Email)),
            ("d41d8cd98f00b204e9800998ecf8427e", Some(K::Md5)),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Some(K::Sha1)),
            (
                "f8cd64625f8964239dad1b2ce7372d7a293196455db7c6b5467f7770fd664a61",
                Some(K::Sha256),
            ),
            ("CVE-2021-44228", Some(K::Cve)),
            ("hello", None),
            ("1.2.3", None),
            ("", None),
            ("two words.com", None),
        ];
        for (v, want) in cases {
            assert_eq!(IndicatorKind::detect(v), want, "{v}");
        }
    }

    #[test]
    fn normalizes() {
        assert_eq!(K::Domain.normalize("KB.Dga.Asia."), "kb.dga.asia");
        assert_eq!(K::CertSha1.normalize("AB:CD:EF"), "abcdef");
        assert_eq!(K::CertSerial.normalize("00:8F:0A"), "8f0a");
        assert_eq!(K::Cidr.normalize("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(K::Ipv6.normalize("2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(K::Url.normalize("HXXP://EVIL.com/A"), "hxxp://evil.com/A");
        assert_eq!(K::Asn.normalize("as13335"), "AS13335");
    }

    #[test]
    fn normalizes_new_kinds() {
        for mac in ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e"] {
            assert_eq!(K::Mac.normalize(mac), "00:1a:2b:3c:4d:5e", "{mac}");
        }
        // Not a MAC: kept (lower-cased), never mangled into one.
        assert_eq!(K::Mac.normalize("00:1A:2B"), "00:1a:2b");
        assert_eq!(K::Mac.normalize("00:1a-2b:3c:4d:5e"), "00:1a-2b:3c:4d:5e");
        assert_eq!(K::Socket.normalize("1.2.3.4:0443"), "1.2.3.4:443");
        assert_eq!(K::Socket.normalize("Evil.COM.:8080"), "evil.com:8080");
        assert_eq!(
            K::Socket.normalize("[2001:DB8:0::1]:8443"),
            "[2001:db8::1]:8443"
        );
        assert_eq!(K::Socket.normalize("1.2.3.4|443"), "1.2.3.4:443");
        assert_eq!(
            K::UserAgent.normalize("\"Mozilla/5.0  (Windows NT 10.0;\tWin64)\" "),
            "Mozilla/5.0 (Windows NT 10.0; Win64)"
        );
        assert_eq!(
            K::FilePath.normalize("`C:\\Users\\Public\\x.exe`"),
            "C:\\Users\\Public\\x.exe"
        );
        assert_eq!(
            K::Imphash.normalize("F34D5F2D4577ED6D9CEEC516C1F5A744"),
            "f34d5f2d4577ed6d9ceec516c1f5a744"
        );
        assert_eq!(K::Authentihash.normalize("AB:CD"), "abcd");
        assert_eq!(
            K::Xmpp.normalize("Operator@Jabber.RU"),
            "operator@jabber.ru"
        );
        assert_eq!(K::AnalyticsId.normalize("ua-12345678-1"), "UA-12345678-1");
        assert_eq!(K::AnalyticsId.normalize("gtm-abc123"), "GTM-ABC123");
        assert_eq!(
            K::AnalyticsId.normalize("ca-pub-1234567890123456"),
            "pub-1234567890123456"
        );
        assert_eq!(K::Tactic.normalize("ta0001"), "TA0001");
        assert_eq!(K::Mitigation.normalize("m1036"), "M1036");
        // ssdeep is base64: case matters.
        let fuzzy = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO";
        assert_eq!(K::Ssdeep.normalize(fuzzy), fuzzy);
    }

    #[test]
    fn sockets_split() {
        assert_eq!(split_socket("1.2.3.4:443"), Some(("1.2.3.4", 443)));
        assert_eq!(
            split_socket("[2001:db8::1]:8443"),
            Some(("[2001:db8::1]", 8443))
        );
        assert_eq!(split_socket("evil.com:8080"), Some(("evil.com", 8080)));
        for bad in [
            "1.2.3.4",
            "1.2.3.4:0",
            "1.2.3.4:65536",
            "2001:db8::1:443",
            ":80",
            "a.com:x",
        ] {
            assert_eq!(split_socket(bad), None, "{bad}");
        }
    }

    #[test]
    fn stix_patterns_of_new_kinds() {
        let cases = [
            (
                K::FilePath,
                "C:\\Users\\Public\\svchost.exe",
                "[file:name = 'svchost.exe' AND file:parent_directory_ref.path = 'C:\\\\Users\\\\Public']",
            ),
            (
                K::FilePath,
                "C:\\x.exe",
                "[file:name = 'x.exe' AND file:parent_directory_ref.path = 'C:\\\\']",
            ),
            (K::FilePath, "/tmp/.x/", "[directory:path = '/tmp/.x']"),
            (
                K::FilePath,
                "/etc/cron.d/job",
                "[file:name = 'job' AND file:parent_directory_ref.path = '/etc/cron.d']",
            ),
            (
                K::FilePath,
                "/bin",
                "[file:name = 'bin' AND file:parent_directory_ref.path = '/']",
            ),
            (
                K::UserAgent,
                "curl/7.68.0",
                "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'curl/7.68.0']",
            ),
            (
                K::Mac,
                "00:1a:2b:3c:4d:5e",
                "[mac-addr:value = '00:1a:2b:3c:4d:5e']",
            ),
            (
                K::Socket,
                "1.2.3.4:443",
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 443]",
            ),
            (
                K::Socket,
                "[2001:db8::1]:8443",
                "[network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:dst_port = 8443]",
            ),
            (K::Ssdeep, "3:a:b", "[file:hashes.SSDEEP = '3:a:b']"),
            (
                K::Imphash,
                "f34d",
                "[file:extensions.'windows-pebinary-ext'.imphash = 'f34d']",
            ),
            (
                K::Authentihash,
                "ab",
                "[file:hashes.'x-authentihash' = 'ab']",
            ),
            (
                K::Xmpp,
                "o'x@jabber.ru",
                "[user-account:account_login = 'o\\'x@jabber.ru' AND user-account:account_type = 'jabber']",
            ),
            (
                K::AnalyticsId,
                "UA-1-1",
                "[x-cairn-analytics-id:value = 'UA-1-1']",
            ),
            (
                K::Tactic,
                "TA0001",
                "[x-mitre-tactic:external_references[*].external_id = 'TA0001']",
            ),
            (
                K::Mitigation,
                "M1036",
                "[course-of-action:external_references[*].external_id = 'M1036']",
            ),
        ];
        for (k, v, want) in cases {
            assert_eq!(k.stix_pattern(v), want, "{k} {v}");
        }
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://u@[2001:db8::1]:8443/x"),
            Some("2001:db8::1")
        );
        assert_eq!(url_host("http://Evil.com:80/a?b#c"), Some("Evil.com"));
        assert_eq!(url_host("evil.com/path"), Some("evil.com"));
        assert_eq!(url_host("http:///path"), None);
    }

    #[test]
    fn names_round_trip() {
        for k in IndicatorKind::all() {
            assert_eq!(k.as_str().parse::<IndicatorKind>(), Ok(*k));
        }
        assert_eq!("ip-dst".parse::<IndicatorKind>(), Ok(K::Ipv4));
        assert_eq!(
            "x509-fingerprint-sha256".parse::<IndicatorKind>(),
            Ok(K::CertSha256)
        );
        // MISP's names for the newer kinds.
        for (name, k) in [
            ("mac-address", K::Mac),
            ("user-agent", K::UserAgent),
            ("ssdeep", K::Ssdeep),
            ("imphash", K::Imphash),
            ("authentihash", K::Authentihash),
            ("jabber-id", K::Xmpp),
            ("ja4-fingerprint", K::Ja4),
            ("ip-dst|port", K::Socket),
            ("mac-addr", K::Mac),
            ("file_path", K::FilePath),
            ("analytics-id", K::AnalyticsId),
            ("tactic", K::Tactic),
            ("mitigation", K::Mitigation),
        ] {
            assert_eq!(name.parse::<IndicatorKind>(), Ok(k), "{name}");
        }
        assert!("mac-eui-64".parse::<IndicatorKind>().is_err());
        // Every kind has a distinct name.
        let names: std::collections::BTreeSet<&str> =
            IndicatorKind::all().iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), IndicatorKind::all().len());
    }
}
