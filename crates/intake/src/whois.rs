//! Registration records: WHOIS text (any registry's layout, through one
//! table of key aliases) and RDAP domain JSON, each file one domain.

use crate::errors::IntakeError;
use cairn_model::time;
use std::path::Path;

pub use cairn_model::Registration;

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Domain,
    Registrar,
    IanaId,
    RegistrarUrl,
    Created,
    Updated,
    Expires,
    Status,
    NameServer,
    Org,
    Email,
}

/// Key aliases across registries, lower case, punctuation collapsed.
const ALIASES: &[(&str, Field)] = &[
    ("domain name", Field::Domain),
    ("domain", Field::Domain),
    ("domainname", Field::Domain),
    ("domain name (ascii)", Field::Domain),
    ("registrar", Field::Registrar),
    ("registrar name", Field::Registrar),
    ("current registar", Field::Registrar),
    ("sponsoring registrar", Field::Registrar),
    ("registrar organization", Field::Registrar),
    ("registration service provider", Field::Registrar),
    ("registrar iana id", Field::IanaId),
    ("sponsoring registrar iana id", Field::IanaId),
    ("registrar url", Field::RegistrarUrl),
    ("registrar website", Field::RegistrarUrl),
    ("referral url", Field::RegistrarUrl),
    ("creation date", Field::Created),
    ("created", Field::Created),
    ("created on", Field::Created),
    ("created date", Field::Created),
    ("registered on", Field::Created),
    ("registered", Field::Created),
    ("registration date", Field::Created),
    ("registration time", Field::Created),
    ("registered date", Field::Created),
    ("domain registration date", Field::Created),
    ("domain created", Field::Created),
    ("record created", Field::Created),
    ("record created on", Field::Created),
    ("domain record activated", Field::Created),
    ("activation", Field::Created),
    ("assigned", Field::Created),
    ("first registration date", Field::Created),
    ("domain name commencement date", Field::Created),
    ("registry expiry date", Field::Expires),
    ("registrar registration expiration date", Field::Expires),
    ("expiration date", Field::Expires),
    ("expiry date", Field::Expires),
    ("expire date", Field::Expires),
    ("expires on", Field::Expires),
    ("expires", Field::Expires),
    ("expire", Field::Expires),
    ("expiration time", Field::Expires),
    ("paid till", Field::Expires),
    ("validity", Field::Expires),
    ("valid until", Field::Expires),
    ("renewal date", Field::Expires),
    ("record expires on", Field::Expires),
    ("domain expiration date", Field::Expires),
    ("updated date", Field::Updated),
    ("updated", Field::Updated),
    ("last updated", Field::Updated),
    ("last updated on", Field::Updated),
    ("last update", Field::Updated),
    ("last modified", Field::Updated),
    ("modified", Field::Updated),
    ("changed", Field::Updated),
    ("record last updated on", Field::Updated),
    ("domain status", Field::Status),
    ("status", Field::Status),
    ("state", Field::Status),
    ("name server", Field::NameServer),
    ("name servers", Field::NameServer),
    ("nameserver", Field::NameServer),
    ("nameservers", Field::NameServer),
    ("nserver", Field::NameServer),
    ("domain nameservers", Field::NameServer),
    ("dns", Field::NameServer),
    ("registrant organization", Field::Org),
    ("registrant organisation", Field::Org),
    ("registrant", Field::Org),
    ("org", Field::Org),
    ("organization", Field::Org),
    ("owner", Field::Org),
    ("holder", Field::Org),
    ("registrant email", Field::Email),
    ("registrant e-mail", Field::Email),
    ("registrant contact email", Field::Email),
];

/// Words that mark a registrant as hidden.
const REDACTION: &[&str] = &[
    "redacted",
    "privacy",
    "withheld",
    "domains by proxy",
    "whoisguard",
    "not disclosed",
    "data protected",
    "gdpr",
    "proxy",
    "statutory masking",
    "non-public data",
    "please query the rdds",
];

