//! The rows actor resolution and profiles are built from. Each backend
//! answers these few reads in its own SQL; the resolution (which actors
//! are one, which sources disagree) and the profile (which source claims
//! what) are then computed once, in Rust, the same for both
//! (`resolve.rs`, `profile.rs`).

use crate::errors::KbError;
use cairn_model::Object;
use std::collections::{BTreeSet, HashMap};

/// Which actors (`intrusion-set` objects no source has withdrawn) to read.
#[derive(Debug, Clone, Copy)]
pub enum ActorQuery<'a> {
    /// The one with this STIX id (lower case), revoked or not.
    StixId(&'a str),
    /// Those carrying this normalized name, revoked or not.
    Norm(&'a str),
    /// Those some live `revoked-by` relationship from these ids points to.
    Replacing(&'a [String]),
    /// Those not revoked that carry any of these normalized names.
    Named(&'a BTreeSet<String>),
}

/// A `uses` claim: what the actor uses, as its source states it (a revoked
/// technique already replaced by its successor).
#[derive(Debug, Clone)]
pub struct UsesRow {
    /// `attack-pattern`, `malware` or `tool`.
    pub kind: String,
    /// ATT&CK id.
    pub external_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Tactics, as the JSON array stored.
    pub tactics: String,
    /// The claim's source.
    pub source: String,
}

/// A campaign attributed to the actor.
#[derive(Debug, Clone)]
pub struct CampaignRow {
    /// ATT&CK id.
    pub external_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// First seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// The claim's source.
    pub source: String,
}

/// A `targets` claim on a location or an identity.
#[derive(Debug, Clone)]
pub struct TargetRow {
    /// `location` or `identity`.
    pub kind: String,
    /// A location's country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// An identity's sectors, as the JSON array stored.
    pub sectors: String,
    /// The claim's source.
    pub source: String,
}

/// Indicator values of one kind linked to the actor.
#[derive(Debug, Clone)]
pub struct IndicatorCountRow {
    /// Indicator kind.
    pub kind: String,
    /// Distinct values.
    pub values: i64,
    /// Earliest first seen.
    pub first_seen: Option<String>,
    /// Latest last seen.
    pub last_seen: Option<String>,
    /// Sightings recorded of all the actor's indicators (the same on every row).
    pub sightings: i64,
}

/// The reads behind actor resolution and profiles, answered by each
/// backend under its connection's TLP ceiling. `ids` are the members'
/// STIX ids.
pub trait ActorRows {
    /// Actors (row id, object) as `by` selects them.
    fn actor_rows(&self, by: ActorQuery<'_>) -> Result<Vec<(i64, Object)>, KbError>;
    /// The normalized names of each of these actor rows.
    fn norms_of(&self, rowids: &[i64]) -> Result<HashMap<i64, BTreeSet<String>>, KbError>;
    /// Every live actor's names: (normalized, as written).
    fn actor_name_rows(&self) -> Result<Vec<(String, String)>, KbError>;
    /// What the actors use (techniques, malware, tools).
    fn uses_rows(&self, ids: &[String]) -> Result<Vec<UsesRow>, KbError>;
    /// Campaigns attributed to the actors.
    fn campaign_rows(&self, ids: &[String]) -> Result<Vec<CampaignRow>, KbError>;
    /// Countries and sectors the actors target.
    fn target_rows(&self, ids: &[String]) -> Result<Vec<TargetRow>, KbError>;
    /// Indicator values by kind, from indicators and from lists, with sightings.
    fn indicator_rows(&self, ids: &[String]) -> Result<Vec<IndicatorCountRow>, KbError>;
}
