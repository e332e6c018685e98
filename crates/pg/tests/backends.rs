//! One suite, two backends: every check runs on the embedded SQLite store
//! and on PostgreSQL (the local server; each test gets a database of its
//! own, dropped afterwards). A backend passes by behaving like the other.

use cairn_kb::{KnowledgeBase, LIST_KEY_BASE, ListHead, ListValue, SightingInput, Store};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};
use cairn_pg::PgStore;
use std::collections::BTreeSet;

#[path = "backends/feeds.rs"]
mod feeds;
#[path = "backends/reads.rs"]
mod reads;

use feeds::*;
use reads::*;

/// A database of its own on the test server, dropped when the test ends.
struct Scratch(cairn_pg::admin::Scratch);

impl Scratch {
    fn new() -> Option<Scratch> {
        let server = cairn_testkit::postgres()?;
        let db = cairn_pg::admin::Scratch::new(&server, "t").expect("create a test database");
        Some(Scratch(db))
    }
    fn url(&self) -> &str {
        self.0.url()
    }
}

/// Runs `check` on a fresh SQLite store and on a fresh PostgreSQL store.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                let mut s = cairn_kb::Store::open_in_memory().unwrap();
                super::$name(&mut s);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                let Some(db) = super::Scratch::new() else { return };
                let mut s = cairn_pg::PgStore::connect(db.url()).unwrap();
                super::$name(&mut s);
            })*
        }
    };
}

both!(
    reingest_is_differential,
    sources_never_overwrite_each_other,
    a_fingerprint_skips_the_same_input,
    lists_are_differential,
    a_failed_list_ingest_leaves_the_store_as_it_was,
    search_ranks_names_first,
    a_hit_names_actor_aliases_and_families,
    sightings_round_trip,
    a_restricted_reader_sees_only_its_marking,
    tokens_are_hashed_and_revocable,
    actors_link_across_sources_and_hide_above_the_ceiling,
    exports_follow_the_ceiling_and_the_actor,
    an_actors_indicators_most_sighted_first,
    feeds_keep_their_state_with_their_statements,
);

fn prov(source: &str, tlp: Tlp) -> Provenance {
    Provenance {
        source: source.into(),
        reference: Some("https://example.org/report".into()),
        confidence: Some(80),
        tlp,
        ..Provenance::default()
    }
}

fn actor(id: &str, name: &str, aliases: &[&str], source: &str) -> Object {
    Object {
        id: id.into(),
        kind: "intrusion-set".into(),
        name: Some(name.into()),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        description: Some(format!(
            "{name} is a state-sponsored group tracked since 2019."
        )),
        prov: prov(source, Tlp::Clear),
        raw: format!("{{\"id\":\"{id}\"}}"),
        ..Object::default()
    }
}

fn indicator(id: &str, kind: IndicatorKind, value: &str, source: &str, tlp: Tlp) -> Object {
    Object {
        id: id.into(),
        kind: "indicator".into(),
        labels: vec!["c2".into()],
        observables: vec![Observable {
            kind,
            value: value.into(),
        }],
        prov: prov(source, tlp),
        raw: format!("{{\"id\":\"{id}\",\"value\":\"{value}\"}}"),
        ..Object::default()
    }
}

fn indicates(from: &str, to: &str, source: &str) -> Relation {
    Relation {
        id: format!("relationship--{}", uuid::Uuid::new_v4()),
        rel_type: "indicates".into(),
        source_ref: from.into(),
        target_ref: to.into(),
        prov: prov(source, Tlp::Clear),
        raw: "{}".into(),
        ..Relation::default()
    }
}

fn bundle(source: &str, objects: Vec<Object>, relations: Vec<Relation>) -> Bundle {
    Bundle {
        source: source.into(),
        format: "stix".into(),
        objects,
        relations,
        ..Bundle::default()
    }
}

const ACTOR: &str = "intrusion-set--aaaaaaaa-0000-4000-8000-000000000001";
const MALWARE: &str = "malware--aaaaaaaa-0000-4000-8000-000000000002";

