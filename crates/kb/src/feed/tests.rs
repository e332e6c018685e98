use super::*;
use crate::{ListHead, ListValue};
use cairn_model::{Bundle, Object, Provenance, Relation};

fn obj(id: &str, kind: &str, name: &str, src: &str, tlp: Tlp) -> Object {
    Object {
        id: id.into(),
        kind: kind.into(),
        name: Some(name.into()),
        prov: Provenance {
            source: src.into(),
            tlp,
            ..Default::default()
        },
        ..Object::default()
    }
}

fn rel(id: &str, t: &str, s: &str, g: &str, src: &str) -> Relation {
    Relation {
        id: id.into(),
        rel_type: t.into(),
        source_ref: s.into(),
        target_ref: g.into(),
        prov: Provenance {
            source: src.into(),
            ..Default::default()
        },
        ..Relation::default()
    }
}

const ACTOR: &str = "intrusion-set--00000000-0000-4000-8000-000000000001";
const TECH: &str = "attack-pattern--00000000-0000-4000-8000-000000000002";
const RED: &str = "indicator--00000000-0000-4000-8000-000000000003";
const MAL: &str = "malware--00000000-0000-4000-8000-000000000004";
const LOC: &str = "location--00000000-0000-4000-8000-000000000005";
/// A MISP galaxy's UUIDv7: published under another id.
const V7: &str = "intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a";

fn bundle_a() -> Bundle {
    let mut tech = obj(TECH, "attack-pattern", "Phishing", "a", Tlp::Clear);
    tech.raw = format!(
        r#"{{"type":"attack-pattern","id":"{TECH}","name":"Phishing","created":"2020-01-01T00:00:00.000Z","modified":"2023-05-06T07:08:09.123Z"}}"#
    );
    tech.modified = Some("2023-05-06T07:08:09.123Z".into());
    let mut red = obj(RED, "indicator", "evil.example", "a", Tlp::Red);
    red.observables = vec![Observable::new(IndicatorKind::Domain, "evil.example")];
    let mal = obj(MAL, "malware", "Wrench", "a", Tlp::Amber);
    Bundle {
        source: "a".into(),
        format: "stix".into(),
        objects: vec![
            obj(ACTOR, "intrusion-set", "Test Panda", "a", Tlp::Clear),
            tech,
            red,
            mal,
        ],
        relations: vec![
            rel("relationship--1", "uses", ACTOR, TECH, "a"),
            rel("relationship--2", "uses", ACTOR, MAL, "a"),
            // CLEAR itself, but it names the RED indicator.
            rel("relationship--4", "indicates", RED, ACTOR, "a"),
        ],
        ..Bundle::default()
    }
}

fn bundle_b() -> Bundle {
    let mut loc = obj(LOC, "location", "Taiwan", "b", Tlp::Green);
    loc.country = Some("TW".into());
    let mut actor = obj(ACTOR, "intrusion-set", "Test Panda", "b", Tlp::Clear);
    actor.modified = Some("2030-01-01T00:00:00.000Z".into());
    Bundle {
        source: "b".into(),
        format: "misp-galaxy".into(),
        objects: vec![
            actor,
            loc,
            obj(V7, "intrusion-set", "Seven", "b", Tlp::Clear),
        ],
        relations: vec![rel("relationship--3", "targets", ACTOR, LOC, "b")],
        ..Bundle::default()
    }
}

fn store_at(path: &std::path::Path) -> Store {
    let mut s = Store::open(path).unwrap();
    s.ingest(&bundle_a(), None, None).unwrap();
    s.ingest(&bundle_b(), None, None).unwrap();
    s
}

fn all_id(s: &Store) -> String {
    s.feed_collections().unwrap()[0].id.clone()
}

fn page(s: &Store, coll: &str, q: &FeedQuery) -> FeedPage {
    s.feed_objects(coll, q).unwrap().expect("collection exists")
}

fn walk(s: &Store, coll: &str, mut q: FeedQuery) -> Vec<FeedObject> {
    let mut out = Vec::new();
    loop {
        let p = page(s, coll, &q);
        assert!(p.objects.len() <= q.limit);
        out.extend(p.objects);
        if !p.more {
            assert!(p.next.is_none());
            return out;
        }
        q.next = p.next;
        assert!(q.next.is_some());
    }
}

