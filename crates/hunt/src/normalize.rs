//! Canonical forms shared by the index (indicators) and the scanner (log
//! values), so both sides meet on the same bytes.

use crate::simd::Ssse3;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest DNS name (RFC 1035), with room for a trailing dot.
pub(crate) const MAX_HOST: usize = 254;

/// Lower-cases an ASCII host into `buf`, dropping one trailing dot; IDNA for
/// non-ASCII (to punycode). Returns `None` for values that cannot be hosts.
pub(crate) fn host_into<'b>(raw: &[u8], buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    let mut v = trim_ascii(raw);
    while let Some(rest) = v.strip_suffix(b".") {
        v = rest;
    }
    if v.is_empty() || v.len() > MAX_HOST {
        return None;
    }
    buf.clear();
    let not_host = |b: u8| b <= b' ' || b == b'/' || b == b'@';
    if v.is_ascii() {
        for &b in v {
            if not_host(b) {
                return None;
            }
            buf.push(b.to_ascii_lowercase());
        }
    } else {
        let s = std::str::from_utf8(v).ok()?;
        let a = idna::domain_to_ascii(s).ok()?;
        // IDNA lets control characters through: the same bytes are refused
        // here as in ASCII input, or the punycode form would not read back.
        let a = a.trim_end_matches('.');
        // Punycode is longer than the text it encodes: the length limit
        // applies to what ASCII input would be held to.
        // IDNA maps some characters to nothing (a soft hyphen): an empty
        // result is no host either.
        if a.is_empty() || a.len() > MAX_HOST || a.bytes().any(not_host) {
            return None;
        }
        buf.extend_from_slice(a.as_bytes());
    }
    Some(&buf[..])
}

/// ASCII-only fast path of [`host_into`]: lower-cases into a stack buffer.
/// `None` for non-ASCII (use `host_into`) and for values that cannot be hosts.
pub(crate) fn host_ascii<'b>(raw: &[u8], buf: &'b mut [u8; MAX_HOST]) -> Option<&'b [u8]> {
    let mut v = raw.trim_ascii();
    while let Some(rest) = v.strip_suffix(b".") {
        v = rest;
    }
    if v.is_empty() || v.len() > MAX_HOST {
        return None;
    }
    for (i, &b) in v.iter().enumerate() {
        if b <= b' ' || b >= 0x80 || b == b'/' || b == b'@' {
            return None;
        }
        buf[i] = b.to_ascii_lowercase();
    }
    Some(&buf[..v.len()])
}

/// Normalised host as an owned string (indicator side).
pub(crate) fn host(raw: &str) -> Option<String> {
    let mut buf = Vec::new();
    host_into(raw.as_bytes(), &mut buf)?;
    String::from_utf8(buf).ok()
}

pub(crate) fn trim_ascii(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// Parses an address as written in logs: plain, `[v6]`, with a zone
/// (`fe80::1%eth0`); IPv4-mapped IPv6 becomes IPv4.
pub(crate) fn parse_ip(raw: &[u8]) -> Option<IpAddr> {
    let v = trim_ascii(raw);
    if let Some(a) = parse_ipv4_strict(v) {
        return Some(IpAddr::V4(a));
    }
    if v.is_empty() || v.len() > 64 {
        return None;
    }
    let s = std::str::from_utf8(v).ok()?;
    let s = if v[0] == b'[' {
        s.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s)
    } else {
        s
    };
    let s = match memchr::memchr(b'%', s.as_bytes()) {
        Some(i) => &s[..i],
        None => s,
    };
    let ip: IpAddr = s.parse().ok()?;
    Some(canonical_ip(ip))
}

/// The common case of [`parse_ip`] without going through `str`: exactly
/// four dotted decimal octets, 0..=255, no leading zeros, nothing around
/// them. Accepts a subset of what `Ipv4Addr::from_str` accepts, with the same
/// result; anything else is `None` (callers fall back to the full parser).
/// With SSSE3, a vector kernel (`simd::Ssse3::parse_ipv4`) answers.
#[inline]
pub(crate) fn parse_ipv4_strict(v: &[u8]) -> Option<Ipv4Addr> {
    if let Some(cpu) = Ssse3::detect() {
        return cpu.parse_ipv4(v);
    }
    parse_ipv4_scalar(v)
}