/// The vendor's report: an actor, a family, two indicators of the actor.
fn report(source: &str) -> Bundle {
    let i1 = "indicator--aaaaaaaa-0000-4000-8000-000000000011";
    let i2 = "indicator--aaaaaaaa-0000-4000-8000-000000000012";
    let mut rel1 = indicates(i1, ACTOR, source);
    rel1.id = "relationship--aaaaaaaa-0000-4000-8000-000000000021".into();
    let mut rel2 = indicates(i2, ACTOR, source);
    rel2.id = "relationship--aaaaaaaa-0000-4000-8000-000000000022".into();
    let mut rel3 = indicates(i1, MALWARE, source);
    rel3.id = "relationship--aaaaaaaa-0000-4000-8000-000000000023".into();
    bundle(
        source,
        vec![
            actor(ACTOR, "RedHotel", &["TAG-22", "Earth Lusca"], source),
            Object {
                id: MALWARE.into(),
                kind: "malware".into(),
                name: Some("ShadowPad".into()),
                prov: prov(source, Tlp::Clear),
                raw: "{}".into(),
                ..Object::default()
            },
            indicator(i1, IndicatorKind::Domain, "kb.dga.asia", source, Tlp::Clear),
            indicator(i2, IndicatorKind::Ipv4, "45.76.7.127", source, Tlp::Clear),
        ],
        vec![rel1, rel2, rel3],
    )
}

fn hunted(kb: &dyn KnowledgeBase, inactive: bool) -> BTreeSet<(String, i64)> {
    let mut out = BTreeSet::new();
    kb.for_each_hunt_indicator(inactive, &mut |h| {
        out.insert((h.observable.value, h.key));
    })
    .unwrap();
    out
}

fn values(kb: &dyn KnowledgeBase, inactive: bool) -> BTreeSet<String> {
    hunted(kb, inactive).into_iter().map(|(v, _)| v).collect()
}

fn reingest_is_differential(kb: &mut dyn KnowledgeBase) {
    let g0 = kb.generation().unwrap();
    let r = kb.ingest(&report("vendor A"), None, None).unwrap();
    assert_eq!(
        (r.status.as_str(), r.added, r.changed, r.withdrawn),
        ("new", 7, 0, 0)
    );
    let g1 = kb.generation().unwrap();
    assert!(g1 > g0);
    let again = kb.ingest(&report("vendor A"), None, None).unwrap();
    assert_eq!(
        (again.status.as_str(), again.added, again.changed),
        ("unchanged", 0, 0)
    );
    assert_eq!(
        kb.generation().unwrap(),
        g1,
        "nothing changed, no new generation"
    );

    // The vendor changes the domain and drops the address.
    let mut b = report("vendor A");
    b.objects[2].observables[0].value = "kb2.dga.asia".into();
    b.objects.remove(3);
    b.relations.remove(1);
    let r = kb.ingest(&b, None, None).unwrap();
    assert_eq!(
        (r.status.as_str(), r.added, r.changed, r.withdrawn),
        ("updated", 0, 1, 2)
    );
    assert!(kb.generation().unwrap() > g1);
    assert_eq!(
        values(kb, false),
        BTreeSet::from(["kb2.dga.asia".to_string()])
    );
    // Withdrawn, never deleted: still there for history.
    assert!(values(kb, true).contains("45.76.7.127"));
    // Saying it again brings it back.
    let r = kb.ingest(&report("vendor A"), None, None).unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 3, 0));
    assert_eq!(values(kb, false).len(), 2);
}

fn sources_never_overwrite_each_other(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    kb.ingest(&report("vendor B"), None, None).unwrap();
    let stats = kb.stats().unwrap();
    let names: Vec<&str> = stats.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["vendor A", "vendor B"]);
    assert!(
        stats
            .sources
            .iter()
            .all(|s| s.objects == 4 && s.relations == 3)
    );
    let kinds: std::collections::HashMap<_, _> = stats.objects_by_kind.into_iter().collect();
    assert_eq!(kinds.get("indicator"), Some(&4));
    // Each source's statement of one value is its own key.
    let keys: Vec<i64> = hunted(kb, false)
        .into_iter()
        .filter(|(v, _)| v == "kb.dga.asia")
        .map(|(_, k)| k)
        .collect();
    assert_eq!(keys.len(), 2);
    let said: BTreeSet<String> = keys
        .iter()
        .map(|k| kb.indicator_context(*k).unwrap().sources[0].source.clone())
        .collect();
    assert_eq!(said, BTreeSet::from(["vendor A".into(), "vendor B".into()]));
}

