//! What engines and surfaces read: the [`KnowledgeBase`] answers on
//! PostgreSQL, resolved at query time like the embedded store's.

use crate::PgStore;
use crate::errors::PgError;
use cairn_kb::backend::{TextMatch, actor_ref, add_count, rank_search};
use cairn_kb::errors::KbError;
use cairn_kb::{
    ActorRef, HuntIndicator, IndicatorContext, IndicatorRow, IngestReport, KnowledgeBase,
    LIST_KEY_BASE, ListHead, ListValue, Role, SearchHit, SightingInput, SightingRow, SourceStats,
    Stats, Token, TokenGrant,
};
use cairn_model::{Bundle, IndicatorKind, Observable, Provenance, Tlp, normalize_name};
use futures_util::TryStreamExt;
use sqlx::{Connection, Row};
use std::collections::BTreeSet;

/// Actors named under one store generation.
#[derive(Default)]
pub(crate) struct NameMemo {
    generation: i64,
    names: std::collections::HashMap<String, Option<ActorRef>>,
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn tlp(s: &str) -> Tlp {
    s.parse().unwrap_or(Tlp::Red)
}

type Pairs = Vec<(String, i64)>;

impl PgStore {
    /// A number that changes whenever the store's content changes.
    pub fn generation(&self) -> Result<i64, PgError> {
        self.run(async |c| {
            let v: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'generation'")
                .fetch_one(&mut *c)
                .await?;
            Ok(v.parse().unwrap_or(0))
        })
    }

    /// The random id the database was given when its schema was created.
    pub fn store_id(&self) -> Result<String, PgError> {
        self.run(async |c| {
            Ok(
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'store_id'")
                    .fetch_one(&mut *c)
                    .await?,
            )
        })
    }

    /// The source last ingested from exactly this input, if any.
    pub fn source_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, PgError> {
        self.run(async |c| {
            Ok(
                sqlx::query_as("SELECT name, format FROM sources WHERE fingerprint = $1")
                    .bind(fingerprint)
                    .fetch_optional(&mut *c)
                    .await?,
            )
        })
    }

    /// Counts by kind, relationship type and source (list values count as
    /// indicators and, when their list names an actor, as `indicates`).
    pub fn stats(&self) -> Result<Stats, PgError> {
        let generation = self.generation()?;
        self.run(async |c| {
            let mut kinds: Pairs = sqlx::query_as(
                "SELECT kind, count(*) FROM objects WHERE withdrawn_at IS NULL GROUP BY kind ORDER BY 2 DESC, 1",
            )
            .fetch_all(&mut *c)
            .await?;
            let mut rels: Pairs = sqlx::query_as(
                "SELECT rel_type, count(*) FROM relations WHERE withdrawn_at IS NULL GROUP BY rel_type ORDER BY 2 DESC, 1",
            )
            .fetch_all(&mut *c)
            .await?;
            let (n, linked): (i64, i64) = sqlx::query_as(
                "SELECT count(*), count(ls.actor_ref) FROM list_values v \
                 JOIN list_sources ls ON ls.source_id = v.source_id WHERE v.withdrawn_at IS NULL",
            )
            .fetch_one(&mut *c)
            .await?;
            add_count(&mut kinds, "indicator", n);
            add_count(&mut rels, "indicates", linked);
            let rows = sqlx::query(
                "SELECT s.name, s.format, \
                   (SELECT count(*) FROM objects o WHERE o.source_id = s.id AND o.withdrawn_at IS NULL), \
                   (SELECT count(*) FROM relations r WHERE r.source_id = s.id AND r.withdrawn_at IS NULL), \
                   (SELECT count(*) FROM objects o WHERE o.source_id = s.id AND o.withdrawn_at IS NOT NULL) + \
                   (SELECT count(*) FROM relations r WHERE r.source_id = s.id AND r.withdrawn_at IS NOT NULL), \
                   s.versions, s.last_ingested, \
                   (SELECT count(*) FROM list_values v WHERE v.source_id = s.id AND v.withdrawn_at IS NULL), \
                   (SELECT count(*) FROM list_values v WHERE v.source_id = s.id AND v.withdrawn_at IS NOT NULL), \
                   coalesce((SELECT ls.actor_ref IS NOT NULL FROM list_sources ls WHERE ls.source_id = s.id), false) \
                 FROM sources s ORDER BY s.name",
            )
            .fetch_all(&mut *c)
            .await?;
            let mut sources = Vec::with_capacity(rows.len());
            for r in rows {
                let (listed, unlisted): (i64, i64) = (r.try_get(7)?, r.try_get(8)?);
                let links = i64::from(r.try_get::<bool, _>(9)?);
                sources.push(SourceStats {
                    name: r.try_get(0)?,
                    format: r.try_get(1)?,
                    objects: r.try_get::<i64, _>(2)? + listed,
                    relations: r.try_get::<i64, _>(3)? + links * listed,
                    withdrawn: r.try_get::<i64, _>(4)? + (1 + links) * unlisted,
                    versions: r.try_get(5)?,
                    last_ingested: r.try_get(6)?,
                });
            }
            Ok(Stats {
                objects_by_kind: kinds,
                relations_by_type: rels,
                sources,
                generation,
            })
        })
    }

