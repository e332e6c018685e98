//! Suricata datasets, datarep files and IP reputation, with a rules file
//! that uses them.
//!
//! Dataset files hold one value a line in the form of their `type`: a
//! `string` set base64-encoded (so any byte survives), `md5` and `sha256`
//! in hex, `ipv4` dotted, `ip` (IPv6) as text. A datarep file is the same
//! with `,<reputation>` after each value (here the source's confidence,
//! 50 when it gives none). Networks cannot go in a dataset: they go to an
//! IP reputation file (`<network>,<category>,<score 1-127>`) with its
//! categories file. The rules load the sets by relative name, so the files
//! stay beside `cairn.rules`; every file is written, empty or not, so a
//! reload sees values that left. File hashes are matched with `filemd5` /
//! `filesha256`, which read the same hex lists.

use crate::sensors::indicator::{OutputFile, SensorExport, SensorIndicator, has_control};
use base64::Engine as _;
use cairn_model::IndicatorKind;

/// The rules file's name.
pub const SURICATA_RULES: &str = "cairn.rules";

/// First SID of the rules (the local-rules range).
pub const SURICATA_SID_BASE: u32 = 1_990_001;

/// One dataset: name (file stem), Suricata type, what goes in it.
struct Set {
    name: &'static str,
    kind: &'static str,
    values: Vec<(String, u16)>,
}

fn encode(set_type: &str, value: &str) -> String {
    if set_type == "string" {
        base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
    } else {
        value.to_string()
    }
}

fn rep(i: &SensorIndicator) -> u16 {
    u16::from(i.confidence.unwrap_or(50))
}

/// The files of the Suricata export.
pub fn suricata_dataset(indicators: &[SensorIndicator]) -> SensorExport {
    let mut sets = [
        Set {
            name: "cairn-domains",
            kind: "string",
            values: Vec::new(),
        },
        Set {
            name: "cairn-ipv4",
            kind: "ipv4",
            values: Vec::new(),
        },
        Set {
            name: "cairn-ipv6",
            kind: "ip",
            values: Vec::new(),
        },
        Set {
            name: "cairn-md5",
            kind: "md5",
            values: Vec::new(),
        },
        Set {
            name: "cairn-sha256",
            kind: "sha256",
            values: Vec::new(),
        },
    ];
    let mut networks: Vec<(String, u8)> = Vec::new();
    let (mut written, mut skipped) = (0, 0);
    for i in indicators {
        let slot = match i.kind {
            IndicatorKind::Domain => Some(0),
            IndicatorKind::Ipv4 => Some(1),
            IndicatorKind::Ipv6 => Some(2),
            IndicatorKind::Md5 => Some(3),
            IndicatorKind::Sha256 => Some(4),
            _ => None,
        };
        if let Some(n) = slot {
            if has_control(&i.value) || i.value.contains([',', ' ']) {
                skipped += 1;
                continue;
            }
            sets[n].values.push((i.value.clone(), rep(i)));
            written += 1;
        } else if i.kind == IndicatorKind::Cidr && !i.value.contains([',', ' ']) {
            networks.push((i.value.clone(), i.confidence.unwrap_or(50).clamp(1, 127)));
            written += 1;
        } else {
            skipped += 1;
        }
    }
    let mut files = Vec::new();
    for s in &sets {
        let mut lst = String::new();
        let mut rep = String::new();
        for (v, r) in &s.values {
            let e = encode(s.kind, v);
            lst.push_str(&e);
            lst.push('\n');
            rep.push_str(&format!("{e},{r}\n"));
        }
        files.push(OutputFile {
            name: format!("{}.lst", s.name),
            content: lst,
        });
        files.push(OutputFile {
            name: format!("{}.rep", s.name),
            content: rep,
        });
    }
    files.push(OutputFile {
        name: "cairn-iprep-categories.txt".into(),
        content: "1,Cairn,Networks on Cairn's indicator lists\n".into(),
    });
    files.push(OutputFile {
        name: "cairn-iprep.list".into(),
        content: networks
            .iter()
            .map(|(n, s)| format!("{n},1,{s}\n"))
            .collect(),
    });
    files.push(OutputFile {
        name: SURICATA_RULES.into(),
        content: rules(),
    });
    SensorExport {
        files,
        written,
        skipped,
    }
}

/// The rules: one per (buffer, set), SIDs from [`SURICATA_SID_BASE`].
fn rules() -> String {
    let set = |name: &str, kind: &str| format!("dataset:isset,{name},type {kind},load {name}.lst");
    let domains = set("cairn-domains", "string");
    let lines: Vec<(&str, &str, String)> = vec![
        (
            "dns",
            "DNS query for a domain on Cairn's list",
            format!("dns.query; {domains};"),
        ),
        (
            "tls",
            "TLS SNI of a domain on Cairn's list",
            format!("tls.sni; {domains};"),
        ),
        (
            "http",
            "HTTP host of a domain on Cairn's list",
            format!("http.host; {domains};"),
        ),
        (
            "ip",
            "traffic to an IPv4 address on Cairn's list",
            format!("ip.dst; {};", set("cairn-ipv4", "ipv4")),
        ),
        (
            "ip",
            "traffic from an IPv4 address on Cairn's list",
            format!("ip.src; {};", set("cairn-ipv4", "ipv4")),
        ),
        (
            "ip",
            "traffic to an IPv6 address on Cairn's list",
            format!("ip.dst; {};", set("cairn-ipv6", "ip")),
        ),
        (
            "ip",
            "traffic from an IPv6 address on Cairn's list",
            format!("ip.src; {};", set("cairn-ipv6", "ip")),
        ),
        (
            "ip",
            "traffic with a network on Cairn's list",
            "iprep:any,Cairn,>,0;".to_string(),
        ),
        (
            "http",
            "file with an MD5 on Cairn's list",
            "filemd5:cairn-md5.lst;".to_string(),
        ),
        (
            "http",
            "file with a SHA-256 on Cairn's list",
            "filesha256:cairn-sha256.lst;".to_string(),
        ),
    ];
    let mut out = String::from(
        "# Cairn indicators for Suricata. Keep the .lst, .rep and iprep files beside this file.\n\
         # The iprep rule needs, in suricata.yaml:\n\
         #   reputation-categories-file: <this directory>/cairn-iprep-categories.txt\n\
         #   reputation-files: [<this directory>/cairn-iprep.list]\n\
         # The .rep files carry each value's confidence for datarep, e.g.\n\
         #   dns.query; datarep:cairn-domains-rep,>,70,type string,load cairn-domains.rep;\n",
    );
    for (n, (proto, msg, body)) in lines.iter().enumerate() {
        let sid = SURICATA_SID_BASE + n as u32;
        out.push_str(&format!(
            "alert {proto} any any -> any any (msg:\"Cairn: {msg}\"; {body} classtype:trojan-activity; sid:{sid}; rev:1;)\n"
        ));
    }
    out
}
