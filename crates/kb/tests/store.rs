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

fn indicator(n: usize, modified: &str, confidence: u8) -> Object {
    Object {
        id: format!("indicator--{n}"),
        kind: "indicator".into(),
        modified: Some(modified.into()),
        observables: vec![Observable::new(
            IndicatorKind::Domain,
            &format!("h{n}.batch.example"),
        )],
        prov: Provenance {
            source: "batched".into(),
            confidence: Some(confidence),
            ..Default::default()
        },
        raw: format!("{{\"id\":\"indicator--{n}\",\"modified\":\"{modified}\"}}"),
        ..Object::default()
    }
}

fn links(n: usize) -> Relation {
    Relation {
        id: format!("relationship--{n}"),
        rel_type: "indicates".into(),
        source_ref: format!("indicator--{n}"),
        // Points at an object of the last batch.
        target_ref: "intrusion-set--9".into(),
        prov: Provenance {
            source: "batched".into(),
            ..Default::default()
        },
        ..Relation::default()
    }
}

/// What a store holds, with the columns two stores never share left out.
fn statements(s: &Store) -> Vec<String> {
    let mut out: Vec<String> = s
        .stats()
        .unwrap()
        .sources
        .iter()
        .map(|x| format!("{x:?}"))
        .map(|x| x.split("last_ingested").next().unwrap_or("").to_string())
        .collect();
    out.extend(
        s.hunt_indicators(true)
            .unwrap()
            .iter()
            .map(|h| format!("{h:?}")),
    );
    let p = s.actor("redhotel").unwrap().unwrap();
    out.push(format!("{:?}", p.indicator_counts));
    out
}

/// A delivery in batches is the same ingest as one bundle: the same
/// statements, duplicates across batches resolved as within one (a later
/// `modified` wins), relationships to objects of later batches kept, and a
/// failing batch leaves the store as it was.
#[test]
fn batches_are_one_ingest() {
    let a = actor("intrusion-set--9", "RedHotel", &[], "batched", None);
    let mut objects: Vec<Object> = (0..10)
        .map(|n| indicator(n, "2024-01-01T00:00:00Z", 50))
        .collect();
    // A later version of indicator 2, in a later batch.
    objects.push(indicator(2, "2024-02-01T00:00:00Z", 90));
    objects.push(a);
    let relations: Vec<Relation> = (0..10).map(links).collect();
    let whole = bundle("batched", objects.clone(), relations.clone());

    let mut one = Store::open_in_memory().unwrap();
    let r1 = one.ingest(&whole, None, None).unwrap();
    let mut many = Store::open_in_memory().unwrap();
    let r2 = many
        .ingest_stream::<cairn_kb::errors::KbError>("batched", "test", None, None, |w| {
            for (os, rs) in objects
                .chunks(3)
                .zip(relations.chunks(3).chain(std::iter::repeat(&[][..])))
            {
                w.write(os, rs)?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(r1, r2);
    assert_eq!((r2.added, r2.objects, r2.relationships), (21, 12, 10));
    assert_eq!(statements(&one), statements(&many));

    // Batch 2 of a new version fails: nothing of batch 1 stays.
    let before = statements(&many);
    let g = many.generation().unwrap();
    let failed =
        many.ingest_stream::<Box<dyn std::error::Error>>("batched", "test", None, None, |w| {
            w.write(&[indicator(100, "2024-03-01T00:00:00Z", 10)], &[])?;
            Err("object #4 is bad".into())
        });
    assert_eq!(failed.unwrap_err().to_string(), "object #4 is bad");
    assert_eq!(statements(&many), before);
    assert_eq!(many.generation().unwrap(), g);

    // A later delivery that no longer says indicator 5 withdraws it (and
    // only it and its relationship).
    let r = many
        .ingest_stream::<cairn_kb::errors::KbError>("batched", "test", None, None, |w| {
            let said: Vec<Object> = objects
                .iter()
                .filter(|o| o.id != "indicator--5")
                .cloned()
                .collect();
            let rels: Vec<Relation> = relations
                .iter()
                .filter(|r| r.id != "relationship--5")
                .cloned()
                .collect();
            w.write(&said[..1], &[])?;
            w.write(&said[1..], &rels)
        })
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.added, r.changed, r.withdrawn),
        ("updated", 0, 0, 2),
        "{r:?}"
    );
}