    /// Ranked matches for `text` among actors, campaigns, software and
    /// techniques: PostgreSQL text search (names weigh most, then aliases,
    /// then descriptions, every word a prefix), exact name matches first,
    /// grouped across sources like the embedded store's search.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, PgError> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| format!("{}:*", t.to_lowercase()))
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let tsquery = words.join(" & ");
        let qnorm = normalize_name(text);
        let rows = self.run(async |c| {
            Ok(sqlx::query(
                "SELECT o.kind, o.name, o.external_id, s.name, \
                   ts_headline('simple', coalesce(o.description, ''), q, \
                     'StartSel=[, StopSel=], MaxWords=12, MinWords=4, ShortWord=2, FragmentDelimiter=…'), \
                   ts_rank('{0.1, 0.2, 0.6, 1.0}', o.tsv, q)::float8, \
                   EXISTS(SELECT 1 FROM names n WHERE n.object_id = o.id AND n.norm = $2) \
                 FROM objects o JOIN sources s ON s.id = o.source_id, to_tsquery('simple', $1) q \
                 WHERE o.tsv @@ q AND o.withdrawn_at IS NULL AND NOT o.revoked \
                 ORDER BY 6 DESC LIMIT 500",
            )
            .bind(&tsquery)
            .bind(&qnorm)
            .fetch_all(&mut *c)
            .await?)
        })?;
        let mut found = Vec::with_capacity(rows.len());
        for r in rows {
            found.push(TextMatch {
                kind: r.try_get(0)?,
                name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                external_id: r.try_get(2)?,
                source: r.try_get(3)?,
                snippet: r.try_get(4)?,
                // ts_rank is in [0, 1]; scaled to weigh like the embedded store's bm25.
                score: r.try_get::<f64, _>(5)? * 10.0,
                exact: r.try_get(6)?,
            });
        }
        let hits = rank_search(found, limit);
        Ok(hits)
    }

