//! Cairn's exports: what the knowledge base knows about one actor, in the
//! two formats other tools read.
//!
//! - [`stix_bundle`] turns an actor's [`Subgraph`](cairn_kb::Subgraph)
//!   (from [`Store::actor_subgraph`](cairn_kb::Store::actor_subgraph)) into
//!   a STIX 2.1 bundle for OpenCTI, MISP or a TAXII feed. Sources stay
//!   apart: each source's statement is its own object with its own id,
//!   authorship and marking. STIX 2.0 objects (ATT&CK's) are brought to 2.1
//!   and objects from sources that are not STIX (MISP galaxies, CSV, text
//!   reports) are completed into valid 2.1 objects, credited to an identity
//!   per source and marked with the TLP 2.0 marking they were stored under.
//! - [`feed_object`] turns one item of a TAXII page (from
//!   [`Store::feed_objects`](cairn_kb::Store::feed_objects)) into a STIX
//!   2.1 object. It and [`stix_bundle`] share one emitter, [`emit`], whose
//!   module notes list every rule an exported object follows.
//! - [`navigator_layer`] turns a [`Profile`](cairn_kb::Profile)'s techniques
//!   into an ATT&CK Navigator layer, scored by how many sources name each.
//! - [`sensors`] writes the store's indicators for the sensors where logs
//!   live: Zeek Intel files, Suricata datasets and rules, RPZ zones, CSV for
//!   SIEM lookups, ECS NDJSON for Elastic ([`sensors::collect_request`] then
//!   [`sensors::render`]); warninglisted values never leave.
//! - [`check_bundle`] checks a bundle against the STIX 2.1 rules consumers
//!   enforce; the tests hold every export to it.
//!
//! Data flow: `Store` (optionally narrowed with
//! [`Store::restrict`](cairn_kb::Store::restrict), which is how TLP is
//! enforced: a restricted store never hands over what its caller may not
//! see) → `actor_subgraph` / `actor` → this crate → JSON. Nothing here does
//! I/O; the server and the `cairn export` command write the JSON.
//!
//! ```
//! use cairn_kb::Store;
//! use cairn_model::{Bundle, Object, Provenance, Relation};
//!
//! let prov = Provenance { source: "notes".into(), ..Provenance::default() };
//! let actor = "intrusion-set--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d001";
//! let tech = "attack-pattern--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d002";
//! let bundle = Bundle {
//!     source: "notes".into(),
//!     format: "csv".into(),
//!     objects: vec![
//!         Object { id: actor.into(), kind: "intrusion-set".into(), name: Some("Test Panda".into()),
//!                  raw: format!(r#"{{"type":"intrusion-set","id":"{actor}","name":"Test Panda"}}"#),
//!                  prov: prov.clone(), ..Object::default() },
//!         Object { id: tech.into(), kind: "attack-pattern".into(), name: Some("Phishing".into()),
//!                  external_id: Some("T1566".into()), tactics: vec!["initial-access".into()],
//!                  raw: format!(r#"{{"type":"attack-pattern","id":"{tech}","name":"Phishing"}}"#),
//!                  prov: prov.clone(), ..Object::default() },
//!     ],
//!     relations: vec![Relation {
//!         id: "relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d003".into(),
//!         rel_type: "uses".into(), source_ref: actor.into(), target_ref: tech.into(),
//!         raw: format!(r#"{{"type":"relationship","id":"relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d003","relationship_type":"uses","source_ref":"{actor}","target_ref":"{tech}"}}"#),
//!         prov, ..Relation::default() }],
//!     ..Bundle::default()
//! };
//! let mut store = Store::open_in_memory()?;
//! store.ingest(&bundle, None, None)?;
//!
//! let sub = store.actor_subgraph("test panda")?.expect("known actor");
//! let stix = cairn_export::stix_bundle(&sub);
//! cairn_export::check_bundle(&stix)?;
//! assert_eq!(stix["type"], "bundle");
//!
//! let layer = cairn_export::navigator_layer(&sub.profile);
//! assert_eq!(layer["name"], "Test Panda (Cairn)");
//! assert_eq!(layer["techniques"][0]["techniqueID"], "T1566");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod check;
pub mod emit;
pub mod errors;
mod infra;
mod navigator;
pub mod sensors;
mod stix;

pub use check::{check_bundle, check_object};
pub use emit::{Context, Emitted, emit};
pub use errors::ExportError;
pub use infra::{actor_bundle, extend_bundle, infrastructure_objects, sco_id};
pub use navigator::{ATTACK_VERSION, LAYER_VERSION, NAVIGATOR_VERSION, navigator_layer};
pub use stix::{STIX_MEDIA_TYPE, bundle_summary, feed_object, stix_bundle};

#[cfg(test)]
mod tests;
