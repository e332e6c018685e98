//! What the infrastructure surfaces (`cairn infra`, `cairn pivot`, the
//! server's infra API and pages) share: the JSON of an actor's
//! infrastructure, candidates scored and ranked, the pivot walk with its
//! warninglist damping — written once — and [`InfraCache`], which keeps
//! built models in memory so a server pays the population build (seconds)
//! once per store state, clearance and actor, not once per request.
//!
//! A cache entry is keyed by the store's random id, its generation and the
//! connection's TLP ceiling ([`Store::ceiling`]) besides the actor: a model
//! built through an analyst's connection never answers a reader, and a store
//! that changed is read again.

use crate::errors::EngineError;
use crate::infra::{InfraModel, infra_model};
use cairn_infra::{Habit, InfraValue, Pivot, PivotOptions, Scored, Tiered};
use cairn_kb::Store;
use cairn_model::{IndicatorKind, Tlp, normalize_name};
use cairn_warninglist::WarningLists;
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// An actor's infrastructure as `cairn infra ACTOR --json` prints it and
/// `GET /api/v1/infra/{actor}` returns it.
#[derive(Debug, Clone, Serialize)]
pub struct InfraSummary {
    /// The actor's display name.
    pub actor: String,
    /// Registered domains counted (subdomains of one count once).
    pub registered_domains: u32,
    /// Addresses counted.
    pub addresses: u32,
    /// Distinctive habits, strongest first.
    pub habits: Vec<Habit>,
    /// How many registered domains have a WHOIS/RDAP record in the store.
    pub registered: u32,
    /// Registrar shares among those, most common first.
    pub registrars: Vec<Habit>,
    /// Name-server (registered domain) shares among those.
    pub name_servers: Vec<Habit>,
    /// The actor's domains and addresses, each with its sources.
    pub values: Vec<InfraValue>,
    /// Every value's STIX infrastructure types with their reasons.
    pub tiers: Vec<Tiered>,
}

impl InfraModel {
    /// The actor's values and distinctive habits in one document.
    pub fn summary(&self) -> InfraSummary {
        let (registered_domains, addresses) = self.profile.sizes();
        InfraSummary {
            actor: self.infra.actor.clone(),
            registered_domains,
            addresses,
            habits: self.habits(),
            registered: self.profile.registered(),
            registrars: self.profile.shares("registrar", &self.population),
            name_servers: self.profile.shares("name-server", &self.population),
            values: self.profile.values.clone(),
            tiers: self.tiers.clone(),
        }
    }

    /// Scores each distinct candidate (values that are neither a domain nor
    /// an address are left out), highest first, ties by value.
    pub fn score_all<I, S>(&self, store: &Store, candidates: I) -> Result<Vec<Scored>, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for c in candidates {
            let v = c.as_ref();
            if seen.insert(v.to_string())
                && let Some(s) = self.score(store, v)?
            {
                out.push(s);
            }
        }
        out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.value.cmp(&y.value)));
        Ok(out)
    }
}

/// Walks from `start` (see [`cairn_infra::pivot`]), damping domains and
/// addresses that `lists` (the store's warninglists) call benign.
pub fn pivot(
    store: &Store,
    lists: &WarningLists,
    start: &str,
    opts: &PivotOptions,
) -> Result<Pivot, EngineError> {
    let common = |value: &str, kind: &str| {
        matches!(kind, "domain" | "address")
            && IndicatorKind::detect(value).is_some_and(|k| lists.check(k, value).is_some())
    };
    Ok(cairn_infra::pivot(store, start, opts, &common)?)
}

/// The store state a cached value was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StoreState {
    store_id: String,
    generation: i64,
    ceiling: Option<Tlp>,
}

impl StoreState {
    fn of(store: &Store) -> Result<StoreState, EngineError> {
        Ok(StoreState {
            store_id: store.store_id()?,
            generation: store.generation()?,
            ceiling: store.ceiling(),
        })
    }

    /// The same store seen with the same clearance, in another state.
    fn superseded_by(&self, newer: &StoreState) -> bool {
        self.store_id == newer.store_id
            && self.ceiling == newer.ceiling
            && self.generation != newer.generation
    }
}

/// A value made once: callers asking while it is made wait for it.
type Slot<V> = Arc<Mutex<Option<V>>>;