    /// Every indicator value to hunt, streamed; without `include_inactive`
    /// revoked, withdrawn and expired ones are left out.
    pub fn for_each_hunt_indicator(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), PgError> {
        let (filter, list_filter) = if include_inactive {
            ("", "")
        } else {
            (
                "AND o.withdrawn_at IS NULL AND NOT o.revoked AND (o.valid_until IS NULL OR o.valid_until > $1)",
                "WHERE withdrawn_at IS NULL",
            )
        };
        let now = cairn_model::time::now_ms();
        let objects = format!(
            "SELECT o.id, ob.kind, ob.value FROM observables ob JOIN objects o ON o.id = ob.object_id \
             WHERE o.kind = 'indicator' {filter}"
        );
        let lists = format!("SELECT id + $1, kind, value FROM list_values {list_filter}");
        let mut emit = |key: i64, kind: &str, value: String| {
            if let Ok(kind) = kind.parse::<IndicatorKind>() {
                f(HuntIndicator {
                    key,
                    observable: Observable { kind, value },
                });
            }
        };
        self.run(async |c| {
            // A cursor inside a transaction: ten million values stream in
            // constant memory.
            let mut tx = c.begin().await?;
            let objects = sqlx::query(sqlx::AssertSqlSafe(objects));
            let objects = if include_inactive {
                objects
            } else {
                objects.bind(&now)
            };
            let lists = sqlx::query(sqlx::AssertSqlSafe(lists)).bind(LIST_KEY_BASE);
            for q in [objects, lists] {
                let mut rows = q.fetch(&mut *tx);
                while let Some(r) = rows.try_next().await? {
                    emit(r.try_get(0)?, r.try_get::<&str, _>(1)?, r.try_get(2)?);
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The actors, families, roles and provenance behind one indicator.
    /// Actors are named by kb's resolution ([`actor_ref`]), as on the
    /// embedded store, once the indicator's own rows are read.
    pub fn indicator_context(&self, key: i64) -> Result<IndicatorContext, PgError> {
        let (mut context, actor_ids) = self.indicator_rows(key)?;
        if actor_ids.is_empty() {
            return Ok(context);
        }
        // Read before naming: names kept under it are never older than it.
        let generation = self.generation()?;
        for (id, fallback) in actor_ids {
            let actor = match self.actor_named(&id, generation)? {
                Some(a) => a,
                None => match fallback {
                    Some(name) => ActorRef {
                        name,
                        aliases: Vec::new(),
                    },
                    None => continue,
                },
            };
            if !context.actors.contains(&actor) {
                context.actors.push(actor);
            }
        }
        Ok(context)
    }

    /// `actor_ref` of `id`, kept for the store generation: the hits of one
    /// actor's thousand indicators resolve its name once, not a thousand
    /// times at half a dozen round trips each.
    fn actor_named(&self, id: &str, generation: i64) -> Result<Option<ActorRef>, PgError> {
        {
            let mut memo = self.names.lock().unwrap_or_else(|p| p.into_inner());
            if memo.generation != generation {
                memo.generation = generation;
                memo.names.clear();
            }
            if let Some(a) = memo.names.get(id) {
                return Ok(a.clone());
            }
        }
        let named = actor_ref(self, id).map_err(PgError::Input)?;
        let mut memo = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if memo.generation == generation && memo.names.len() < 100_000 {
            memo.names.insert(id.to_string(), named.clone());
        }
        Ok(named)
    }

    /// An indicator's context without its actors, and the actors it
    /// indicates: (STIX id, the name to show if resolution finds none;
    /// `None`: show nothing then).
    #[allow(clippy::type_complexity)]
    fn indicator_rows(
        &self,
        key: i64,
    ) -> Result<(IndicatorContext, Vec<(String, Option<String>)>), PgError> {
        self.run(async |c| {
            if key >= LIST_KEY_BASE {
                let row = sqlx::query(
                    "SELECT s.name, ls.actor_ref, ls.reference, ls.confidence, ls.tlp, ls.labels, v.kind, v.value, \
                       (SELECT coalesce(a.name, a.stix_id) FROM objects a WHERE a.stix_id = ls.actor_ref \
                          AND a.kind = 'intrusion-set' AND a.withdrawn_at IS NULL LIMIT 1) \
                     FROM list_values v JOIN list_sources ls ON ls.source_id = v.source_id \
                     JOIN sources s ON s.id = v.source_id WHERE v.id = $1",
                )
                .bind(key - LIST_KEY_BASE)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(PgError::NotFound(key))?;
                let source: String = row.try_get(0)?;
                let actor_ref: Option<String> = row.try_get(1)?;
                let kind: String = row.try_get(6)?;
                let value: String = row.try_get(7)?;
                let actor_name: Option<String> = row.try_get(8)?;
                // As the embedded store: a list's actor is named only when
                // an actor object of that id is stored.
                let actors = match (actor_ref, actor_name) {
                    (Some(id), Some(name)) => vec![(id, Some(name))],
                    _ => Vec::new(),
                };
                let context = IndicatorContext {
                    stix_id: cairn_model::deterministic_id("indicator", &[&source, &kind, &value]),
                    actors: Vec::new(),
                    families: Vec::new(),
                    roles: list(row.try_get(5)?),
                    sources: vec![Provenance {
                        source,
                        reference: row.try_get(2)?,
                        first_seen: None,
                        last_seen: None,
                        confidence: row
                            .try_get::<Option<i32>, _>(3)?
                            .and_then(|v| u8::try_from(v).ok()),
                        tlp: tlp(row.try_get(4)?),
                    }],
                    valid_until: None,
                };
                return Ok((context, actors));
            }
            let row = sqlx::query(
                "SELECT o.stix_id, o.labels, o.valid_until, s.name, o.reference, o.first_seen, o.last_seen, \
                   o.confidence, o.tlp FROM objects o JOIN sources s ON s.id = o.source_id WHERE o.id = $1",
            )
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(PgError::NotFound(key))?;
            let stix_id: String = row.try_get(0)?;
            let targets: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT DISTINCT t.kind, t.stix_id, t.name FROM relations r \
                 JOIN objects t ON t.stix_id = r.tgt_ref AND t.withdrawn_at IS NULL \
                 WHERE r.src_ref = $1 AND r.rel_type = 'indicates' AND r.withdrawn_at IS NULL \
                   AND t.kind IN ('intrusion-set', 'malware', 'tool', 'campaign') ORDER BY 2, 3",
            )
            .bind(&stix_id)
            .fetch_all(&mut *c)
            .await?;
            let mut actors = Vec::new();
            let mut families: BTreeSet<String> = BTreeSet::new();
            for (kind, id, name) in targets {
                if kind == "intrusion-set" {
                    let shown = name.unwrap_or_else(|| id.clone());
                    actors.push((id, Some(shown)));
                } else if let Some(n) = name {
                    families.insert(n);
                }
            }
            let context = IndicatorContext {
                stix_id,
                actors: Vec::new(),
                families: families.into_iter().collect(),
                roles: list(row.try_get(1)?),
                sources: vec![Provenance {
                    source: row.try_get(3)?,
                    reference: row.try_get(4)?,
                    first_seen: row.try_get(5)?,
                    last_seen: row.try_get(6)?,
                    confidence: row
                        .try_get::<Option<i32>, _>(7)?
                        .and_then(|v| u8::try_from(v).ok()),
                    tlp: tlp(row.try_get(8)?),
                }],
                valid_until: row.try_get(2)?,
            };
            Ok((context, actors))
        })
    }

    /// MISP warninglists the user ingested: (name, list.json text).
    pub fn warninglist_documents(&self) -> Result<Vec<(String, String)>, PgError> {
        self.run(async |c| {
            Ok(
                sqlx::query_as("SELECT name, body FROM documents ORDER BY name")
                    .fetch_all(&mut *c)
                    .await?,
            )
        })
    }

    /// Writes hits back as sightings (one transaction); rows written.
    pub fn record_sightings(&mut self, hits: &[SightingInput]) -> Result<usize, PgError> {
        self.writable()?;
        let ts = cairn_model::time::now_ms();
        self.run(async |c| {
            let mut tx = c.begin().await?;
            for h in hits {
                sqlx::query(
                    "INSERT INTO sightings(object_id, count, first_seen, last_seen, location, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(h.key)
                .bind(i64::try_from(h.count).unwrap_or(i64::MAX))
                .bind(&h.first_seen)
                .bind(&h.last_seen)
                .bind(&h.where_)
                .bind(&ts)
                .execute(&mut *tx)
                .await?;
            }
            if !hits.is_empty() {
                crate::ingest::bump_generation(&mut tx).await?;
            }
            tx.commit().await?;
            Ok(hits.len())
        })
    }

    /// The indicators the actor objects `member_ids` are indicated by, up
    /// to `limit` (most sighted first), and how many there are in all.
    pub fn actor_indicators(
        &self,
        member_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<IndicatorRow>, usize), PgError> {
        if member_ids.is_empty() || limit == 0 {
            return Ok((Vec::new(), 0));
        }
        self.run(async |c| {
            // Byte order ("C"), as the embedded store sorts values.
            let rows = sqlx::query(
                "WITH obj AS (SELECT DISTINCT o.id AS key, ob.kind, ob.value, o.labels, s.name, \
                     o.first_seen, o.last_seen, o.confidence, o.tlp \
                   FROM relations r JOIN objects o ON o.stix_id = r.src_ref AND o.kind = 'indicator' \
                     AND o.withdrawn_at IS NULL \
                   JOIN observables ob ON ob.object_id = o.id JOIN sources s ON s.id = o.source_id \
                   WHERE r.rel_type = 'indicates' AND r.withdrawn_at IS NULL AND r.tgt_ref = ANY($1)), \
                 lst AS (SELECT v.id + $2 AS key, v.kind, v.value, ls.labels, s.name, \
                     NULL::text AS first_seen, NULL::text AS last_seen, ls.confidence, ls.tlp \
                   FROM list_values v JOIN list_sources ls ON ls.source_id = v.source_id \
                   JOIN sources s ON s.id = v.source_id \
                   WHERE v.withdrawn_at IS NULL AND ls.actor_ref = ANY($1)), \
                 al AS (SELECT * FROM obj UNION ALL SELECT * FROM lst) \
                 SELECT al.key, al.kind, al.value, al.labels, al.name, al.first_seen, al.last_seen, \
                   al.confidence, al.tlp, \
                   (SELECT coalesce(sum(g.count), 0) FROM sightings g WHERE g.object_id = al.key)::bigint AS seen, \
                   count(*) OVER () AS total \
                 FROM al ORDER BY seen DESC, al.kind COLLATE \"C\", al.value COLLATE \"C\", \
                   al.name COLLATE \"C\" LIMIT $3",
            )
            .bind(member_ids)
            .bind(LIST_KEY_BASE)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *c)
            .await?;
            let mut total = 0;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                total = r.try_get::<i64, _>(10)?;
                let labels: String = r.try_get(3)?;
                out.push(IndicatorRow {
                    key: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    value: r.try_get(2)?,
                    roles: list(&labels),
                    source: r.try_get(4)?,
                    first_seen: r.try_get(5)?,
                    last_seen: r.try_get(6)?,
                    confidence: r
                        .try_get::<Option<i32>, _>(7)?
                        .and_then(|v| u8::try_from(v).ok()),
                    tlp: r.try_get(8)?,
                    sightings: r.try_get::<i64, _>(9)?.max(0) as u64,
                });
            }
            Ok((out, total.max(0) as usize))
        })
    }

    /// Hits recorded for indicator `key`, newest first.
    pub fn sightings_of(&self, key: i64) -> Result<Vec<SightingRow>, PgError> {
        self.run(async |c| {
            let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
                "SELECT count, first_seen, last_seen, location, recorded_at FROM sightings \
                 WHERE object_id = $1 ORDER BY recorded_at DESC, id DESC LIMIT 100",
            )
            .bind(key)
            .fetch_all(&mut *c)
            .await?;
            Ok(rows
                .into_iter()
                .map(
                    |(count, first_seen, last_seen, location, recorded_at)| SightingRow {
                        count: count.max(0) as u64,
                        first_seen,
                        last_seen,
                        location,
                        recorded_at,
                    },
                )
                .collect())
        })
    }
}

impl KnowledgeBase for PgStore {
    fn location(&self) -> String {
        self.url().to_string()
    }
    fn warninglist_documents(&self) -> Result<Vec<(String, String)>, KbError> {
        Ok(PgStore::warninglist_documents(self)?)
    }
    fn ingest(
        &mut self,
        bundle: &Bundle,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        Ok(PgStore::ingest(self, bundle, file, fingerprint)?)
    }
    fn ingest_list(
        &mut self,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        file: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<IngestReport, KbError> {
        Ok(PgStore::ingest_list(self, head, values, file, fingerprint)?)
    }
    fn source_with_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, KbError> {
        Ok(PgStore::source_with_fingerprint(self, fingerprint)?)
    }
    fn generation(&self) -> Result<i64, KbError> {
        Ok(PgStore::generation(self)?)
    }
    fn store_id(&self) -> Result<String, KbError> {
        Ok(PgStore::store_id(self)?)
    }
    fn stats(&self) -> Result<Stats, KbError> {
        Ok(PgStore::stats(self)?)
    }
    fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, KbError> {
        Ok(PgStore::search(self, text, limit)?)
    }
    fn for_each_hunt_indicator(
        &self,
        include_inactive: bool,
        f: &mut dyn FnMut(HuntIndicator),
    ) -> Result<(), KbError> {
        Ok(PgStore::for_each_hunt_indicator(self, include_inactive, f)?)
    }
    fn indicator_context(&self, key: i64) -> Result<IndicatorContext, KbError> {
        Ok(PgStore::indicator_context(self, key)?)
    }
    fn record_sightings(&mut self, hits: &[SightingInput]) -> Result<usize, KbError> {
        Ok(PgStore::record_sightings(self, hits)?)
    }
    fn sightings_of(&self, key: i64) -> Result<Vec<SightingRow>, KbError> {
        Ok(PgStore::sightings_of(self, key)?)
    }
    fn restrict(&mut self, ceiling: Tlp) -> Result<(), KbError> {
        Ok(PgStore::restrict(self, ceiling)?)
    }
    fn create_token(&mut self, name: &str, role: Role) -> Result<(String, Token), KbError> {
        Ok(PgStore::create_token(self, name, role)?)
    }
    fn verify_token(&self, secret: &str) -> Result<Option<TokenGrant>, KbError> {
        Ok(PgStore::verify_token(self, secret)?)
    }
    fn tokens(&self) -> Result<Vec<Token>, KbError> {
        Ok(PgStore::tokens(self)?)
    }
    fn revoke_token(&mut self, name: &str) -> Result<bool, KbError> {
        Ok(PgStore::revoke_token(self, name)?)
    }
    fn actor_indicators(
        &self,
        member_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<IndicatorRow>, usize), KbError> {
        Ok(PgStore::actor_indicators(self, member_ids, limit)?)
    }
    fn add_feed(&mut self, f: &cairn_kb::NewFeed) -> Result<cairn_kb::Feed, KbError> {
        Ok(PgStore::add_feed(self, f)?)
    }
    fn remove_feed(&mut self, name: &str) -> Result<bool, KbError> {
        Ok(PgStore::remove_feed(self, name)?)
    }
    fn feeds(&self) -> Result<Vec<cairn_kb::Feed>, KbError> {
        Ok(PgStore::feeds(self)?)
    }
    fn feed(&self, name: &str) -> Result<Option<cairn_kb::Feed>, KbError> {
        Ok(PgStore::feed(self, name)?)
    }
    fn ingest_feed(
        &mut self,
        feed: &str,
        bundle: &Bundle,
        fingerprint: Option<&str>,
        withdraw: cairn_kb::Withdraw<'_>,
        state: &cairn_kb::FeedSave,
    ) -> Result<IngestReport, KbError> {
        Ok(PgStore::ingest_feed(
            self,
            feed,
            bundle,
            fingerprint,
            withdraw,
            state,
        )?)
    }
    fn ingest_feed_list(
        &mut self,
        feed: &str,
        head: &ListHead,
        values: &mut dyn Iterator<Item = Result<ListValue, KbError>>,
        fingerprint: Option<&str>,
        state: &cairn_kb::FeedSave,
    ) -> Result<IngestReport, KbError> {
        Ok(PgStore::ingest_feed_list(
            self,
            feed,
            head,
            values,
            fingerprint,
            state,
        )?)
    }
    fn save_feed_state(&mut self, feed: &str, state: &cairn_kb::FeedSave) -> Result<(), KbError> {
        Ok(PgStore::save_feed_state(self, feed, state)?)
    }
    fn record_feed_run(
        &mut self,
        feed: &str,
        at: &str,
        run: &cairn_kb::FeedRun,
    ) -> Result<(), KbError> {
        Ok(PgStore::record_feed_run(self, feed, at, run)?)
    }
    fn enable_feed(&mut self, name: &str, enabled: bool) -> Result<bool, KbError> {
        Ok(PgStore::enable_feed(self, name, enabled)?)
    }
    fn claim_feed(&mut self, name: &str, now: &str, hold: i64) -> Result<bool, KbError> {
        Ok(PgStore::claim_feed(self, name, now, hold)?)
    }
    fn export_indicators(
        &self,
        q: &cairn_kb::ExportQuery,
    ) -> Result<Vec<cairn_kb::ExportIndicator>, KbError> {
        Ok(PgStore::export_indicators(self, q)?)
    }
}
