//! What sensor exports read, and the rules that turn a backend's rows into
//! [`ExportIndicator`]s. Each backend reads three things in its own SQL —
//! the live `indicates` relationships, the indicator objects with their
//! values, and the compact lists — and hands them to an [`ExportAssembly`],
//! which applies the ceiling, the actor filter and the naming the same for
//! both (each target actor resolved once, through kb's resolution).

use crate::actor_rows::ActorRows;
use crate::errors::KbError;
use crate::profile::actor_ref;
use cairn_model::{IndicatorKind, Provenance, Tlp};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which indicators an export wants.
#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// Nothing marked above this TLP: not the indicator, nor the
    /// relationship or actor that names who it belongs to.
    pub tlp_max: Tlp,
    /// Only indicators that indicate one of these objects (STIX ids, a
    /// [`crate::Profile`]'s members); `None` for every indicator.
    pub indicates: Option<Vec<String>>,
    /// Only indicators stored or changed after this instant (a STIX
    /// timestamp, compared with the store's millisecond stamps).
    pub since: Option<String>,
}

impl ExportQuery {
    /// `since` in integer milliseconds (list values keep their stamps so);
    /// `i64::MIN` without one.
    pub fn since_ms(&self) -> Result<i64, KbError> {
        match &self.since {
            Some(s) => cairn_model::time::parse(s)
                .map(|t| t.as_millisecond())
                .ok_or_else(|| KbError::Invalid(format!("`{s}` is not a timestamp"))),
            None => Ok(i64::MIN),
        }
    }
}

/// One indicator value as one source states it, with its context.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportIndicator {
    /// The indicator's row id.
    pub key: i64,
    /// Its STIX id.
    pub stix_id: String,
    /// Value type.
    pub kind: IndicatorKind,
    /// The value, normalized.
    pub value: String,
    /// Resolved names of the actors it indicates.
    pub actors: Vec<String>,
    /// Malware, tools and campaigns it indicates.
    pub families: Vec<String>,
    /// Roles and labels (`c2`, …).
    pub roles: Vec<String>,
    /// The source stating it.
    pub source: String,
    /// The source's confidence (0–100).
    pub confidence: Option<u8>,
    /// Its marking.
    pub tlp: Tlp,
    /// First seen, as the source says.
    pub first_seen: Option<String>,
    /// Last seen, as the source says.
    pub last_seen: Option<String>,
    /// When the store last wrote it.
    pub updated_at: String,
}

/// A live `indicates` relationship to a live actor, family or campaign.
#[derive(Debug, Clone)]
pub struct IndicatesRow {
    /// The indicator's STIX id.
    pub indicator: String,
    /// The relationship's marking, as stored.
    pub rel_tlp: String,
    /// The target's kind (`intrusion-set`, `malware`, `tool`, `campaign`).
    pub kind: String,
    /// The target's STIX id.
    pub target: String,
    /// The target's name.
    pub name: Option<String>,
    /// The target's marking, as stored.
    pub target_tlp: String,
}

/// An active indicator object's value, as stored.
#[derive(Debug, Clone)]
pub struct IndicatorValueRow {
    /// Row id.
    pub key: i64,
    /// STIX id.
    pub stix_id: String,
    /// Value type, as stored.
    pub kind: String,
    /// The value.
    pub value: String,
    /// Labels, as the JSON array stored.
    pub labels: String,
    /// Source name.
    pub source: String,
    /// Confidence.
    pub confidence: Option<i64>,
    /// Marking, as stored.
    pub tlp: String,
    /// First seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// When the store last wrote it.
    pub updated_at: String,
}

/// A compact list: what its values share.
#[derive(Debug, Clone)]
pub struct ListExportHead {
    /// Source name.
    pub source: String,
    /// Reference, confidence and marking the list was ingested with.
    pub prov: Provenance,
    /// Roles and labels.
    pub labels: Vec<String>,
    /// The actor it indicates, when an actor object of that id is stored
    /// and live: (STIX id, name, marking as stored).
    pub actor: Option<(String, Option<String>, String)>,
}

/// A list an export takes: what each of its values carries.
#[derive(Debug, Clone)]
pub struct ListTake {
    head: ListExportHead,
    actors: Vec<String>,
}

/// Builds an export from a backend's rows: feed it the relationships
/// first, then indicator values and lists in any order, then
/// [`ExportAssembly::finish`].
pub struct ExportAssembly<'a, R: ActorRows + ?Sized> {
    kb: &'a R,
    q: &'a ExportQuery,
    targets: HashMap<String, Vec<(String, String, Option<String>)>>,
    wanted: Option<HashSet<String>>,
    names: HashMap<String, String>,
    out: Vec<ExportIndicator>,
}

fn within(tlp: &str, max: Tlp) -> bool {
    tlp.parse::<Tlp>().is_ok_and(|t| t <= max)
}