/// The first octet of a value that starts like an IPv4 address: one to
/// three digits (no leading zero) and a dot, at most 255.
///
/// Whatever follows, a value starting so is either no address at all or
/// (to [`parse_ip`] and [`parse_ipv4_strict`] alike) an IPv4 address with
/// this first octet: IPv6 text has a colon before any dot. So a first
/// octet no indicator starts with rules the value out without parsing it.
#[inline]
pub(crate) fn ipv4_lead_octet(v: &[u8]) -> Option<u8> {
    let digit = |i: usize| v.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d <= 9);
    let d0 = digit(0)?;
    if v.get(1) == Some(&b'.') {
        return Some(d0);
    }
    let d1 = digit(1).filter(|_| d0 != 0)?;
    if v.get(2) == Some(&b'.') {
        return Some(d0 * 10 + d1);
    }
    let d2 = digit(2)?;
    let n = u16::from(d0) * 100 + u16::from(d1) * 10 + u16::from(d2);
    (v.get(3) == Some(&b'.'))
        .then_some(n)
        .and_then(|n| u8::try_from(n).ok())
}

/// Portable [`parse_ipv4_strict`]: one byte at a time.
pub(crate) fn parse_ipv4_scalar(v: &[u8]) -> Option<Ipv4Addr> {
    if v.len() < 7 || v.len() > 15 {
        return None;
    }
    // Checks are accumulated, not branched on: every log has millions of
    // addresses, nearly all valid.
    let (mut addr, mut acc, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    let mut bad = false;
    for &b in v {
        let d = u32::from(b.wrapping_sub(b'0'));
        if d < 10 {
            // A digit after a leading zero.
            bad |= digits == 1 && acc == 0;
            acc = acc.wrapping_mul(10).wrapping_add(d);
            digits += 1;
        } else if b == b'.' {
            bad |= digits == 0 || digits > 3 || acc > 255;
            addr = addr << 8 | acc;
            (acc, digits) = (0, 0);
            dots += 1;
        } else {
            return None;
        }
    }
    bad |= digits == 0 || digits > 3 || acc > 255 || dots != 3;
    (!bad).then(|| Ipv4Addr::from(addr << 8 | acc))
}

pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Bytes an address is fingerprinted on: 4 for IPv4, 16 for IPv6.
pub(crate) fn ip_bytes(ip: IpAddr, out: &mut [u8; 16]) -> &[u8] {
    match ip {
        IpAddr::V4(a) => {
            out[..4].copy_from_slice(&a.octets());
            &out[..4]
        }
        IpAddr::V6(a) => {
            out.copy_from_slice(&a.octets());
            &out[..]
        }
    }
}

/// [`hex_into`] into a stack buffer; values already in canonical form (lower
/// case, no separators, the common case in logs) are returned as they are.
pub(crate) fn hex_stack<'b>(raw: &'b [u8], buf: &'b mut [u8; 256]) -> Option<&'b [u8]> {
    let raw = raw.trim_ascii();
    if is_canonical_hex(raw) {
        return Some(raw);
    }
    let mut n = 0;
    for &b in trim_ascii(raw) {
        let c = match b {
            b'0'..=b'9' | b'a'..=b'f' => b,
            b'A'..=b'F' => b.to_ascii_lowercase(),
            b':' | b'-' | b' ' => continue,
            _ => return None,
        };
        if n == buf.len() {
            return None;
        }
        buf[n] = c;
        n += 1;
    }
    (n > 0).then(|| &buf[..n])
}

/// A hex value as logs nearly always write hashes: not empty, lower case,
/// no separators, and short enough for [`hex_stack`]'s buffer. Matched as
/// it is, without a normalising copy.
#[inline]
pub(crate) fn is_canonical_hex(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= 256 && is_lower_hex(v)
}

/// Whether every byte is `0-9a-f`. Branch-free over the whole value, so the
/// compiler vectorises it (hashes in logs are 32-128 characters).
#[inline]
pub(crate) fn is_lower_hex(v: &[u8]) -> bool {
    v.iter().fold(true, |ok, &b| {
        ok & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6))
    })
}

