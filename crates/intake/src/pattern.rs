//! Observables out of STIX patterns. Hand-written because Cairn needs only
//! the equality comparisons (`[domain-name:value = 'x'] OR [...]`) to index
//! values for hunting; the full pattern grammar (rstix) would add weight and
//! nothing the hunt engine can use.

use cairn_model::{IndicatorKind, Observable};

/// Every `path = 'value'` comparison in a pattern whose path maps to an
/// indicator kind Cairn hunts on.
pub fn observables_from_pattern(pattern: &str) -> Vec<Observable> {
    // Split into alternating raw text and quoted strings.
    let mut parts: Vec<(String, String)> = Vec::new(); // (raw before, quoted)
    let mut raw = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\'' {
            raw.push(c);
            continue;
        }
        let mut q = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => q.extend(chars.next()),
                '\'' => break,
                _ => q.push(c),
            }
        }
        parts.push((std::mem::take(&mut raw), q));
    }
    let mut out = Vec::new();
    for i in 0..parts.len() {
        let (before, value) = &parts[i];
        let t = before.trim_end();
        let Some(lhs) = t.strip_suffix('=') else {
            continue;
        };
        if lhs.ends_with('!') || lhs.ends_with('<') || lhs.ends_with('>') {
            continue;
        }
        let lhs = lhs.trim_end();
        // `file:hashes.'SHA-256' = '…'`: the path ends in the previous quoted part.
        let path = if lhs.is_empty() && i > 0 {
            format!("{}'{}'", last_word(&parts[i - 1].0), parts[i - 1].1)
        } else {
            last_word(lhs).to_string()
        };
        if let Some(kind) = kind_of(&path.to_ascii_lowercase(), value) {
            out.push(Observable::new(kind, value));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn last_word(s: &str) -> &str {
    s.rsplit(|c: char| c.is_whitespace() || c == '[' || c == '(')
        .next()
        .unwrap_or(s)
}

fn kind_of(path: &str, value: &str) -> Option<IndicatorKind> {
    use IndicatorKind as K;
    let hash = |h: &str, file: K, cert: K| {
        if path.starts_with("x509-certificate:") {
            Some(cert)
        } else if path.starts_with("file:") || path.starts_with("artifact:") {
            let _ = h;
            Some(file)
        } else {
            None
        }
    };
    Some(match path {
        "domain-name:value" => K::Domain,
        "ipv4-addr:value" | "ipv6-addr:value" if value.contains('/') => K::Cidr,
        "ipv4-addr:value" => K::Ipv4,
        "ipv6-addr:value" => K::Ipv6,
        "url:value" => K::Url,
        "email-addr:value" => K::Email,
        "file:name" => K::FileName,
        "windows-registry-key:key" => K::RegistryKey,
        "x509-certificate:serial_number" => K::CertSerial,
        p if p.ends_with(".md5") || p.ends_with(".'md5'") => hash(p, K::Md5, K::Md5)?,
        p if p.ends_with("'sha-1'") || p.ends_with(".sha1") => hash(p, K::Sha1, K::CertSha1)?,
        p if p.ends_with("'sha-256'") || p.ends_with(".sha256") => {
            hash(p, K::Sha256, K::CertSha256)?
        }
        p if p.ends_with("'sha-512'") || p.ends_with(".sha512") => hash(p, K::Sha512, K::Sha512)?,
        // What Cairn's own STIX exports write for the Authenticode hash.
        p if p.ends_with(".'x-authentihash'") => K::Authentihash,
        p if p.contains("ja3s") => K::Ja3s,
        p if p.contains("ja3") => K::Ja3,
        p if p.contains("ja4") => K::Ja4,
        p if p.contains("jarm") => K::Jarm,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    #[test]
    fn reads_common_patterns() {
        let got = observables_from_pattern(
            "[file:hashes.'SHA-256' = 'AB12' OR file:hashes.MD5 = 'cd'] AND [domain-name:value = 'a\\'b.com']",
        );
        let kinds: Vec<_> = got.iter().map(|o| (o.kind, o.value.as_str())).collect();
        assert!(kinds.contains(&(K::Sha256, "ab12")));
        assert!(kinds.contains(&(K::Md5, "cd")));
        assert!(kinds.contains(&(K::Domain, "a'b.com")));
        let cert = observables_from_pattern("[x509-certificate:hashes.'SHA-256' = 'FF']");
        assert_eq!(cert[0].kind, K::CertSha256);
        let cidr = observables_from_pattern("[ipv4-addr:value = '10.0.0.0/8']");
        assert_eq!(cidr[0].kind, K::Cidr);
        assert!(observables_from_pattern("[ipv4-addr:value != '1.2.3.4']").is_empty());
        // An export's Authenticode hash reads back as one.
        let pattern = IndicatorKind::Authentihash.stix_pattern("AB12");
        let back = observables_from_pattern(&pattern);
        assert_eq!(
            (back[0].kind, back[0].value.as_str()),
            (K::Authentihash, "ab12")
        );
    }
}
