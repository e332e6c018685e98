//! Observation logs: Zeek `dns`, `ssl` and `x509` logs (TSV with their
//! `#fields` header, or JSON lines; gzip or plain) and passive-DNS COF JSON
//! lines (CIRCL's common output format), read as a stream and aggregated
//! into [`Observations`]: one edge per pair with first/last seen and a
//! count, so memory is bounded by the distinct pairs, not the lines.
//!
//! TSV and JSON records go through the same handlers, so the two forms of
//! one log give the same edges. What is kept:
//! - dns: the query → each answer: an address (`resolves-to`), else a name
//!   (`cname`; `ns`/`mx` for NS/MX queries). Reverse (PTR) queries, TXT and
//!   other answers that are neither, and unanswered queries are skipped.
//! - ssl: responder address and server name `serves` the leaf certificate
//!   (first of `cert_chain_fps`), server name `sni-at` the address, the
//!   address's `ja3`/`ja3s` when logged.
//! - x509: certificate → `subject`, `issuer`, each SAN name or address.
//! - conn: originator address `connects` responder address, with a
//!   [`ConnSummary`](cairn_model::observe::ConnSummary) per pair
//!   (connections, outcomes from `conn_state`, payload bytes each way,
//!   responder ports, gaps between starts, `local_orig`/`local_resp`).
//!   Unset counts are 0; an unreadable one is an error.
//! - COF: rrname → rdata for A/AAAA, CNAME, NS, MX records.

use crate::errors::IntakeError;
use cairn_model::observe::{ConnOutcome, ConnRecord, NodeKind, ObsRelation, Observations};
use serde::Deserialize;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

mod dns;
mod fold;
mod tsv;
use dns::{address, dns, domain};
use fold::DnsFold;
use tsv::{Tsv, epoch_ms, header, trim_eol, unescape};

/// Which observation log a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObsFormat {
    /// Zeek `dns.log` (TSV or JSON).
    ZeekDns,
    /// Zeek `ssl.log`.
    ZeekSsl,
    /// Zeek `x509.log`.
    ZeekX509,
    /// Zeek `conn.log`.
    ZeekConn,
    /// Passive DNS, COF JSON lines.
    Cof,
}

impl ObsFormat {
    /// The format's name as stored with the source.
    pub fn as_str(self) -> &'static str {
        match self {
            ObsFormat::ZeekDns => "zeek-dns",
            ObsFormat::ZeekSsl => "zeek-ssl",
            ObsFormat::ZeekX509 => "zeek-x509",
            ObsFormat::ZeekConn => "zeek-conn",
            ObsFormat::Cof => "cof",
        }
    }

    fn from_zeek_path(p: &str) -> Option<ObsFormat> {
        match p {
            "dns" => Some(ObsFormat::ZeekDns),
            "ssl" => Some(ObsFormat::ZeekSsl),
            "x509" => Some(ObsFormat::ZeekX509),
            "conn" => Some(ObsFormat::ZeekConn),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> IntakeError + '_ {
    move |source| IntakeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file's lines, decompressed when it is gzip.
fn open(path: &Path) -> Result<Box<dyn BufRead>, IntakeError> {
    let mut file =
        BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io_err(path))?);
    let gz = file
        .fill_buf()
        .map_err(io_err(path))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    })
}

/// The observation log `path` holds, from its first lines; `None` when it
/// is none of them (or cannot be read: the ordinary reader will say why).
pub fn observation_format(path: &Path) -> Option<ObsFormat> {
    let mut r = open(path).ok()?;
    let mut head = Vec::new();
    // Enough for a Zeek header or one JSON record.
    r.by_ref().take(64 * 1024).read_to_end(&mut head).ok()?;
    detect_head(&head)
}

fn detect_head(head: &[u8]) -> Option<ObsFormat> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?.trim_start_matches('\u{feff}');
    if first.starts_with("#separator") {
        return text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| l.strip_prefix("#path"))
            .and_then(|p| ObsFormat::from_zeek_path(p.trim()));
    }
    if !first.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(first).ok()?;
    let o = v.as_object()?;
    if let Some(p) = o.get("_path").and_then(|p| p.as_str()) {
        return ObsFormat::from_zeek_path(p);
    }
    let has = |k: &str| o.contains_key(k);
    if has("rrname") && has("rdata") {
        Some(ObsFormat::Cof)
    } else if has("query") && (has("answers") || has("qtype_name")) {
        Some(ObsFormat::ZeekDns)
    } else if has("id.resp_h") && (has("server_name") || has("cert_chain_fps")) {
        Some(ObsFormat::ZeekSsl)
    } else if has("fingerprint") && has("certificate.subject") {
        Some(ObsFormat::ZeekX509)
    } else if has("id.orig_h") && has("id.resp_h") && has("conn_state") {
        Some(ObsFormat::ZeekConn)
    } else {
        None
    }
}

