use crate::errors::WarningListError;
use cairn_model::IndicatorKind;
use hashbrown::HashMap;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::Deserialize;
use std::borrow::Cow;
use std::net::IpAddr;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A MISP warninglist `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListType {
    /// Whole-value match.
    String,
    /// Host name and its subdomains.
    Hostname,
    /// Entry found anywhere in the value.
    Substring,
    /// Address or network inside a listed network.
    Cidr,
    /// PCRE-style regular expression.
    Regex,
}

impl ListType {
    /// MISP's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::String => "string",
            ListType::Hostname => "hostname",
            ListType::Substring => "substring",
            ListType::Cidr => "cidr",
            ListType::Regex => "regex",
        }
    }
}

/// How a value met a list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchRule {
    /// The value equals the entry.
    Exact,
    /// The value is a subdomain of the entry (or a URL whose host is).
    Subdomain,
    /// The address or network lies inside the entry's network.
    Cidr,
    /// The entry occurs inside the value.
    Substring,
    /// The entry's regular expression matches the value.
    Regex,
}

/// What one loaded list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInfo {
    /// The caller's short name for the list (e.g. its folder, `rfc1918`).
    pub id: String,
    /// The list's own `name` (falls back to `id`).
    pub name: String,
    /// The list's type.
    pub list_type: ListType,
    /// Number of usable entries.
    pub entries: usize,
    /// Entries that could not be read for the list's type and were skipped.
    pub skipped: usize,
    /// Kinds the list applies to (from `matching_attributes`); empty = every kind.
    pub kinds: Vec<IndicatorKind>,
}

/// The list that covers a value, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHit {
    /// The list's name (its `name` member, or the caller's hint).
    pub list: String,
    /// The caller's short name for the list.
    pub list_id: String,
    /// The entry that matched, as normalised.
    pub entry: String,
    /// How it matched.
    pub rule: MatchRule,
}

#[derive(Deserialize)]
struct Doc {
    name: Option<String>,
    #[serde(rename = "type")]
    list_type: Option<String>,
    #[serde(default)]
    matching_attributes: Vec<String>,
    list: Vec<serde_json::Value>,
}

/// One list id set per entry: entries shared by several lists keep each list.
type Ids = Vec<u16>;

/// A set of MISP warninglists, checked together.
#[derive(Debug, Default)]
pub struct WarningLists {
    lists: Vec<ListInfo>,
    /// Bit `k` set in `applies[list]` when the list applies to kind `k`.
    applies: Vec<u64>,
    exact: Map<String, Ids>,
    hostname: Map<String, Ids>,
    v4: PrefixMap<Ipv4Net, Ids>,
    v6: PrefixMap<Ipv6Net, Ids>,
    substrings: Vec<(String, u16)>,
    regexes: Vec<(regex::Regex, u16)>,
}

/// One bit per kind: 64 bits, as kinds are more than 32.
fn kind_bit(kind: IndicatorKind) -> u64 {
    let pos = IndicatorKind::all()
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(0);
    1u64 << (pos % 64)
}

/// The kinds a MISP attribute type stands for.
fn kinds_of_attribute(attr: &str) -> &'static [IndicatorKind] {
    use IndicatorKind as K;
    match attr.trim().to_ascii_lowercase().as_str() {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" | "ip" => &[K::Ipv4, K::Ipv6, K::Cidr],
        "domain|ip" => &[K::Domain, K::Ipv4, K::Ipv6, K::Cidr],
        "domain" | "hostname" | "hostname|port" => &[K::Domain],
        "url" | "uri" | "link" => &[K::Url],
        "email"
        | "email-src"
        | "email-dst"
        | "target-email"
        | "whois-registrant-email"
        | "dns-soa-email"
        | "email-reply-to" => &[K::Email],
        "md5" | "filename|md5" => &[K::Md5],
        "sha1" | "filename|sha1" => &[K::Sha1],
        "sha256" | "filename|sha256" => &[K::Sha256],
        "sha512" | "filename|sha512" => &[K::Sha512],
        "x509-fingerprint-sha1" => &[K::CertSha1],
        "x509-fingerprint-sha256" => &[K::CertSha256],
        "ja3-fingerprint-md5" => &[K::Ja3],
        "jarm-fingerprint" => &[K::Jarm],
        "filename" => &[K::FileName],
        "regkey" => &[K::RegistryKey],
        "as" => &[K::Asn],
        "btc" => &[K::Btc],
        "xmr" => &[K::Xmr],
        "vulnerability" => &[K::Cve],
        "user-agent" => &[K::UserAgent],
        "mac-address" => &[K::Mac],
        "ssdeep" | "filename|ssdeep" => &[K::Ssdeep],
        "imphash" | "filename|imphash" => &[K::Imphash],
        "authentihash" | "filename|authentihash" => &[K::Authentihash],
        "jabber-id" => &[K::Xmpp],
        _ => &[],
    }
}

/// Lower-case, no trailing dot, IDNA to punycode. `None` if IDNA refuses it.
pub(crate) fn normalize_host(host: &str) -> Option<Cow<'_, str>> {
    let h = host.trim().trim_end_matches('.');
    if h.is_ascii() {
        if h.bytes().any(|b| b.is_ascii_uppercase()) {
            Some(Cow::Owned(h.to_ascii_lowercase()))
        } else {
            Some(Cow::Borrowed(h))
        }
    } else {
        idna::domain_to_ascii(h).ok().map(Cow::Owned)
    }
}

/// The host of a URL (no userinfo, port, path), normalised.
fn url_host(url: &str) -> Option<Cow<'_, str>> {
    cairn_model::url_host(url).and_then(normalize_host)
}

/// The comparison form of a value for exact (`string`) lists.
fn exact_form(kind: IndicatorKind, value: &str) -> String {
    match kind {
        IndicatorKind::Domain => {
            normalize_host(value).map_or_else(|| value.to_lowercase(), |c| c.into_owned())
        }
        k if k.is_hex() => k.normalize(value),
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => kind.normalize(value),
        _ => value.trim().to_lowercase(),
    }
}

/// Parses `/pattern/flags` (PHP's PCRE form) into a Rust regex.
fn parse_regex(entry: &str) -> Result<regex::Regex, String> {
    let (pattern, flags) = match entry.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (entry, ""),
    };
    let mut b = regex::RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f {
            'i' => b.case_insensitive(true),
            'm' => b.multi_line(true),
            's' => b.dot_matches_new_line(true),
            'x' => b.ignore_whitespace(true),
            'g' | 'u' | 'D' | 'U' => &mut b,
            other => return Err(format!("unsupported flag `{other}`")),
        };
    }
    b.size_limit(1 << 20).build().map_err(|e| e.to_string())
}

fn parse_net(entry: &str) -> Option<IpNet> {
    let e = entry.trim();
    if let Ok(n) = e.parse::<IpNet>() {
        return Some(n.trunc());
    }
    e.parse::<IpAddr>().ok().map(IpNet::from)
}

impl WarningLists {
    /// An empty set.
    pub fn new() -> WarningLists {
        WarningLists::default()
    }

    /// The small default set Cairn carries without any feed: RFC 1918 private
    /// ranges, loopback, link-local, shared (CGNAT), documentation and
    /// unspecified ranges (IPv4 and IPv6), and the reserved example and test
    /// domains (`example.com`, `.test`, `localhost` …).
    pub fn builtin() -> WarningLists {
        let mut wl = WarningLists::new();
        for (id, json) in crate::builtin::LISTS {
            // The embedded documents are tested below; a failure is a build bug,
            // so it is skipped rather than panicking at run time.
            let _ = wl.add_json(id, json);
        }
        wl
    }

    /// Adds one MISP `list.json` document. `name_hint` names the list when the
    /// document has no `name` (use its folder name). Entries that do not parse
    /// for the list's type (a CIDR list holding a host name) are skipped and
    /// counted in [`ListInfo::skipped`]; an invalid regex is an error.
    pub fn add_json(&mut self, name_hint: &str, json: &str) -> Result<(), WarningListError> {
        let doc: Doc = serde_json::from_str(json).map_err(|e| WarningListError::Parse {
            list: name_hint.to_string(),
            reason: e.to_string(),
        })?;
        let name = doc
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| name_hint.to_string());
        let type_str = doc.list_type.as_deref().unwrap_or("string");
        let list_type = match type_str.trim().to_ascii_lowercase().as_str() {
            "string" => ListType::String,
            "hostname" => ListType::Hostname,
            "substring" => ListType::Substring,
            "cidr" => ListType::Cidr,
            "regex" => ListType::Regex,
            other => {
                return Err(WarningListError::UnknownType {
                    list: name,
                    found: other.to_string(),
                });
            }
        };
        let id = u16::try_from(self.lists.len()).map_err(|_| WarningListError::Parse {
            list: name.clone(),
            reason: "more than 65535 lists loaded".into(),
        })?;
        let mut kinds: Vec<IndicatorKind> = doc
            .matching_attributes
            .iter()
            .flat_map(|a| kinds_of_attribute(a).iter().copied())
            .collect();
        kinds.sort();
        kinds.dedup();
        let applies = if doc.matching_attributes.is_empty() {
            u64::MAX
        } else {
            kinds.iter().fold(0, |acc, k| acc | kind_bit(*k))
        };

        // Parse everything first so that a bad document leaves `self` unchanged.
        let mut entries = 0usize;
        let mut skipped = 0usize;
        let mut exact = Vec::new();
        let mut host = Vec::new();
        let mut nets = Vec::new();
        let mut subs = Vec::new();
        let mut res = Vec::new();
        for (index, v) in doc.list.iter().enumerate() {
            let Some(raw) = v.as_str() else {
                skipped += 1;
                continue;
            };
            let entry = raw.trim();
            if entry.is_empty() {
                skipped += 1;
                continue;
            }
            match list_type {
                ListType::String => {
                    if let Some(dom) = entry.strip_prefix('.') {
                        match normalize_host(dom) {
                            Some(h) if !h.is_empty() => host.push(h.into_owned()),
                            _ => {
                                skipped += 1;
                                continue;
                            }
                        }
                    } else {
                        let lower = entry.trim_end_matches('.').to_lowercase();
                        // A string list of hex values matches colon-less forms.
                        let key = if lower.contains(':')
                            && lower.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
                            && lower.parse::<IpAddr>().is_err()
                        {
                            lower.replace(':', "")
                        } else if let Ok(ip) = lower.parse::<IpAddr>() {
                            ip.to_string()
                        } else {
                            normalize_host(&lower).map_or(lower.clone(), |c| c.into_owned())
                        };
                        exact.push(key);
                    }
                }
                ListType::Hostname => {
                    let dom = entry.trim_start_matches("*.").trim_start_matches('.');
                    if let Ok(ip) = dom.parse::<IpAddr>() {
                        exact.push(ip.to_string());
                    } else {
                        match normalize_host(dom) {
                            Some(h) if !h.is_empty() => host.push(h.into_owned()),
                            _ => {
                                skipped += 1;
                                continue;
                            }
                        }
                    }
                }
                ListType::Substring => subs.push(entry.to_lowercase()),
                ListType::Cidr => match parse_net(entry) {
                    Some(n) => nets.push(n),
                    None => {
                        skipped += 1;
                        continue;
                    }
                },
                ListType::Regex => {
                    let re = parse_regex(entry).map_err(|reason| WarningListError::BadEntry {
                        list: name.clone(),
                        index,
                        entry: entry.to_string(),
                        expected: "regex",
                        reason,
                    })?;
                    res.push(re);
                }
            }
            entries += 1;
        }

        for k in exact {
            push_id(self.exact.entry(k).or_default(), id);
        }
        for k in host {
            push_id(self.hostname.entry(k).or_default(), id);
        }
        for n in nets {
            match n {
                IpNet::V4(n) => push_id(self.v4.entry(n).or_default(), id),
                IpNet::V6(n) => push_id(self.v6.entry(n).or_default(), id),
            }
        }
        self.substrings.extend(subs.into_iter().map(|s| (s, id)));
        self.regexes.extend(res.into_iter().map(|r| (r, id)));
        self.applies.push(applies);
        self.lists.push(ListInfo {
            id: name_hint.to_string(),
            name,
            list_type,
            entries,
            skipped,
            kinds,
        });
        Ok(())
    }

    /// The lists loaded, in load order.
    pub fn lists(&self) -> &[ListInfo] {
        &self.lists
    }

    /// Number of lists loaded.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether no list is loaded.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    fn pick(&self, ids: &[u16], bit: u64) -> Option<u16> {
        ids.iter().copied().find(|id| {
            self.applies
                .get(usize::from(*id))
                .is_some_and(|a| a & bit != 0)
        })
    }

    fn hit(&self, id: u16, entry: &str, rule: MatchRule) -> ListHit {
        let info = &self.lists[usize::from(id)];
        ListHit {
            list: info.name.clone(),
            list_id: info.id.clone(),
            entry: entry.to_string(),
            rule,
        }
    }

    /// The first list that covers `value` of `kind`, if any. Values are
    /// normalised here (case, trailing dot, IDNA, colons in hex), so raw text
    /// is fine.
    pub fn check(&self, kind: IndicatorKind, value: &str) -> Option<ListHit> {
        if self.lists.is_empty() {
            return None;
        }
        let bit = kind_bit(kind);
        let form = exact_form(kind, value);
        if let Some(id) = self
            .exact
            .get(form.as_str())
            .and_then(|ids| self.pick(ids, bit))
        {
            return Some(self.hit(id, &form, MatchRule::Exact));
        }
        // Host names: walk the suffixes at label boundaries.
        let host: Option<Cow<'_, str>> = match kind {
            IndicatorKind::Domain => normalize_host(value),
            IndicatorKind::Url => url_host(value),
            _ => None,
        };
        if let Some(h) = host.as_deref() {
            if kind == IndicatorKind::Url
                && let Some(id) = self.exact.get(h).and_then(|ids| self.pick(ids, bit))
            {
                return Some(self.hit(id, h, MatchRule::Subdomain));
            }
            let mut suffix = h;
            loop {
                if let Some(id) = self
                    .hostname
                    .get(suffix)
                    .and_then(|ids| self.pick(ids, bit))
                {
                    let rule = if suffix.len() == h.len() && kind == IndicatorKind::Domain {
                        MatchRule::Exact
                    } else {
                        MatchRule::Subdomain
                    };
                    return Some(self.hit(id, suffix, rule));
                }
                match suffix.find('.') {
                    Some(i) => suffix = &suffix[i + 1..],
                    None => break,
                }
            }
        }
        // Addresses and networks.
        let net = match kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => parse_net(value),
            IndicatorKind::Url => host
                .as_deref()
                .and_then(|h| h.parse::<IpAddr>().ok())
                .map(IpNet::from),
            _ => None,
        };
        match net {
            Some(IpNet::V4(n)) => {
                for (p, ids) in self.v4.cover(&n) {
                    if let Some(id) = self.pick(ids, bit) {
                        return Some(self.hit(id, &p.to_string(), MatchRule::Cidr));
                    }
                }
            }
            Some(IpNet::V6(n)) => {
                // IPv4-mapped IPv6 addresses are checked as IPv4 as well.
                if n.prefix_len() == 128
                    && let Some(v4) = n.addr().to_ipv4_mapped()
                    && let Some(h) = self.check(IndicatorKind::Ipv4, &v4.to_string())
                {
                    return Some(h);
                }
                for (p, ids) in self.v6.cover(&n) {
                    if let Some(id) = self.pick(ids, bit) {
                        return Some(self.hit(id, &p.to_string(), MatchRule::Cidr));
                    }
                }
            }
            None => {}
        }
        if !self.substrings.is_empty() {
            let lower = value.to_lowercase();
            for (s, id) in &self.substrings {
                if self.applies[usize::from(*id)] & bit != 0 && lower.contains(s.as_str()) {
                    return Some(self.hit(*id, s, MatchRule::Substring));
                }
            }
        }
        for (re, id) in &self.regexes {
            if self.applies[usize::from(*id)] & bit != 0 && re.is_match(value.trim()) {
                return Some(self.hit(*id, re.as_str(), MatchRule::Regex));
            }
        }
        None
    }
}

fn push_id(ids: &mut Ids, id: u16) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    fn wl(id: &str, json: &str) -> WarningLists {
        let mut w = WarningLists::new();
        w.add_json(id, json).unwrap();
        w
    }

    #[test]
    fn hostname_lists_cover_subdomains_only_at_label_boundaries() {
        let w = wl(
            "gh",
            r#"{"name":"GitHub","type":"hostname","matching_attributes":["hostname","domain","url"],"list":["github.com","Bücher.example"]}"#,
        );
        assert_eq!(
            w.check(K::Domain, "github.com").unwrap().rule,
            MatchRule::Exact
        );
        let h = w.check(K::Domain, "WWW.GITHUB.COM.").unwrap();
        assert_eq!((h.list.as_str(), h.rule), ("GitHub", MatchRule::Subdomain));
        assert!(w.check(K::Domain, "notgithub.com").is_none());
        assert!(w.check(K::Domain, "github.com.evil.net").is_none());
        assert!(w.check(K::Domain, "com").is_none());
        assert!(w.check(K::Url, "https://gist.github.com:443/x").is_some());
        assert!(w.check(K::Url, "https://evil.net/github.com").is_none());
        assert!(w.check(K::Domain, "xn--bcher-kva.example").is_some());
        assert!(w.check(K::Domain, "a.bücher.example").is_some());
        // Not for kinds the list does not name.
        assert!(w.check(K::Email, "a@github.com").is_none());
    }

    /// Kinds past the 32nd have their own bit (a `u32` mask overflowed).
    #[test]
    fn every_kind_has_its_bit() {
        let all = wl(
            "any",
            r#"{"name":"Any","type":"string","list":["m1036","curl/7.68.0"]}"#,
        );
        assert!(all.check(K::Mitigation, "M1036").is_some());
        let ua = wl(
            "ua",
            r#"{"name":"UA","type":"string","matching_attributes":["user-agent"],"list":["curl/7.68.0","m1036"]}"#,
        );
        assert!(ua.check(K::UserAgent, "curl/7.68.0").is_some());
        assert!(ua.check(K::Mitigation, "M1036").is_none());
        assert!(ua.check(K::Ipv6, "curl/7.68.0").is_none());
    }

    #[test]
    fn string_lists_are_exact_but_leading_dot_covers_subdomains() {
        let w = wl(
            "g",
            r#"{"name":"Google","type":"string","matching_attributes":["domain","hostname"],"list":[".google.ad","Google.com","AAA"]}"#,
        );
        assert!(w.check(K::Domain, "google.com").is_some());
        assert!(w.check(K::Domain, "www.google.com").is_none());
        assert!(w.check(K::Domain, "www.google.ad").is_some());
        assert!(w.check(K::Domain, "google.ad").is_some());
        assert!(w.check(K::Domain, "aaa").is_some());
        assert!(w.check(K::Domain, "notgoogle.ad").is_none());
    }

    #[test]
    fn cidr_lists_cover_addresses_and_narrower_networks() {
        let w = wl(
            "rfc1918",
            r#"{"name":"RFC1918","type":"cidr","matching_attributes":["ip-src","ip-dst"],"list":["10.0.0.0/8","172.16.0.0/12","2001:db8::/32","8.8.8.8","bogus"]}"#,
        );
        assert_eq!(w.lists()[0].skipped, 1);
        assert!(w.check(K::Ipv4, "10.255.0.1").is_some());
        assert!(w.check(K::Ipv4, "11.0.0.1").is_none());
        assert!(w.check(K::Ipv4, "172.31.255.255").is_some());
        assert!(w.check(K::Ipv4, "172.32.0.0").is_none());
        assert!(w.check(K::Cidr, "10.1.0.0/16").is_some());
        assert!(w.check(K::Cidr, "0.0.0.0/0").is_none());
        assert!(w.check(K::Cidr, "10.0.0.0/7").is_none());
        assert!(w.check(K::Ipv4, "8.8.8.8").is_some());
        assert!(w.check(K::Ipv4, "8.8.8.9").is_none());
        assert!(w.check(K::Ipv6, "2001:DB8:0::1").is_some());
        assert!(w.check(K::Ipv6, "::ffff:10.0.0.1").is_some());
        assert!(w.check(K::Domain, "10.0.0.1.example").is_none());
    }

    #[test]
    fn hash_lists_apply_to_hashes_only_and_ignore_case_and_colons() {
        let w = wl(
            "empty",
            r#"{"name":"Empty","type":"string","matching_attributes":["md5","sha1"],"list":["D41D8CD98F00B204E9800998ECF8427E"]}"#,
        );
        assert!(
            w.check(K::Md5, "d41d8cd98f00b204e9800998ecf8427e")
                .is_some()
        );
        assert!(
            w.check(K::Md5, "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e")
                .is_some()
        );
        assert!(
            w.check(K::Sha256, "d41d8cd98f00b204e9800998ecf8427e")
                .is_none()
        );
    }

    #[test]
    fn substring_and_regex_lists() {
        let mut w = wl(
            "sub",
            r#"{"name":"Sub","type":"substring","matching_attributes":["domain"],"list":["amazonaws"]}"#,
        );
        w.add_json(
            "re",
            r#"{"name":"Contacts","type":"regex","matching_attributes":["email-src"],"list":["/^(security|abuse)\\@.*\\..*$/i"]}"#,
        )
        .unwrap();
        assert!(w.check(K::Domain, "s3.AmazonAWS.com").is_some());
        assert!(w.check(K::Email, "Abuse@evil.com").is_some());
        assert!(w.check(K::Email, "bob@evil.com").is_none());
    }

    #[test]
    fn bad_documents_name_the_list() {
        let mut w = WarningLists::new();
        let e = w.add_json("x", "{").unwrap_err().to_string();
        assert!(e.contains("`x`"), "{e}");
        let e = w
            .add_json("y", r#"{"name":"Why","type":"fuzzy","list":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`Why`") && e.contains("fuzzy"), "{e}");
        let e = w
            .add_json("z", r#"{"name":"Zed","type":"regex","list":["/(/"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`Zed`") && e.contains("entry #0"), "{e}");
        assert!(w.is_empty());
    }

    #[test]
    fn builtin_lists_load_and_cover_reserved_space() {
        let w = WarningLists::builtin();
        assert_eq!(w.len(), crate::builtin::LISTS.len());
        for info in w.lists() {
            assert_eq!(info.skipped, 0, "{}", info.id);
        }
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "192.0.2.5",
            "100.64.0.1",
        ] {
            assert!(w.check(K::Ipv4, ip).is_some(), "{ip}");
        }
        for ip in ["::1", "fe80::1", "2001:db8::5", "fd00::1"] {
            assert!(w.check(K::Ipv6, ip).is_some(), "{ip}");
        }
        for d in [
            "example.com",
            "www.example.org",
            "foo.example.net",
            "x.test",
            "localhost",
        ] {
            assert!(w.check(K::Domain, d).is_some(), "{d}");
        }
        assert!(w.check(K::Ipv4, "45.77.153.197").is_none());
        assert!(w.check(K::Domain, "kb.dga.asia").is_none());
        assert!(w.check(K::Domain, "notexample.com").is_none());
    }

    /// Every published list in the datasets folder loads (`cairn_testkit`:
    /// SKIPPED when absent, a failure under `CAIRN_REQUIRE_DATASETS=1`).
    #[test]
    fn published_lists_load() {
        let Some(dir) = cairn_testkit::dataset("misp-warninglists/lists") else {
            return;
        };
        let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut w = WarningLists::new();
        for e in rd.flatten() {
            let p = e.path().join("list.json");
            let json = std::fs::read_to_string(&p).unwrap();
            let id = e.file_name().to_string_lossy().into_owned();
            w.add_json(&id, &json).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(w.len() > 100);
        assert!(w.check(K::Ipv4, "8.8.8.8").is_some());
        assert!(w.check(K::Domain, "www.google.com").is_some());
        assert!(w.check(K::Domain, "kb.dga.asia").is_none());
    }
}