fn statements(items: &[FeedObject]) -> Vec<&Statement> {
    items
        .iter()
        .filter_map(|o| match &o.item {
            FeedItem::Statement(st) => Some(st.as_ref()),
            FeedItem::Marking(_) => None,
        })
        .collect()
}

fn marking_ids(items: &[FeedObject]) -> Vec<&'static str> {
    items
        .iter()
        .filter_map(|o| match &o.item {
            FeedItem::Marking(id) => Some(*id),
            FeedItem::Statement(_) => None,
        })
        .collect()
}

#[test]
fn collections_per_source_with_stable_ids() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_at(&dir.path().join("t.db"));
    let cs = s.feed_collections().unwrap();
    assert_eq!(cs.len(), 3);
    assert_eq!(cs[0].source, None);
    assert_eq!(cs[1].source.as_deref(), Some("a"));
    assert_eq!(cs[2].source.as_deref(), Some("b"));
    assert_eq!(cs[1].id, collection_uuid(&["source", "a"]));
    assert_eq!(cs[1].id.len(), 36);
    assert_eq!(s.feed_collection(&cs[2].id).unwrap(), Some(cs[2].clone()));
    assert_eq!(s.feed_collection("nope").unwrap(), None);
    assert!(
        s.feed_objects("nope", &FeedQuery::default())
            .unwrap()
            .is_none()
    );
}

#[test]
fn paging_visits_every_statement_once_with_the_markings_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_at(&dir.path().join("t.db"));
    let coll = all_id(&s);
    for limit in [1, 2, 3, 100] {
        let q = FeedQuery {
            versions: vec![VersionMatch::All],
            limit,
            ..FeedQuery::default()
        };
        let got = walk(&s, &coll, q);
        // 4 + 3 objects, 3 + 1 relations (ACTOR twice: two sources), and
        // the TLP 2.0 definitions of CLEAR, GREEN, AMBER and RED.
        assert_eq!(statements(&got).len(), 11, "limit {limit}");
        let mut m = marking_ids(&got);
        m.sort();
        let mut want: Vec<&str> = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::Red]
            .iter()
            .map(|t| t.marking_id())
            .collect();
        want.sort();
        assert_eq!(m, want, "limit {limit}");
        let keys: HashSet<(String, String)> = statements(&got)
            .iter()
            .map(|st| (st.stix_id.clone(), st.source.clone()))
            .collect();
        assert_eq!(keys.len(), 11);
        let dates: Vec<&String> = got.iter().map(|o| &o.date_added).collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted);
        for d in dates {
            assert!(time::is_stix_ms(d) && d.len() == 24, "{d}");
        }
    }
    // `last`: one copy of the actor, b's (modified 2030).
    let got = walk(&s, &coll, FeedQuery::default());
    assert_eq!(statements(&got).len(), 10);
    let actor: Vec<&Statement> = statements(&got)
        .into_iter()
        .filter(|st| st.stix_id == ACTOR)
        .collect();
    assert_eq!(actor.len(), 1);
    assert_eq!(actor[0].source, "b");
    let first = walk(
        &s,
        &coll,
        FeedQuery {
            versions: vec![VersionMatch::First],
            ids: vec![ACTOR.into()],
            ..FeedQuery::default()
        },
    );
    assert_eq!(statements(&first).len(), 1);
    assert_eq!(statements(&first)[0].source, "a");
    // Statements carry what the emitter needs.
    let by = |id: &str| {
        statements(&got)
            .into_iter()
            .find(|st| st.stix_id == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by(RED).observables.len(), 1);
    assert_eq!(by("relationship--1").target_ref.as_deref(), Some(TECH));
    assert_eq!(by("relationship--1").kind, "uses");
    assert_eq!(by(LOC).country.as_deref(), Some("TW"));
}

