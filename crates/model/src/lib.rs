//! Cairn's knowledge model: the shapes every other crate passes around.
//!
//! Intake turns published files into a [`Bundle`] of [`Object`]s and
//! [`Relation`]s; the knowledge base stores them as they were said, each with
//! its [`Provenance`]; engines read them back. Nothing here does I/O.
//!
//! The model follows STIX 2.1: an object keeps its STIX id and type, and its
//! original JSON (`raw`) so that export can be lossless. The few fields Cairn
//! queries on (names, aliases, ATT&CK ids, tactics, countries, sectors,
//! observables) are lifted out of the JSON at intake.
//!
//! ```
//! use cairn_model::{normalize_name, IndicatorKind};
//! assert_eq!(normalize_name("TAG 22"), normalize_name("tag-22"));
//! assert_eq!(IndicatorKind::detect("kb.dga.asia"), Some(IndicatorKind::Domain));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod asn;
pub mod attack;
mod geo;
mod indicator;
mod names;
pub mod observe;
mod registration;
pub mod serial;
pub mod time;
mod tlp;
pub mod vocab;

pub use asn::AsnRange;
pub use geo::{country_code, country_name};
pub use indicator::{IndicatorKind, Observable, split_socket, url_host};
pub use names::{canonical_stix_id, deterministic_id, has_v4_or_v5_uuid, normalize_name};
pub use registration::Registration;
pub use tlp::{TLP2_EXTENSION, Tlp};

use serde::{Deserialize, Serialize};

/// Who said a thing, where, when, and how sure they were.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The source: a feed or file identity ("MITRE ATT&CK (enterprise-attack)").
    pub source: String,
    /// Where the statement can be checked: a URL, a report, a STIX or MISP id.
    pub reference: Option<String>,
    /// When the source first saw what it states (RFC 3339 or a date).
    pub first_seen: Option<String>,
    /// When the source last saw it.
    pub last_seen: Option<String>,
    /// The source's confidence, 0–100 (STIX scale), when stated.
    pub confidence: Option<u8>,
    /// The sharing marking.
    pub tlp: Tlp,
}

/// One STIX domain or cyber-observable object as one source states it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// STIX id (`intrusion-set--…`); deterministic for objects Cairn creates.
    pub id: String,
    /// STIX type (`intrusion-set`, `attack-pattern`, `indicator`, …).
    pub kind: String,
    /// Primary name.
    pub name: Option<String>,
    /// Other names this source gives the object (never merged across sources).
    pub aliases: Vec<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// External id such as ATT&CK's `G1006`, `T1059.001`, `S0154`, `C0017`.
    pub external_id: Option<String>,
    /// STIX `created`.
    pub created: Option<String>,
    /// STIX `modified` (the object's version).
    pub modified: Option<String>,
    /// Revoked by its producer (superseded by another object).
    pub revoked: bool,
    /// Deprecated by its producer (ATT&CK's `x_mitre_deprecated`).
    pub deprecated: bool,
    /// Tactics (kill-chain phase names) for attack patterns.
    pub tactics: Vec<String>,
    /// Labels: indicator roles (`c2`, `reconnaissance`), STIX labels, types.
    pub labels: Vec<String>,
    /// ISO 3166-1 alpha-2: a location's country, or an actor's origin.
    pub country: Option<String>,
    /// Sectors, for identities of class `class` and for victims.
    pub sectors: Vec<String>,
    /// An indicator's `valid_until`.
    pub valid_until: Option<String>,
    /// Observable values an indicator carries (from its pattern or intake).
    pub observables: Vec<Observable>,
    /// Reference URLs.
    pub references: Vec<String>,
    /// Who says this, and how sure.
    pub prov: Provenance,
    /// The object's JSON as the source published it (or as Cairn built it).
    pub raw: String,
}

/// A STIX relationship (`uses`, `targets`, `attributed-to`, `indicates`, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// STIX id of the relationship.
    pub id: String,
    /// Relationship type.
    pub rel_type: String,
    /// The subject's STIX id.
    pub source_ref: String,
    /// The object's STIX id.
    pub target_ref: String,
    /// Free text, e.g. ATT&CK's procedure example.
    pub description: Option<String>,
    /// Revoked by its producer.
    pub revoked: bool,
    /// Deprecated by its producer.
    pub deprecated: bool,
    /// Who says this, and how sure.
    pub prov: Provenance,
    /// The relationship's JSON as published (or as Cairn built it).
    pub raw: String,
}

/// Everything one source file said, ready to store in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// Detected or forced format name (`stix`, `misp-galaxy`, …).
    pub format: String,
    /// Source name every statement in this bundle is attributed to.
    pub source: String,
    /// Objects, in file order.
    pub objects: Vec<Object>,
    /// Relationships, in file order.
    pub relations: Vec<Relation>,
    /// Auxiliary documents kept whole (e.g. a MISP warninglist), by name.
    pub documents: Vec<(String, String)>,
    /// The marking `documents` are stored under (the caller's, else TLP:CLEAR).
    pub documents_tlp: Tlp,
    /// Non-fatal notes about the input (skipped values and why).
    pub warnings: Vec<String>,
}

impl Bundle {
    /// Number of objects that are indicators.
    pub fn indicator_count(&self) -> usize {
        self.objects
            .iter()
            .filter(|o| o.kind == "indicator")
            .count()
    }
}
