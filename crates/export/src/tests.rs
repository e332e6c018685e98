use crate::{check_bundle, feed_object, navigator_layer, stix_bundle};
use cairn_kb::Store;
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation, Tlp};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ACTOR: &str = "intrusion-set--18854f55-ac7c-4634-bd9a-352dd07613b7";
const TECH: &str = "attack-pattern--2e34237d-8574-43f6-aace-ae2915de8597";
const SUB: &str = "attack-pattern--b8c5c9dd-a662-479d-9428-ae745872537c";
const MAL: &str = "malware--3a4197ae-ec63-4162-907b-9a073d1157e4";
const MITRE: &str = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";
const COPYRIGHT: &str = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
const LOC: &str = "location--5f2b7f7e-63a5-5a3c-9c71-0b8a1d6c0e11";
const IND: &str = "indicator--7d0f3ac2-50d2-5e0b-9f1e-6e4b2f0e2a01";
const TOOL: &str = "tool--6a1d3f0e-2b77-4c9b-8e10-2f4f9c2b7d55";

fn prov(source: &str, tlp: Tlp) -> Provenance {
    Provenance {
        source: source.into(),
        tlp,
        reference: Some("https://example.invalid/report".into()),
        ..Provenance::default()
    }
}

fn object(raw: Value, source: &str, tlp: Tlp) -> Object {
    let kind = raw["type"].as_str().unwrap_or_default().to_string();
    Object {
        id: raw["id"].as_str().unwrap_or_default().into(),
        name: raw["name"].as_str().map(str::to_string),
        external_id: raw
            .pointer("/external_references/0/external_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        tactics: raw["kill_chain_phases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["phase_name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        aliases: raw["aliases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        created: raw["created"].as_str().map(str::to_string),
        modified: raw["modified"].as_str().map(str::to_string),
        kind,
        raw: raw.to_string(),
        prov: prov(source, tlp),
        ..Object::default()
    }
}

fn relation(id: &str, t: &str, s: &str, g: &str, source: &str, tlp: Tlp, extra: Value) -> Relation {
    let mut raw = json!({"type": "relationship", "id": id, "relationship_type": t,
        "source_ref": s, "target_ref": g});
    if let (Some(r), Some(e)) = (raw.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    Relation {
        id: id.into(),
        rel_type: t.into(),
        source_ref: s.into(),
        target_ref: g.into(),
        raw: raw.to_string(),
        prov: prov(source, tlp),
        ..Relation::default()
    }
}

const ATTACK: &str = "MITRE ATT&CK (enterprise-attack)";
const GALAXY: &str = "MISP galaxy: Threat Actor";
const CSV: &str = "analyst.csv";

/// ATT&CK-style STIX 2.0, a MISP galaxy giving the same actor id, and a CSV
/// source with a RED indicator linked by a RED relationship.
fn bundles() -> Vec<Bundle> {
    let attack_meta = json!({"created_by_ref": MITRE, "object_marking_refs": [COPYRIGHT], "x_mitre_version": "1.0"});
    let with = |v: Value| {
        let mut v = v;
        if let (Some(o), Some(e)) = (v.as_object_mut(), attack_meta.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let attack = Bundle {
        source: ATTACK.into(),
        format: "stix".into(),
        objects: vec![
            object(
                json!({"type": "identity", "id": MITRE, "name": "The MITRE Corporation",
                "identity_class": "organization", "created": "2017-06-01T00:00:00.000Z",
                "modified": "2017-06-01T00:00:00.000Z", "object_marking_refs": [COPYRIGHT]}),
                ATTACK,
                Tlp::Clear,
            ),
            object(
                json!({"type": "marking-definition", "id": COPYRIGHT, "created": "2017-06-01T00:00:00.000Z",
                "created_by_ref": MITRE, "definition_type": "statement",
                "definition": {"statement": "Copyright MITRE"}}),
                ATTACK,
                Tlp::Clear,
            ),
            object(
                with(
                    json!({"type": "intrusion-set", "id": ACTOR, "name": "Earth Lusca",
                "aliases": ["Earth Lusca", "TAG-22"], "created": "2022-07-01T00:00:00.000Z",
                "modified": "2024-04-10T00:00:00.000Z",
                "external_references": [{"source_name": "mitre-attack", "external_id": "G1006"}]}),
                ),
                ATTACK,
                Tlp::Clear,
            ),
            object(
                with(
                    json!({"type": "attack-pattern", "id": TECH, "name": "Exploit Public-Facing Application",
                "created": "2018-04-18T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
                "external_references": [{"source_name": "mitre-attack", "external_id": "T1190"}]}),
                ),
                ATTACK,
                Tlp::Clear,
            ),
            object(
                with(
                    json!({"type": "attack-pattern", "id": SUB, "name": "DLL Side-Loading",
                "created": "2020-03-13T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "persistence"},
                                      {"kill_chain_name": "mitre-attack", "phase_name": "defense-evasion"}],
                "external_references": [{"source_name": "mitre-attack", "external_id": "T1574.002"}]}),
                ),
                ATTACK,
                Tlp::Clear,
            ),
            object(
                with(
                    json!({"type": "malware", "id": MAL, "name": "ShadowPad", "labels": ["malware"],
                "created": "2020-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "external_references": [{"source_name": "mitre-attack", "external_id": "S0596"}]}),
                ),
                ATTACK,
                Tlp::Clear,
            ),
        ],
        relations: vec![
            relation(
                "relationship--0a3e1b44-1f0e-4f1f-9d0e-6a1f0b1c2d01",
                "uses",
                ACTOR,
                TECH,
                ATTACK,
                Tlp::Clear,
                with(
                    json!({"created": "2022-07-01T00:00:00.000Z", "modified": "2022-07-01T00:00:00.000Z"}),
                ),
            ),
            relation(
                "relationship--0a3e1b44-1f0e-4f1f-9d0e-6a1f0b1c2d02",
                "uses",
                ACTOR,
                SUB,
                ATTACK,
                Tlp::Clear,
                with(
                    json!({"created": "2022-07-01T00:00:00.000Z", "modified": "2022-07-01T00:00:00.000Z"}),
                ),
            ),
            relation(
                "relationship--0a3e1b44-1f0e-4f1f-9d0e-6a1f0b1c2d03",
                "uses",
                ACTOR,
                MAL,
                ATTACK,
                Tlp::Clear,
                with(
                    json!({"created": "2022-07-01T00:00:00.000Z", "modified": "2022-07-01T00:00:00.000Z"}),
                ),
            ),
        ],
        ..Bundle::default()
    };
    // MISP's galaxy reuses ATT&CK's UUID for the same group; its JSON is not STIX.
    let mut galaxy_actor = object(
        json!({"type": "intrusion-set", "id": ACTOR, "name": "Earth Lusca",
            "aliases": ["TAG-22", "Charcoal Typhoon"], "description": null,
            "x_misp_galaxy": "threat-actor", "x_misp_meta": {"country": "CN"}}),
        GALAXY,
        Tlp::Clear,
    );
    galaxy_actor.prov.reference = Some("misp-galaxy:threat-actor=\"Earth Lusca\"".into());
    let mut loc = object(
        json!({"type": "location", "id": LOC, "name": "TW"}),
        GALAXY,
        Tlp::Clear,
    );
    loc.country = Some("TW".into());
    let galaxy = Bundle {
        source: GALAXY.into(),
        format: "misp-galaxy".into(),
        objects: vec![galaxy_actor, loc],
        relations: vec![relation(
            "relationship--5b1c0d2e-3f4a-5b6c-8d7e-9f0a1b2c3d01",
            "targets",
            ACTOR,
            LOC,
            GALAXY,
            Tlp::Clear,
            json!({}),
        )],
        ..Bundle::default()
    };
    let mut ind = object(
        json!({"type": "indicator", "id": IND, "name": "secret.example", "description": null,
            "indicator_types": [], "pattern": "[domain-name:value = 'secret.example']", "pattern_type": "stix"}),
        CSV,
        Tlp::Red,
    );
    ind.observables = vec![Observable::new(IndicatorKind::Domain, "secret.example")];
    ind.prov.first_seen = Some("2023-05-01".into());
    let csv = Bundle {
        source: CSV.into(),
        format: "csv".into(),
        objects: vec![
            ind,
            object(
                json!({"type": "tool", "id": TOOL, "name": "Secret Wrench"}),
                CSV,
                Tlp::Red,
            ),
            object(
                json!({"type": "intrusion-set", "id": "intrusion-set--9d6f0e1c-2b3a-5c4d-8e7f-0a1b2c3d4e5f", "name": "Earth Lusca"}),
                CSV,
                Tlp::Clear,
            ),
        ],
        relations: vec![
            relation(
                "relationship--6c2d1e3f-4a5b-5c6d-9e8f-0a1b2c3d4e02",
                "indicates",
                IND,
                "intrusion-set--9d6f0e1c-2b3a-5c4d-8e7f-0a1b2c3d4e5f",
                CSV,
                Tlp::Red,
                json!({}),
            ),
            // A RED claim that the actor uses a technique: the layer must not show it.
            relation(
                "relationship--6c2d1e3f-4a5b-5c6d-9e8f-0a1b2c3d4e03",
                "uses",
                "intrusion-set--9d6f0e1c-2b3a-5c4d-8e7f-0a1b2c3d4e5f",
                TECH,
                CSV,
                Tlp::Red,
                json!({}),
            ),
        ],
        ..Bundle::default()
    };
    vec![attack, galaxy, csv]
}

fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    for b in bundles() {
        s.ingest(&b, None, None).unwrap();
    }
    s
}

fn objects(b: &Value) -> &Vec<Value> {
    b["objects"].as_array().unwrap()
}

fn by_id<'a>(b: &'a Value, id: &str) -> Vec<&'a Value> {
    objects(b).iter().filter(|o| o["id"] == id).collect()
}

#[test]
fn sources_stay_apart_and_the_bundle_is_valid_stix_2_1() {
    let s = store();
    let sub = s.actor_subgraph("Charcoal Typhoon").unwrap().unwrap();
    let b = stix_bundle(&sub);
    check_bundle(&b).unwrap_or_else(|e| panic!("{e}\n{b:#}"));
    assert!(b.get("spec_version").is_none());

    // ATT&CK's actor keeps its id; the galaxy's copy of the same id gets its own.
    let actors: Vec<&Value> = objects(&b)
        .iter()
        .filter(|o| o["type"] == "intrusion-set")
        .collect();
    assert_eq!(actors.len(), 3, "{actors:#?}");
    let attack = by_id(&b, ACTOR);
    assert_eq!(attack.len(), 1);
    assert_eq!(attack[0]["x_cairn_source"], ATTACK);
    assert_eq!(attack[0]["created_by_ref"], MITRE);
    assert_eq!(attack[0]["object_marking_refs"], json!([COPYRIGHT]));
    let galaxy = actors
        .iter()
        .find(|o| o["x_cairn_source"] == GALAXY)
        .unwrap();
    assert_eq!(galaxy["x_cairn_original_id"], ACTOR);
    assert_ne!(galaxy["id"], ACTOR);
    assert!(galaxy.get("description").is_none(), "nulls are dropped");
    // …and the galaxy's own relationship follows its copy.
    let targets = objects(&b)
        .iter()
        .find(|o| o["relationship_type"] == "targets")
        .unwrap();
    assert_eq!(targets["source_ref"], galaxy["id"]);
    assert_eq!(targets["target_ref"], LOC);

    // Provenance for the source that named no author: an identity and TLP 2.0.
    let ident = galaxy["created_by_ref"].as_str().unwrap();
    let ident_obj = by_id(&b, ident);
    assert_eq!(ident_obj.len(), 1);
    assert_eq!(ident_obj[0]["name"], GALAXY);
    let clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
    assert_eq!(galaxy["object_marking_refs"], json!([clear]));
    assert_eq!(by_id(&b, clear)[0]["name"], "TLP:CLEAR");
    assert_eq!(
        galaxy["external_references"][0]["description"],
        "misp-galaxy:threat-actor=\"Earth Lusca\""
    );

    // STIX 2.0 brought to 2.1: ATT&CK's own identity and marking come along.
    let mal = &by_id(&b, MAL)[0];
    assert_eq!(mal["spec_version"], "2.1");
    assert_eq!(mal["is_family"], true);
    assert_eq!(by_id(&b, MITRE).len(), 1);
    let copyright = &by_id(&b, COPYRIGHT)[0];
    assert_eq!(copyright["spec_version"], "2.1");
    assert!(copyright.get("modified").is_none());

    // The RED indicator is there for an unrestricted caller, completed.
    let ind = &by_id(&b, IND)[0];
    assert_eq!(ind["valid_from"], "2023-05-01T00:00:00.000Z");
    assert!(ind.get("indicator_types").is_none());
    let red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    assert_eq!(ind["object_marking_refs"], json!([red]));
    assert_eq!(by_id(&b, red).len(), 1);

    // Same store, same bundle.
    assert_eq!(stix_bundle(&sub)["id"], b["id"]);
}

#[test]
fn red_statements_are_absent_from_both_exports_of_a_restricted_store() {
    let mut s = store();
    let sub = s.actor_subgraph("Earth Lusca").unwrap().unwrap();
    let open = stix_bundle(&sub);
    let text = open.to_string();
    assert!(text.contains(IND) && text.contains("secret.example"));
    assert!(text.contains("relationship--6c2d1e3f-4a5b-5c6d-9e8f-0a1b2c3d4e02"));
    let layer = navigator_layer(&sub.profile);
    let t1190 = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["techniqueID"] == "T1190")
        .unwrap();
    assert_eq!(t1190["score"], 2, "ATT&CK and the RED CSV claim");

    s.restrict(Tlp::Amber).unwrap();
    let sub = s.actor_subgraph("Earth Lusca").unwrap().unwrap();
    let narrow = stix_bundle(&sub);
    check_bundle(&narrow).unwrap();
    let text = narrow.to_string();
    for hidden in [
        IND,
        "secret.example",
        "Secret Wrench",
        "relationship--6c2d1e3f-4a5b-5c6d-9e8f-0a1b2c3d4e02",
        "relationship--6c2d1e3f-4a5b-5c6d-9e8f-0a1b2c3d4e03",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "TLP:RED",
    ] {
        assert!(
            !text.contains(hidden),
            "{hidden} leaked into the STIX export"
        );
    }
    // The CSV source's actor is CLEAR and stays; its RED claim does not.
    let layer = navigator_layer(&sub.profile);
    let t1190 = layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["techniqueID"] == "T1190")
        .unwrap();
    assert_eq!(t1190["score"], 1);
    assert!(
        !t1190.to_string().contains(CSV),
        "the RED claim leaked into the layer"
    );
}

#[test]
fn layer_scores_by_sources_and_splits_multi_tactic_techniques() {
    let s = store();
    let p = s.actor("G1006").unwrap().unwrap();
    let layer = navigator_layer(&p);
    assert_eq!(layer["name"], "Earth Lusca (Cairn)");
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(layer["versions"]["layer"], "4.5");
    let d = layer["description"].as_str().unwrap();
    assert!(
        d.contains("TAG-22") && d.contains("Charcoal Typhoon"),
        "{d}"
    );
    let techs = layer["techniques"].as_array().unwrap();
    let side: Vec<&Value> = techs
        .iter()
        .filter(|t| t["techniqueID"] == "T1574.002")
        .collect();
    let tactics: BTreeSet<&str> = side.iter().filter_map(|t| t["tactic"].as_str()).collect();
    assert_eq!(tactics, BTreeSet::from(["defense-evasion", "persistence"]));
    let t1190 = techs.iter().find(|t| t["techniqueID"] == "T1190").unwrap();
    assert_eq!(t1190["tactic"], "initial-access");
    assert_eq!(t1190["score"], 2);
    assert!(t1190["comment"].as_str().unwrap().contains(ATTACK));
    assert_eq!(t1190["metadata"].as_array().unwrap().len(), 2);
    assert_eq!(layer["gradient"]["maxValue"], 2);
    assert_eq!(layer["legendItems"].as_array().unwrap().len(), 2);
}

#[test]
fn layer_round_trips_through_attribution_evidence() {
    let s = store();
    let p = s.actor("Earth Lusca").unwrap().unwrap();
    let layer = navigator_layer(&p);
    let ev = cairn_attribute::Evidence::from_navigator_layer(&layer.to_string()).unwrap();
    let got: BTreeSet<String> = ev.techniques.into_iter().collect();
    let want: BTreeSet<String> = p.techniques.iter().map(|t| t.id.clone()).collect();
    assert_eq!(got, want);
    assert!(want.contains("T1574.002") && want.contains("T1190"));
}

#[test]
fn bundles_and_the_taxii_feed_emit_the_same_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.db");
    {
        let mut s = Store::open(&path).unwrap();
        // The same three sources, on disk this time, plus a galaxy actor
        // whose UUID is a v7 one.
        for b in bundles().into_iter().chain(seed()) {
            s.ingest(&b, None, None).unwrap();
        }
    }
    let s = Store::open(&path).unwrap();
    let sub = s.actor_subgraph("Earth Lusca").unwrap().unwrap();
    let bundle = stix_bundle(&sub);
    check_bundle(&bundle).unwrap_or_else(|e| panic!("{e}"));
    let coll = s.feed_collections().unwrap()[0].id.clone();
    let fed = |versions| -> Vec<Value> {
        let q = cairn_kb::FeedQuery {
            limit: 1000,
            versions,
            ..cairn_kb::FeedQuery::default()
        };
        let page = s.feed_objects(&coll, &q).unwrap().unwrap();
        assert!(!page.more);
        page.objects.iter().filter_map(feed_object).collect()
    };
    // One version per id: the collection reads as a valid bundle.
    let wrapped = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-00000000000f",
        "objects": fed(Vec::new())});
    check_bundle(&wrapped).unwrap_or_else(|e| panic!("{e}"));
    let fed = fed(vec![cairn_kb::VersionMatch::All]);
    // ATT&CK names its own author: its objects are the same both ways.
    for id in [ACTOR, TECH, MAL] {
        let b = by_id(&bundle, id);
        let f: Vec<&Value> = fed
            .iter()
            .filter(|o| o["id"] == id && o["x_cairn_source"] == ATTACK)
            .collect();
        assert_eq!(b.len(), 1);
        assert_eq!(f.len(), 1);
        assert_eq!(b[0], f[0], "{id}");
    }
    // The v7 actor is published under one v5 id in both, references following.
    let v7 = fed.iter().find(|o| o["x_cairn_original_id"] == V7).unwrap();
    let published = v7["id"].as_str().unwrap();
    assert!(cairn_model::has_v4_or_v5_uuid(published));
    assert!(
        fed.iter()
            .any(|o| o["type"] == "relationship" && o["source_ref"] == published)
    );
    let in_bundle = objects(&bundle)
        .iter()
        .find(|o| o["x_cairn_original_id"] == V7)
        .expect("the v7 actor is Earth Lusca's synonym in the bundle too");
    assert_eq!(in_bundle["id"], published);
}