#[test]
fn match_filters_added_after_and_published_ids() {
    let dir = tempfile::tempdir().unwrap();
    let s = store_at(&dir.path().join("t.db"));
    let cs = s.feed_collections().unwrap();
    let a = &cs[1].id;
    let ids = |q: FeedQuery| -> Vec<String> {
        let mut v: Vec<String> = walk(&s, a, q)
            .iter()
            .map(|o| o.stix_id().to_string())
            .collect();
        v.sort();
        v
    };
    // 4 objects, 3 relationships, CLEAR/AMBER/RED definitions.
    assert_eq!(ids(FeedQuery::default()).len(), 10);
    assert_eq!(
        ids(FeedQuery {
            types: vec!["malware".into(), "relationship".into()],
            ..FeedQuery::default()
        }),
        vec![
            MAL.to_string(),
            "relationship--1".into(),
            "relationship--2".into(),
            "relationship--4".into()
        ]
    );
    assert_eq!(
        ids(FeedQuery {
            types: vec!["marking-definition".into()],
            ..FeedQuery::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(FeedQuery {
            ids: vec![TECH.into(), "relationship--2".into(), "nope--1".into()],
            ..FeedQuery::default()
        }),
        vec![TECH.to_string(), "relationship--2".into()]
    );
    // The exact version, and no other.
    let at = |t: &str| FeedQuery {
        versions: VersionMatch::parse_list(t).unwrap(),
        types: vec!["attack-pattern".into(), "intrusion-set".into()],
        ..FeedQuery::default()
    };
    assert_eq!(ids(at("2023-05-06T07:08:09.123Z")), vec![TECH.to_string()]);
    assert!(ids(at("2023-05-06T07:08:09.124Z")).is_empty());
    assert_eq!(ids(at("first,last")).len(), 2);
    assert!(VersionMatch::parse_list("yesterday").is_err());

    // A stored id without a v4/v5 UUID is found by the id it is published under.
    let b = &cs[2].id;
    let published = canonical_stix_id(V7).into_owned();
    assert_ne!(published, V7);
    let got = walk(
        &s,
        b,
        FeedQuery {
            ids: vec![published],
            ..FeedQuery::default()
        },
    );
    assert_eq!(statements(&got).len(), 1);
    assert_eq!(statements(&got)[0].stix_id, V7);

    // added_after: everything is after the epoch; nothing after its own last date.
    let all = walk(&s, a, FeedQuery::default());
    let last = all.iter().map(|o| o.date_added.clone()).max().unwrap();
    assert_eq!(
        ids(FeedQuery {
            added_after: Some("1970-01-01T00:00:00Z".into()),
            ..FeedQuery::default()
        })
        .len(),
        10
    );
    assert!(
        ids(FeedQuery {
            added_after: Some(last.clone()),
            ..FeedQuery::default()
        })
        .is_empty()
    );
    // A statement changed later gets a later date and is the only one after `last`.
    let mut s2 = Store::open(&dir.path().join("t.db")).unwrap();
    let mut b = bundle_a();
    b.objects[0].description = Some("changed".into());
    s2.ingest(&b, None, None).unwrap();
    assert_eq!(
        ids(FeedQuery {
            added_after: Some(last),
            ..FeedQuery::default()
        }),
        vec![ACTOR.to_string()]
    );
    // Withdrawn statements are left out.
    let mut b = bundle_a();
    b.relations.retain(|r| r.id != "relationship--2");
    s2.ingest(&b, None, None).unwrap();
    assert!(
        !ids(FeedQuery::default()).contains(&"relationship--2".to_string()),
        "withdrawn relationship served"
    );
    for bad in [
        FeedQuery {
            next: Some("zz".into()),
            ..FeedQuery::default()
        },
        FeedQuery {
            added_after: Some("soon".into()),
            ..FeedQuery::default()
        },
    ] {
        assert!(s.feed_objects(a, &bad).is_err());
    }
}

#[test]
fn restricted_store_hides_red_objects_their_markings_and_collections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let mut s = store_at(&path);
        let secret = Bundle {
            source: "secret".into(),
            format: "stix".into(),
            objects: vec![obj(
                "intrusion-set--00000000-0000-4000-8000-0000000000ff",
                "intrusion-set",
                "Hush",
                "secret",
                Tlp::AmberStrict,
            )],
            ..Bundle::default()
        };
        s.ingest(&secret, None, None).unwrap();
        assert_eq!(s.feed_collections().unwrap().len(), 4);
    }
    let mut reader = Store::open(&path).unwrap();
    reader.restrict(Tlp::Amber).unwrap();
    let cs = reader.feed_collections().unwrap();
    assert_eq!(cs.len(), 3, "the secret source's collection is hidden");
    assert!(
        reader
            .feed_collection(&collection_uuid(&["source", "secret"]))
            .unwrap()
            .is_none()
    );
    let got = walk(
        &reader,
        &cs[0].id,
        FeedQuery {
            versions: vec![VersionMatch::All],
            limit: 2,
            ..FeedQuery::default()
        },
    );
    let ids: Vec<&str> = got.iter().map(FeedObject::stix_id).collect();
    assert!(!ids.contains(&RED), "{ids:?}");
    assert!(!ids.contains(&Tlp::Red.marking_id()), "{ids:?}");
    assert!(!ids.contains(&Tlp::AmberStrict.marking_id()), "{ids:?}");
    assert!(
        !ids.contains(&"relationship--4"),
        "a relationship naming RED: {ids:?}"
    );
    assert!(ids.contains(&"relationship--1"));
    assert!(ids.contains(&MAL), "amber stays visible");
    let by_id = reader
        .feed_objects(
            &cs[1].id,
            &FeedQuery {
                ids: vec![RED.into()],
                versions: vec![VersionMatch::All],
                ..FeedQuery::default()
            },
        )
        .unwrap()
        .unwrap();
    assert!(by_id.objects.is_empty());
}