/// Lower-case hex without separators (`:`, `-`, spaces); `None` if anything
/// else is in the value or it is empty.
pub(crate) fn hex_into<'b>(raw: &[u8], buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    buf.clear();
    for &b in trim_ascii(raw) {
        match b {
            b'0'..=b'9' | b'a'..=b'f' => buf.push(b),
            b'A'..=b'F' => buf.push(b.to_ascii_lowercase()),
            b':' | b'-' | b' ' => {}
            _ => return None,
        }
    }
    if buf.is_empty() || buf.len() > 256 {
        None
    } else {
        Some(&buf[..])
    }
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    }
}

/// A URL's host as written (callers normalise it), `None` if the value has
/// none. A value without a scheme is read as `http://`.
pub(crate) fn url_host(raw: &str) -> Option<String> {
    cairn_model::url_host(raw).map(str::to_string)
}

/// RFC 3986 §6.2.2 normalisation: scheme and host lower case (IDNA), default
/// port dropped, empty path as `/`, percent-escapes of unreserved characters
/// decoded and other escapes upper-cased, fragment dropped; defanged schemes
/// (`hxxp`) read as their real ones. A value without a scheme is read as
/// `http://`. `None` if there is no host.
///
/// Hand-written: the `url` crate (WHATWG) keeps `%7E` escapes as written and
/// rewrites paths in ways that differ from what proxies log; this is the
/// small subset of RFC 3986 comparison rules that logs and feeds need.
pub(crate) fn url(raw: &str) -> Option<String> {
    let v = raw.trim();
    let (scheme, rest) = match v.find("://") {
        Some(i) => (v[..i].to_ascii_lowercase(), &v[i + 3..]),
        None => ("http".to_string(), v),
    };
    let scheme = match scheme.as_str() {
        "hxxp" | "hxxps" | "fxp" => scheme.replace("xx", "tt").replace("fxp", "ftp"),
        _ => scheme,
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(end);
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let (host_part, port) = if let Some(v6) = auth.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match auth.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (auth, None),
        }
    };
    let host_norm = match parse_ip(host_part.as_bytes()) {
        Some(IpAddr::V6(a)) => format!("[{a}]"),
        Some(IpAddr::V4(a)) => a.to_string(),
        // A name never holds a colon (RFC 3986 reg-name), nor sits in
        // brackets (those are for IPv6); kept, it would be read differently
        // the next time round.
        None if host_part.contains([':', '[', ']']) || auth.starts_with('[') => return None,
        None => host(host_part)?,
    };
    let mut out = String::with_capacity(v.len() + 8);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host_norm);
    // A port is digits (RFC 3986 §3.2.3); anything else is no URL.
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        let p = p.trim_start_matches('0');
        if default_port(&scheme) != Some(p) {
            out.push(':');
            out.push_str(if p.is_empty() { "0" } else { p });
        }
    }
    // Trimmed again once the fragment is gone, as the whole value was:
    // otherwise what preceded the `#` would be trimmed only next time round.
    let tail = tail.split('#').next().unwrap_or("").trim_end();
    if !tail.starts_with('/') {
        out.push('/');
    }
    normalize_escapes(tail, &mut out);
    Some(out)
}