fn is_redacted(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    REDACTION.iter().any(|w| l.contains(w))
}

/// Whether text looks like a WHOIS answer: a domain key and a registration key.
pub(crate) fn looks_like_whois(text: &str) -> bool {
    let mut domain = false;
    let mut other = false;
    for line in text.lines().take(400) {
        if let Some((k, _)) = key_value(line) {
            // `REGISTRANT:` heads a contact block (.bg, .uk).
            if k == "registrant" {
                other = true;
            }
            match alias(&k) {
                Some(Field::Domain) => domain = true,
                Some(Field::Registrar | Field::NameServer | Field::Created | Field::Expires) => {
                    other = true
                }
                _ => {}
            }
        }
        if domain && other {
            return true;
        }
    }
    false
}

fn alias(key: &str) -> Option<Field> {
    ALIASES.iter().find(|(k, _)| *k == key).map(|(_, f)| *f)
}

/// `Key: value`, `key:  value`, `Created on....: value`, `a. [Key]  value`.
fn key_value(line: &str) -> Option<(String, String)> {
    let t = line.trim().trim_start_matches('*').trim_start();
    if t.is_empty() || t.starts_with(['%', '#', '>', ';']) {
        return None;
    }
    // JPRS: `a. [Domain Name]   VALUE` or `[State]   VALUE`.
    let jp = match t.split_once(". [") {
        Some((p, rest)) if p.len() <= 2 => Some(rest),
        _ => t.strip_prefix('['),
    };
    let (k, v) = if let Some(rest) = jp {
        rest.split_once(']')?
    } else {
        t.split_once(':')?
    };
    let key: String = k
        .trim()
        .trim_end_matches('.')
        .trim()
        .to_ascii_lowercase()
        .replace(['-', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if key.is_empty() || key.len() > 48 || key.contains("http") {
        return None;
    }
    Some((key, v.trim().to_string()))
}

fn clean_host(v: &str) -> Option<String> {
    let h = v
        .split_whitespace()
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (h.contains('.')
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
    .then_some(h)
}

/// Reads one WHOIS answer. The first value for a key wins (later ones are
/// often a registry's second block or a contact's).
pub fn parse_whois(path: &Path, text: &str) -> Result<Registration, IntakeError> {
    let mut r = Registration::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        // `Registrar` alone on its line (.it) opens a section like `Registrar:`.
        let bare = line.trim().to_ascii_lowercase();
        let (key, mut value) = match key_value(line) {
            Some(kv) => kv,
            None if alias(&bare).is_some() => (bare, String::new()),
            None => {
                // `Domain GOOGLE.KG (ACTIVE)`.
                let mut w = line.split_whitespace();
                if r.domain.is_empty()
                    && w.next() == Some("Domain")
                    && let Some(d) = w.next().and_then(clean_host)
                {
                    r.domain = d;
                }
                continue;
            }
        };
        if key == "server name" {
            // Verisign's summary of look-alike names and hosts, one block
            // each: none of it is this domain's record.
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            continue;
        }
        let Some(field) = alias(&key) else {
            continue;
        };
        // `Registrar:` / `Name servers:` with values on the lines below, up
        // to a blank line; a `Name:`/`Organization:` line there is the value.
        let mut more = Vec::new();
        if value.is_empty() {
            let mut named: Option<(u8, String)> = None;
            let indent = |l: &str| l.len() - l.trim_start().len();
            // The section holds the lines below that are indented deeper or
            // are no `key: value` of their own.
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && (indent(lines[i]) > indent(line) || key_value(lines[i]).is_none())
            {
                let l = lines[i].trim();
                i += 1;
                match key_value(l) {
                    Some((k, v)) if !v.is_empty() && field != Field::NameServer => {
                        let rank = match k.as_str() {
                            "organization" | "organisation" | "org" => 0,
                            "name" => 1,
                            _ => continue,
                        };
                        if named.as_ref().is_none_or(|(r, _)| rank < *r) {
                            named = Some((rank, v));
                        }
                    }
                    Some(_) if field != Field::NameServer => {}
                    _ => more.push(l.to_string()),
                }
            }
            if let Some((_, v)) = named {
                more.insert(0, v);
            }
            match more.first() {
                Some(v) => value = v.clone(),
                None => continue,
            }
        }
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        match field {
            Field::Domain => {
                if r.domain.is_empty()
                    && let Some(d) = clean_host(&value)
                {
                    r.domain = d;
                }
            }
            Field::Registrar => {
                if r.registrar.is_none() {
                    let v = value
                        .split_once(" [Tag")
                        .map_or(value.as_str(), |(a, _)| a)
                        .trim();
                    if !v.is_empty() && !v.eq_ignore_ascii_case("not available") {
                        r.registrar = Some(v.to_string());
                    }
                }
            }
            Field::IanaId => {
                if r.registrar_iana_id.is_none() && value.bytes().all(|b| b.is_ascii_digit()) {
                    r.registrar_iana_id = Some(value);
                }
            }
            Field::RegistrarUrl => {
                if r.registrar_url.is_none() {
                    r.registrar_url = Some(value);
                }
            }
            Field::Created | Field::Updated | Field::Expires => {
                let slot = match field {
                    Field::Created => &mut r.created,
                    Field::Updated => &mut r.updated,
                    _ => &mut r.expires,
                };
                if slot.is_none() {
                    *slot = whois_date(&value);
                }
            }
            Field::Status => {
                // `clientHold https://icann.org/epp#clientHold`: the code.
                let s = value
                    .split(" http")
                    .next()
                    .unwrap_or(&value)
                    .trim()
                    .to_string();
                if !r.status.contains(&s) {
                    r.status.push(s);
                }
            }
            Field::NameServer => {
                let vals = if more.is_empty() { vec![value] } else { more };
                for v in vals {
                    if let Some(h) = clean_host(&v)
                        && !r.name_servers.contains(&h)
                    {
                        r.name_servers.push(h);
                    }
                }
            }
            Field::Org => {
                if is_redacted(&value) {
                    r.redacted = true;
                } else if r.registrant_org.is_none() {
                    r.registrant_org = Some(value);
                }
            }
            Field::Email => {
                if is_redacted(&value) || !value.contains('@') {
                    r.redacted = true;
                } else if r.registrant_email.is_none() {
                    r.registrant_email = Some(value.to_ascii_lowercase());
                }
            }
        }
    }
    // A notice names a redaction only when no registrant field survived it:
    // registry boilerplate mentions the GDPR in records that keep theirs.
    let upper = text.to_ascii_uppercase();
    if r.registrant_org.is_none()
        && r.registrant_email.is_none()
        && (upper.contains("REDACTED FOR PRIVACY") || upper.contains("GDPR"))
    {
        r.redacted = true;
    }
    if r.domain.is_empty() {
        return Err(IntakeError::object(
            path,
            "whois record",
            "no domain name (no `Domain Name:`, `domain:` or `[Domain Name]` line)",
        ));
    }
    Ok(r)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Zone abbreviations WHOIS servers write, as offsets in minutes.
fn zone(word: &str) -> Option<i32> {
    Some(match word {
        "z" | "utc" | "gmt" | "ut" => 0,
        "jst" | "kst" => 540,
        "cst" => -360,
        "cdt" => -300,
        "est" => -300,
        "edt" => -240,
        "pst" => -480,
        "pdt" => -420,
        "clst" => -180,
        "clt" => -240,
        "cet" => 60,
        "cest" => 120,
        "msk" => 180,
        _ => return None,
    })
}

/// A WHOIS date in any of the registries' forms, as RFC 3339 UTC to the
/// second; `None` when it names no day.
pub(crate) fn whois_date(v: &str) -> Option<String> {
    let v = v.split('#').next()?.trim().trim_end_matches('.');
    let v = v.split(" (yyyy").next()?.trim();
    if let Some(t) = time::parse(v) {
        return Some(time::format_s(t));
    }
    let lower = v.to_ascii_lowercase();
    let mut nums: Vec<&str> = Vec::new();
    let mut month = None;
    let mut clock: Option<(u32, u32, u32)> = None;
    let mut offset = 0i32;
    for piece in lower.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        if piece.is_empty() {
            continue;
        }
        let (piece, off) = split_offset(piece);
        if let Some(o) = off {
            offset = o;
        }
        if piece.is_empty() {
            continue;
        }
        if piece.contains(':') {
            let mut it = piece
                .split(':')
                .map(|p| p.split('.').next().unwrap_or("").parse::<u32>().ok());
            let h = it.next().flatten()?;
            let m = it.next().flatten()?;
            let s = it.next().flatten().unwrap_or(0);
            clock = Some((h, m, s));
            continue;
        }
        if let Some(z) = zone(piece) {
            offset = z;
            continue;
        }
        for part in piece.split(['-', '/', '.', ',']) {
            if part.is_empty() {
                continue;
            }
            if part.bytes().all(|b| b.is_ascii_digit()) {
                nums.push(part);
            } else if part.len() >= 3
                && let Some(m) = MONTHS.iter().position(|m| part.starts_with(m))
            {
                month = Some(m as u32 + 1);
            }
        }
    }
    let n = |s: &str| s.parse::<u32>().ok();
    let year = |s: &str| {
        let y = n(s)?;
        Some(match s.len() {
            4 => y,
            2 if y < 70 => 2000 + y,
            2 => 1900 + y,
            _ => return None,
        })
    };
    let (y, m, d) = match (month, nums.as_slice()) {
        (Some(m), [a, b, ..]) if a.len() == 4 => (year(a)?, m, n(b)?),
        (Some(m), [a, b, ..]) => (year(b)?, m, n(a)?),
        (None, [a, ..]) if a.len() == 8 => (n(&a[..4])?, n(&a[4..6])?, n(&a[6..])?),
        (None, [a, b, c, ..]) if a.len() == 4 => (year(a)?, n(b)?, n(c)?),
        (None, [a, b, c, ..]) => (year(c)?, n(b)?, n(a)?),
        _ => return None,
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (h, mi, s) = clock.unwrap_or((0, 0, 0));
    let sign = if offset < 0 { '-' } else { '+' };
    let text = format!(
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{sign}{:02}:{:02}",
        offset.abs() / 60,
        offset.abs() % 60
    );
    time::parse(&text).map(time::format_s)
}

/// `gmt+0:00`, `+02:00`, `10:45:59+09:00` → the rest and an offset in minutes.
fn split_offset(piece: &str) -> (&str, Option<i32>) {
    let p = piece
        .strip_prefix("gmt")
        .or_else(|| piece.strip_prefix("utc"));
    if let Some(rest) = p
        && let Some(o) = parse_offset(rest)
    {
        return ("", Some(o));
    }
    if piece.contains(':')
        && let Some(i) = piece.rfind(['+', '-'])
        && let Some(o) = parse_offset(&piece[i..])
    {
        return (&piece[..i], Some(o));
    }
    (piece, None)
}

fn parse_offset(s: &str) -> Option<i32> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':').unwrap_or((&s[1..], "0"));
    Some(sign * (h.parse::<i32>().ok()? * 60 + m.parse::<i32>().ok()?))
}

/// Reads one RDAP domain response.
pub fn parse_rdap(path: &Path, text: &str) -> Result<Registration, IntakeError> {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?;
    let bad = |place: &str, msg: &str| IntakeError::object(path, place, msg);
    let class = doc.get("objectClassName").and_then(Value::as_str);
    if class != Some("domain") {
        return Err(bad(
            "objectClassName",
            &format!(
                "expected \"domain\", found {}",
                class.map_or("nothing".to_string(), |c| format!("{c:?}"))
            ),
        ));
    }
    let ldh = doc
        .get("ldhName")
        .or_else(|| doc.get("unicodeName"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("ldhName", "a domain response has no ldhName"))?;
    let mut r = Registration {
        domain: clean_host(ldh).ok_or_else(|| bad("ldhName", "not a domain name"))?,
        ..Registration::default()
    };
    if let Some(events) = doc.get("events").and_then(Value::as_array) {
        for (i, e) in events.iter().enumerate() {
            let action = e.get("eventAction").and_then(Value::as_str).unwrap_or("");
            let Some(date) = e.get("eventDate").and_then(Value::as_str) else {
                continue;
            };
            let slot = match action {
                "registration" => &mut r.created,
                "expiration" => &mut r.expires,
                "last changed" => &mut r.updated,
                _ => continue,
            };
            let t = time::parse(date)
                .ok_or_else(|| bad(&format!("events[{i}].eventDate"), "not a date"))?;
            if slot.is_none() {
                *slot = Some(time::format_s(t));
            }
        }
    }
    if let Some(st) = doc.get("status").and_then(Value::as_array) {
        r.status = st
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    if let Some(ns) = doc.get("nameservers").and_then(Value::as_array) {
        for n in ns {
            if let Some(h) = n
                .get("ldhName")
                .and_then(Value::as_str)
                .and_then(clean_host)
                && !r.name_servers.contains(&h)
            {
                r.name_servers.push(h);
            }
        }
    }
    if let Some(ents) = doc.get("entities").and_then(Value::as_array) {
        for e in ents {
            let roles: Vec<&str> = e
                .get("roles")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let card = vcard(e);
            if roles.contains(&"registrar") {
                r.registrar = card.get("fn").cloned().or(r.registrar.take());
                r.registrar_iana_id = e
                    .get("publicIds")
                    .and_then(Value::as_array)
                    .and_then(|ids| {
                        ids.iter().find(|p| {
                            p.get("type").and_then(Value::as_str) == Some("IANA Registrar ID")
                        })
                    })
                    .and_then(|p| p.get("identifier").and_then(Value::as_str))
                    .map(str::to_string);
                r.registrar_url = e
                    .get("links")
                    .and_then(Value::as_array)
                    .and_then(|l| l.first())
                    .and_then(|l| l.get("href").and_then(Value::as_str))
                    .map(str::to_string);
            }
            if roles.contains(&"registrant") {
                let org = card.get("org").or_else(|| card.get("fn"));
                match org {
                    Some(o) if is_redacted(o) => r.redacted = true,
                    Some(o) => r.registrant_org = Some(o.clone()),
                    None => {}
                }
                match card.get("email") {
                    Some(m) if is_redacted(m) || !m.contains('@') => r.redacted = true,
                    Some(m) => r.registrant_email = Some(m.to_ascii_lowercase()),
                    None => {}
                }
            }
        }
    }
    // RFC 9537 `redacted` members and remarks saying so.
    if doc.get("redacted").is_some() || text.to_ascii_uppercase().contains("REDACTED FOR PRIVACY") {
        r.redacted = true;
    }
    if r.redacted {
        r.registrant_org = None;
        r.registrant_email = None;
    }
    Ok(r)
}

/// A jCard's text properties by name (first value of each).
fn vcard(entity: &serde_json::Value) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let props = entity
        .get("vcardArray")
        .and_then(|v| v.get(1))
        .and_then(|v| v.as_array());
    for p in props.into_iter().flatten() {
        let (Some(name), Some(value)) = (p.get(0).and_then(|v| v.as_str()), p.get(3)) else {
            continue;
        };
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str())
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .to_string(),
            _ => continue,
        };
        if !text.is_empty() {
            out.entry(name.to_string()).or_insert(text);
        }
    }
    out
}

#[cfg(test)]
mod tests;
