//! Zeek's TSV form: the header lines (`#separator`, `#fields`, …) and how a
//! field is unescaped; epoch timestamps.

use std::borrow::Cow;

/// A Zeek TSV header's columns.
pub(super) struct Tsv {
    pub(super) unset: Vec<u8>,
    pub(super) empty: Vec<u8>,
    pub(super) set_sep: u8,
    /// Column places of the fields the handlers read.
    pub(super) cols: Cols,
}

impl Tsv {
    /// A field that is set: not empty, unset (`-`) or empty (`(empty)`).
    pub(super) fn present<'l>(&self, f: Option<&'l [u8]>) -> Option<&'l [u8]> {
        f.filter(|f| !f.is_empty() && *f != self.unset.as_slice() && *f != self.empty.as_slice())
    }

    /// A set-valued field's items, unescaped; none when it is not set.
    pub(super) fn items<'l>(&self, f: Option<&'l [u8]>) -> Vec<Cow<'l, str>> {
        self.present(f).map_or_else(Vec::new, |f| {
            f.split(|b| *b == self.set_sep).map(unescape).collect()
        })
    }

    /// The `ts` field in milliseconds; every line needs one.
    pub(super) fn ts_ms(&self, f: Option<&[u8]>) -> Result<i64, String> {
        let f = self.present(f).ok_or("no ts")?;
        std::str::from_utf8(f)
            .ok()
            .and_then(epoch_ms)
            .ok_or_else(|| format!("unreadable ts `{}`", String::from_utf8_lossy(f)))
    }
}

/// A line without its line ending (`\n`, `\r\n`).
pub(super) fn trim_eol(line: &mut Vec<u8>) {
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
}

#[derive(Default)]
pub(super) struct Cols {
    pub(super) ts: Option<usize>,
    pub(super) query: Option<usize>,
    pub(super) qtype: Option<usize>,
    pub(super) answers: Option<usize>,
    pub(super) resp_h: Option<usize>,
    pub(super) server_name: Option<usize>,
    pub(super) fps: Option<usize>,
    pub(super) ja3: Option<usize>,
    pub(super) ja3s: Option<usize>,
    pub(super) fingerprint: Option<usize>,
    pub(super) subject: Option<usize>,
    pub(super) issuer: Option<usize>,
    pub(super) san_dns: Option<usize>,
    pub(super) san_ip: Option<usize>,
    pub(super) orig_h: Option<usize>,
    pub(super) resp_p: Option<usize>,
    pub(super) duration: Option<usize>,
    pub(super) orig_bytes: Option<usize>,
    pub(super) resp_bytes: Option<usize>,
    pub(super) conn_state: Option<usize>,
    pub(super) local_orig: Option<usize>,
    pub(super) local_resp: Option<usize>,
}

fn unescape_sep(v: &str) -> Option<u8> {
    let v = v.trim();
    if let Some(h) = v.strip_prefix("\\x") {
        return u8::from_str_radix(h, 16).ok();
    }
    v.bytes().next()
}

pub(super) fn header(line: &[u8], tsv: &mut Option<Tsv>, sep: &mut u8) -> Result<(), String> {
    let text = String::from_utf8_lossy(line);
    if let Some(v) = text.strip_prefix("#separator ") {
        *sep = unescape_sep(v).ok_or("unreadable #separator")?;
        return Ok(());
    }
    let mut parts = text.split(*sep as char);
    let key = parts.next().unwrap_or_default();
    let t = tsv.get_or_insert_with(|| Tsv {
        unset: b"-".to_vec(),
        empty: b"(empty)".to_vec(),
        set_sep: b',',
        cols: Cols::default(),
    });
    match key {
        "#set_separator" => {
            t.set_sep = parts.next().and_then(unescape_sep).unwrap_or(b',');
        }
        "#unset_field" => t.unset = parts.next().unwrap_or("-").as_bytes().to_vec(),
        "#empty_field" => t.empty = parts.next().unwrap_or("(empty)").as_bytes().to_vec(),
        "#fields" => {
            let mut c = Cols::default();
            for (i, f) in parts.enumerate() {
                let slot = match f {
                    "ts" => &mut c.ts,
                    "query" => &mut c.query,
                    "qtype_name" => &mut c.qtype,
                    "answers" => &mut c.answers,
                    "id.resp_h" => &mut c.resp_h,
                    "server_name" => &mut c.server_name,
                    "cert_chain_fps" => &mut c.fps,
                    "ja3" => &mut c.ja3,
                    "ja3s" => &mut c.ja3s,
                    "fingerprint" => &mut c.fingerprint,
                    "certificate.subject" => &mut c.subject,
                    "certificate.issuer" => &mut c.issuer,
                    "san.dns" => &mut c.san_dns,
                    "san.ip" => &mut c.san_ip,
                    "id.orig_h" => &mut c.orig_h,
                    "id.resp_p" => &mut c.resp_p,
                    "duration" => &mut c.duration,
                    "orig_bytes" => &mut c.orig_bytes,
                    "resp_bytes" => &mut c.resp_bytes,
                    "conn_state" => &mut c.conn_state,
                    "local_orig" => &mut c.local_orig,
                    "local_resp" => &mut c.local_resp,
                    _ => continue,
                };
                *slot = Some(i);
            }
            t.cols = c;
        }
        _ => {}
    }
    Ok(())
}

/// Zeek's TSV escapes: `\\` and `\xHH`.
pub(super) fn unescape(v: &[u8]) -> Cow<'_, str> {
    if !v.contains(&b'\\') {
        return String::from_utf8_lossy(v);
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            if v[i + 1] == b'\\' {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if v[i + 1] == b'x'
                && i + 3 < v.len()
                && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&v[i + 2..i + 4]), 16)
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// `1521911720.865716` → 1521911720865 (the fraction truncated to ms).
pub(super) fn epoch_ms(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut ms = 0i64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * [100, 10, 1][i];
    }
    secs.checked_mul(1000)?.checked_add(ms)
}
