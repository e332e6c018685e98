//! Cairn's engine layer: what the CLI and the server both do between the
//! knowledge base and the engines, written once so the two surfaces cannot
//! drift apart.
//!
//! Data flow of a hunt:
//! 1. [`load_or_build`] compiles an [`IndicatorSource`] (a [`Store`] or a
//!    list file) into a [`HuntIndex`], leaving out warninglisted values
//!    (built-in and the store's), and caches it on disk under a key made of
//!    the store's random id and generation — an index is never reused for
//!    another store or another state of the same store.
//! 2. [`hunt`] scans logs with it. Each hit gets its [`HitContext`] (actors,
//!    families, roles, every source's provenance) through [`Intel`]: for a
//!    store, a connection of the caller's clearance, so an indicator the
//!    caller may not see yields no alert and no count. Alerts go to the
//!    caller's sink an [`AlertBatch`] at a time ([`Alert::write_json`] is the
//!    one fast JSON writer; [`AlertRecord`] the owned form the API returns).
//! 3. The [`HuntReport`] counts every hit — per actor, per indicator — and
//!    gives the [`cairn_kb::SightingInput`]s to record, with one timestamp
//!    rule ([`sighting_time`]).
//!
//! Beside hunting: [`corpus`] (the attribution corpus a store compiles to),
//! [`benign_filter`] (the store's warninglists as report extraction's
//! filter) and [`infra_model`] (an actor's infrastructure profiled against
//! the store's population, for `cairn infra`), kept in memory between
//! requests by [`InfraCache`]; [`pivot`] walks the observations with the
//! store's warninglists damping benign values. Reports: [`read_report`]
//! reads one whole, [`write_report_lines`] gives the reading as
//! `cairn extract --json`'s lines, [`attribute_report`] ranks its groups
//! and [`actor_choice`] picks the group for `--actor auto`.
//!
//! ```
//! use cairn_engine::{hunt, load_or_build, scan_options, HuntOptions, IndexOptions, IndicatorSource, Intel};
//! use cairn_hunt::Input;
//! use cairn_kb::Store;
//! use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation};
//!
//! let prov = Provenance { source: "notes".into(), ..Provenance::default() };
//! let actor = "intrusion-set--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d001";
//! let ind = "indicator--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d002";
//! let bundle = Bundle {
//!     source: "notes".into(),
//!     format: "list".into(),
//!     objects: vec![
//!         Object { id: actor.into(), kind: "intrusion-set".into(), name: Some("RedHotel".into()),
//!                  prov: prov.clone(), ..Object::default() },
//!         Object { id: ind.into(), kind: "indicator".into(),
//!                  observables: vec![Observable::new(IndicatorKind::Domain, "dga.asia")],
//!                  prov: prov.clone(), ..Object::default() },
//!     ],
//!     relations: vec![Relation { id: "relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d003".into(),
//!         rel_type: "indicates".into(), source_ref: ind.into(), target_ref: actor.into(),
//!         prov, ..Relation::default() }],
//!     ..Bundle::default()
//! };
//! let mut store = Store::open_in_memory()?;
//! store.ingest(&bundle, None, None)?;
//!
//! let index = load_or_build(IndicatorSource::Store(&store), &IndexOptions::default())?;
//! let dir = tempfile::tempdir()?;
//! let log = dir.path().join("dns.jsonl");
//! std::fs::write(&log, "{\"query\":\"kb.dga.asia\"}\n{\"query\":\"notdga.asia\"}\n")?;
//!
//! let lines = std::sync::Mutex::new(Vec::new());
//! let report = hunt(
//!     Intel::Store(&mut store),
//!     &index.index,
//!     &[Input::Path(log)],
//!     HuntOptions { scan: scan_options(), record: true, ..HuntOptions::default() },
//!     &|batch| for a in batch.iter() { a.write_json(&mut lines.lock().unwrap()) },
//! )?;
//! assert_eq!(report.hits, 1);
//! assert_eq!(report.by_actor()[0].1.name, "RedHotel");
//! let alert: serde_json::Value = serde_json::from_slice(&lines.into_inner().unwrap())?;
//! assert_eq!(alert["actors"][0]["name"], "RedHotel");
//! assert_eq!(report.sightings()[0].count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod alert;
mod auto_actor;
mod cert;
mod context;
mod corpus;
mod detect;
pub mod errors;
mod files;
mod hunt;
mod index;
mod infra;
mod infra_cache;
mod lines;
mod report;
mod tally;
mod warninglists;

pub use alert::{Alert, AlertBatch, AlertRecord, IndicatorRef, actor_label};
pub use auto_actor::{actor_choice, is_auto_actor};
pub use cert::{CertReport, CertSample, CertStatement, RelatedCert, certificate_report};
pub use context::{Contexts, HitContext, Intel};
pub use corpus::{CORPUS_KINDS, corpus};
pub use detect::{TechniqueSeen, sigma_rule_sources, technique_sightings};
pub use errors::EngineError;
pub use files::{
    ActorLink, FileMatcher, Finding, FindingKind, Match, RuleOrigin, ScanOutcome, SignatureSummary,
    scan_files,
};
pub use hunt::{
    ActorCount, HuntOptions, HuntReport, IndicatorCount, hunt, hunt_from, scan_options,
};
pub use index::{HuntIndex, IndexOptions, IndicatorSource, load_or_build, read_ioc_list};
pub use infra::{InfraModel, infra_model};
pub use infra_cache::{InfraCache, InfraCacheStats, InfraSummary, pivot};
pub use lines::{
    FindingLine, IndicatorLine, LINE_KINDS, ReportLine, report_lines, write_report_lines,
};
pub use report::{
    ActorChoice, MIN_TECHNIQUE_CONFIDENCE, NamedGroup, ReportAttribution, ReportEvidence,
    ReportModels, ReportReading, attribute_report, choose_actor, prose_reader, read_report,
    reader_cache_path, report_models,
};
pub use tally::sighting_time;
pub use warninglists::{SharedBenignFilter, benign_filter, store_warninglists};

#[cfg(doc)]
use cairn_kb::Store;
