//! Lists in compact form: what readers see of them is what they saw of the
//! statements list intake used to make (ids, hunt keys and context, actor
//! profiles, exports, sightings, stats), re-ingest is differential, a bad
//! line changes nothing, and TLP shadowing covers the new tables.

use cairn_kb::errors::KbError;
use cairn_kb::{ExportQuery, LIST_KEY_BASE, ListHead, ListValue, SightingInput, Store};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Tlp, deterministic_id};
use std::path::{Path, PathBuf};

fn value(v: &str) -> ListValue {
    let clean = v.replace("[.]", ".");
    let kind = IndicatorKind::detect(&clean).expect("an indicator");
    let o = Observable::new(kind, &clean);
    ListValue {
        kind,
        written: (o.value != v).then(|| v.to_string()),
        value: o.value,
    }
}

fn head(source: &str, actor: Option<&str>, tlp: Tlp) -> ListHead {
    let prov = Provenance {
        source: source.into(),
        tlp,
        confidence: Some(70),
        reference: Some("https://lists.example/feed".into()),
        ..Provenance::default()
    };
    ListHead {
        source: source.into(),
        format: "list".into(),
        actor: actor.map(|name| {
            let id = deterministic_id("intrusion-set", &[source, name]);
            Object {
                raw: serde_json::json!({"type":"intrusion-set","id":id,"name":name}).to_string(),
                id,
                kind: "intrusion-set".into(),
                name: Some(name.into()),
                prov: prov.clone(),
                ..Object::default()
            }
        }),
        prov,
        labels: Vec::new(),
    }
}

fn ingest(s: &mut Store, h: &ListHead, values: &[&str]) -> cairn_kb::IngestReport {
    s.ingest_list::<KbError, _>(h, values.iter().map(|v| Ok(value(v))), None, None)
        .expect("ingest")
}

fn active(s: &Store) -> Vec<String> {
    let mut v: Vec<String> = s
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .map(|h| h.observable.value)
        .collect();
    v.sort();
    v
}

fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let s = Store::open(&path).unwrap();
    (dir, path, s)
}

