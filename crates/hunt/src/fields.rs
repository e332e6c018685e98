//! What a log field holds, by its name: the built-in map of Zeek, ECS and
//! common names, extended by the user (`--field name=type`).

use crate::errors::HuntError;
use std::collections::HashMap;
use std::str::FromStr;

/// What a log field carries, deciding how its value is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A host or domain name (an IP found here is matched as an IP).
    Domain,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A URL (matched whole, and its host against domains and IPs).
    Url,
    /// An e-mail address (`Name <a@b>` forms accepted).
    Email,
    /// A hex hash or fingerprint: MD5, SHA-1/256/512, certificate
    /// fingerprints (any hex indicator matches).
    Hash,
    /// A JA3 or JA3S fingerprint: matches JA3/JA3S indicators only (an MD5
    /// file hash has the same shape but is not the same thing).
    Ja3,
    /// A JARM fingerprint: matches JARM indicators only.
    Jarm,
    /// A JA4-family fingerprint.
    Ja4,
    /// A certificate serial number (hex).
    Serial,
    /// A file name (matched case-blind).
    FileName,
    /// A MAC address (any of the colon, dash or dotted forms).
    Mac,
    /// An HTTP User-Agent header, matched whole.
    UserAgent,
    /// A file path (matched whole, case-blind).
    FilePath,
    /// Decide from the value's shape (IP, domain, URL, hash, e-mail).
    Auto,
    /// Free text: indicators anywhere inside.
    Text,
    /// Never looked at.
    Ignore,
}

impl FieldType {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Domain => "domain",
            FieldType::Ip => "ip",
            FieldType::Url => "url",
            FieldType::Email => "email",
            FieldType::Hash => "hash",
            FieldType::Ja3 => "ja3",
            FieldType::Jarm => "jarm",
            FieldType::Ja4 => "ja4",
            FieldType::Serial => "serial",
            FieldType::FileName => "file-name",
            FieldType::Mac => "mac",
            FieldType::UserAgent => "user-agent",
            FieldType::FilePath => "file-path",
            FieldType::Auto => "auto",
            FieldType::Text => "text",
            FieldType::Ignore => "ignore",
        }
    }
}

impl FromStr for FieldType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "domain" | "host" | "hostname" | "fqdn" => FieldType::Domain,
            "ip" | "addr" | "ipv4" | "ipv6" | "address" => FieldType::Ip,
            "url" | "uri" => FieldType::Url,
            "email" | "mail" => FieldType::Email,
            "hash" | "md5" | "sha1" | "sha256" | "sha512" | "fingerprint" | "cert-sha1"
            | "cert-sha256" => FieldType::Hash,
            "ja3" | "ja3s" => FieldType::Ja3,
            "jarm" => FieldType::Jarm,
            "ja4" | "ja4s" | "ja4x" | "ja4h" => FieldType::Ja4,
            "serial" | "cert-serial" => FieldType::Serial,
            "file-name" | "filename" | "file" => FieldType::FileName,
            "mac" | "mac-addr" | "mac-address" => FieldType::Mac,
            "user-agent" | "useragent" | "ua" => FieldType::UserAgent,
            "file-path" | "filepath" | "path" => FieldType::FilePath,
            "auto" | "any" => FieldType::Auto,
            "text" => FieldType::Text,
            "ignore" | "none" | "skip" => FieldType::Ignore,
            _ => {
                return Err(format!(
                    "unknown field type `{s}` (expected domain, ip, url, email, hash, ja3, jarm, ja4, serial, file-name, mac, user-agent, file-path, auto, text or ignore)"
                ));
            }
        })
    }
}

