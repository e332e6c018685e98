//! Attribution: rank the intrusion groups that could be behind an incident
//! from its evidence, explain every score, and measure how often it is right.
//!
//! # Data flow
//!
//! 1. [`Corpus::from_bundle`] indexes what is known — the store's snapshot or
//!    an ATT&CK bundle: group profiles (techniques, software, campaigns,
//!    victims, activity span), technique metadata (sub-technique parents,
//!    `revoked-by` replacements) and the software alias table. An actor and
//!    its aliases form one candidate; actors from other sources (MISP
//!    galaxies) attach to the ATT&CK group they share a name with.
//! 2. [`Evidence`] holds what the analyst saw, as messy as it is: revoked
//!    technique ids, software aliases in any case, country names, defanged
//!    indicators. Loaders read ATT&CK Navigator layers, STIX bundles and hunt
//!    alerts.
//! 3. [`Corpus::attribute`] returns a [`Ranking`]: candidates with a score, a
//!    [`Confidence`] band and the per-evidence [`Contribution`]s that add up
//!    to the score, plus the evidence it could not use ([`Unrecognised`]).
//! 4. [`Corpus::evaluate`] measures the model on held-out ATT&CK campaigns and
//!    leave-out rounds, beside Jaccard and cosine baselines.
//!
//! The model (rarity-weighted overlap with size normalisation, weak
//! victimology and time terms) is explained in `docs/ATTRIBUTION.md`.
//!
//! # Example
//!
//! ```
//! use cairn_attribute::{Corpus, Evidence};
//! use cairn_model::{Bundle, Object, Relation};
//!
//! let obj = |id: &str, kind: &str, name: &str, ext: &str| Object {
//!     id: id.into(), kind: kind.into(), name: Some(name.into()),
//!     external_id: Some(ext.into()), ..Object::default()
//! };
//! let uses = |s: &str, t: &str| Relation {
//!     id: format!("relationship--{s}{t}"), rel_type: "uses".into(),
//!     source_ref: s.into(), target_ref: t.into(), ..Relation::default()
//! };
//! let bundle = Bundle {
//!     objects: vec![
//!         obj("intrusion-set--a", "intrusion-set", "Alpha", "G0001"),
//!         obj("intrusion-set--b", "intrusion-set", "Beta", "G0002"),
//!         obj("attack-pattern--1", "attack-pattern", "Phishing", "T1566"),
//!         obj("malware--x", "malware", "RareRAT", "S0001"),
//!     ],
//!     relations: vec![
//!         uses("intrusion-set--a", "attack-pattern--1"),
//!         uses("intrusion-set--b", "attack-pattern--1"),
//!         uses("intrusion-set--b", "malware--x"),
//!     ],
//!     ..Bundle::default()
//! };
//! let corpus = Corpus::from_bundle(&bundle);
//! let evidence = Evidence {
//!     techniques: vec!["T1566".into()],
//!     software: vec!["rarerat".into(), "NoSuchTool".into()],
//!     ..Evidence::default()
//! };
//! let ranking = corpus.attribute(&evidence, 5);
//! assert_eq!(ranking.candidates[0].actor, "Beta");
//! assert_eq!(ranking.unrecognised[0].value, "NoSuchTool");
//! let total: f64 = ranking.candidates[0].evidence.iter().map(|c| c.weight).sum();
//! assert!((total - ranking.candidates[0].score).abs() < 0.01);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod corpus;
pub mod errors;
mod eval;
mod evidence;
mod model;
mod util;

pub use corpus::{Corpus, Weights};
pub use errors::AttributeError;
pub use eval::{
    BandReport, CampaignCase, EvalOptions, EvalReport, Floors, MethodScore, ProtocolReport,
};
pub use evidence::{Evidence, InfrastructureHit, Recognised, Unrecognised};
pub use model::{
    Candidate, Confidence, Contribution, Direction, Distinction, HIGH_MIN_LEAD, HIGH_MIN_SCORE,
    MODERATE_MIN_LEAD, MODERATE_MIN_SCORE, Ranking,
};

#[cfg(test)]
mod tests;