fn a_fingerprint_skips_the_same_input(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), Some("a.json"), Some("fp-1"))
        .unwrap();
    assert_eq!(
        kb.source_with_fingerprint("fp-1").unwrap(),
        Some(("vendor A".into(), "stix".into()))
    );
    let g = kb.generation().unwrap();
    let r = kb
        .ingest(&report("vendor A"), Some("a.json"), Some("fp-1"))
        .unwrap();
    assert_eq!(r.status, "unchanged");
    assert_eq!(kb.generation().unwrap(), g);
    assert_eq!(kb.source_with_fingerprint("fp-2").unwrap(), None);
}

fn list_head(actor_obj: bool) -> ListHead {
    ListHead {
        source: "insikt list".into(),
        format: "list".into(),
        actor: actor_obj.then(|| actor(ACTOR, "RedHotel", &["TAG-22"], "insikt list")),
        prov: prov("insikt list", Tlp::Green),
        labels: vec!["c2".into()],
    }
}

fn list_values(vals: &[&str]) -> Vec<Result<ListValue, cairn_kb::errors::KbError>> {
    vals.iter()
        .map(|v| {
            let kind = if v.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                IndicatorKind::Ipv4
            } else {
                IndicatorKind::Domain
            };
            let value = v.to_lowercase().replace("[.]", ".");
            Ok(ListValue::new(kind, value, v.to_string()))
        })
        .collect()
}

fn lists_are_differential(kb: &mut dyn KnowledgeBase) {
    let head = list_head(true);
    let first = ["a.example", "b[.]example", "10.0.0.1", "a.example"];
    let r = kb
        .ingest_list(&head, &mut list_values(&first).into_iter(), None, None)
        .unwrap();
    // The actor and three distinct values.
    assert_eq!(
        (r.status.as_str(), r.added, r.indicators, r.relationships),
        ("new", 4, 3, 3)
    );
    let keys = hunted(kb, false);
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|(_, k)| *k >= LIST_KEY_BASE));
    let (_, key) = keys.iter().find(|(v, _)| v == "b.example").unwrap();
    let ctx = kb.indicator_context(*key).unwrap();
    assert_eq!(ctx.actors[0].name, "RedHotel");
    assert_eq!(ctx.roles, ["c2"]);
    assert_eq!(ctx.sources[0].tlp, Tlp::Green);

    // b is dropped, c added, a spelled differently.
    let second = ["A.example", "10.0.0.1", "c.example"];
    let r = kb
        .ingest_list(&head, &mut list_values(&second).into_iter(), None, None)
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.added, r.changed, r.withdrawn),
        ("updated", 1, 1, 1)
    );
    assert_eq!(
        values(kb, false),
        BTreeSet::from(["a.example".into(), "10.0.0.1".into(), "c.example".into()])
    );
    // b comes back: re-activated, same key as before.
    let third = ["A.example", "10.0.0.1", "c.example", "b[.]example"];
    let r = kb
        .ingest_list(&head, &mut list_values(&third).into_iter(), None, None)
        .unwrap();
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 0));
    assert!(hunted(kb, false).contains(&("b.example".to_string(), *key)));
    let stats = kb.stats().unwrap();
    let s = &stats.sources[0];
    assert_eq!((s.objects, s.relations), (5, 4), "4 values and the actor");
}

fn a_failed_list_ingest_leaves_the_store_as_it_was(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    let before = (kb.generation().unwrap(), values(kb, true));
    let mut vals = list_values(&["x.example", "y.example"]);
    vals.push(Err(cairn_kb::errors::KbError::Invalid(
        "line 3: not a value".into(),
    )));
    let err = kb
        .ingest_list(&list_head(true), &mut vals.into_iter(), None, None)
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!((kb.generation().unwrap(), values(kb, true)), before);
    assert_eq!(
        kb.stats().unwrap().sources.len(),
        1,
        "no source row left behind"
    );
}

fn search_ranks_names_first(kb: &mut dyn KnowledgeBase) {
    let mut b = report("vendor A");
    b.objects.push(actor(
        "intrusion-set--aaaaaaaa-0000-4000-8000-000000000003",
        "Other Panda",
        &[],
        "vendor A",
    ));
    // Mentions the first actor's alias only in prose.
    b.objects[4].description = Some("Overlaps with Earth Lusca infrastructure.".into());
    kb.ingest(&b, None, None).unwrap();
    let hits = kb.search("earth lusca", 10).unwrap();
    assert_eq!(hits[0].name, "RedHotel", "{hits:?}");
    assert!(hits.iter().any(|h| h.name == "Other Panda"));
    let hits = kb.search("shadowp", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, "malware");
    assert!(kb.search("  ", 10).unwrap().is_empty());
}