/// Built-in names, lower case. Zeek (TSV and JSON), ECS (nested or dotted),
/// Suricata EVE and common proxy/firewall CSV headers.
const BUILTIN: &[(&str, FieldType)] = &[
    // Zeek
    ("id.orig_h", FieldType::Ip),
    ("id.resp_h", FieldType::Ip),
    ("query", FieldType::Domain),
    ("answers", FieldType::Auto),
    ("host", FieldType::Domain),
    ("server_name", FieldType::Domain),
    ("sni", FieldType::Domain),
    ("san.dns", FieldType::Domain),
    ("san.ip", FieldType::Ip),
    ("san.email", FieldType::Email),
    ("certificate.serial", FieldType::Serial),
    ("fingerprint", FieldType::Hash),
    ("cert_chain_fps", FieldType::Hash),
    ("client_cert_chain_fps", FieldType::Hash),
    ("cert_chain_fuids", FieldType::Ignore),
    ("md5", FieldType::Hash),
    ("sha1", FieldType::Hash),
    ("sha256", FieldType::Hash),
    ("sha512", FieldType::Hash),
    ("ja3", FieldType::Ja3),
    ("ja3s", FieldType::Ja3),
    ("jarm", FieldType::Jarm),
    ("ja4", FieldType::Ja4),
    ("ja4s", FieldType::Ja4),
    ("ja4x", FieldType::Ja4),
    ("tx_hosts", FieldType::Ip),
    ("rx_hosts", FieldType::Ip),
    ("filename", FieldType::FileName),
    ("user_agent", FieldType::UserAgent),
    ("mac", FieldType::Mac),
    ("mailfrom", FieldType::Email),
    ("rcptto", FieldType::Email),
    ("from", FieldType::Email),
    ("to", FieldType::Email),
    ("reply_to", FieldType::Email),
    ("referrer", FieldType::Url),
    ("src", FieldType::Ip),
    ("dst", FieldType::Ip),
    // ECS
    ("source.ip", FieldType::Ip),
    ("destination.ip", FieldType::Ip),
    ("client.ip", FieldType::Ip),
    ("server.ip", FieldType::Ip),
    ("source.address", FieldType::Auto),
    ("destination.address", FieldType::Auto),
    ("source.domain", FieldType::Domain),
    ("destination.domain", FieldType::Domain),
    ("client.domain", FieldType::Domain),
    ("server.domain", FieldType::Domain),
    ("related.ip", FieldType::Ip),
    ("related.hosts", FieldType::Domain),
    ("related.hash", FieldType::Hash),
    ("dns.question.name", FieldType::Domain),
    ("dns.answers.data", FieldType::Auto),
    ("dns.answers.name", FieldType::Domain),
    ("dns.resolved_ip", FieldType::Ip),
    ("url.full", FieldType::Url),
    ("url.original", FieldType::Url),
    ("url.domain", FieldType::Domain),
    ("http.request.referrer", FieldType::Url),
    ("tls.server_name", FieldType::Domain),
    ("tls.client.server_name", FieldType::Domain),
    ("tls.server.hash.sha256", FieldType::Hash),
    ("tls.server.hash.sha1", FieldType::Hash),
    ("tls.server.hash.md5", FieldType::Hash),
    ("tls.client.hash.sha256", FieldType::Hash),
    ("tls.client.hash.sha1", FieldType::Hash),
    ("tls.client.hash.md5", FieldType::Hash),
    ("tls.client.ja3", FieldType::Ja3),
    ("tls.server.ja3s", FieldType::Ja3),
    ("tls.client.ja4", FieldType::Ja4),
    ("tls.server.x509.serial_number", FieldType::Serial),
    ("tls.server.x509.alternative_names", FieldType::Domain),
    ("file.hash.md5", FieldType::Hash),
    ("file.hash.sha1", FieldType::Hash),
    ("file.hash.sha256", FieldType::Hash),
    ("file.hash.sha512", FieldType::Hash),
    ("process.hash.md5", FieldType::Hash),
    ("process.hash.sha1", FieldType::Hash),
    ("process.hash.sha256", FieldType::Hash),
    ("file.name", FieldType::FileName),
    ("file.path", FieldType::FilePath),
    ("process.executable", FieldType::FilePath),
    ("process.parent.executable", FieldType::FilePath),
    ("dll.path", FieldType::FilePath),
    ("user_agent.original", FieldType::UserAgent),
    ("source.mac", FieldType::Mac),
    ("destination.mac", FieldType::Mac),
    ("client.mac", FieldType::Mac),
    ("server.mac", FieldType::Mac),
    ("host.mac", FieldType::Mac),
    ("email.from.address", FieldType::Email),
    ("email.to.address", FieldType::Email),
    ("email.sender.address", FieldType::Email),
    ("user.email", FieldType::Email),
    // Suricata EVE and common names
    ("src_ip", FieldType::Ip),
    ("dest_ip", FieldType::Ip),
    ("dst_ip", FieldType::Ip),
    ("dns.rrname", FieldType::Domain),
    ("dns.rdata", FieldType::Auto),
    ("http.hostname", FieldType::Domain),
    ("http.url", FieldType::Url),
    ("tls.sni", FieldType::Domain),
    ("tls.fingerprint", FieldType::Hash),
    ("tls.ja3.hash", FieldType::Ja3),
    ("tls.ja3s.hash", FieldType::Ja3),
    ("fileinfo.sha256", FieldType::Hash),
    ("fileinfo.md5", FieldType::Hash),
    ("url", FieldType::Url),
    ("uri_full", FieldType::Url),
    ("request_url", FieldType::Url),
    ("domain", FieldType::Domain),
    ("hostname", FieldType::Domain),
    ("fqdn", FieldType::Domain),
    ("qname", FieldType::Domain),
    ("dns_query", FieldType::Domain),
    ("ip", FieldType::Ip),
    ("src_addr", FieldType::Ip),
    ("dst_addr", FieldType::Ip),
    ("srcaddr", FieldType::Ip),
    ("dstaddr", FieldType::Ip),
    ("client_ip", FieldType::Ip),
    ("server_ip", FieldType::Ip),
    ("remote_ip", FieldType::Ip),
    ("local_ip", FieldType::Ip),
    ("email", FieldType::Email),
    ("hash", FieldType::Hash),
    ("message", FieldType::Ignore),
    ("msg", FieldType::Ignore),
];

