//! Alerts: a hit with whose indicator it is. One shape for every surface —
//! the CLI's JSON lines, the API's hunt answer and the web page — and one
//! fast writer for it.

use crate::context::HitContext;
use cairn_hunt::Hit;
use cairn_kb::ActorRef;
use cairn_model::Provenance;
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;

/// One hit and its context, lent for as long as a batch is handled.
#[derive(Clone, Copy)]
pub struct Alert<'a> {
    /// What the scanner found.
    pub hit: &'a Hit,
    /// Whose indicator it is.
    pub context: &'a HitContext,
}

/// The alerts of one batch of hits, in line order within an input.
pub struct AlertBatch<'a> {
    pub(crate) hits: &'a [Hit],
    pub(crate) contexts: &'a [Arc<HitContext>],
    /// Per hit: its context's place in `contexts`, or [`HIDDEN`].
    pub(crate) which: &'a [usize],
}

/// A hit whose indicator the caller may not see.
pub(crate) const HIDDEN: usize = usize::MAX;

impl<'a> AlertBatch<'a> {
    /// The batch's alerts (hits on indicators the caller may not see are not alerts).
    pub fn iter(&self) -> impl Iterator<Item = Alert<'a>> + '_ {
        self.hits
            .iter()
            .zip(self.which)
            .filter_map(|(hit, &c)| self.contexts.get(c).map(|ctx| Alert { hit, context: ctx }))
    }

    /// How many alerts.
    pub fn len(&self) -> usize {
        self.which.iter().filter(|&&c| c != HIDDEN).count()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The indicator side of an alert.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IndicatorRef {
    /// Indicator type (`domain`, `ipv4`, `cidr`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The indicator's value (for CIDR matches, the network).
    pub value: String,
    /// How it matched: `exact`, `subdomain`, `cidr`, `url-host`.
    #[serde(rename = "match")]
    pub match_kind: String,
}

/// An alert owned, as the API returns it; serialises exactly as
/// [`Alert::write_json`] writes it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertRecord {
    /// The input's name.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// The field the value was in.
    pub field: String,
    /// The value as logged.
    pub value: String,
    /// The line's timestamp as logged.
    pub ts: Option<String>,
    /// The indicator matched.
    pub indicator: IndicatorRef,
    /// Actors it indicates.
    pub actors: Vec<ActorRef>,
    /// Families and tools it indicates.
    pub families: Vec<String>,
    /// Roles and labels.
    pub roles: Vec<String>,
    /// The highest confidence a source states.
    pub confidence: Option<u8>,
    /// The earliest first sighting a source states.
    pub first_seen: Option<String>,
    /// The latest last sighting a source states.
    pub last_seen: Option<String>,
    /// Who said so.
    pub sources: Vec<Provenance>,
    /// The indicators' STIX ids.
    pub stix_ids: Vec<String>,
}

impl Alert<'_> {
    /// The alert owned.
    pub fn to_record(&self) -> AlertRecord {
        let (h, c) = (self.hit, self.context);
        AlertRecord {
            file: h.file.to_string(),
            line: h.line,
            field: h.field.clone(),
            value: h.value.clone(),
            ts: h.ts.clone(),
            indicator: IndicatorRef {
                kind: h.indicator.kind.as_str().to_string(),
                value: h.indicator.value.clone(),
                match_kind: h.match_kind.as_str().to_string(),
            },
            actors: c.actors.clone(),
            families: c.families.clone(),
            roles: c.roles.clone(),
            confidence: c.confidence(),
            first_seen: c.first_seen().map(str::to_string),
            last_seen: c.last_seen().map(str::to_string),
            sources: c.sources.clone(),
            stix_ids: c.stix_ids.clone(),
        }
    }

    /// One JSON line: the per-hit head written here, the context's
    /// pre-rendered tail appended (serde per alert cost more than the hunt).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let hit = self.hit;
        out.extend_from_slice(b"{\"file\":");
        json_str(out, &hit.file);
        out.extend_from_slice(b",\"line\":");
        out.extend_from_slice(itoa::Buffer::new().format(hit.line).as_bytes());
        out.extend_from_slice(b",\"field\":");
        json_str(out, &hit.field);
        out.extend_from_slice(b",\"value\":");
        json_str(out, &hit.value);
        out.extend_from_slice(b",\"ts\":");
        match &hit.ts {
            Some(ts) => json_str(out, ts),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"indicator\":{\"type\":");
        json_str(out, hit.indicator.kind.as_str());
        out.extend_from_slice(b",\"value\":");
        json_str(out, &hit.indicator.value);
        out.extend_from_slice(b",\"match\":");
        json_str(out, hit.match_kind.as_str());
        out.extend_from_slice(b"},");
        out.extend_from_slice(self.context.json_tail.as_bytes());
        out.push(b'\n');
    }

    /// One line for people: where, what matched, whose, on whose word.
    pub fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        let (hit, ctx) = (self.hit, self.context);
        let mut extra = Vec::new();
        if !ctx.families.is_empty() {
            extra.push(ctx.families.join(", "));
        }
        if !ctx.roles.is_empty() {
            extra.push(ctx.roles.join(", "));
        }
        let srcs: Vec<String> = ctx
            .sources
            .iter()
            .map(|s| match s.confidence {
                Some(c) => format!("{} ({c})", s.source),
                None => s.source.clone(),
            })
            .collect();
        writeln!(
            out,
            "{}:{}  {}={}  ->  {} {} [{}]  {}{}  via {}",
            hit.file,
            hit.line,
            hit.field,
            hit.value,
            hit.indicator.kind,
            hit.indicator.value,
            hit.match_kind.as_str(),
            actor_label(&ctx.actors),
            if extra.is_empty() {
                String::new()
            } else {
                format!("  {}", extra.join("; "))
            },
            if srcs.is_empty() {
                "-".to_string()
            } else {
                srcs.join(", ")
            }
        )
    }
}