fn a_hit_names_actor_aliases_and_families(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    // Another vendor's name for the same group, linked by a shared alias.
    let other = bundle(
        "vendor B",
        vec![actor(
            "intrusion-set--bbbbbbbb-0000-4000-8000-000000000001",
            "Charcoal Typhoon",
            &["Earth Lusca"],
            "vendor B",
        )],
        vec![],
    );
    kb.ingest(&other, None, None).unwrap();
    let (_, key) = hunted(kb, false)
        .into_iter()
        .find(|(v, _)| v == "kb.dga.asia")
        .unwrap();
    let ctx = kb.indicator_context(key).unwrap();
    assert_eq!(ctx.actors.len(), 1);
    assert_eq!(ctx.actors[0].name, "RedHotel");
    let aliases: BTreeSet<&str> = ctx.actors[0].aliases.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        aliases,
        BTreeSet::from(["Charcoal Typhoon", "Earth Lusca", "TAG-22"])
    );
    // Named by two sources, "Earth Lusca" comes first.
    assert_eq!(ctx.actors[0].aliases[0], "Earth Lusca");
    assert_eq!(ctx.families, ["ShadowPad"]);
    assert_eq!(ctx.roles, ["c2"]);
    assert_eq!(ctx.sources[0].confidence, Some(80));
    assert!(matches!(
        kb.indicator_context(999_999),
        Err(cairn_kb::errors::KbError::NotFound(_))
    ));
}

fn sightings_round_trip(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    let (_, key) = hunted(kb, false).into_iter().next().unwrap();
    let g = kb.generation().unwrap();
    let hit = SightingInput {
        key,
        count: 3,
        first_seen: "2023-06-01T00:00:00Z".into(),
        last_seen: "2023-06-02T00:00:00Z".into(),
        where_: "dns.log".into(),
    };
    assert_eq!(kb.record_sightings(&[hit.clone(), hit]).unwrap(), 2);
    assert!(kb.generation().unwrap() > g);
    let seen = kb.sightings_of(key).unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].count, seen[0].location.as_str()), (3, "dns.log"));
    assert!(kb.sightings_of(key + 1_000_000).unwrap().is_empty());
}

fn a_restricted_reader_sees_only_its_marking(kb: &mut dyn KnowledgeBase) {
    let mut b = report("vendor A");
    b.objects.push(indicator(
        "indicator--aaaaaaaa-0000-4000-8000-000000000013",
        IndicatorKind::Domain,
        "amber.example",
        "vendor A",
        Tlp::Amber,
    ));
    kb.ingest(&b, None, None).unwrap();
    kb.ingest_list(
        &list_head(false),
        &mut list_values(&["green.example"]).into_iter(),
        None,
        None,
    )
    .unwrap();
    assert!(values(kb, false).contains("amber.example"));
    kb.restrict(Tlp::Green).unwrap();
    let seen = values(kb, false);
    assert!(!seen.contains("amber.example"), "{seen:?}");
    assert!(seen.contains("green.example") && seen.contains("kb.dga.asia"));
    let kinds: std::collections::HashMap<_, _> =
        kb.stats().unwrap().objects_by_kind.into_iter().collect();
    assert_eq!(kinds.get("indicator"), Some(&3));
    assert!(
        kb.ingest(&report("vendor C"), None, None).is_err(),
        "read-only"
    );
}

fn actors_link_across_sources_and_hide_above_the_ceiling(kb: &mut dyn KnowledgeBase) {
    // Vendor A's report names RedHotel; vendor B calls it TAG-22 and
    // Earth Lusca; vendor C (TLP:RED) keeps a cluster of its own.
    kb.ingest(&report("vendor A"), None, None).unwrap();
    let tag22 = "intrusion-set--bbbbbbbb-0000-4000-8000-000000000001";
    kb.ingest(
        &bundle(
            "vendor B",
            vec![actor(
                tag22,
                "TAG-22",
                &["Earth Lusca", "RedHotel"],
                "vendor B",
            )],
            vec![],
        ),
        None,
        None,
    )
    .unwrap();
    let mut red = actor(
        "intrusion-set--cccccccc-0000-4000-8000-000000000001",
        "Crimson Lantern",
        &["TAG-22"],
        "vendor C",
    );
    red.prov.tlp = Tlp::Red;
    kb.ingest(&bundle("vendor C", vec![red], vec![]), None, None)
        .unwrap();
    let p = kb
        .actor("earth  lusca")
        .unwrap()
        .expect("resolves by an alias");
    let sources: BTreeSet<&str> = p.members.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(
        sources,
        BTreeSet::from(["vendor A", "vendor B", "vendor C"])
    );
    assert_eq!(p.indicator_counts.values().sum::<usize>(), 2, "{p:?}");
    assert!(p.aliases.iter().any(|a| a.name == "Earth Lusca"));
    assert_eq!(
        kb.actor(tag22).unwrap().unwrap().members.len(),
        3,
        "by STIX id"
    );
    assert!(kb.actor("Nobody").unwrap().is_none());
    assert_eq!(kb.suggest("Earth Lusk", 3).unwrap(), vec!["Earth Lusca"]);
    kb.restrict(Tlp::Amber).unwrap();
    let p = kb.actor("TAG-22").unwrap().unwrap();
    assert_eq!(p.members.len(), 2, "vendor C's TLP:RED cluster is hidden");
    assert!(kb.actor("Crimson Lantern").unwrap().is_none());
    assert!(kb.suggest("Crimson", 3).unwrap().is_empty());
}

