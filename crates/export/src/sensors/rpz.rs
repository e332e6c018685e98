//! A DNS Response Policy Zone: every listed domain and its subdomains
//! answered NXDOMAIN (`CNAME .`) by a DNS firewall (BIND, Unbound, Knot,
//! PowerDNS). Names are written relative to the zone's origin; a name that
//! is not a valid DNS name in ASCII is skipped.

use crate::sensors::indicator::{OutputFile, SensorExport, SensorIndicator, SensorOptions};
use cairn_model::IndicatorKind;

/// The file name used when none is given.
pub const RPZ_FILE: &str = "cairn.rpz";

/// Whether `name` can be written as an owner name: ASCII letters, digits,
/// `-` and `_`, labels of 1–63 bytes, 253 in all.
pub fn rpz_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The zone.
pub fn rpz(indicators: &[SensorIndicator], opts: &SensorOptions) -> SensorExport {
    let mut text = format!(
        "; Cairn indicators as a response policy zone, generated {}.\n\
         $TTL 300\n\
         @ IN SOA localhost. hostmaster.localhost. ( {} 3600 600 604800 300 )\n\
         @ IN NS localhost.\n",
        opts.generated, opts.serial
    );
    let (mut written, mut skipped) = (0, 0);
    for i in indicators {
        if i.kind != IndicatorKind::Domain {
            skipped += 1;
            continue;
        }
        let name = i.value.trim_end_matches('.');
        if !rpz_name_ok(name) {
            skipped += 1;
            continue;
        }
        text.push_str(&format!("{name} CNAME .\n*.{name} CNAME .\n"));
        written += 1;
    }
    SensorExport {
        files: vec![OutputFile {
            name: RPZ_FILE.into(),
            content: text,
        }],
        written,
        skipped,
    }
}