/// Actors as a line shows them: names with up to four aliases.
pub fn actor_label(actors: &[ActorRef]) -> String {
    if actors.is_empty() {
        return "(no actor)".to_string();
    }
    actors
        .iter()
        .map(|a| {
            if a.aliases.is_empty() {
                a.name.clone()
            } else {
                let shown: Vec<&str> = a.aliases.iter().take(4).map(String::as_str).collect();
                let more = if a.aliases.len() > 4 { ", …" } else { "" };
                format!("{} (aka {}{more})", a.name, shown.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `s` holds a byte JSON escapes: a control byte, `"` or `\`.
/// Eight bytes per step (an alert's strings are ~100 bytes; a byte loop
/// was a tenth of formatting it). Exact as a yes/no: the zero-byte and
/// less-than tricks can only misreport bytes above one that truly matched.
/// By hand: `memchr` finds given bytes, not a range like the control bytes.
fn needs_escape(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (chunks, tail) = s.as_chunks::<8>();
    for c in chunks {
        let x = u64::from_le_bytes(*c);
        let quote = x ^ (LO * u64::from(b'"'));
        let slash = x ^ (LO * u64::from(b'\\'));
        let hit = (quote.wrapping_sub(LO) & !quote)
            | (slash.wrapping_sub(LO) & !slash)
            | (x.wrapping_sub(LO * 0x20) & !x);
        if hit & HI != 0 {
            return true;
        }
    }
    tail.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A JSON string, escaped exactly as serde_json escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_hunt::MatchKind;
    use cairn_model::{IndicatorKind, Observable};

    #[test]
    fn needs_escape_is_the_bytewise_rule() {
        let slow = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for b in 0..=255u8 {
            for len in [1usize, 7, 8, 9, 16, 23] {
                for at in [0, len / 2, len - 1] {
                    // Neighbours that sit next to the byte in the same word:
                    // plain, high-bit and boundary values.
                    for fill in [b'a', 0x80, 0xff, 0x21, 0x1f] {
                        let mut s = vec![fill; len];
                        s[at] = b;
                        assert_eq!(needs_escape(&s), slow(&s), "{s:?}");
                    }
                }
            }
        }
        // Mixed strings: several borderline bytes in one word.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s: Vec<u8> = (0..(x % 40) as usize)
                .map(|i| {
                    [
                        b'a', 0x20, 0x21, 0x1f, 0x00, 0x80, 0xff, b'"', b'\\', 0x7f, 0x5b, 0x5d,
                    ][((x >> (i % 60)) % 12) as usize]
                })
                .collect();
            assert_eq!(needs_escape(&s), slow(&s), "{s:?}");
        }
    }

    #[test]
    fn the_fast_writer_writes_what_serde_writes_for_the_record() {
        let ctx = HitContext {
            actors: vec![ActorRef {
                name: "RedHotel".into(),
                aliases: vec!["TAG-22".into()],
            }],
            families: vec!["Winnti".into()],
            sources: vec![
                Provenance {
                    source: "s".into(),
                    confidence: Some(80),
                    first_seen: Some("2023-01-01T00:00:00Z".into()),
                    ..Provenance::default()
                },
                Provenance {
                    source: "t".into(),
                    confidence: Some(40),
                    last_seen: Some("2023-06-01T00:00:00Z".into()),
                    ..Provenance::default()
                },
            ],
            stix_ids: vec!["indicator--1".into()],
            ..HitContext::default()
        }
        .sealed();
        for ts in [None, Some("1685577600.123456".to_string())] {
            let hit = Hit {
                file: Arc::from("dns \"q\".log"),
                line: 42,
                field: "query".into(),
                value: "a\\b\tc\u{1}é".into(),
                indicator: Observable::new(IndicatorKind::Domain, "dga.asia"),
                match_kind: MatchKind::Subdomain,
                keys: vec![1],
                ts: ts.clone(),
            };
            let alert = Alert {
                hit: &hit,
                context: &ctx,
            };
            let mut out = Vec::new();
            alert.write_json(&mut out);
            assert!(out.ends_with(b"}\n"));
            let got: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            let want = serde_json::to_value(alert.to_record()).expect("record");
            assert_eq!(got, want);
            // The fields a consumer reads, spelled out once.
            assert_eq!(got["indicator"]["match"], "subdomain");
            assert_eq!(got["confidence"], 80);
            assert_eq!(got["first_seen"], "2023-01-01T00:00:00Z");
            assert_eq!(got["last_seen"], "2023-06-01T00:00:00Z");
            assert_eq!(got["value"], "a\\b\tc\u{1}é");
            assert_eq!(got["ts"], serde_json::json!(ts));
        }
    }
}