const V7: &str = "intrusion-set--019514dc-c894-751f-8b49-5dcd3c8b6f3a";

/// A MISP galaxy actor with a UUIDv7, linked by name to Earth Lusca.
fn seed() -> Vec<Bundle> {
    let mut seven = object(
        json!({"type": "intrusion-set", "id": V7, "name": "Red Seven",
            "aliases": ["Earth Lusca"]}),
        "v7 galaxy",
        Tlp::Clear,
    );
    seven.aliases = vec!["Earth Lusca".into()];
    let loc = {
        let mut l = object(
            json!({"type": "location", "id": LOC, "name": "TW"}),
            "v7 galaxy",
            Tlp::Clear,
        );
        l.country = Some("TW".into());
        l
    };
    vec![Bundle {
        source: "v7 galaxy".into(),
        format: "misp-galaxy".into(),
        objects: vec![seven, loc],
        relations: vec![relation(
            "relationship--7b1c0d2e-3f4a-5b6c-8d7e-9f0a1b2c3d07",
            "targets",
            V7,
            LOC,
            "v7 galaxy",
            Tlp::Clear,
            json!({}),
        )],
        ..Bundle::default()
    }]
}

/// A list stored in compact form exports the statements the full form did:
/// the same ids, patterns, names and links, in a bundle that passes the checker.
#[test]
fn a_compact_list_exports_what_its_full_statements_did() {
    let text = "# feed\nkb.dga[.]asia\n45.77.153[.]197\nhxxps://evil.example/x\n";
    let opts = cairn_intake::Options {
        actor: Some("RedHotel".into()),
        source: Some("list feed".into()),
        tlp: Some(Tlp::Green),
        format: cairn_intake::Format::List,
        ..cairn_intake::Options::default()
    };
    let path = std::path::Path::new("iocs.txt");
    let mut full = Store::open_in_memory().unwrap();
    full.ingest(
        &cairn_intake::parse_bytes(path, text.as_bytes(), &opts).unwrap(),
        None,
        None,
    )
    .unwrap();
    let mut compact = Store::open_in_memory().unwrap();
    let info = cairn_intake::list_info(path, &opts);
    let head = cairn_kb::ListHead {
        prov: Provenance {
            source: info.source.clone(),
            tlp: Tlp::Green,
            ..Provenance::default()
        },
        source: info.source,
        format: "list".into(),
        actor: info.actor,
        labels: Vec::new(),
    };
    let values = cairn_intake::list_lines(path, text.as_bytes()).map(|l| {
        let l = l.map_err(|e| cairn_kb::errors::KbError::Invalid(e.to_string()))?;
        Ok(cairn_kb::ListValue {
            kind: l.observable.kind,
            written: (l.written != l.observable.value).then_some(l.written),
            value: l.observable.value,
        })
    });
    compact
        .ingest_list::<cairn_kb::errors::KbError, _>(&head, values, None, None)
        .unwrap();
    let a = stix_bundle(&full.actor_subgraph("RedHotel").unwrap().unwrap());
    let b = stix_bundle(&compact.actor_subgraph("RedHotel").unwrap().unwrap());
    check_bundle(&b).unwrap_or_else(|e| panic!("{e}\n{b:#}"));
    // Stamps differ between the two stores; everything else is the same.
    let strip = |b: &Value| -> Vec<Value> {
        let mut v: Vec<Value> = objects(b)
            .iter()
            .map(|o| {
                let mut o = o.clone();
                for k in [
                    "created",
                    "modified",
                    "valid_from",
                    "x_cairn_added",
                    "x_cairn_updated",
                ] {
                    if let Some(m) = o.as_object_mut() {
                        m.remove(k);
                    }
                }
                o
            })
            .collect();
        v.sort_by_key(|o| o["id"].as_str().unwrap_or_default().to_string());
        v
    };
    let (sa, sb) = (strip(&a), strip(&b));
    assert_eq!(sa.len(), 3 + 3 + 1 + 2, "{a:#}");
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(x, y);
    }
    assert_eq!(sa.len(), sb.len());
}