#[test]
fn round_trip_hunt_context_export_and_differential_reingest() {
    let (_d, _p, mut s) = temp_store();
    let h = head("ember feed", Some("Ember Bear"), Tlp::Green);
    let r = ingest(
        &mut s,
        &h,
        &["c2.ember.example", "198.51.100[.]23", "c2.ember.example"],
    );
    assert_eq!((r.status.as_str(), r.added, r.indicators), ("new", 3, 2));
    assert_eq!(r.relationships, 2);

    // Hunt: list keys, never an object's; context names the actor.
    let hunt = s.hunt_indicators(false).unwrap();
    assert_eq!(hunt.len(), 2);
    let ip = hunt
        .iter()
        .find(|h| h.observable.value == "198.51.100.23")
        .unwrap();
    assert!(ip.key >= LIST_KEY_BASE && u32::try_from(ip.key).is_ok());
    let ctx = s.indicator_context(ip.key).unwrap();
    assert_eq!(
        ctx.stix_id,
        deterministic_id("indicator", &["ember feed", "ipv4", "198.51.100.23"])
    );
    assert_eq!(ctx.actors[0].name, "Ember Bear");
    assert_eq!(ctx.sources[0].tlp, Tlp::Green);
    assert_eq!(ctx.sources[0].confidence, Some(70));

    // Sightings by list key, counted in the profile and actor indicators.
    s.record_sightings(&[SightingInput {
        key: ip.key,
        count: 4,
        first_seen: "2024-01-01T00:00:00Z".into(),
        last_seen: "2024-01-02T00:00:00Z".into(),
        where_: "dns.log".into(),
    }])
    .unwrap();
    assert_eq!(s.sightings_of(ip.key).unwrap()[0].count, 4);
    let p = s.actor("Ember Bear").unwrap().expect("actor");
    assert_eq!(p.indicator_counts.get("ipv4"), Some(&1));
    assert_eq!(p.indicator_counts.get("domain"), Some(&1));
    assert_eq!(p.sightings, 4);
    let ids: Vec<String> = p.members.iter().map(|m| m.stix_id.clone()).collect();
    let (rows, total) = s.actor_indicators(&ids, 10).unwrap();
    assert_eq!(total, 2);
    assert_eq!(rows[0].value, "198.51.100.23");
    assert_eq!(rows[0].sightings, 4);

    // Sensor export and STIX subgraph: the derived statements.
    let exp = s
        .export_indicators(&ExportQuery {
            tlp_max: Tlp::Red,
            ..ExportQuery::default()
        })
        .unwrap();
    assert_eq!(exp.len(), 2);
    assert!(exp.iter().all(|e| e.actors == ["Ember Bear"]));
    let g = s.actor_subgraph("Ember Bear").unwrap().expect("subgraph");
    let ind = g
        .objects
        .iter()
        .find(|o| o.stix_id == ctx.stix_id)
        .expect("indicator exported");
    assert_eq!(ind.raw["pattern"], "[ipv4-addr:value = '198.51.100.23']");
    assert_eq!(ind.raw["name"], "198.51.100[.]23");
    let rel_id = deterministic_id(
        "relationship",
        &[&ctx.stix_id, "indicates", &h.actor.as_ref().unwrap().id],
    );
    assert!(g.relations.iter().any(|r| r.stix_id == rel_id));

    // Stats count values as indicators and `indicates` links.
    let st = s.stats().unwrap();
    assert!(st.objects_by_kind.contains(&("indicator".into(), 2)));
    assert!(st.relations_by_type.contains(&("indicates".into(), 2)));

    // Same values in another order: nothing changes, not even the generation.
    let gen0 = s.generation().unwrap();
    let r = ingest(&mut s, &h, &["198.51.100.23", "c2.ember.example"]);
    // The IP is now written plainly: its line changed, nothing else.
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 0));
    let gen1 = s.generation().unwrap();
    assert!(gen1 > gen0);
    let r = ingest(&mut s, &h, &["c2.ember.example", "198.51.100.23"]);
    assert_eq!(
        (r.status.as_str(), r.added, r.changed, r.withdrawn),
        ("unchanged", 0, 0, 0)
    );
    assert_eq!(s.generation().unwrap(), gen1);

    // One changed: the old one withdrawn, the new one added.
    let r = ingest(&mut s, &h, &["c2.ember.example", "203.0.113.9"]);
    assert_eq!((r.added, r.changed, r.withdrawn), (1, 0, 1));
    assert_eq!(active(&s), ["203.0.113.9", "c2.ember.example"]);
    assert!(
        s.indicator_context(ip.key).is_ok(),
        "withdrawn values keep their row"
    );
    assert_eq!(s.hunt_indicators(true).unwrap().len(), 3);

    // It comes back: re-activated under its old key, not a new row.
    let r = ingest(
        &mut s,
        &h,
        &["c2.ember.example", "203.0.113.9", "198.51.100.23"],
    );
    assert_eq!((r.added, r.changed, r.withdrawn), (0, 1, 0));
    let back = s
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .find(|x| x.observable.value == "198.51.100.23")
        .unwrap();
    assert_eq!(back.key, ip.key);
}