/// Reads the whole log at `path` as `format` into `obs`; the number of
/// records read. The first bad line (unreadable, truncated gzip, not JSON,
/// a COF record without its fields, a Zeek line with a bad timestamp) is an
/// error naming the file and line; the caller then stores nothing.
pub fn read_observations(
    path: &Path,
    format: ObsFormat,
    obs: &mut Observations,
) -> Result<u64, IntakeError> {
    if format == ObsFormat::ZeekDns {
        let read = fold::read_parallel(path, obs)
            .map_err(|(line, m)| IntakeError::object(path, format!("line {line}"), m))?;
        if let Some(records) = read {
            return Ok(records);
        }
    }
    read_observations_from(path, open(path)?, format, obs)
}

/// [`read_observations`] from any reader; `path` names it in errors.
pub fn read_observations_from<R: BufRead>(
    path: &Path,
    mut reader: R,
    format: ObsFormat,
    obs: &mut Observations,
) -> Result<u64, IntakeError> {
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0u64;
    let mut records = 0u64;
    let mut tsv: Option<Tsv> = None;
    let mut sep = b'\t';
    let mut fold = DnsFold::default();
    loop {
        buf.clear();
        line += 1;
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
            IntakeError::object(path, format!("line {line}"), format!("cannot read: {e}"))
        })?;
        if n == 0 {
            if let Some(t) = &tsv {
                fold.flush(t, obs);
            }
            return Ok(records);
        }
        trim_eol(&mut buf);
        let at = |m: String| IntakeError::object(path, format!("line {line}"), m);
        if buf.is_empty() {
            continue;
        }
        if buf[0] == b'#' {
            // A new header may read the fields differently.
            if let Some(t) = &tsv {
                fold.flush(t, obs);
            }
            header(&buf, &mut tsv, &mut sep).map_err(at)?;
            continue;
        }
        records += 1;
        if buf[0] == b'{' {
            let r: JsonRec =
                serde_json::from_slice(&buf).map_err(|e| at(format!("not JSON: {e}")))?;
            json_record(format, &r, obs).map_err(at)?;
            continue;
        }
        let Some(t) = &tsv else {
            return Err(at(
                "not JSON, nor a Zeek TSV line after a #fields header".into()
            ));
        };
        if format == ObsFormat::ZeekDns {
            fold.line(t, sep, &buf).map_err(at)?;
            if fold.full() {
                fold.flush(t, obs);
            }
        } else {
            tsv_record(format, t, sep, &buf, obs).map_err(at)?;
        }
    }
}

