//! Whose an indicator is: the context a hit is reported with, built once
//! per key (or set of keys) from the store as the caller may see it.

use crate::errors::EngineError;
use cairn_kb::errors::KbError;
use cairn_kb::{ActorRef, KnowledgeBase};
use cairn_model::Provenance;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a hunt's indicators come from, and so who they belong to.
pub enum Intel<'a> {
    /// The store, through a connection of the caller's clearance: an
    /// indicator it cannot see has no context, and its hits are dropped.
    Store(&'a mut dyn KnowledgeBase),
    /// An indicator list file: every indicator's context is the list.
    List {
        /// The list's name as alerts show it (its path).
        name: String,
    },
}

/// Who an indicator belongs to, as alerts report it: the actors and
/// families the store links it to and every source's provenance.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct HitContext {
    /// The indicators' STIX ids (one per source's statement).
    pub stix_ids: Vec<String>,
    /// Actors it indicates, resolved across sources.
    pub actors: Vec<ActorRef>,
    /// Malware families and tools it indicates.
    pub families: Vec<String>,
    /// Roles and labels (`c2`, `reconnaissance`, …).
    pub roles: Vec<String>,
    /// Who said so.
    pub sources: Vec<Provenance>,
    /// The alert JSON from `"actors"` to the closing brace, the same for
    /// every hit of this context: rendered once, not per alert.
    #[serde(skip)]
    pub(crate) json_tail: String,
}

/// The part of an alert's JSON that depends only on its context.
#[derive(Serialize)]
struct AlertTail<'a> {
    actors: &'a [ActorRef],
    families: &'a [String],
    roles: &'a [String],
    confidence: Option<u8>,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    sources: &'a [Provenance],
    stix_ids: &'a [String],
}

impl HitContext {
    /// The highest confidence any source states.
    pub fn confidence(&self) -> Option<u8> {
        self.sources.iter().filter_map(|s| s.confidence).max()
    }

    /// The earliest first sighting any source states.
    pub fn first_seen(&self) -> Option<&str> {
        self.sources
            .iter()
            .filter_map(|s| s.first_seen.as_deref())
            .min()
    }

    /// The latest last sighting any source states.
    pub fn last_seen(&self) -> Option<&str> {
        self.sources
            .iter()
            .filter_map(|s| s.last_seen.as_deref())
            .max()
    }

    /// Renders the JSON tail and freezes the context.
    pub(crate) fn sealed(mut self) -> Arc<HitContext> {
        let tail = AlertTail {
            actors: &self.actors,
            families: &self.families,
            roles: &self.roles,
            confidence: self.confidence(),
            first_seen: self.first_seen(),
            last_seen: self.last_seen(),
            sources: &self.sources,
            stix_ids: &self.stix_ids,
        };
        // Serialising plain structs of strings cannot fail.
        let mut json = serde_json::to_string(&tail).unwrap_or_else(|_| "{}".into());
        // `{"actors":...}` without its opening brace.
        json.remove(0);
        self.json_tail = json;
        Arc::new(self)
    }

    /// Adds what `other` says, each actor, family, role and source once.
    fn absorb(&mut self, other: &HitContext) {
        fn add<T: Clone + PartialEq>(into: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !into.contains(x) {
                    into.push(x.clone());
                }
            }
        }
        self.stix_ids.extend(other.stix_ids.iter().cloned());
        add(&mut self.actors, &other.actors);
        add(&mut self.families, &other.families);
        add(&mut self.roles, &other.roles);
        add(&mut self.sources, &other.sources);
    }
}

/// Contexts built so far, per key and per set of keys (a value several
/// sources' indicators share). `None` is remembered too: an indicator the
/// caller may not see stays unseen without asking the store again.
#[derive(Default)]
pub struct Contexts {
    keys: FxHashMap<u32, Option<Arc<HitContext>>>,
    merged: HashMap<Vec<u32>, Option<Arc<HitContext>>>,
    list: Option<Arc<HitContext>>,
}

impl Contexts {
    /// An empty cache.
    pub fn new() -> Contexts {
        Contexts::default()
    }

    /// The context of one key, `None` when the caller may not see it.
    pub fn key(
        &mut self,
        intel: &Intel<'_>,
        k: u32,
    ) -> Result<Option<&Arc<HitContext>>, EngineError> {
        let store = match intel {
            Intel::Store(store) => &**store,
            Intel::List { name } => return Ok(Some(self.list_context(name))),
        };
        let slot = match self.keys.entry(k) {
            std::collections::hash_map::Entry::Occupied(e) => return Ok(e.into_mut().as_ref()),
            std::collections::hash_map::Entry::Vacant(v) => v,
        };
        let c = match store.indicator_context(i64::from(k)) {
            Ok(ic) => Some(
                HitContext {
                    stix_ids: vec![ic.stix_id],
                    actors: ic.actors,
                    families: ic.families,
                    roles: ic.roles,
                    sources: ic.sources,
                    json_tail: String::new(),
                }
                .sealed(),
            ),
            // Hidden from this connection (or gone since the index was built).
            Err(KbError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(slot.insert(c).as_ref())
    }

    /// The context of a hit's keys: one key's, or several merged. Lent, so
    /// a caller clones it only when it differs from the previous hit's.
    pub fn get(
        &mut self,
        intel: &Intel<'_>,
        keys: &[u32],
    ) -> Result<Option<&Arc<HitContext>>, EngineError> {
        if let Intel::List { name } = intel {
            return Ok(Some(self.list_context(name)));
        }
        if let [k] = keys {
            return self.key(intel, *k);
        }
        if !self.merged.contains_key(keys) {
            let mut merged: Option<HitContext> = None;
            for k in keys {
                if let Some(c) = self.key(intel, *k)? {
                    match &mut merged {
                        Some(m) => m.absorb(c),
                        None => merged = Some((**c).clone()),
                    }
                }
            }
            self.merged
                .insert(keys.to_vec(), merged.map(HitContext::sealed));
        }
        Ok(self.merged.get(keys).and_then(Option::as_ref))
    }

    /// The one context every indicator of a list shares.
    fn list_context(&mut self, name: &str) -> &Arc<HitContext> {
        self.list.get_or_insert_with(|| {
            HitContext {
                sources: vec![Provenance {
                    source: name.to_string(),
                    ..Provenance::default()
                }],
                ..HitContext::default()
            }
            .sealed()
        })
    }

    /// What is known of `k` without asking the store: `None` when it has not
    /// been looked up yet, `Some(None)` when the caller may not see it.
    pub fn peek(&self, k: u32) -> Option<Option<&Arc<HitContext>>> {
        if let Some(l) = &self.list {
            return Some(Some(l));
        }
        self.keys.get(&k).map(Option::as_ref)
    }

    /// Keys looked up so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing has been looked up.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.list.is_none()
    }

    /// The context already built for `k`, if any (for summaries after a hunt).
    pub fn cached(&self, k: u32) -> Option<&Arc<HitContext>> {
        match &self.list {
            Some(l) => Some(l),
            None => self.keys.get(&k).and_then(Option::as_ref),
        }
    }
}