#[test]
fn a_bad_line_leaves_the_store_exactly_as_it_was() {
    let (_d, path, mut s) = temp_store();
    let h = head("feed", None, Tlp::Clear);
    ingest(&mut s, &h, &["a.example", "b.example"]);
    drop(s);
    let before = std::fs::read(&path).unwrap();
    let mut s = Store::open(&path).unwrap();
    let generation = s.generation().unwrap();
    let values = vec![
        Ok(value("c.example")),
        Ok(value("d.example")),
        Err(KbError::Invalid(
            "list.txt: line 3: `nope` is not a recognisable indicator".into(),
        )),
        Ok(value("e.example")),
    ];
    let err = s
        .ingest_list(&h, values, Some("list.txt"), Some("fp"))
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    assert_eq!(s.generation().unwrap(), generation);
    assert_eq!(active(&s), ["a.example", "b.example"]);
    assert_eq!(s.stats().unwrap().sources[0].versions, 1);
    drop(s);
    // Nothing reached the file either (committed pages are checkpointed on close).
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn restricted_readers_never_see_a_red_lists_values() {
    let (_d, path, mut s) = temp_store();
    ingest(
        &mut s,
        &head("red list", Some("Crimson"), Tlp::Red),
        &["secret.example", "192.0.2.66"],
    );
    ingest(
        &mut s,
        &head("amber list", Some("Umber"), Tlp::Amber),
        &["shared.example"],
    );
    let red_key = s
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .find(|h| h.observable.value == "secret.example")
        .unwrap()
        .key;
    s.record_sightings(&[SightingInput {
        key: red_key,
        count: 1,
        first_seen: "2024-01-01T00:00:00Z".into(),
        last_seen: "2024-01-01T00:00:00Z".into(),
        where_: "secret-host.log".into(),
    }])
    .unwrap();
    drop(s);

    let mut r = Store::open_existing(&path).unwrap();
    r.restrict(Tlp::Amber).unwrap();
    assert_eq!(active(&r), ["shared.example"]);
    assert!(r.hunt_indicators(true).unwrap().len() == 1);
    assert!(matches!(
        r.indicator_context(red_key),
        Err(KbError::NotFound(_))
    ));
    assert!(r.sightings_of(red_key).unwrap().is_empty());
    assert!(r.actor("Crimson").unwrap().is_none());
    let exp = r
        .export_indicators(&ExportQuery {
            tlp_max: Tlp::Red,
            ..ExportQuery::default()
        })
        .unwrap();
    assert_eq!(exp.len(), 1);
    let st = r.stats().unwrap();
    assert!(st.objects_by_kind.contains(&("indicator".into(), 1)));
    assert!(!st.sources.iter().any(|s| s.name == "red list"));
    assert!(
        r.snapshot(&["indicator"])
            .unwrap()
            .objects
            .iter()
            .all(|o| o.prov.tlp <= Tlp::Amber)
    );
    // A reader cannot write, and trying does not lift its views.
    let h = head("amber list", Some("Umber"), Tlp::Amber);
    assert!(
        r.ingest_list::<KbError, _>(&h, vec![Ok(value("x.example"))], None, None)
            .is_err()
    );
    assert_eq!(active(&r), ["shared.example"]);
}

#[test]
fn a_migrated_store_moves_its_list_to_compact_form_with_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.db"),
        &path,
    )
    .unwrap();
    let mut s = Store::open(&path).unwrap();
    let old: Vec<(String, String)> = s
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .filter(|h| h.key < LIST_KEY_BASE)
        .map(|h| {
            (
                h.observable.value.clone(),
                s.indicator_context(h.key).unwrap().stix_id,
            )
        })
        .filter(|(v, _)| v.contains("ember") || v == "198.51.100.23")
        .collect();
    // ember2.txt again, as the v1 fixture ingested it, now compact.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-inputs/ember2.txt"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(old.len(), lines.len(), "{old:?}");
    let r = ingest(
        &mut s,
        &head("ember feed", Some("Ember Bear"), Tlp::Green),
        &lines,
    );
    // The values, and the full statements withdrawn (each indicator and its link).
    assert_eq!(r.added, lines.len());
    assert!(r.withdrawn >= 2 * lines.len(), "{r:?}");
    let now: Vec<(String, String)> = s
        .hunt_indicators(false)
        .unwrap()
        .into_iter()
        .filter(|h| h.observable.value.contains("ember") || h.observable.value == "198.51.100.23")
        .map(|h| {
            assert!(h.key >= LIST_KEY_BASE, "the full statements are withdrawn");
            (
                h.observable.value.clone(),
                s.indicator_context(h.key).unwrap().stix_id,
            )
        })
        .collect();
    for o in &old {
        assert!(now.contains(o), "{o:?} not in {now:?}");
    }
    assert_eq!(
        s.actor("Ember Bear").unwrap().expect("actor").name,
        "Ember Bear"
    );
}

#[test]
fn another_source_is_never_touched() {
    let (_d, _p, mut s) = temp_store();
    let b = Bundle {
        source: "stix vendor".into(),
        format: "stix".into(),
        objects: vec![Object {
            id: "indicator--0b3c5a46-0b8a-4a45-9a43-3f1f6b2d8a01".into(),
            kind: "indicator".into(),
            observables: vec![Observable::new(IndicatorKind::Domain, "a.example")],
            prov: Provenance {
                source: "stix vendor".into(),
                ..Provenance::default()
            },
            ..Object::default()
        }],
        ..Bundle::default()
    };
    s.ingest(&b, None, None).unwrap();
    let h = head("feed", None, Tlp::Clear);
    ingest(&mut s, &h, &["a.example"]);
    ingest(&mut s, &h, &["b.example"]);
    // The vendor's a.example stays; the list's is withdrawn.
    let hunt = s.hunt_indicators(false).unwrap();
    let a: Vec<_> = hunt
        .iter()
        .filter(|h| h.observable.value == "a.example")
        .collect();
    assert_eq!(a.len(), 1);
    assert!(a[0].key < LIST_KEY_BASE);
}