/// The bug this guards: stamps had whole seconds, so an ingest in the
/// same second as a poll was dated like what the poll had already seen
/// and `added_after` skipped it for good.
#[test]
fn polling_with_added_after_gets_every_object_exactly_once() {
    let mut s = Store::open_in_memory().unwrap();
    let all = all_id(&s);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut last: Option<String> = None;
    let mut poll = |s: &Store, last: &mut Option<String>| {
        let items = walk(
            s,
            &all,
            FeedQuery {
                added_after: last.clone(),
                limit: 7,
                ..FeedQuery::default()
            },
        );
        for o in &items {
            *seen.entry(o.stix_id().to_string()).or_default() += 1;
        }
        // What a TAXII server sends as X-TAXII-Date-Added-Last.
        if let Some(o) = items.last() {
            *last = Some(o.date_added.clone());
        }
    };
    let rounds = 1000;
    for i in 0..rounds {
        // Each round's ingest states one new indicator (the source's
        // earlier ones are withdrawn, which a feed does not serve again).
        let id = deterministic_id("indicator", &["round", &i.to_string()]);
        let mut o = obj(
            &id,
            "indicator",
            &format!("n{i}.example"),
            "poller",
            Tlp::Clear,
        );
        o.observables = vec![Observable::new(
            IndicatorKind::Domain,
            &format!("n{i}.example"),
        )];
        let b = Bundle {
            source: "poller".into(),
            format: "stix".into(),
            objects: vec![o],
            ..Bundle::default()
        };
        s.ingest(&b, None, None).unwrap();
        poll(&s, &mut last);
    }
    let objects = seen.len() - 1;
    assert_eq!(objects, rounds, "every object arrived");
    let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "served more than once: {twice:?}");
    assert_eq!(seen.get(Tlp::Clear.marking_id()), Some(&1));
}

const LIST: &str = "l";

fn list_head(source: &str, actor: bool, tlp: Tlp) -> ListHead {
    let prov = Provenance {
        source: source.into(),
        tlp,
        ..Provenance::default()
    };
    ListHead {
        source: source.into(),
        format: "list".into(),
        actor: actor.then(|| {
            let mut a = obj(
                &list_actor(source),
                "intrusion-set",
                "List Panda",
                source,
                tlp,
            );
            a.raw = serde_json::json!({"type":"intrusion-set","id":a.id,"name":"List Panda"})
                .to_string();
            a
        }),
        prov,
        labels: vec!["c2".into()],
    }
}

fn list_actor(source: &str) -> String {
    deterministic_id("intrusion-set", &[source, "List Panda"])
}

fn ingest_list(s: &mut Store, head: &ListHead, values: &[String]) {
    let vals = values
        .iter()
        .map(|v| Ok::<_, KbError>(ListValue::new(IndicatorKind::Domain, v.clone(), v.clone())));
    s.ingest_list(head, vals, None, None).unwrap();
}

fn domains(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("v{i}.example")).collect()
}

/// The derived ids of `value` in list `source` (indicator, indicates).
fn derived(source: &str, value: &str) -> (String, String) {
    let ind = indicator_id(source, "domain", value);
    let rel = indicates_id(&ind, &list_actor(source));
    (ind, rel)
}

/// Statement positions as (id, source, date added).
fn seen(items: &[FeedObject]) -> Vec<(String, String, String)> {
    items
        .iter()
        .filter_map(|o| match &o.item {
            FeedItem::Statement(st) => {
                Some((st.stix_id.clone(), st.source.clone(), o.date_added.clone()))
            }
            FeedItem::Marking(_) => None,
        })
        .collect()
}

