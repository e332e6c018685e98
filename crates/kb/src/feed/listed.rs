//! The TAXII pages' list branch: compact list values (`list_values`) as
//! page positions of their own (tags 2 and 3), walked on the
//! `list_values_updated` index in integer milliseconds, and their derived
//! statements loaded for a page.

use super::*;

impl Store {
    /// The list positions (row id, tag) whose derived id is one of `ids`.
    /// Derived ids are hashes: one pass over the active values of the lists
    /// in scope, computing each value's ids, in bounded memory (only what
    /// matches is kept); skipped unless an indicator or relationship id is
    /// asked for.
    pub(super) fn listed_matching(
        &self,
        source_id: Option<i64>,
        ids: &[String],
    ) -> Result<Vec<(i64, i64)>, KbError> {
        let wants_ind = ids.iter().any(|i| i.starts_with("indicator--"));
        let wants_rel = ids.iter().any(|i| i.starts_with("relationship--"));
        let mut out = Vec::new();
        if !wants_ind && !wants_rel {
            return Ok(out);
        }
        let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut lq = self.conn.prepare(
            "SELECT ls.source_id, s.name, ls.actor_ref FROM list_sources ls \
             JOIN sources s ON s.id = ls.source_id",
        )?;
        let lists: Vec<(i64, String, Option<String>)> = lq
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut vq = self.conn.prepare(
            "SELECT id, kind, value FROM list_values WHERE source_id = ?1 AND withdrawn_at IS NULL",
        )?;
        for (sid, name, actor) in lists {
            if source_id.is_some_and(|s| s != sid) || (!wants_ind && actor.is_none()) {
                continue;
            }
            let mut rows = vq.query([sid])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                let value: String = r.get(2)?;
                let ind = indicator_id(&name, &kind, &value);
                if asked.contains(ind.as_str()) {
                    out.push((r.get(0)?, TAG_LIST_IND));
                }
                if wants_rel
                    && let Some(a) = &actor
                    && asked.contains(indicates_id(&ind, a).as_str())
                {
                    out.push((r.get(0)?, TAG_LIST_REL));
                }
            }
        }
        Ok(out)
    }

    /// The list branch of [`Store::feed_keys`]: positions of active list
    /// values after `cursor` (at most `limit` values, each one or two
    /// positions), and the last position scanned when the limit was
    /// reached. `None` when no list position can match.
    pub(super) fn list_keys(
        &self,
        source_id: Option<i64>,
        list_ids: Option<&[(i64, i64)]>,
        types: &[String],
        bound: Option<&(String, String)>,
        cursor: Option<&Key>,
        limit: i64,
    ) -> Result<Option<Scanned>, KbError> {
        let tag_ok = |tag: i64, ty: &str| {
            (types.is_empty() || types.iter().any(|t| t == ty))
                && list_ids.is_none_or(|l| l.iter().any(|(_, t)| *t == tag))
        };
        let (want_ind, want_rel) = (
            tag_ok(TAG_LIST_IND, "indicator"),
            tag_ok(TAG_LIST_REL, "relationship"),
        );
        if !want_ind && !want_rel {
            return Ok(None);
        }
        // Lists in scope, and whether each names an actor. None in scope:
        // no scan (a STIX source's collection must not walk a big list's index).
        let mut aq = self
            .conn
            .prepare_cached("SELECT source_id, actor_ref IS NOT NULL FROM list_sources")?;
        let lists: HashMap<i64, bool> = aq
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let in_scope = match source_id {
            Some(sid) => lists.contains_key(&sid),
            None => !lists.is_empty(),
        };
        if !in_scope {
            return Ok(None);
        }
        let mut sql = String::from(
            "SELECT v.updated_at, v.id, v.source_id FROM list_values v \
             WHERE v.withdrawn_at IS NULL",
        );
        let mut params: Vec<Sql> = Vec::new();
        if let Some(sid) = source_id {
            sql.push_str(" AND +v.source_id = ?");
            params.push(Sql::Integer(sid));
        }
        if !want_ind {
            sql.push_str(
                " AND +v.source_id IN (SELECT source_id FROM list_sources WHERE actor_ref IS NOT NULL)",
            );
        }
        if let Some(l) = list_ids {
            let mut rids: Vec<i64> = l.iter().map(|(rid, _)| *rid).collect();
            rids.sort_unstable();
            rids.dedup();
            if rids.is_empty() {
                return Ok(None);
            }
            sql.push_str(&format!(" AND v.id IN ({})", marks(rids.len())));
            params.extend(rids.into_iter().map(Sql::Integer));
        }
        if let Some((b, _)) = bound {
            // `b` is the first millisecond after the client's time.
            sql.push_str(" AND v.updated_at >= ?");
            params.push(Sql::Integer(ms(b)?));
        }
        // Each part one index range: the rest of the cursor's stamp from its
        // row id on (a whole list shares one stamp: a deep page must not
        // walk the rows before it), then later stamps. The exact key
        // comparison below drops what is not after the cursor.
        let mut parts: Vec<(String, Vec<Sql>)> = Vec::new();
        match cursor {
            Some(k) => {
                let at = ms(&k.added).map_err(|_| {
                    KbError::Invalid("`next` is not a cursor this server issued".into())
                })?;
                parts.push((
                    " AND v.updated_at = ? AND v.id >= ?".into(),
                    vec![Sql::Integer(at), Sql::Integer(k.rid)],
                ));
                parts.push((" AND v.updated_at > ?".into(), vec![Sql::Integer(at)]));
            }
            None => parts.push((String::new(), Vec::new())),
        }
        let mut rows: Vec<(i64, i64, i64)> = Vec::new();
        for (cond, extra) in parts {
            let left = limit - i64::try_from(rows.len()).unwrap_or(i64::MAX);
            if left <= 0 {
                break;
            }
            let sql = format!("{sql}{cond} ORDER BY v.updated_at, v.id LIMIT ?");
            let mut p = params.clone();
            p.extend(extra);
            p.push(Sql::Integer(left));
            let mut q = self.conn.prepare_cached(&sql)?;
            let got = q.query_map(params_from_iter(p), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            for row in got {
                rows.push(row?);
            }
        }
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        let mut last = None;
        for (at, rid, sid) in rows {
            let added = ms_text(at);
            let wanted = |tag: i64| list_ids.is_none_or(|l| l.contains(&(rid, tag)));
            for (tag, on) in [
                (TAG_LIST_IND, want_ind),
                (
                    TAG_LIST_REL,
                    want_rel && lists.get(&sid).copied().unwrap_or(false),
                ),
            ] {
                let key = Key {
                    added: added.clone(),
                    rid,
                    tag,
                };
                if on && wanted(tag) && cursor.is_none_or(|c| key > *c) {
                    keys.push(key);
                }
            }
            if full {
                last = Some(Key {
                    added,
                    rid,
                    tag: TAG_LIST_REL,
                });
            }
        }
        Ok(Some((keys, last)))
    }

    /// The derived statements at list positions (tags 2 and 3), built as
    /// the actor bundle export builds them.
    pub(super) fn load_listed(
        &self,
        keys: &[Key],
        out: &mut HashMap<(i64, i64), Row>,
    ) -> Result<(), KbError> {
        let mut rids: Vec<i64> = keys
            .iter()
            .filter(|k| k.tag >= TAG_LIST_IND)
            .map(|k| k.rid)
            .collect();
        rids.sort_unstable();
        rids.dedup();
        let wanted: HashSet<(i64, i64)> = keys.iter().map(|k| (k.tag, k.rid)).collect();
        for chunk in rids.chunks(400) {
            let sql = format!(
                "SELECT v.id, v.kind, v.value, v.name, v.added_at, v.updated_at, {LIST_SOURCE_COLS} \
                 FROM list_values v JOIN list_sources ls ON ls.source_id = v.source_id \
                 JOIN sources s ON s.id = v.source_id WHERE v.id IN ({})",
                marks(chunk.len())
            );
            let mut q = self.conn.prepare(&sql)?;
            let mut rows = q.query(params_from_iter(chunk.iter()))?;
            while let Some(r) = rows.next()? {
                let rid: i64 = r.get(0)?;
                let kind: String = r.get(1)?;
                let Ok(kind) = kind.parse::<IndicatorKind>() else {
                    continue;
                };
                let list = list_source_row(r, 6)?;
                let listed = Listed {
                    list: &list,
                    key: LIST_KEY_BASE + rid,
                    observable: Observable {
                        kind,
                        value: r.get(2)?,
                    },
                    written: r.get(3)?,
                    added_at: r.get(4)?,
                    updated_at: r.get(5)?,
                };
                let added = ms_text(listed.added_at);
                let updated = ms_text(listed.updated_at);
                if wanted.contains(&(TAG_LIST_IND, rid)) {
                    let row = listed_row(&listed.indicator(), listed.key, &added, &updated);
                    out.insert((TAG_LIST_IND, rid), row);
                }
                if wanted.contains(&(TAG_LIST_REL, rid))
                    && let Some(rel) = listed.indicates()
                {
                    let row = listed_relation_row(&rel, listed.key, &added, &updated);
                    out.insert((TAG_LIST_REL, rid), row);
                }
            }
        }
        Ok(())
    }
}