/// Slots by key, at most `capacity`, oldest dropped first; slots of a
/// superseded store state are dropped as soon as a newer state is seen.
struct Slots<K, V> {
    capacity: usize,
    map: HashMap<(StoreState, K), Slot<V>>,
    order: VecDeque<(StoreState, K)>,
}

impl<K: Clone + Eq + Hash, V: Clone> Slots<K, V> {
    fn new(capacity: usize) -> Self {
        Slots {
            capacity: capacity.max(1),
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn slot(&mut self, state: &StoreState, key: K) -> Slot<V> {
        let k = (state.clone(), key);
        if let Some(s) = self.map.get(&k) {
            return s.clone();
        }
        self.order.retain(|(s, _)| !s.superseded_by(state));
        self.map.retain(|(s, _), _| !s.superseded_by(state));
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        let s: Slot<V> = Arc::new(Mutex::new(None));
        self.map.insert(k.clone(), s.clone());
        self.order.push_back(k);
        s
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// A lock whose holder panicked still guards consistent data here (a slot
/// is filled in one assignment): go on with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fills `slot` with `make` unless it is filled; errors are not kept.
fn fill<V: Clone>(
    slot: &Slot<V>,
    made: &AtomicU64,
    make: impl FnOnce() -> Result<V, EngineError>,
) -> Result<(V, bool), EngineError> {
    let mut s = lock(slot);
    if let Some(v) = &*s {
        return Ok((v.clone(), false));
    }
    let v = make()?;
    made.fetch_add(1, Ordering::Relaxed);
    *s = Some(v.clone());
    Ok((v, true))
}

/// How much the cache saved.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct InfraCacheStats {
    /// Answers served from memory.
    pub hits: u64,
    /// Models and warninglist sets built.
    pub built: u64,
    /// Entries held now.
    pub entries: usize,
}

/// Infrastructure models (and the warninglists that damp pivots) kept in
/// memory, keyed by store id, generation, TLP ceiling and actor (see the
/// module notes). Cheap to share behind an `Arc`; every method takes `&self`.
pub struct InfraCache {
    models: Mutex<Slots<String, Option<Arc<InfraModel>>>>,
    lists: Mutex<Slots<(), Arc<WarningLists>>>,
    hits: AtomicU64,
    built: AtomicU64,
}

impl InfraCache {
    /// A cache holding up to `capacity` actor models (a model holds the
    /// population it was compared with: a few MB on a large store).
    pub fn new(capacity: usize) -> InfraCache {
        InfraCache {
            models: Mutex::new(Slots::new(capacity)),
            lists: Mutex::new(Slots::new(4)),
            hits: AtomicU64::new(0),
            built: AtomicU64::new(0),
        }
    }

    /// The model of the actor `query` names as `store` (with its clearance)
    /// sees it now; `None` when no actor answers to it (kept too, so a
    /// misspelt name costs one lookup per store state).
    pub fn model(
        &self,
        store: &Store,
        query: &str,
    ) -> Result<Option<Arc<InfraModel>>, EngineError> {
        // Read before the build: if the store moves meanwhile, the entry is
        // keyed by the older state and the next caller builds again.
        let state = StoreState::of(store)?;
        let slot = lock(&self.models).slot(&state, normalize_name(query));
        let (m, built) = fill(&slot, &self.built, || {
            Ok(infra_model(store, query)?.map(Arc::new))
        })?;
        if !built {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(m)
    }

    /// The store's warninglists as this connection sees them, for
    /// [`pivot`]'s damping (lists that no longer parse are left out).
    pub fn warninglists(&self, store: &Store) -> Result<Arc<WarningLists>, EngineError> {
        let state = StoreState::of(store)?;
        let slot = lock(&self.lists).slot(&state, ());
        let (l, built) = fill(&slot, &self.built, || {
            let mut lists = WarningLists::new();
            crate::warninglists::store_warninglists(store, &mut lists)?;
            Ok(Arc::new(lists))
        })?;
        if !built {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(l)
    }

    /// Hits, builds and entries so far.
    pub fn stats(&self) -> InfraCacheStats {
        InfraCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            built: self.built.load(Ordering::Relaxed),
            entries: lock(&self.models).len() + lock(&self.lists).len(),
        }
    }
}

impl Default for InfraCache {
    /// Room for 16 actor models.
    fn default() -> Self {
        InfraCache::new(16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation};

    const ACTOR: &str = "intrusion-set--0c7e6f42-7f1b-4c57-9e35-3a36f0c1d001";

    /// Two indicators of RedHotel: one TLP:GREEN, one TLP:RED.
    fn bundle(source: &str, values: &[(&str, Tlp)]) -> Bundle {
        let prov = |tlp| Provenance {
            source: source.into(),
            tlp,
            ..Provenance::default()
        };
        let mut objects = vec![Object {
            id: ACTOR.into(),
            kind: "intrusion-set".into(),
            name: Some("RedHotel".into()),
            prov: prov(Tlp::Green),
            ..Object::default()
        }];
        let mut relations = Vec::new();
        for (i, (v, tlp)) in values.iter().enumerate() {
            let id = format!("indicator--0c7e6f42-7f1b-4c57-9e35-3a36f0c1e{i:03}");
            objects.push(Object {
                id: id.clone(),
                kind: "indicator".into(),
                observables: vec![Observable::new(IndicatorKind::Domain, v)],
                prov: prov(*tlp),
                ..Object::default()
            });
            relations.push(Relation {
                id: format!("relationship--0c7e6f42-7f1b-4c57-9e35-3a36f0c1f{i:03}"),
                rel_type: "indicates".into(),
                source_ref: id,
                target_ref: ACTOR.into(),
                prov: prov(*tlp),
                ..Relation::default()
            });
        }
        Bundle {
            source: source.into(),
            format: "list".into(),
            objects,
            relations,
            ..Bundle::default()
        }
    }

    fn values(m: &InfraModel) -> Vec<String> {
        m.summary().values.into_iter().map(|v| v.value).collect()
    }

    #[test]
    fn entries_are_per_clearance_and_store_state() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kb.db");
        let mut full = Store::open(&db).unwrap();
        full.ingest(
            &bundle(
                "notes",
                &[("open.example", Tlp::Green), ("secret.example", Tlp::Red)],
            ),
            None,
            None,
        )
        .unwrap();
        let mut reader = Store::open_existing(&db).unwrap();
        reader.restrict(Tlp::Amber).unwrap();
        let cache = InfraCache::new(4);

        let r = cache.model(&reader, "RedHotel").unwrap().unwrap();
        assert_eq!(values(&r), ["open.example"]);
        // Built on the reader's connection: never the analyst's answer.
        let a = cache.model(&full, "redhotel").unwrap().unwrap();
        assert_eq!(values(&a), ["open.example", "secret.example"]);
        // Asked again (another spelling of the same name): from memory.
        let again = cache.model(&reader, " REDHOTEL").unwrap().unwrap();
        assert!(Arc::ptr_eq(&r, &again));
        assert_eq!(cache.stats().built, 2);
        assert_eq!(cache.stats().hits, 1);
        assert!(cache.model(&reader, "Nobody").unwrap().is_none());

        // The store moves: the reader's next answer is read again.
        full.ingest(
            &bundle("more notes", &[("new.example", Tlp::Green)]),
            None,
            None,
        )
        .unwrap();
        let moved = cache.model(&reader, "RedHotel").unwrap().unwrap();
        assert!(values(&moved).contains(&"new.example".to_string()));
        assert!(!values(&moved).contains(&"secret.example".to_string()));
        // Superseded entries are dropped, not kept beside the new ones.
        assert!(cache.stats().entries <= 3, "{:?}", cache.stats());
    }

    #[test]
    fn capacity_bounds_the_entries_and_json_ranks_the_candidates() {
        let mut s = Store::open_in_memory().unwrap();
        s.ingest(
            &bundle(
                "notes",
                &[
                    ("hostingupdate.club", Tlp::Green),
                    ("windowshost.club", Tlp::Green),
                ],
            ),
            None,
            None,
        )
        .unwrap();
        let cache = InfraCache::new(2);
        for q in ["RedHotel", "a", "b", "c"] {
            cache.model(&s, q).unwrap();
        }
        assert_eq!(cache.stats().entries, 2);
        let m = cache.model(&s, "RedHotel").unwrap().unwrap();
        let ranked = m
            .score_all(
                &s,
                ["weather.com", "0nenote.club", "weather.com", "not a value"],
            )
            .unwrap();
        let order: Vec<&str> = ranked.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(order, ["0nenote.club", "weather.com"]);
        let json = serde_json::to_value(m.summary()).unwrap();
        for k in [
            "actor",
            "registered_domains",
            "addresses",
            "habits",
            "values",
        ] {
            assert!(json.get(k).is_some(), "{k} missing: {json}");
        }
        assert_eq!(json["registered_domains"], 2);
    }
}