#[test]
fn compact_list_values_are_paged_with_the_statements_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut s = store_at(&path);
    ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..10));
    // A list naming no actor: indicators only.
    ingest_list(&mut s, &list_head("m", false, Tlp::Green), &domains(0..3));
    let coll = all_id(&s);
    let all = |limit: usize| FeedQuery {
        versions: vec![VersionMatch::All],
        limit,
        ..FeedQuery::default()
    };
    let whole = seen(&walk(&s, &coll, all(1000)));
    // 11 statements of the bundles, l's actor, 10 + 10 of l, 3 of m.
    assert_eq!(whole.len(), 11 + 1 + 20 + 3);
    for limit in [1, 2, 3, 7] {
        let got = walk(&s, &coll, all(limit));
        assert_eq!(seen(&got), whole, "limit {limit}: same items, same order");
        let dates: Vec<&String> = got.iter().map(|o| &o.date_added).collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted, "limit {limit}");
    }
    let keys: HashSet<(String, String)> = whole
        .iter()
        .map(|(i, s, _)| (i.clone(), s.clone()))
        .collect();
    assert_eq!(keys.len(), whole.len(), "each once");
    for v in domains(0..10) {
        let (ind, rel) = derived(LIST, &v);
        assert!(keys.contains(&(ind, LIST.into())), "{v}");
        assert!(keys.contains(&(rel, LIST.into())), "{v}");
    }
    for v in domains(0..3) {
        assert!(keys.contains(&(indicator_id("m", "domain", &v), "m".into())));
    }
    // The derived statements carry what the emitter needs.
    let items = walk(&s, &coll, all(1000));
    let (ind, rel) = derived(LIST, "v4.example");
    let by = |id: &str| {
        statements(&items)
            .into_iter()
            .find(|st| st.stix_id == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&ind).observables.len(), 1);
    assert_eq!(by(&ind).kind, "indicator");
    assert_eq!(by(&rel).kind, "indicates");
    assert_eq!(by(&rel).source_ref.as_deref(), Some(ind.as_str()));
    assert_eq!(
        by(&rel).target_ref.as_deref(),
        Some(list_actor(LIST).as_str())
    );
    // The green list brings the GREEN definition; l's collection holds its own.
    let cs = s.feed_collections().unwrap();
    let l = cs
        .iter()
        .find(|c| c.source.as_deref() == Some(LIST))
        .unwrap()
        .id
        .clone();
    let m = cs
        .iter()
        .find(|c| c.source.as_deref() == Some("m"))
        .expect("a list with no actor has a collection")
        .id
        .clone();
    let got = walk(&s, &l, FeedQuery::default());
    assert_eq!(statements(&got).len(), 21);
    assert_eq!(marking_ids(&got), vec![Tlp::Clear.marking_id()]);
    assert_eq!(
        marking_ids(&walk(&s, &m, FeedQuery::default())),
        vec![Tlp::Green.marking_id()]
    );

    // match[type], match[id], match[version].
    let count = |q: FeedQuery| statements(&walk(&s, &l, q)).len();
    let typed = |t: &str| FeedQuery {
        types: vec![t.into()],
        limit: 3,
        ..FeedQuery::default()
    };
    assert_eq!(count(typed("indicator")), 10);
    assert_eq!(count(typed("relationship")), 10);
    assert_eq!(count(typed("intrusion-set")), 1);
    assert_eq!(statements(&walk(&s, &m, typed("relationship"))).len(), 0);
    let (ind5, _) = derived(LIST, "v5.example");
    let (_, rel6) = derived(LIST, "v6.example");
    for coll in [&l, &coll] {
        let got = walk(
            &s,
            coll,
            FeedQuery {
                ids: vec![ind5.clone(), rel6.clone(), RED.into()],
                limit: 1,
                ..FeedQuery::default()
            },
        );
        let mut ids: Vec<String> = statements(&got)
            .iter()
            .map(|st| st.stix_id.clone())
            .collect();
        ids.retain(|i| i != RED);
        ids.sort();
        let mut want = vec![ind5.clone(), rel6.clone()];
        want.sort();
        assert_eq!(ids, want);
    }
    let stamp = by(&ind).updated_at.clone();
    let at = |t: &str| FeedQuery {
        versions: VersionMatch::parse_list(t).unwrap(),
        types: vec!["indicator".into()],
        ..FeedQuery::default()
    };
    assert_eq!(
        count(at(&stamp)),
        10,
        "one version per value: its updated_at"
    );
    assert_eq!(count(at("2001-01-01T00:00:00.000Z")), 0);
    assert_eq!(count(at("first")), 10);

    // Withdrawn values leave; a re-listed one comes back, dated later.
    let last = whole.iter().map(|(_, _, d)| d.clone()).max().unwrap();
    let mut fewer = domains(0..10);
    fewer.retain(|v| v != "v3.example");
    ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &fewer);
    let (ind3, rel3) = derived(LIST, "v3.example");
    let now: Vec<String> = seen(&walk(&s, &coll, all(2)))
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(now.len(), whole.len() - 2);
    assert!(!now.contains(&ind3) && !now.contains(&rel3));
    let after = |s: &Store, after: &str| {
        seen(&walk(
            s,
            &coll,
            FeedQuery {
                added_after: Some(after.into()),
                limit: 1,
                ..FeedQuery::default()
            },
        ))
    };
    assert!(
        after(&s, &last).is_empty(),
        "a withdrawal serves nothing new"
    );
    ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..11));
    let new = after(&s, &last);
    let mut ids: Vec<String> = new.iter().map(|x| x.0.clone()).collect();
    ids.sort();
    let (ind10, rel10) = derived(LIST, "v10.example");
    let mut want = vec![ind3, rel3, ind10, rel10];
    want.sort();
    assert_eq!(ids, want, "only the re-listed and the new value");
    assert!(new.iter().all(|x| x.2 > last));
    // Cursors name tags -1 to 3 only.
    let cursor = |tag: i64| FeedQuery {
        next: Some(
            Key {
                added: last.clone(),
                rid: 1,
                tag,
            }
            .encode(),
        ),
        ..FeedQuery::default()
    };
    assert!(s.feed_objects(&coll, &cursor(TAG_LIST_REL)).is_ok());
    assert!(s.feed_objects(&coll, &cursor(4)).is_err());
}