impl<'a, R: ActorRows + ?Sized> ExportAssembly<'a, R> {
    /// An empty export for `q`; actors are named through `kb`.
    pub fn new(kb: &'a R, q: &'a ExportQuery) -> Self {
        ExportAssembly {
            kb,
            q,
            targets: HashMap::new(),
            wanted: q
                .indicates
                .as_ref()
                .map(|ids| ids.iter().cloned().collect()),
            names: HashMap::new(),
            out: Vec::new(),
        }
    }

    /// One relationship; those above the ceiling (or to a target above it)
    /// say nothing.
    pub fn indicates(&mut self, r: IndicatesRow) {
        if !within(&r.rel_tlp, self.q.tlp_max) || !within(&r.target_tlp, self.q.tlp_max) {
            return;
        }
        let list = self.targets.entry(r.indicator).or_default();
        if !list.iter().any(|(_, t, _)| *t == r.target) {
            list.push((r.kind, r.target, r.name));
        }
    }

    /// The name an actor is shown by: its resolved name, else its own.
    fn actor_name(&mut self, id: &str, own: Option<&String>) -> Result<String, KbError> {
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let n = match actor_ref(self.kb, id)? {
            Some(a) => a.name,
            None => own.cloned().unwrap_or_else(|| id.to_string()),
        };
        self.names.insert(id.to_string(), n.clone());
        Ok(n)
    }

    /// One indicator object's value.
    pub fn indicator(&mut self, r: IndicatorValueRow) -> Result<(), KbError> {
        let Ok(kind) = r.kind.parse::<IndicatorKind>() else {
            return Ok(());
        };
        let Ok(tlp) = r.tlp.parse::<Tlp>() else {
            return Ok(());
        };
        if tlp > self.q.tlp_max {
            return Ok(());
        }
        let tg = self.targets.get(&r.stix_id).cloned().unwrap_or_default();
        if let Some(w) = &self.wanted
            && !tg.iter().any(|(_, t, _)| w.contains(t))
        {
            return Ok(());
        }
        let mut actors: Vec<String> = Vec::new();
        let mut families: BTreeSet<String> = BTreeSet::new();
        for (tkind, tgt, tname) in &tg {
            if tkind == "intrusion-set" {
                let name = self.actor_name(tgt, tname.as_ref())?;
                if !actors.contains(&name) {
                    actors.push(name);
                }
            } else if let Some(n) = tname {
                families.insert(n.clone());
            }
        }
        let roles: Vec<String> =
            serde_json::from_str(&r.labels).map_err(|source| KbError::Json {
                what: "labels",
                source,
            })?;
        self.out.push(ExportIndicator {
            key: r.key,
            stix_id: r.stix_id,
            kind,
            value: r.value,
            actors,
            families: families.into_iter().collect(),
            roles,
            source: r.source,
            confidence: r.confidence.and_then(|c| u8::try_from(c).ok()),
            tlp,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            updated_at: r.updated_at,
        });
        Ok(())
    }

    /// Whether the export takes this list's values (its marking within the
    /// ceiling; with an actor filter, its actor among those wanted).
    pub fn list(&mut self, mut head: ListExportHead) -> Result<Option<ListTake>, KbError> {
        if head.prov.tlp > self.q.tlp_max {
            return Ok(None);
        }
        head.actor = head
            .actor
            .take()
            .filter(|(_, _, t)| within(t, self.q.tlp_max));
        if let Some(w) = &self.wanted
            && !head.actor.as_ref().is_some_and(|(id, _, _)| w.contains(id))
        {
            return Ok(None);
        }
        let actors = match &head.actor {
            Some((id, name, _)) => vec![self.actor_name(id, name.as_ref())?],
            None => Vec::new(),
        };
        Ok(Some(ListTake { head, actors }))
    }

    /// One value of a list [`ExportAssembly::list`] took: its row id, kind
    /// and value as stored, and its stamp in milliseconds.
    pub fn list_value(&mut self, list: &ListTake, id: i64, kind: &str, value: String, ms: i64) {
        let Ok(kind) = kind.parse::<IndicatorKind>() else {
            return;
        };
        self.out.push(ExportIndicator {
            key: crate::LIST_KEY_BASE + id,
            stix_id: crate::lists::indicator_id(&list.head.source, kind.as_str(), &value),
            kind,
            value,
            actors: list.actors.clone(),
            families: Vec::new(),
            roles: list.head.labels.clone(),
            source: list.head.source.clone(),
            confidence: list.head.prov.confidence,
            tlp: list.head.prov.tlp,
            first_seen: None,
            last_seen: None,
            updated_at: crate::lists::ms_text(ms),
        });
    }

    /// The export, ordered by kind, value and key.
    pub fn finish(self) -> Vec<ExportIndicator> {
        let mut out = self.out;
        out.sort_by(|a, b| {
            (a.kind.as_str(), &a.value, a.key).cmp(&(b.kind.as_str(), &b.value, b.key))
        });
        out
    }
}