fn tokens_are_hashed_and_revocable(kb: &mut dyn KnowledgeBase) {
    use cairn_kb::Role;
    let (secret, made) = kb.create_token(" siem ", Role::Analyst).unwrap();
    assert!(secret.starts_with("cairn_") && secret.len() == 6 + 64);
    assert_eq!(made.name, "siem");
    let grant = kb.verify_token(&secret).unwrap().expect("a live token");
    assert_eq!((grant.name.as_str(), grant.role), ("siem", Role::Analyst));
    assert_eq!(grant.id, made.id);
    // Pasted with a trailing newline, it still works; a near miss does not.
    assert!(kb.verify_token(&format!("{secret}\n")).unwrap().is_some());
    assert!(
        kb.verify_token(&secret[..secret.len() - 1])
            .unwrap()
            .is_none()
    );
    let dup = kb.create_token("siem", Role::Reader).unwrap_err();
    assert!(dup.to_string().contains("exists"), "{dup}");
    assert!(kb.create_token("  ", Role::Reader).is_err());
    let e = kb.create_token("a\0b", Role::Reader).unwrap_err();
    assert!(e.to_string().contains("control characters"), "{e}");
    let (admin, _) = kb.create_token("ops", Role::Admin).unwrap();
    assert!(kb.revoke_token("siem").unwrap());
    assert!(!kb.revoke_token("siem").unwrap(), "revoked once");
    assert!(kb.verify_token(&secret).unwrap().is_none());
    assert_eq!(kb.verify_token(&admin).unwrap().unwrap().role, Role::Admin);
    let listed = kb.tokens().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0].name.starts_with("siem (revoked "),
        "{}",
        listed[0].name
    );
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
    // The name is free again once revoked.
    let (again, _) = kb.create_token("siem", Role::Reader).unwrap();
    assert_eq!(kb.verify_token(&again).unwrap().unwrap().role, Role::Reader);
}

fn members_of(kb: &dyn KnowledgeBase, q: &str) -> Vec<String> {
    kb.actor(q)
        .unwrap()
        .map(|p| p.members.into_iter().map(|m| m.stix_id).collect())
        .unwrap_or_default()
}

