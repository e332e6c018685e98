//! Intake: published intel files in, Cairn's model out.
//!
//! [`parse_path`] reads one file, detects its [`Format`] from its content
//! (or takes the one forced in [`Options`]), and returns a
//! [`Bundle`](cairn_model::Bundle): the objects and relationships the file
//! states, each carrying the provenance (source, reference, first/last seen,
//! confidence, TLP) it was given. Parsing is all-or-nothing: a file with one
//! bad object is an error naming the file and the object, and nothing of it
//! reaches the store.
//!
//! | format | input |
//! |---|---|
//! | `stix` | STIX 2.1 bundles, and the STIX 2.0 flavour of ATT&CK's mitre/cti |
//! | `misp-galaxy` | MISP galaxy cluster files (threat-actor, tool, sector, …) |
//! | `misp-event` | MISP event JSON exports (attributes, objects, galaxy tags) |
//! | `misp-warninglist` | MISP warninglist `list.json` (kept whole, for hunting) |
//! | `csv` | indicator tables with a header row |
//! | `list` | one indicator per line, defanged forms accepted |
//! | `text` | free-text reports (text, Markdown, HTML, PDF) |
//! | `cert-list` | abused code-signing certificates: Cert Graveyard, XingTuLab (NDSS 2026), LOLCerts |
//! | `yara` | YARA rule files (kept whole; blocklist rules' serials become certificate indicators) |
//! | `sigma` | Sigma rule files, or a folder of them (each file kept whole as one indicator, its techniques as references) |
//!
//! ```
//! use cairn_intake::{parse_bytes, Format, Options};
//! let opts = Options { actor: Some("RedHotel".into()), source: Some("demo".into()), ..Options::default() };
//! let bundle = parse_bytes("iocs.txt".as_ref(), b"kb.dga[.]asia\n45.77.153[.]197\n", &opts).unwrap();
//! assert_eq!(bundle.format, "list");
//! assert_eq!(bundle.indicator_count(), 2);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod asn;
mod certs;
mod detect;
pub mod errors;
mod lists;
mod misp_event;
mod misp_galaxy;
mod observe;
mod pattern;
mod prov;
mod sigma;
mod stix;
mod stream;
mod text;
mod whois;
mod yara;

use cairn_model::{Bundle, Tlp};
use errors::IntakeError;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub use asn::{AsnRows, asn_rows, open_asn_table};
pub use cairn_extract::BenignFilter;
pub use observe::{ObsFormat, observation_format, read_observations, read_observations_from};
pub use pattern::observables_from_pattern;
pub use sigma::pack_dir as pack_sigma_dir;
pub use stix::{StixStream, open_stix};
pub use stream::{
    CsvValues, ListInfo, ListLine, ListLines, csv_batches, csv_values, digest_list, list_info,
    list_lines, open_list, open_reader, read_head,
};
pub use whois::{Registration, parse_rdap, parse_whois};

/// The format [`parse_bytes`] would read `bytes` as, under `path`'s name.
pub fn detect_format(path: &Path, bytes: &[u8]) -> Format {
    detect::detect(path, bytes)
}

/// The formats intake understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from content.
    #[default]
    Auto,
    /// STIX 2.0/2.1 bundle.
    Stix,
    /// MISP galaxy clusters.
    MispGalaxy,
    /// MISP event export.
    MispEvent,
    /// MISP warninglist.
    MispWarninglist,
    /// CSV with a header.
    Csv,
    /// One indicator per line.
    List,
    /// Free-text report.
    Text,
    /// Address → AS table (`first,last,asn,organisation`); not a bundle:
    /// read it with [`open_asn_table`].
    AsnTable,
    /// WHOIS text answer for one domain; not a bundle: read it with [`parse_registration`].
    Whois,
    /// RDAP domain response (JSON); not a bundle: read it with [`parse_registration`].
    Rdap,
    /// Abused code-signing certificate list: Cert Graveyard, XingTuLab
    /// (NDSS 2026, with `certs.zip` beside it) or LOLCerts CSV.
    CertList,
    /// YARA rules (`.yar`), kept whole for the scanner; certificate
    /// blocklist rules also give certificate indicators.
    Yara,
    /// Sigma rules (`.yml` with `logsource` and `detection`, or a folder of
    /// them packed by `pack_sigma_dir`), kept whole for the detector.
    Sigma,
}

