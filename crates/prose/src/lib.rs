//! Reading a threat report like an analyst: the techniques it describes,
//! the software and groups it names, the countries and sectors it says were
//! targeted — each with its sentence, the rule that found it, a confidence
//! and whether the sentence claims it or only compares or negates.
//!
//! # Data flow
//!
//! ```text
//! Bundle (store snapshot or ATT&CK) ──Knowledge::from_bundle──▶ Knowledge
//!     ──Reader::new──▶ Reader ──read(text)──▶ Vec<Finding { kind, value, mentions }>
//! ```
//!
//! 1. [`Knowledge`] gathers ATT&CK techniques, their procedure examples
//!    (the descriptions of `uses` relationships) and every alias of every
//!    group and piece of software, merged across sources.
//! 2. [`Reader::new`] trains a technique classifier on the procedure
//!    examples (TF-IDF words and pairs, a multiclass linear model), keeping
//!    a slice of them out to set its threshold and measure the precision of
//!    each score band, which becomes the confidence it reports.
//! 3. [`Reader::read`] splits the text into sentences and finds explicit
//!    technique ids and names, techniques the model infers from a sentence,
//!    aliases, victim countries and sectors. [`Stance`] says whether the
//!    sentence claims each ("unlike APT41, …" does not).
//! 4. [`Reader::to_bytes`] and [`Reader::from_bytes`] save a trained reader
//!    and load it back (the engine caches a store's reader beside it).
//! 5. [`evaluate_techniques`] measures the classifier on procedure examples
//!    of groups and software it never saw (`docs/EXTRACTION.md`).
//!
//! # Example
//!
//! ```
//! use cairn_model::{Bundle, Object, Relation};
//! use cairn_prose::{FindingKind, Knowledge, Reader, ReaderOptions, Stance};
//!
//! let obj = |id: &str, kind: &str, name: &str, ext: &str| Object {
//!     id: id.into(), kind: kind.into(), name: Some(name.into()),
//!     external_id: Some(ext.into()), ..Object::default()
//! };
//! let bundle = Bundle {
//!     objects: vec![
//!         obj("attack-pattern--1", "attack-pattern", "DLL Side-Loading", "T1574.002"),
//!         obj("intrusion-set--1", "intrusion-set", "APT41", "G0096"),
//!         obj("malware--1", "malware", "ShadowPad", "S0596"),
//!     ],
//!     ..Bundle::default()
//! };
//! let reader = Reader::new(&Knowledge::from_bundle(&bundle), ReaderOptions::default());
//! let found = reader.read(
//!     "Unlike APT41, the actor loaded ShadowPad through DLL side-loading \
//!      against government agencies in Taiwan.",
//! );
//! let by = |k| found.iter().find(|f| f.kind == k).expect("found");
//! assert_eq!(by(FindingKind::Technique).value, "T1574.002");
//! assert_eq!(by(FindingKind::Software).name, "ShadowPad");
//! assert_eq!(by(FindingKind::Group).stance, Stance::Compared);
//! assert_eq!(by(FindingKind::Country).value, "TW");
//! assert_eq!(by(FindingKind::Sector).value, "government");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod errors;
mod eval;
mod knowledge;
mod model;
mod names;
mod reader;
mod saved;
mod stance;
mod text;

pub use eval::{EvalOptions, Prf, TechniqueEval, evaluate_techniques};
pub use knowledge::{KNOWLEDGE_KINDS, Knowledge};
pub use reader::{Finding, FindingKind, Mention, Reader, ReaderOptions};
pub use stance::Stance;