/// The same real published data in both backends reads back the same:
/// counts, every value hunted, and what each hit says.
#[test]
fn real_data_reads_the_same_on_both_backends() {
    let Some(attack) = cairn_testkit::dataset("attack/enterprise-attack-18.1.json") else {
        return;
    };
    let Some(list) = cairn_testkit::dataset("insikt/redhotel-2023-08-appendix.txt") else {
        return;
    };
    let Some(db) = Scratch::new() else { return };
    let opts = cairn_intake::Options::default();
    // The appendix as an analyst ingests it: `--actor RedHotel`.
    let redhotel = cairn_intake::Options {
        actor: Some("RedHotel".into()),
        ..cairn_intake::Options::default()
    };
    let bundles = [
        cairn_intake::parse_path(&attack, &opts).unwrap(),
        cairn_intake::parse_path(&list, &redhotel).unwrap(),
    ];
    let mut sqlite = Store::open_in_memory().unwrap();
    let mut pg = PgStore::connect(db.url()).unwrap();
    for b in &bundles {
        let a = KnowledgeBase::ingest(&mut sqlite, b, None, None).unwrap();
        let p = KnowledgeBase::ingest(&mut pg, b, None, None).unwrap();
        assert_eq!(a, p, "ingest reports differ for {}", b.source);
    }
    let (s, p) = (sqlite.stats().unwrap(), pg.stats().unwrap());
    let counts = |v: &[(String, i64)]| v.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(counts(&s.objects_by_kind), counts(&p.objects_by_kind));
    assert_eq!(counts(&s.relations_by_type), counts(&p.relations_by_type));
    let described = |kb: &dyn KnowledgeBase| {
        let mut out = BTreeSet::new();
        for (value, key) in hunted(kb, false) {
            let c = kb.indicator_context(key).unwrap();
            let actors: Vec<String> = c.actors.iter().map(|a| a.name.clone()).collect();
            out.insert((value, c.stix_id, actors, c.families, c.roles));
        }
        out
    };
    let on_sqlite = described(&sqlite);
    let on_pg = described(&pg);
    assert!(on_sqlite.len() > 50, "the appendix's values are hunted");
    assert_eq!(on_sqlite, on_pg);
    for q in ["earth lusca", "T1059", "cobalt strike"] {
        let top = |kb: &dyn KnowledgeBase| kb.search(q, 1).unwrap().first().map(|h| h.name.clone());
        assert_eq!(top(&sqlite), top(&pg), "top hit for {q}");
    }
    // Profiles: the same members, claims and counts (members compared
    // as a set: each backend numbers its rows).
    let profile = |kb: &dyn KnowledgeBase, q: &str| {
        let mut v = serde_json::to_value(kb.actor(q).unwrap()).unwrap();
        if let Some(m) = v["members"].as_array_mut() {
            m.sort_by_key(|m| m.to_string());
        }
        v
    };
    for q in [
        "RedHotel",
        "Earth Lusca",
        "G1006",
        "APT41",
        "Aquatic Panda",
        "T1059",
    ] {
        let (a, b) = (profile(&sqlite, q), profile(&pg, q));
        assert_eq!(a, b, "profile of {q}");
    }
    assert!(
        profile(&sqlite, "G1006")["techniques"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    assert_eq!(
        sqlite.suggest("Earth Lusk", 5).unwrap(),
        pg.suggest("Earth Lusk", 5).unwrap()
    );
    // Sensor exports: every value with the same actors and roles, under
    // every ceiling, and one actor's alone.
    let members = members_of(&sqlite, "RedHotel");
    for q in [
        cairn_kb::ExportQuery::default(),
        cairn_kb::ExportQuery {
            tlp_max: Tlp::Red,
            ..Default::default()
        },
        cairn_kb::ExportQuery {
            tlp_max: Tlp::Amber,
            indicates: Some(members),
            since: None,
        },
    ] {
        let a = exported(&sqlite, &q);
        assert_eq!(a, exported(&pg, &q), "export {q:?}");
        assert!(a.len() > 50, "export {q:?}: {}", a.len());
    }
    // An actor's indicator list, as its page shows it (keys aside).
    let listed = |kb: &dyn KnowledgeBase, ids: &[String]| {
        let (rows, total) = kb.actor_indicators(ids, 10_000).unwrap();
        let rows: BTreeSet<String> = rows
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?} {}",
                    r.kind, r.value, r.source, r.roles, r.tlp
                )
            })
            .collect();
        (rows, total)
    };
    for q in ["RedHotel", "G1006"] {
        let ids = members_of(&sqlite, q);
        let a = listed(&sqlite, &ids);
        assert_eq!(a, listed(&pg, &ids), "indicators of {q}");
    }
    assert!(listed(&sqlite, &members_of(&sqlite, "RedHotel")).1 > 50);
}

/// PostgreSQL's text cannot hold NUL, which SQLite stores and a request can
/// carry: such a value is refused as bad input (a 400 from the server), not
/// a store failure (a 500; schemathesis found one on `POST /api/v1/tokens`).
#[test]
fn a_nul_in_text_is_bad_input_on_postgres() {
    use cairn_kb::{Role, errors::KbError};
    let Some(db) = Scratch::new() else { return };
    let mut pg = PgStore::connect(db.url()).unwrap();
    let kb: &mut dyn KnowledgeBase = &mut pg;
    let e = kb.revoke_token("a\0b").unwrap_err();
    assert!(
        matches!(&e, KbError::Invalid(m) if m.contains("NUL")),
        "{e:?}"
    );
    // The connection is still good afterwards.
    assert!(kb.create_token("ok", Role::Reader).is_ok());
}
