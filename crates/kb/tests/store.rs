//! Store behaviour on small hand-made bundles: idempotence, versions,
//! withdrawal with history, alias conflicts.

use cairn_kb::Store;
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation};

fn actor(id: &str, name: &str, aliases: &[&str], src: &str, ext: Option<&str>) -> Object {
    Object {
        id: id.into(),
        kind: "intrusion-set".into(),
        name: Some(name.into()),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        external_id: ext.map(str::to_string),
        prov: Provenance {
            source: src.into(),
            ..Default::default()
        },
        raw: format!("{{\"id\":\"{id}\"}}"),
        ..Object::default()
    }
}

fn bundle(src: &str, objects: Vec<Object>, relations: Vec<Relation>) -> Bundle {
    Bundle {
        source: src.into(),
        format: "test".into(),
        objects,
        relations,
        ..Bundle::default()
    }
}

fn world() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.ingest(
        &bundle(
            "ATT&CK",
            vec![
                actor(
                    "intrusion-set--1",
                    "Earth Lusca",
                    &["TAG-22", "Charcoal Typhoon"],
                    "ATT&CK",
                    Some("G1006"),
                ),
                actor(
                    "intrusion-set--2",
                    "Aquatic Panda",
                    &[],
                    "ATT&CK",
                    Some("G0143"),
                ),
            ],
            vec![],
        ),
        None,
        None,
    )
    .unwrap();
    s.ingest(
        &bundle(
            "Galaxy",
            vec![actor(
                "intrusion-set--3",
                "Earth Lusca",
                &["Aquatic Panda", "RedHotel"],
                "Galaxy",
                None,
            )],
            vec![],
        ),
        None,
        None,
    )
    .unwrap();
    s
}

#[test]
fn resolves_any_name_and_flags_the_disagreement() {
    let s = world();
    for q in [
        "tag 22",
        "TAG-22",
        "tag22",
        "G1006",
        "RedHotel",
        "intrusion-set--1",
    ] {
        let p = s
            .actor(q)
            .unwrap()
            .unwrap_or_else(|| panic!("{q} unresolved"));
        assert_eq!(p.attack_id.as_deref(), Some("G1006"), "{q}");
        assert_eq!(p.conflicts.len(), 1, "{q}: {:?}", p.conflicts);
        let c = &p.conflicts[0];
        assert_eq!(
            (c.kept_apart_by.as_str(), c.name.as_str()),
            ("ATT&CK", "Aquatic Panda")
        );
        assert_eq!(c.linked_by, vec!["Galaxy".to_string()]);
    }
    // Asking for Aquatic Panda lands on ATT&CK's G0143, and the conflict points the other way.
    let p = s.actor("aquatic panda").unwrap().unwrap();
    assert_eq!(p.attack_id.as_deref(), Some("G0143"));
    assert_eq!(p.conflicts[0].name, "Earth Lusca");
    let who: Vec<_> = p
        .aliases
        .iter()
        .find(|a| a.name == "RedHotel")
        .unwrap()
        .sources
        .clone();
    assert_eq!(who, vec!["Galaxy".to_string()]);
    assert!(s.actor("nobody at all").unwrap().is_none());
    assert_eq!(s.suggest("Earth Lusk", 3).unwrap()[0], "Earth Lusca");
}

#[test]
fn reingest_is_idempotent_and_new_versions_withdraw_with_history() {
    let mut s = Store::open_in_memory().unwrap();
    let mut ind = Object {
        id: "indicator--1".into(),
        kind: "indicator".into(),
        observables: vec![Observable::new(IndicatorKind::Domain, "kb.dga.asia")],
        prov: Provenance {
            source: "feed".into(),
            ..Default::default()
        },
        ..Object::default()
    };
    let a = actor("intrusion-set--9", "RedHotel", &[], "feed", None);
    let rel = Relation {
        id: "relationship--1".into(),
        rel_type: "indicates".into(),
        source_ref: "indicator--1".into(),
        target_ref: "intrusion-set--9".into(),
        prov: Provenance {
            source: "feed".into(),
            ..Default::default()
        },
        ..Relation::default()
    };
    let v1 = bundle("feed", vec![a.clone(), ind.clone()], vec![rel.clone()]);
    let r = s.ingest(&v1, None, None).unwrap();
    assert_eq!((r.status.as_str(), r.added), ("new", 3));
    let g = s.generation().unwrap();
    let r = s.ingest(&v1, None, None).unwrap();
    assert_eq!((r.status.as_str(), r.added, r.changed), ("unchanged", 0, 0));
    assert_eq!(
        s.generation().unwrap(),
        g,
        "an unchanged re-ingest must not invalidate caches"
    );
    assert_eq!(s.hunt_indicators(false).unwrap().len(), 1);

    // Version 2 changes the indicator's confidence and drops the relationship.
    ind.prov.confidence = Some(90);
    let r = s
        .ingest(&bundle("feed", vec![a.clone(), ind], vec![]), None, None)
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.changed, r.withdrawn),
        ("updated", 1, 1)
    );
    let p = s.actor("redhotel").unwrap().unwrap();
    assert!(
        p.indicator_counts.is_empty(),
        "withdrawn relation must not count"
    );

    // Version 3 drops the indicator: it no longer hunts unless asked.
    s.ingest(&bundle("feed", vec![a], vec![]), None, None)
        .unwrap();
    assert!(s.hunt_indicators(false).unwrap().is_empty());
    assert_eq!(s.hunt_indicators(true).unwrap().len(), 1);
    let st = s.stats().unwrap();
    assert_eq!(st.sources[0].withdrawn, 2);
}

#[test]
fn indicator_context_names_the_resolved_actor() {
    let mut s = world();
    let ind = Object {
        id: "indicator--7".into(),
        kind: "indicator".into(),
        labels: vec!["c2".into()],
        observables: vec![Observable::new(IndicatorKind::Ipv4, "45.77.153.197")],
        prov: Provenance {
            source: "list".into(),
            ..Default::default()
        },
        ..Object::default()
    };
    let red = actor("intrusion-set--8", "RedHotel", &[], "list", None);
    let rel = Relation {
        id: "relationship--8".into(),
        rel_type: "indicates".into(),
        source_ref: "indicator--7".into(),
        target_ref: "intrusion-set--8".into(),
        prov: Provenance {
            source: "list".into(),
            ..Default::default()
        },
        ..Relation::default()
    };
    s.ingest(&bundle("list", vec![ind, red], vec![rel]), None, None)
        .unwrap();
    let hi = s.hunt_indicators(false).unwrap();
    let ctx = s.indicator_context(hi[0].key).unwrap();
    assert_eq!(ctx.actors[0].name, "RedHotel");
    assert!(
        ctx.actors[0].aliases.iter().any(|a| a == "Earth Lusca"),
        "{:?}",
        ctx.actors
    );
    assert_eq!(ctx.roles, vec!["c2"]);
    s.record_sightings(&[cairn_kb::SightingInput {
        key: hi[0].key,
        count: 3,
        first_seen: "2023-06-01".into(),
        last_seen: "2023-06-02".into(),
        where_: "conn.log".into(),
    }])
    .unwrap();
    assert_eq!(s.actor("RedHotel").unwrap().unwrap().sightings, 3);
}