impl Format {
    /// The format's name as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Stix => "stix",
            Format::MispGalaxy => "misp-galaxy",
            Format::MispEvent => "misp-event",
            Format::MispWarninglist => "misp-warninglist",
            Format::Csv => "csv",
            Format::List => "list",
            Format::Text => "text",
            Format::AsnTable => "asn-table",
            Format::Whois => "whois",
            Format::Rdap => "rdap",
            Format::CertList => "cert-list",
            Format::Yara => "yara",
            Format::Sigma => "sigma",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "stix" | "stix2" => Format::Stix,
            "misp-galaxy" | "galaxy" => Format::MispGalaxy,
            "misp-event" | "misp" => Format::MispEvent,
            "misp-warninglist" | "warninglist" => Format::MispWarninglist,
            "csv" => Format::Csv,
            "list" | "txt-list" => Format::List,
            "text" | "report" => Format::Text,
            "asn-table" | "asn" => Format::AsnTable,
            "whois" => Format::Whois,
            "rdap" => Format::Rdap,
            "cert-list" | "certs" => Format::CertList,
            "yara" | "yar" => Format::Yara,
            "sigma" => Format::Sigma,
            _ => {
                return Err(format!(
                    "unknown format `{s}` (auto, stix, misp-galaxy, misp-event, misp-warninglist, csv, list, text, asn-table, whois, rdap, cert-list, yara, sigma)"
                ));
            }
        })
    }
}

/// What the caller knows that the file may not say.
#[derive(Clone, Default)]
pub struct Options {
    /// Force a format instead of detecting it.
    pub format: Format,
    /// Source name to attribute every statement to (default: from the file).
    pub source: Option<String>,
    /// Actor the file's indicators belong to (lists, CSV, reports).
    pub actor: Option<String>,
    /// Marking for statements that carry none.
    pub tlp: Option<Tlp>,
    /// Confidence (0–100) for statements that carry none.
    pub confidence: Option<u8>,
    /// Reference (URL) for statements that carry none.
    pub reference: Option<String>,
    /// Keep indicators of benign infrastructure found in reports.
    pub keep_benign: bool,
    /// Extra benign filter for reports (e.g. MISP warninglists).
    pub benign: Option<Arc<dyn BenignFilter>>,
    /// CSV columns named by the caller, in place of the usual header names.
    pub columns: Columns,
}

/// CSV header names the caller maps to meanings (a feed whose header says
/// `malware_printable` where Cairn would look for `actor`). Each, when set,
/// must be in the header; unset ones are found by the usual names.
#[derive(Clone, Default, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Columns {
    /// The indicator value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The indicator kind (`domain`, `ipv4`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The actor the indicator belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// When it was first seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Columns {
    /// Whether no column is mapped.
    pub fn is_empty(&self) -> bool {
        *self == Columns::default()
    }
}

/// Reads and parses one file. Gzip-compressed files are read transparently.
pub fn parse_path(path: &Path, opts: &Options) -> Result<Bundle, IntakeError> {
    let bytes = read(path)?;
    parse_bytes(path, &bytes, opts)
}

/// Reads a file's bytes, decompressing gzip, with errors that name the file.
pub fn read(path: &Path) -> Result<Vec<u8>, IntakeError> {
    let io = |source| IntakeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| IntakeError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "gzip stream is corrupt or truncated after {} bytes: {e}",
                    out.len()
                ),
            })?;
        out
    } else {
        raw
    };
    Ok(bytes)
}