#[test]
fn polling_a_growing_list_gets_every_value_exactly_once() {
    let mut s = Store::open_in_memory().unwrap();
    s.ingest(&bundle_a(), None, None).unwrap();
    let all = all_id(&s);
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut last: Option<String> = None;
    let rounds = 60;
    for i in 0..rounds {
        ingest_list(
            &mut s,
            &list_head(LIST, true, Tlp::Clear),
            &domains(0..(i + 1) * 3),
        );
        let items = walk(
            &s,
            &all,
            FeedQuery {
                added_after: last.clone(),
                limit: 4,
                ..FeedQuery::default()
            },
        );
        for o in &items {
            *seen_ids.entry(o.stix_id().to_string()).or_default() += 1;
        }
        if let Some(o) = items.last() {
            last = Some(o.date_added.clone());
        }
    }
    for v in domains(0..rounds * 3) {
        let (ind, rel) = derived(LIST, &v);
        assert_eq!(seen_ids.get(&ind), Some(&1), "{v}");
        assert_eq!(seen_ids.get(&rel), Some(&1), "{v}");
    }
    let twice: Vec<_> = seen_ids.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "served more than once: {twice:?}");
}

#[test]
fn restricted_reader_gets_only_the_lists_it_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let mut s = store_at(&path);
        ingest_list(&mut s, &list_head(LIST, true, Tlp::Clear), &domains(0..4));
        ingest_list(&mut s, &list_head("hush", true, Tlp::Red), &domains(0..4));
    }
    let mut reader = Store::open(&path).unwrap();
    reader.restrict(Tlp::Amber).unwrap();
    let coll = all_id(&reader);
    let got = walk(
        &reader,
        &coll,
        FeedQuery {
            limit: 3,
            ..FeedQuery::default()
        },
    );
    let ids: HashSet<String> = statements(&got)
        .iter()
        .map(|st| st.stix_id.clone())
        .collect();
    for v in domains(0..4) {
        let (ind, rel) = derived(LIST, &v);
        assert!(ids.contains(&ind) && ids.contains(&rel), "{v}");
        let (ind, rel) = derived("hush", &v);
        assert!(!ids.contains(&ind) && !ids.contains(&rel), "{v}");
    }
    assert!(
        reader
            .feed_collection(&collection_uuid(&["source", "hush"]))
            .unwrap()
            .is_none()
    );
}