fn tsv_record(
    format: ObsFormat,
    t: &Tsv,
    sep: u8,
    line: &[u8],
    obs: &mut Observations,
) -> Result<(), String> {
    let fields: Vec<&[u8]> = line.split(|b| *b == sep).collect();
    let field = |c: Option<usize>| fields.get(c?).copied();
    let get = |c: Option<usize>| t.present(field(c));
    let one = |c: Option<usize>| get(c).map(unescape);
    let set = |c: Option<usize>| t.items(field(c));
    let ts = t.ts_ms(field(t.cols.ts))?;
    let c = &t.cols;
    match format {
        // The reader folds dns lines itself (fold.rs); one alone folds alike.
        ObsFormat::ZeekDns => {
            let mut fold = DnsFold::default();
            fold.line(t, sep, line)?;
            fold.flush(t, obs);
        }
        ObsFormat::ZeekSsl => ssl(
            obs,
            ts,
            one(c.resp_h).as_deref(),
            one(c.server_name).as_deref(),
            set(c.fps).first().map(|f| f.as_ref()),
            one(c.ja3).as_deref(),
            one(c.ja3s).as_deref(),
        ),
        ObsFormat::ZeekX509 => x509(
            obs,
            ts,
            one(c.fingerprint).as_deref(),
            one(c.subject).as_deref(),
            one(c.issuer).as_deref(),
            set(c.san_dns).iter().map(|a| a.as_ref()),
            set(c.san_ip).iter().map(|a| a.as_ref()),
        ),
        ObsFormat::ZeekConn => {
            let text = |c: Option<usize>| get(c).map(|f| String::from_utf8_lossy(f));
            let count = |c: Option<usize>, name: &str| -> Result<u64, String> {
                text(c).map_or(Ok(0), |v| {
                    v.parse().map_err(|_| format!("unreadable {name} `{v}`"))
                })
            };
            let flag = |c: Option<usize>| text(c).map(|v| v == "T");
            let port = match text(c.resp_p) {
                Some(v) => Some(
                    v.parse()
                        .map_err(|_| format!("unreadable id.resp_p `{v}`"))?,
                ),
                None => None,
            };
            let duration_ms = match text(c.duration) {
                Some(v) => epoch_ms(&v).ok_or_else(|| format!("unreadable duration `{v}`"))?,
                None => 0,
            };
            let state = one(c.conn_state);
            let (ob, rb) = (
                count(c.orig_bytes, "orig_bytes")?,
                count(c.resp_bytes, "resp_bytes")?,
            );
            conn(
                obs,
                one(c.orig_h).as_deref(),
                one(c.resp_h).as_deref(),
                ConnRecord {
                    start_ms: ts,
                    duration_ms,
                    resp_port: port,
                    orig_bytes: ob,
                    resp_bytes: rb,
                    outcome: ConnOutcome::of(state.as_deref(), ob.saturating_add(rb)),
                    local_orig: flag(c.local_orig),
                    local_resp: flag(c.local_resp),
                },
            );
        }
        ObsFormat::Cof => return Err("a COF file holds JSON lines".into()),
    }
    Ok(())
}

/// Every field any JSON record kind reads (Zeek dns/ssl/x509, COF).
#[derive(Deserialize)]
struct JsonRec<'a> {
    #[serde(default, borrow)]
    _path: Option<Cow<'a, str>>,
    #[serde(default)]
    ts: Option<serde_json::Value>,
    #[serde(default, borrow)]
    query: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    qtype_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    answers: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow, rename = "id.resp_h")]
    resp_h: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    server_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    cert_chain_fps: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    ja3: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    ja3s: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    fingerprint: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "certificate.subject")]
    subject: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "certificate.issuer")]
    issuer: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "san.dns")]
    san_dns: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow, rename = "san.ip")]
    san_ip: Option<Vec<Cow<'a, str>>>,
    // conn: numbers kept as JSON values, so a wrong type is a precise error
    #[serde(default, borrow, rename = "id.orig_h")]
    orig_h: Option<Cow<'a, str>>,
    #[serde(default, rename = "id.resp_p")]
    resp_p: Option<serde_json::Value>,
    #[serde(default)]
    duration: Option<serde_json::Value>,
    #[serde(default)]
    orig_bytes: Option<serde_json::Value>,
    #[serde(default)]
    resp_bytes: Option<serde_json::Value>,
    #[serde(default, borrow)]
    conn_state: Option<Cow<'a, str>>,
    #[serde(default)]
    local_orig: Option<serde_json::Value>,
    #[serde(default)]
    local_resp: Option<serde_json::Value>,
    // COF
    #[serde(default, borrow)]
    rrname: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    rrtype: Option<Cow<'a, str>>,
    #[serde(default)]
    rdata: Option<serde_json::Value>,
    #[serde(default)]
    time_first: Option<serde_json::Value>,
    #[serde(default)]
    time_last: Option<serde_json::Value>,
    #[serde(default)]
    zone_time_first: Option<serde_json::Value>,
    #[serde(default)]
    zone_time_last: Option<serde_json::Value>,
    #[serde(default)]
    count: Option<u64>,
}

/// Milliseconds of a time given as epoch seconds (number or text, with a
/// fraction) or as an RFC 3339 text.
fn json_ms(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(|s| s.checked_mul(1000))
            .or_else(|| n.as_f64().and_then(|f| epoch_ms(&format!("{f:.6}")))),
        serde_json::Value::String(s) => {
            epoch_ms(s).or_else(|| cairn_model::time::parse(s).map(|t| t.as_millisecond()))
        }
        _ => None,
    }
}