fn normalize_escapes(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = (b[i + 1] as char).to_digit(16);
            let l = (b[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (h, l) {
                let c = (h * 16 + l) as u8;
                if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push((b[i + 1] as char).to_ascii_uppercase());
                    out.push((b[i + 2] as char).to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        if b[i] == b'%' {
            // A `%` that starts no escape is written as one (`%25`): left
            // bare, it could start an escape with what a decoded escape
            // after it turns into (`%%44e` → `%De`, read next time as `%DE`).
            out.push_str("%25");
            i += 1;
            continue;
        }
        // Copy one UTF-8 character.
        let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
}

/// Canonical text of an IP for reporting.
pub(crate) fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => v4_text(a, None),
        IpAddr::V6(a) => a.to_string(),
    }
}

/// An IPv4 address (with `/len` for a network) as text, without the
/// formatting machinery: every alert on an address names one.
pub(crate) fn v4_text(a: Ipv4Addr, len: Option<u8>) -> String {
    fn push_num(s: &mut String, v: u8) {
        if v >= 100 {
            s.push(char::from(b'0' + v / 100));
        }
        if v >= 10 {
            s.push(char::from(b'0' + v / 10 % 10));
        }
        s.push(char::from(b'0' + v % 10));
    }
    let mut s = String::with_capacity(18);
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        push_num(&mut s, o);
    }
    if let Some(l) = len {
        s.push('/');
        push_num(&mut s, l);
    }
    s
}

/// Whether `s` parses as an IP address (any form `parse_ip` accepts).
pub(crate) fn is_ip(s: &[u8]) -> bool {
    parse_ip(s).is_some()
}

#[allow(dead_code)]
pub(crate) fn v4(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

#[allow(dead_code)]
pub(crate) fn v6(a: [u8; 16]) -> Ipv6Addr {
    Ipv6Addr::from(a)
}

/// Borrowed-or-owned lower-case of a short value.
pub(crate) fn lower(v: &str) -> Cow<'_, str> {
    if v.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(v.to_ascii_lowercase())
    } else {
        Cow::Borrowed(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise() {
        let same = [
            "http://Evil.COM/a%7eb?x=%2f",
            "HTTP://evil.com:80/a~b?x=%2F",
            "hxxp://evil.com./a%7Eb?x=%2f#frag",
            "evil.com/a~b?x=%2f",
        ];
        for u in same {
            assert_eq!(url(u).unwrap(), "http://evil.com/a~b?x=%2F", "{u}");
        }
        assert_eq!(url("https://evil.com:443").unwrap(), "https://evil.com/");
        assert_eq!(
            url("https://evil.com:8443/").unwrap(),
            "https://evil.com:8443/"
        );
        assert_eq!(
            url("http://[2001:DB8::1]:80/x").unwrap(),
            "http://[2001:db8::1]/x"
        );
        assert_eq!(url("http://user:pw@evil.com/").unwrap(), "http://evil.com/");
        assert_eq!(
            url("http://bücher.de/").unwrap(),
            "http://xn--bcher-kva.de/"
        );
        assert!(url("http:///x").is_none());
        assert_eq!(url("http://e.com/%").unwrap(), "http://e.com/%25");
        assert_eq!(url("http://e.com/%4").unwrap(), "http://e.com/%254");
    }

    #[test]
    fn lower_hex_check_is_exact() {
        for b in 0..=255u8 {
            assert_eq!(
                is_lower_hex(&[b'a', b, b'0']),
                b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
                "{b}"
            );
        }
        assert!(is_lower_hex(b""));
        let mut buf = [0u8; 256];
        assert_eq!(hex_stack(b" AA:bb ", &mut buf).unwrap(), b"aabb");
        assert_eq!(hex_stack(b"09af", &mut buf).unwrap(), b"09af");
        assert!(hex_stack(b"0g", &mut buf).is_none());
    }

    /// Every shape of dotted quad (octets of one to three digits), with
    /// octet values at the edges: 0, leading zeros, 99/100, 255/256, 999.
    #[test]
    fn strict_ipv4_agrees_with_std_on_every_shape() {
        let by_len: [&[&str]; 3] = [
            &["0", "1", "9"],
            &["00", "01", "10", "99"],
            &["000", "010", "100", "199", "255", "256", "999"],
        ];
        let mut checked = 0;
        for shape in 0..81usize {
            let lens = [shape / 27 % 3, shape / 9 % 3, shape / 3 % 3, shape % 3];
            // Walk each octet through its length's values (a few rounds so
            // every value meets every position).
            for round in 0..7 {
                let octets: Vec<&str> = lens
                    .iter()
                    .enumerate()
                    .map(|(k, &l)| by_len[l][(round + k) % by_len[l].len()])
                    .collect();
                let s = octets.join(".");
                let std: Option<Ipv4Addr> = s.parse().ok();
                assert_eq!(parse_ipv4_strict(s.as_bytes()), std, "{s}");
                assert_eq!(parse_ipv4_scalar(s.as_bytes()), std, "{s}");
                checked += 1;
            }
        }
        assert_eq!(checked, 81 * 7);
    }

    #[test]
    fn v4_text_matches_display() {
        let mut x: u32 = 0x9e37_79b9;
        for len in 0..=32u8 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let a = Ipv4Addr::from(x);
            assert_eq!(v4_text(a, None), a.to_string());
            let net = ipnet::Ipv4Net::new(a, len).unwrap().trunc();
            assert_eq!(v4_text(net.network(), Some(len)), net.to_string());
        }
        for a in ["0.0.0.0", "255.255.255.255", "10.0.99.100"] {
            let a: Ipv4Addr = a.parse().unwrap();
            assert_eq!(v4_text(a, None), a.to_string());
        }
    }

    /// The first-octet test is sound: whatever a value parses to (either
    /// parser), it is an IPv4 address with the octet read off its text.
    #[test]
    fn lead_octet_agrees_with_the_parsers() {
        for s in [
            "10.1.2.3",
            "1.2.3.4",
            "255.0.0.1",
            "256.1.1.1",
            "01.2.3.4",
            "0.1.2.3",
            "10.1.2.3%eth0",
            "[10.1.2.3]",
            "1:2::3",
            "12",
            "1.",
            "100.x",
            "9.9.9.9 ",
            "::ffff:10.1.2.3",
        ] {
            let lead = ipv4_lead_octet(s.as_bytes());
            for ip in [
                parse_ip(s.as_bytes()),
                parse_ipv4_strict(s.as_bytes()).map(IpAddr::V4),
            ]
            .into_iter()
            .flatten()
            {
                if let Some(o) = lead {
                    match ip {
                        IpAddr::V4(a) => assert_eq!(a.octets()[0], o, "{s}"),
                        IpAddr::V6(_) => panic!("{s} starts like IPv4 but parses as IPv6"),
                    }
                }
            }
        }
        assert_eq!(ipv4_lead_octet(b"10.1.2.3"), Some(10));
        assert_eq!(ipv4_lead_octet(b"192.168.0.1"), Some(192));
        assert_eq!(ipv4_lead_octet(b"7.0.0.1"), Some(7));
        assert_eq!(ipv4_lead_octet(b"256.1.1.1"), None);
        assert_eq!(ipv4_lead_octet(b"01.2.3.4"), None);
        assert_eq!(ipv4_lead_octet(b"1:2::3"), None);
    }

    #[test]
    fn strict_ipv4_agrees_with_std() {
        let mut cases: Vec<String> = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "1.2.3.4.5",
            "1234.1.1.1",
            "1.2.3.4a",
            "a.b.c.d",
            "1.2.3.-4",
            "+1.2.3.4",
            " 1.2.3.4",
            "10.0.0.255",
            "100.200.250.199",
            "999.999.999.999",
            "00.0.0.0",
            "0.0.0.00",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A deterministic sweep over short strings of digits and dots.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly digits and dots; sometimes bytes next to them in ASCII
            // ('/' and ':' border the digits) and NUL.
            let alphabet: &[u8] = if x & 3 == 0 { b"01.9:/a\0" } else { b"0125.9" };
            let len = 7 + (x % 9) as usize;
            let s: String = (0..len)
                .map(|j| alphabet[((x >> (j * 3 + 5)) % alphabet.len() as u64) as usize] as char)
                .collect();
            cases.push(s);
        }
        for s in &cases {
            let std: Option<Ipv4Addr> = s.parse().ok();
            // Both implementations, whichever one this build uses.
            assert_eq!(
                parse_ipv4_scalar(s.as_bytes()),
                parse_ipv4_strict(s.as_bytes()),
                "{s}"
            );
            if let (Some(a), Some(o)) = (std, ipv4_lead_octet(s.as_bytes())) {
                assert_eq!(a.octets()[0], o, "{s}");
            }
            match parse_ipv4_strict(s.as_bytes()) {
                Some(a) => assert_eq!(Some(a), std, "{s}"),
                None => {
                    // Only allowed to give up on what the full parser handles.
                    if let Some(a) = std {
                        panic!("{s} parses as {a} but the fast path refused it");
                    }
                }
            }
            // The full parser (trimming) gives what std gives for IPv4 text.
            if let Ok(a) = s.trim().parse::<Ipv4Addr>() {
                assert_eq!(parse_ip(s.as_bytes()), Some(IpAddr::V4(a)), "{s}");
            }
        }
    }

    #[test]
    fn hosts_and_ips() {
        let mut b = Vec::new();
        assert_eq!(host_into(b"KB.Dga.Asia.", &mut b).unwrap(), b"kb.dga.asia");
        assert_eq!(host("bücher.DE").unwrap(), "xn--bcher-kva.de");
        assert!(host_into(b"", &mut b).is_none());
        assert!(host_into(b"a b.com", &mut b).is_none());
        assert_eq!(
            parse_ip(b"::ffff:45.77.153.197").unwrap().to_string(),
            "45.77.153.197"
        );
        assert_eq!(
            parse_ip(b"[2001:DB8::1]").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(parse_ip(b"fe80::1%eth0").unwrap().to_string(), "fe80::1");
        assert!(parse_ip(b"1.2.3").is_none());
        assert_eq!(hex_into(b"AB:cd-EF", &mut b).unwrap(), b"abcdef");
        assert!(hex_into(b"xyz", &mut b).is_none());
        assert!(is_ip(b"1.2.3.4"));
        assert_eq!(ip_text(parse_ip(b"1.2.3.4").unwrap()), "1.2.3.4");
        assert_eq!(lower("AbC"), "abc");
        assert_eq!(url_host("http://a.b:80/x").unwrap(), "a.b");
    }

    /// IDNA passed NULs in a non-ASCII host through to its punycode form,
    /// which the ASCII path then refused: `münch\0e.de` normalised once but
    /// not twice (found by the `normalize` fuzz target).
    #[test]
    fn non_ascii_host_refuses_what_ascii_refuses() {
        for raw in ["münch\0\0e=n.de", "mü\u{1}nch.de"] {
            assert_eq!(host(raw), None, "{raw:?}");
            assert_eq!(url(raw), None, "{raw:?}");
        }
        assert_eq!(host("München.de").as_deref(), Some("xn--mnchen-3ya.de"));
    }

    #[test]
    fn an_idna_result_is_held_to_the_ascii_rules() {
        // Found by the `normalize` fuzz target: text within the limit became
        // a longer punycode host (each label grows by `xn--` and a suffix),
        // which the ASCII path then refused.
        let raw = vec!["üaaa"; 40].join(".");
        assert!(raw.len() <= MAX_HOST);
        assert_eq!(host(&raw), None);
        // A soft hyphen alone maps to nothing (found the same way).
        assert_eq!(host("\u{ad}"), None);
        assert_eq!(url("\u{85}\u{ad}"), None);
        let short = "münchen.de";
        assert_eq!(host(short).as_deref(), Some("xn--mnchen-3ya.de"));
    }

    #[test]
    fn a_percent_that_starts_no_escape_is_escaped() {
        // Found by the `normalize` fuzz target: `%%44e` normalised to `%De`,
        // then to `%DE`.
        let once = url("münchen.de/?dM%%44e").unwrap();
        assert_eq!(once, "http://xn--mnchen-3ya.de/?dM%25De");
        assert_eq!(url(&once).as_deref(), Some(once.as_str()));
        assert_eq!(
            url("a.example/100%").as_deref(),
            Some("http://a.example/100%25")
        );
        assert_eq!(
            url("a.example/%7e%2f").as_deref(),
            Some("http://a.example/~%2F")
        );
    }

    #[test]
    fn a_port_is_digits_and_a_fragment_leaves_no_trailing_space() {
        // `hxxp:h/\t#` (found by the `normalize` fuzz target) normalised to
        // `http://hxxp:h/\t`, then to `http://hxxp:h/`.
        assert_eq!(url("hxxp:h/\t#"), None);
        assert_eq!(url("http://a.example:8o/"), None);
        let once = url("http://a.example/x \t#frag").unwrap();
        assert_eq!(once, "http://a.example/x");
        assert_eq!(url(&once).as_deref(), Some(once.as_str()));
        assert_eq!(
            url("http://a.example:8080/").as_deref(),
            Some("http://a.example:8080/")
        );
    }

    /// A host with a colon left after the port was cut off
    /// (`D4:1.1D.:58C:`), or a bracketed host that is no address (`[["]`),
    /// normalised to a URL that normalised differently again (found by the
    /// `normalize` fuzz target).
    #[test]
    fn url_host_with_a_colon_is_no_url() {
        assert_eq!(url(" D4:1.1D.:58C:"), None);
        assert_eq!(url("[[\"]"), None);
        assert_eq!(url(";@\n\n[/\n\n\n]/\n\n\n\n\n\r"), None);
        assert_eq!(
            url("evil.example:8080/a").as_deref(),
            Some("http://evil.example:8080/a")
        );
        assert_eq!(
            url("http://[2001:db8::1]:80/").as_deref(),
            Some("http://[2001:db8::1]/")
        );
    }
}
