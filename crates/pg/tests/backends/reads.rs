//! Reads for sensors and actor pages on both backends: sensor exports and
//! an actor's indicator list.

use super::*;

/// What an export says of each value: (value, actors, families, roles,
/// source, TLP).
pub(crate) type Exported = BTreeSet<(String, Vec<String>, Vec<String>, Vec<String>, String, Tlp)>;

/// The list both reads test with: a domain and an address, for the actor.
fn list_two_for_the_actor(kb: &mut dyn KnowledgeBase) {
    kb.ingest_list(
        &list_head(true),
        &mut list_values(&["list.example", "10.9.9.9"]).into_iter(),
        None,
        None,
    )
    .unwrap();
}

pub(crate) fn exported(kb: &dyn KnowledgeBase, q: &cairn_kb::ExportQuery) -> Exported {
    kb.export_indicators(q)
        .unwrap()
        .into_iter()
        .map(|e| (e.value, e.actors, e.families, e.roles, e.source, e.tlp))
        .collect()
}

pub(crate) fn exports_follow_the_ceiling_and_the_actor(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    let red = indicator(
        "indicator--aaaaaaaa-0000-4000-8000-000000000031",
        IndicatorKind::Domain,
        "secret.example",
        "own notes",
        Tlp::Red,
    );
    kb.ingest(&bundle("own notes", vec![red], vec![]), None, None)
        .unwrap();
    list_two_for_the_actor(kb);
    let all = |tlp_max| cairn_kb::ExportQuery {
        tlp_max,
        ..Default::default()
    };
    let everything = kb.export_indicators(&all(Tlp::Red)).unwrap();
    let order: Vec<&str> = everything.iter().map(|e| e.value.as_str()).collect();
    // Kind, then value: domains, then addresses.
    assert_eq!(
        order,
        [
            "kb.dga.asia",
            "list.example",
            "secret.example",
            "10.9.9.9",
            "45.76.7.127"
        ]
    );
    let dga = &everything[0];
    assert_eq!(
        (&dga.actors[..], &dga.families[..], &dga.roles[..]),
        (
            &["RedHotel".to_string()][..],
            &["ShadowPad".to_string()][..],
            &["c2".to_string()][..]
        )
    );
    assert_eq!(dga.source, "vendor A");
    assert_eq!(dga.confidence, Some(80));
    // A list value carries the list's actor, marking and roles.
    assert_eq!(everything[1].actors, ["RedHotel"]);
    assert_eq!(everything[1].tlp, Tlp::Green);
    assert!(everything[1].key >= LIST_KEY_BASE);

    let amber = exported(kb, &all(Tlp::Amber));
    assert_eq!(amber.len(), 4);
    assert!(!amber.iter().any(|e| e.0 == "secret.example"));
    let clear = exported(kb, &all(Tlp::Clear));
    assert_eq!(clear.len(), 2, "the GREEN list stays home: {clear:?}");

    let only = cairn_kb::ExportQuery {
        tlp_max: Tlp::Red,
        indicates: Some(vec![ACTOR.into()]),
        since: None,
    };
    let of_actor: BTreeSet<String> = exported(kb, &only).into_iter().map(|e| e.0).collect();
    assert_eq!(
        of_actor,
        BTreeSet::from(
            ["kb.dga.asia", "45.76.7.127", "list.example", "10.9.9.9"].map(String::from)
        )
    );
    let later = cairn_kb::ExportQuery {
        since: Some("2999-01-01T00:00:00.000Z".into()),
        ..all(Tlp::Red)
    };
    assert!(kb.export_indicators(&later).unwrap().is_empty());
    let earlier = cairn_kb::ExportQuery {
        since: Some("2000-01-01T00:00:00.000Z".into()),
        ..all(Tlp::Red)
    };
    assert_eq!(kb.export_indicators(&earlier).unwrap().len(), 5);

    // A restricted connection cannot export above its ceiling, whatever
    // the query asks.
    kb.restrict(Tlp::Green).unwrap();
    let seen: BTreeSet<String> = exported(kb, &all(Tlp::Red))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(seen.len(), 4);
    assert!(!seen.contains("secret.example"));
}

pub(crate) fn an_actors_indicators_most_sighted_first(kb: &mut dyn KnowledgeBase) {
    kb.ingest(&report("vendor A"), None, None).unwrap();
    list_two_for_the_actor(kb);
    let members = [ACTOR.to_string()];
    let (rows, total) = kb.actor_indicators(&members, 10).unwrap();
    assert_eq!(total, 4);
    let shown: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.kind.as_str(), r.value.as_str()))
        .collect();
    // Nothing sighted yet: by kind, then value.
    assert_eq!(
        shown,
        [
            ("domain", "kb.dga.asia"),
            ("domain", "list.example"),
            ("ipv4", "10.9.9.9"),
            ("ipv4", "45.76.7.127")
        ]
    );
    assert_eq!(rows[1].source, "insikt list");
    assert_eq!(rows[1].tlp, "TLP:GREEN");
    assert_eq!(rows[0].roles, ["c2"]);
    assert_eq!(rows[0].confidence, Some(80));
    // A sighting of the list's address puts it first.
    let key = rows[2].key;
    let hit = SightingInput {
        key,
        count: 5,
        first_seen: "2023-06-01T00:00:00Z".into(),
        last_seen: "2023-06-02T00:00:00Z".into(),
        where_: "conn.log".into(),
    };
    kb.record_sightings(&[hit]).unwrap();
    let (rows, total) = kb.actor_indicators(&members, 1).unwrap();
    assert_eq!(total, 4, "the total does not depend on the limit");
    assert_eq!((rows[0].value.as_str(), rows[0].sightings), ("10.9.9.9", 5));
    assert_eq!(kb.actor_indicators(&[], 10).unwrap().1, 0);
    // Below the list's GREEN, only vendor A's two remain.
    kb.restrict(Tlp::Clear).unwrap();
    let (rows, total) = kb.actor_indicators(&members, 10).unwrap();
    assert_eq!(total, 2, "{rows:?}");
}