fn json_record(format: ObsFormat, r: &JsonRec, obs: &mut Observations) -> Result<(), String> {
    let kind = match r._path.as_deref() {
        Some(p) => match ObsFormat::from_zeek_path(p) {
            Some(k) => k,
            // Another Zeek log mixed in: not an observation.
            None => return Ok(()),
        },
        None => format,
    };
    if kind == ObsFormat::Cof {
        return cof(r, obs);
    }
    let ts = r.ts.as_ref().and_then(json_ms).ok_or("no readable ts")?;
    let strs = |v: &Option<Vec<Cow<str>>>| -> Vec<String> {
        v.iter().flatten().map(|s| s.to_string()).collect()
    };
    match kind {
        ObsFormat::ZeekDns => dns(
            obs,
            (ts, ts, 1),
            r.query.as_deref(),
            r.qtype_name.as_deref(),
            r.answers.iter().flatten().map(|a| a.as_ref()),
        ),
        ObsFormat::ZeekSsl => ssl(
            obs,
            ts,
            r.resp_h.as_deref(),
            r.server_name.as_deref(),
            r.cert_chain_fps
                .as_ref()
                .and_then(|f| f.first())
                .map(|f| f.as_ref()),
            r.ja3.as_deref(),
            r.ja3s.as_deref(),
        ),
        ObsFormat::ZeekX509 => x509(
            obs,
            ts,
            r.fingerprint.as_deref(),
            r.subject.as_deref(),
            r.issuer.as_deref(),
            strs(&r.san_dns).iter().map(String::as_str),
            strs(&r.san_ip).iter().map(String::as_str),
        ),
        ObsFormat::ZeekConn => json_conn(r, ts, obs)?,
        ObsFormat::Cof => {}
    }
    Ok(())
}

/// A JSON conn record: counts are numbers (absent or null: 0), flags booleans.
fn json_conn(r: &JsonRec, ts: i64, obs: &mut Observations) -> Result<(), String> {
    let count = |v: &Option<serde_json::Value>, name: &str| -> Result<u64, String> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(0),
            Some(x) => x.as_u64().ok_or_else(|| format!("unreadable {name} `{x}`")),
        }
    };
    let flag = |v: &Option<serde_json::Value>| v.as_ref().and_then(|x| x.as_bool());
    let port = match &r.resp_p {
        None | Some(serde_json::Value::Null) => None,
        Some(x) => Some(
            x.as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| format!("unreadable id.resp_p `{x}`"))?,
        ),
    };
    let duration_ms = match &r.duration {
        None | Some(serde_json::Value::Null) => 0,
        Some(x) => json_ms(x)
            .filter(|d| *d >= 0)
            .ok_or_else(|| format!("unreadable duration `{x}`"))?,
    };
    let (ob, rb) = (
        count(&r.orig_bytes, "orig_bytes")?,
        count(&r.resp_bytes, "resp_bytes")?,
    );
    conn(
        obs,
        r.orig_h.as_deref(),
        r.resp_h.as_deref(),
        ConnRecord {
            start_ms: ts,
            duration_ms,
            resp_port: port,
            orig_bytes: ob,
            resp_bytes: rb,
            outcome: ConnOutcome::of(r.conn_state.as_deref(), ob.saturating_add(rb)),
            local_orig: flag(&r.local_orig),
            local_resp: flag(&r.local_resp),
        },
    );
    Ok(())
}

/// One connection between two addresses; records naming no address pair
/// are skipped, like the other logs' unusable records.
fn conn(obs: &mut Observations, orig: Option<&str>, resp: Option<&str>, r: ConnRecord) {
    if let (Some(o), Some(p)) = (orig.and_then(address), resp.and_then(address)) {
        obs.add_conn(&o, &p, &r);
    }
}

