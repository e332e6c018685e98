//! URLs in prose beyond the scanner's match: a path after a scheme-less
//! host, and URLs carried in another URL's query.

use super::ctx::valid_host;
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