/// Parses a file already in memory; `path` names it in errors and provenance.
pub fn parse_bytes(path: &Path, bytes: &[u8], opts: &Options) -> Result<Bundle, IntakeError> {
    let format = match opts.format {
        Format::Auto => detect::detect(path, bytes),
        f => f,
    };
    let mut bundle = match format {
        Format::Stix => stix::parse(path, utf8(path, bytes)?, opts)?,
        Format::MispGalaxy => misp_galaxy::parse(path, utf8(path, bytes)?, opts)?,
        Format::MispEvent => misp_event::parse(path, utf8(path, bytes)?, opts)?,
        Format::MispWarninglist => warninglist(path, utf8(path, bytes)?, opts)?,
        Format::Csv => lists::parse_csv(path, utf8(path, bytes)?, opts)?,
        Format::List => lists::parse_list(path, utf8(path, bytes)?, opts)?,
        Format::CertList => {
            let text = utf8(path, bytes)?;
            let first = text.lines().next().unwrap_or_default();
            let list = certs::detect(first).ok_or_else(|| IntakeError::Format {
                path: path.to_path_buf(),
                message: "the header is none of the certificate lists read (Cert Graveyard, XingTuLab CS_Dataset, LOLCerts)".into(),
            })?;
            certs::parse(path, text, list, opts)?
        }
        Format::Yara => yara::parse(path, utf8(path, bytes)?, opts)?,
        Format::Sigma => sigma::parse(path, utf8(path, bytes)?, opts)?,
        Format::Text | Format::Auto => text::parse(path, bytes, opts)?,
        Format::Whois | Format::Rdap => {
            return Err(IntakeError::Format {
                path: path.to_path_buf(),
                message: "a registration record is not a bundle: read it with parse_registration"
                    .into(),
            });
        }
        Format::AsnTable => {
            return Err(IntakeError::Format {
                path: path.to_path_buf(),
                message: "an address → AS table is not a bundle: read it with open_asn_table"
                    .into(),
            });
        }
    };
    bundle.format = format.as_str().to_string();
    Ok(bundle)
}

/// Reads one WHOIS or RDAP file (detected, or as `format` says) as one
/// domain's registration record.
pub fn parse_registration(
    path: &Path,
    bytes: &[u8],
    format: Format,
) -> Result<whois::Registration, IntakeError> {
    let format = match format {
        Format::Auto => detect::detect(path, bytes),
        f => f,
    };
    match format {
        Format::Rdap => whois::parse_rdap(path, utf8(path, bytes)?),
        // WHOIS servers still answer in Latin-1 now and then.
        Format::Whois => whois::parse_whois(path, &String::from_utf8_lossy(bytes)),
        f => Err(IntakeError::Format {
            path: path.to_path_buf(),
            message: format!("not a WHOIS or RDAP record (detected as {})", f.as_str()),
        }),
    }
}

fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, IntakeError> {
    let s = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        IntakeError::object(
            path,
            format!("line {line}, byte offset {}", e.valid_up_to()),
            "invalid UTF-8",
        )
    })?;
    Ok(s.strip_prefix('\u{feff}').unwrap_or(s))
}

/// A warninglist is stored whole, under the caller's marking; the hunt
/// engine compiles it.
fn warninglist(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    #[derive(serde::Deserialize)]
    struct Head {
        name: String,
        list: Vec<serde_json::Value>,
    }
    let head: Head = serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?;
    if head.list.is_empty() {
        return Err(IntakeError::object(
            path,
            "list",
            "warninglist has no entries",
        ));
    }
    Ok(Bundle {
        source: format!("MISP warninglist: {}", head.name),
        documents: vec![(head.name, text.to_string())],
        documents_tlp: opts.tlp.unwrap_or_default(),
        ..Bundle::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warninglist_is_kept_under_the_callers_marking() {
        let text = br#"{"name": "test list", "type": "string", "list": ["a.example"]}"#;
        let path = Path::new("list.json");
        let forced = |tlp| Options {
            format: Format::MispWarninglist,
            tlp,
            ..Options::default()
        };
        let red = parse_bytes(path, text, &forced(Some(Tlp::Red))).unwrap();
        assert_eq!(red.documents.len(), 1);
        assert_eq!(red.documents_tlp, Tlp::Red);
        let unmarked = parse_bytes(path, text, &forced(None)).unwrap();
        assert_eq!(unmarked.documents_tlp, Tlp::Clear);
    }
}