fn cof(r: &JsonRec, obs: &mut Observations) -> Result<(), String> {
    let name = r.rrname.as_deref().ok_or("COF record without rrname")?;
    let rrtype = r.rrtype.as_deref().ok_or("COF record without rrtype")?;
    let rdata = r.rdata.as_ref().ok_or("COF record without rdata")?;
    let first = r
        .time_first
        .as_ref()
        .or(r.zone_time_first.as_ref())
        .and_then(json_ms)
        .ok_or("COF record without a readable time_first")?;
    let last = r
        .time_last
        .as_ref()
        .or(r.zone_time_last.as_ref())
        .and_then(json_ms)
        .ok_or("COF record without a readable time_last")?;
    if last < first {
        return Err("COF record with time_last before time_first".into());
    }
    let count = r.count.unwrap_or(1);
    let Some(subject) = domain(name) else {
        return Err(format!("COF rrname `{name}` is not a DNS name"));
    };
    let datas: Vec<&str> = match rdata {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => return Err("COF rdata is neither a string nor a list".into()),
    };
    let rel = match rrtype.to_ascii_uppercase().as_str() {
        "A" | "AAAA" => ObsRelation::ResolvesTo,
        "CNAME" => ObsRelation::Cname,
        "NS" => ObsRelation::Ns,
        "MX" => ObsRelation::Mx,
        _ => return Ok(()),
    };
    for d in datas {
        let object = if rel == ObsRelation::ResolvesTo {
            address(d).map(|a| (NodeKind::Address, a))
        } else {
            // MX rdata may carry its preference first.
            d.split_whitespace()
                .last()
                .and_then(domain)
                .map(|n| (NodeKind::Domain, n))
        };
        if let Some((k, v)) = object {
            obs.add(
                (NodeKind::Domain, &subject),
                rel,
                (k, &v),
                first,
                last,
                count,
            );
        }
    }
    Ok(())
}

fn ssl(
    obs: &mut Observations,
    ts: i64,
    resp_h: Option<&str>,
    server_name: Option<&str>,
    leaf: Option<&str>,
    ja3: Option<&str>,
    ja3s: Option<&str>,
) {
    let addr = resp_h.and_then(address);
    let sni = server_name.and_then(domain);
    let cert = leaf
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_lowercase);
    if let Some(c) = &cert {
        if let Some(a) = &addr {
            obs.add(
                (NodeKind::Address, a),
                ObsRelation::Serves,
                (NodeKind::Certificate, c),
                ts,
                ts,
                1,
            );
        }
        if let Some(n) = &sni {
            obs.add(
                (NodeKind::Domain, n),
                ObsRelation::Serves,
                (NodeKind::Certificate, c),
                ts,
                ts,
                1,
            );
        }
    }
    if let Some(a) = &addr {
        if let Some(n) = &sni {
            obs.add(
                (NodeKind::Domain, n),
                ObsRelation::SniAt,
                (NodeKind::Address, a),
                ts,
                ts,
                1,
            );
        }
        for (rel, kind, v) in [
            (ObsRelation::Ja3, NodeKind::Ja3, ja3),
            (ObsRelation::Ja3s, NodeKind::Ja3s, ja3s),
        ] {
            if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
                obs.add((NodeKind::Address, a), rel, (kind, v), ts, ts, 1);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn x509<'a>(
    obs: &mut Observations,
    ts: i64,
    fingerprint: Option<&str>,
    subject: Option<&str>,
    issuer: Option<&str>,
    san_dns: impl Iterator<Item = &'a str>,
    san_ip: impl Iterator<Item = &'a str>,
) {
    let Some(c) = fingerprint.map(str::trim).filter(|c| !c.is_empty()) else {
        return;
    };
    let c = c.to_ascii_lowercase();
    let cert = (NodeKind::Certificate, c.as_str());
    if let Some(s) = subject.filter(|s| !s.is_empty()) {
        obs.add(
            cert,
            ObsRelation::SubjectOf,
            (NodeKind::Subject, s),
            ts,
            ts,
            1,
        );
    }
    if let Some(i) = issuer.filter(|s| !s.is_empty()) {
        obs.add(
            cert,
            ObsRelation::IssuedBy,
            (NodeKind::Issuer, i),
            ts,
            ts,
            1,
        );
    }
    for n in san_dns {
        // Wildcard SANs keep their `*.` as the certificate wrote them.
        let (star, rest) = n
            .trim()
            .strip_prefix("*.")
            .map_or(("", n.trim()), |r| ("*.", r));
        if let Some(d) = domain(rest) {
            obs.add(
                cert,
                ObsRelation::San,
                (NodeKind::Domain, &format!("{star}{d}")),
                ts,
                ts,
                1,
            );
        }
    }
    for a in san_ip.filter_map(address) {
        obs.add(cert, ObsRelation::San, (NodeKind::Address, &a), ts, ts, 1);
    }
}

#[cfg(test)]
mod tests;