/// Maps field names to [`FieldType`]s: the built-in names plus the caller's.
#[derive(Debug, Clone)]
pub struct FieldMap {
    map: HashMap<String, FieldType>,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap::new()
    }
}

impl FieldMap {
    /// The built-in map.
    pub fn new() -> FieldMap {
        FieldMap {
            map: BUILTIN
                .iter()
                .map(|(n, t)| ((*n).to_string(), *t))
                .collect(),
        }
    }

    /// Adds or overrides one name (matched case-blind, dotted for nesting).
    pub fn set(&mut self, name: &str, ty: FieldType) {
        self.map.insert(name.trim().to_ascii_lowercase(), ty);
    }

    /// Parses a `name=type` specification, as given to `--field`.
    pub fn add_spec(&mut self, spec: &str) -> Result<(), HuntError> {
        let (name, ty) = spec.split_once('=').ok_or_else(|| HuntError::FieldSpec {
            spec: spec.to_string(),
            reason: "expected name=type".into(),
        })?;
        if name.trim().is_empty() {
            return Err(HuntError::FieldSpec {
                spec: spec.to_string(),
                reason: "empty field name".into(),
            });
        }
        let ty = ty
            .parse::<FieldType>()
            .map_err(|reason| HuntError::FieldSpec {
                spec: spec.to_string(),
                reason,
            })?;
        self.set(name, ty);
        Ok(())
    }

    /// The type of a field, by exact (case-blind) name, then by its shape
    /// (`*_ip`, `*domain*`, `*sha256*` …). `None`: the field is not read.
    pub fn lookup(&self, name: &str) -> Option<FieldType> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some(t) = self.map.get(&lower) {
            return (*t != FieldType::Ignore).then_some(*t);
        }
        // Zeek JSON writes `id.orig_h`; some shippers nest it as `id: {orig_h}`
        // (same dotted path) or flatten as `id_orig_h`.
        let alt = lower.replacen('_', ".", 1);
        if let Some(t) = self.map.get(&alt) {
            return (*t != FieldType::Ignore).then_some(*t);
        }
        guess(&lower)
    }
}

/// Shape rules for unknown names: the last path segment decides.
fn guess(name: &str) -> Option<FieldType> {
    let last = name.rsplit('.').next().unwrap_or(name);
    let has = |s: &str| last.contains(s);
    if has("sha256") || has("sha1") || has("md5") || has("sha512") || last == "hash" {
        Some(FieldType::Hash)
    } else if has("ja3") {
        Some(FieldType::Ja3)
    } else if has("jarm") {
        Some(FieldType::Jarm)
    } else if has("ja4") {
        Some(FieldType::Ja4)
    } else if has("url") {
        Some(FieldType::Url)
    } else if has("domain") || has("hostname") || has("fqdn") || last == "host" {
        Some(FieldType::Domain)
    } else if last == "ip"
        || last.ends_with("_ip")
        || last.ends_with("-ip")
        || last.ends_with("ip_address")
        || last.ends_with("_addr")
        || last == "ipaddr"
    {
        Some(FieldType::Ip)
    } else if has("email") {
        Some(FieldType::Email)
    } else {
        None
    }
}

/// The type Zeek's `#types` header gives a column, when its name is unknown.
pub(crate) fn from_zeek_type(ty: &str) -> Option<FieldType> {
    match ty {
        "addr" | "set[addr]" | "vector[addr]" => Some(FieldType::Ip),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map() {
        let mut m = FieldMap::new();
        assert_eq!(m.lookup("dns.question.name"), Some(FieldType::Domain));
        assert_eq!(m.lookup("Destination.IP"), Some(FieldType::Ip));
        assert_eq!(m.lookup("id_orig_h"), Some(FieldType::Ip));
        assert_eq!(m.lookup("proxy_dst_ip"), Some(FieldType::Ip));
        assert_eq!(m.lookup("tls.server.hash.sha256"), Some(FieldType::Hash));
        assert_eq!(m.lookup("uid"), None);
        assert_eq!(m.lookup("message"), None);
        m.add_spec("cs_host=domain").unwrap();
        assert_eq!(m.lookup("CS_HOST"), Some(FieldType::Domain));
        assert!(m.add_spec("x").is_err());
        assert!(
            m.add_spec("x=bogus")
                .unwrap_err()
                .to_string()
                .contains("bogus")
        );
    }
}
