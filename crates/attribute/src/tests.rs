//! Ranking and explanation tests on a small hand-built corpus.

use crate::{Confidence, Corpus, Direction, EvalOptions, Evidence, InfrastructureHit, Ranking};
use cairn_model::{Bundle, IndicatorKind, Object, Observable, Provenance, Relation};

fn obj(id: &str, kind: &str, name: &str, ext: Option<&str>) -> Object {
    Object {
        id: id.into(),
        kind: kind.into(),
        name: Some(name.into()),
        external_id: ext.map(Into::into),
        prov: Provenance {
            source: "MITRE ATT&CK".into(),
            ..Provenance::default()
        },
        ..Object::default()
    }
}

fn rel(kind: &str, s: &str, t: &str, cite: &str) -> Relation {
    Relation {
        id: format!("relationship--{kind}-{s}-{t}"),
        rel_type: kind.into(),
        source_ref: s.into(),
        target_ref: t.into(),
        description: Some(format!("used it.(Citation: {cite})")),
        ..Relation::default()
    }
}

/// Three groups share a common technique; Alpha alone uses ShadowPad;
/// Gamma only knows the parent T1059; a MISP actor attaches to Alpha.
fn fixture() -> Bundle {
    let mut objects = vec![
        obj("intrusion-set--a", "intrusion-set", "Alpha", Some("G0001")),
        obj("intrusion-set--b", "intrusion-set", "Beta", Some("G0002")),
        obj("intrusion-set--c", "intrusion-set", "Gamma", Some("G0003")),
        obj(
            "attack-pattern--phish",
            "attack-pattern",
            "Phishing",
            Some("T1566"),
        ),
        obj(
            "attack-pattern--csi",
            "attack-pattern",
            "Command and Scripting Interpreter",
            Some("T1059"),
        ),
        obj(
            "attack-pattern--ps",
            "attack-pattern",
            "PowerShell",
            Some("T1059.001"),
        ),
        obj(
            "attack-pattern--exploit",
            "attack-pattern",
            "Exploit Public-Facing Application",
            Some("T1190"),
        ),
        obj("malware--sp", "malware", "ShadowPad", Some("S0596")),
        obj("tool--cs", "tool", "Cobalt Strike", Some("S0154")),
        obj("campaign--x", "campaign", "Operation X", Some("C0001")),
        obj("location--tw", "location", "Taiwan", None),
        obj("indicator--1", "indicator", "c2", None),
    ];
    let mut old = obj(
        "attack-pattern--old",
        "attack-pattern",
        "PowerShell",
        Some("T1086"),
    );
    old.revoked = true;
    objects.push(old);
    let mut dep = obj(
        "attack-pattern--dep",
        "attack-pattern",
        "Old Thing",
        Some("T1002"),
    );
    dep.deprecated = true;
    objects.push(dep);
    objects[0].aliases = vec!["Alpha".into(), "APT-A".into()];
    objects[7].aliases = vec!["ShadowPad".into(), "POISONPLUG".into()];
    objects[9].prov.first_seen = Some("2014-01-01".into());
    objects[9].prov.last_seen = Some("2015-06-01".into());
    objects[10].country = Some("TW".into());
    objects[11].observables = vec![Observable::new(IndicatorKind::Domain, "kb.dga.asia")];
    let mut misp = obj("intrusion-set--misp", "intrusion-set", "APT-A", None);
    misp.aliases = vec!["Panda A".into()];
    misp.prov.source = "MISP threat-actor galaxy".into();
    objects.push(misp);

    let relations = vec![
        rel("uses", "intrusion-set--a", "attack-pattern--phish", "R1"),
        rel("uses", "intrusion-set--b", "attack-pattern--phish", "R2"),
        rel("uses", "intrusion-set--c", "attack-pattern--phish", "R3"),
        rel("uses", "intrusion-set--a", "malware--sp", "R1"),
        rel("uses", "intrusion-set--a", "tool--cs", "R1"),
        rel("uses", "intrusion-set--b", "tool--cs", "R2"),
        rel("uses", "intrusion-set--b", "attack-pattern--ps", "R2"),
        rel("uses", "intrusion-set--c", "attack-pattern--csi", "R3"),
        rel("uses", "intrusion-set--c", "attack-pattern--exploit", "R3"),
        rel("uses", "tool--cs", "attack-pattern--ps", "S"),
        rel(
            "subtechnique-of",
            "attack-pattern--ps",
            "attack-pattern--csi",
            "S",
        ),
        rel(
            "revoked-by",
            "attack-pattern--old",
            "attack-pattern--ps",
            "S",
        ),
        // Campaign X, attributed to Gamma, is the only source of T1190 for it
        // besides Gamma's own R3 statement.
        rel("uses", "campaign--x", "attack-pattern--exploit", "R3"),
        rel("uses", "campaign--x", "attack-pattern--phish", "RX"),
        rel("attributed-to", "campaign--x", "intrusion-set--c", "RX"),
        rel("targets", "intrusion-set--misp", "location--tw", "M"),
        rel("indicates", "indicator--1", "intrusion-set--b", "I"),
    ];
    Bundle {
        format: "stix".into(),
        source: "fixture".into(),
        objects,
        relations,
        ..Bundle::default()
    }
}

fn ev(techniques: &[&str], software: &[&str]) -> Evidence {
    Evidence {
        techniques: techniques.iter().map(|s| s.to_string()).collect(),
        software: software.iter().map(|s| s.to_string()).collect(),
        ..Evidence::default()
    }
}

fn weight(r: &Ranking, actor: &str, kind: &str, value_prefix: &str) -> Option<f64> {
    r.candidates
        .iter()
        .find(|c| c.actor == actor)?
        .evidence
        .iter()
        .find(|e| e.kind == kind && e.value.starts_with(value_prefix))
        .map(|e| e.weight)
}

#[test]
fn rare_software_outweighs_common_technique() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&ev(&["T1566"], &["ShadowPad"]), 0);
    assert_eq!(r.candidates[0].actor, "Alpha");
    let sp = weight(&r, "Alpha", "software", "ShadowPad").unwrap_or_default();
    let phish = weight(&r, "Alpha", "technique", "T1566").unwrap_or_default();
    assert!(sp > 2.0 * phish, "ShadowPad {sp} vs Phishing {phish}");
    // What separates #1 from #2 is ShadowPad.
    let d = &r.candidates[0].distinguishing;
    assert!(d.iter().any(|x| x.value.starts_with("ShadowPad")), "{d:?}");
}

#[test]
fn scores_are_the_sum_of_their_contributions() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&ev(&["T1566", "T1059.001", "T1190"], &["Cobalt Strike"]), 0);
    assert!(!r.candidates.is_empty());
    for cand in &r.candidates {
        let sum: f64 = cand.evidence.iter().map(|e| e.weight).sum();
        assert!(
            (sum - cand.score).abs() < 0.01,
            "{}: {sum} vs {}",
            cand.actor,
            cand.score
        );
        for e in &cand.evidence {
            assert_eq!(e.weight < 0.0, e.for_or_against == Direction::Against);
            assert!(!e.detail.is_empty());
        }
    }
}

#[test]
fn revoked_technique_maps_to_its_replacement() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&ev(&["t1086"], &[]), 0);
    assert!(r.unrecognised.is_empty(), "{:?}", r.unrecognised);
    let rec = &r.recognised[0];
    assert!(rec.resolved_as.starts_with("T1059.001"));
    assert!(rec.note.as_deref().is_some_and(|n| n.contains("revoked")));
    assert_eq!(r.candidates[0].actor, "Beta");
}

#[test]
fn deprecated_without_replacement_is_unrecognised() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&ev(&["T1002", "T9999", "not a technique"], &[]), 0);
    assert_eq!(r.unrecognised.len(), 3);
    assert!(r.unrecognised[0].reason.contains("deprecated"));
    assert!(r.candidates.is_empty());
}

#[test]
fn software_matches_through_aliases_in_any_case() {
    let c = Corpus::from_bundle(&fixture());
    for name in ["poisonplug", "SHADOWPAD", "Shadow Pad", "S0596"] {
        let r = c.attribute(&ev(&[], &[name]), 0);
        assert_eq!(r.candidates[0].actor, "Alpha", "{name}");
        assert!(r.unrecognised.is_empty());
    }
}

#[test]
fn sub_technique_counts_weakly_for_its_parent() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&ev(&["T1059.001"], &[]), 0);
    // Beta uses T1059.001 itself; Gamma only the parent T1059.
    assert_eq!(r.candidates[0].actor, "Beta");
    let parent = weight(&r, "Gamma", "parent-technique", "T1059").unwrap_or_default();
    let direct = weight(&r, "Beta", "technique", "T1059.001").unwrap_or_default();
    assert!(
        parent > 0.0 && parent < direct,
        "parent {parent} direct {direct}"
    );
}

#[test]
fn software_techniques_count_for_groups_using_the_software() {
    let c = Corpus::from_bundle(&fixture());
    // Alpha does not use PowerShell itself, but its Cobalt Strike does.
    let r = c.attribute(&ev(&["T1059.001"], &[]), 0);
    let alpha = r.candidates.iter().find(|x| x.actor == "Alpha");
    assert!(alpha.is_some_and(|a| {
        a.evidence
            .iter()
            .any(|e| e.detail.contains("Cobalt Strike"))
    }));
}

#[test]
fn unknown_evidence_is_listed_back_not_an_error() {
    let c = Corpus::from_bundle(&fixture());
    let e = Evidence {
        techniques: vec!["T1566".into()],
        software: vec!["NoSuchRAT".into()],
        countries: vec!["Atlantis".into(), "Taiwan".into()],
        sectors: vec!["basket weaving".into()],
        when: Some("someday".into()),
        indicators: vec!["unknown[.]example".into()],
        ..Evidence::default()
    };
    let r = c.attribute(&e, 0);
    let kinds: Vec<&str> = r.unrecognised.iter().map(|u| u.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["software", "indicator", "country", "sector", "when"],
        "{:?}",
        r.unrecognised
    );
    assert!(!r.candidates.is_empty());
}

#[test]
fn other_source_actor_attaches_and_brings_victimology() {
    let c = Corpus::from_bundle(&fixture());
    assert_eq!(
        c.group_count(),
        3,
        "the MISP actor is not a separate candidate"
    );
    let mut e = ev(&["T1566"], &[]);
    e.countries = vec!["tw".into()];
    let r = c.attribute(&e, 0);
    assert_eq!(r.candidates[0].actor, "Alpha");
    assert!(r.candidates[0].aliases.iter().any(|a| a == "Panda A"));
    assert!(r.candidates[0].attached.iter().any(|a| a.contains("MISP")));
    assert!(weight(&r, "Alpha", "country", "TW").is_some_and(|w| w > 0.0));
}

#[test]
fn stale_actors_lose_weight_for_recent_incidents() {
    let c = Corpus::from_bundle(&fixture());
    let mut e = ev(&["T1190"], &[]);
    let before = c.attribute(&e, 0).candidates[0].score;
    e.when = Some("2023-06".into());
    let r = c.attribute(&e, 0);
    let gamma = &r.candidates[0];
    assert_eq!(gamma.actor, "Gamma");
    assert!(gamma.score < before);
    assert!(
        gamma
            .evidence
            .iter()
            .any(|x| x.kind == "time" && x.for_or_against == Direction::Against)
    );
}

#[test]
fn indicators_and_alerts_link_infrastructure() {
    let c = Corpus::from_bundle(&fixture());
    let e = Evidence {
        indicators: vec!["KB.DGA[.]ASIA".into()],
        ..Evidence::default()
    };
    let r = c.attribute(&e, 0);
    assert_eq!(r.candidates[0].actor, "Beta");
    let e = Evidence {
        infrastructure: vec![InfrastructureHit {
            value: "203.0.113.9".into(),
            actors: vec!["apt-a".into()],
        }],
        ..Evidence::default()
    };
    let r = c.attribute(&e, 0);
    assert_eq!(r.candidates[0].actor, "Alpha");
    assert_eq!(r.candidates[0].evidence[0].kind, "infrastructure");
}

#[test]
fn no_evidence_means_no_candidates() {
    let c = Corpus::from_bundle(&fixture());
    let r = c.attribute(&Evidence::default(), 0);
    assert!(r.candidates.is_empty());
}

#[test]
fn confidence_bands_follow_the_lead() {
    assert_eq!(Confidence::from_lead(0.9, 50.0), Confidence::High);
    assert_eq!(Confidence::from_lead(0.01, 50.0), Confidence::Low);
    assert_eq!(Confidence::from_lead(0.9, 0.1), Confidence::Low);
}

#[test]
fn campaign_evaluation_removes_the_campaigns_own_evidence() {
    let c = Corpus::from_bundle(&fixture());
    let report = c.evaluate(&EvalOptions {
        rounds: 1,
        min_techniques: 1,
        ..EvalOptions::default()
    });
    assert_eq!(report.campaigns.len(), 1);
    let case = &report.campaigns[0];
    assert_eq!(case.group, "Gamma");
    // T1190 came to Gamma only through R3, which the campaign also cites, so
    // it is held out; Phishing is shared by all: Gamma cannot be first.
    assert!(case.cairn_rank > 1, "{case:?}");
    assert_eq!(report.protocols.len(), 3);
}

#[test]
fn attack_id_attaches_before_ambiguous_aliases_and_names_resolve_alerts() {
    let mut b = fixture();
    let mut galaxy = obj(
        "intrusion-set--galaxy",
        "intrusion-set",
        "Beta Team - G0002",
        Some("G0002"),
    );
    // "Alpha" as an alias would point elsewhere: the ATT&CK id wins.
    galaxy.aliases = vec!["Alpha".into(), "Beta Team".into()];
    galaxy.prov.source = "MISP mitre-intrusion-set galaxy".into();
    b.objects.push(galaxy);
    b.relations
        .push(rel("targets", "intrusion-set--galaxy", "location--tw", "M"));
    let c = Corpus::from_bundle(&b);
    assert_eq!(c.group_count(), 3);
    let e = Evidence {
        infrastructure: vec![InfrastructureHit {
            value: "198.51.100.1".into(),
            actors: vec!["Beta Team - G0002".into()],
        }],
        countries: vec!["TW".into()],
        ..Evidence::default()
    };
    let r = c.attribute(&e, 0);
    assert_eq!(r.candidates[0].actor, "Beta");
    assert!(
        r.candidates[0]
            .attached
            .iter()
            .any(|a| a.contains("galaxy"))
    );
}

#[test]
fn sectors_match_by_prefix_and_weigh_as_a_prior() {
    let mut b = fixture();
    let mut id = obj("identity--gov", "identity", "Government Institutions", None);
    id.sectors = vec!["Government Institutions".into()];
    b.objects.push(id);
    b.relations
        .push(rel("targets", "intrusion-set--misp", "identity--gov", "M"));
    let c = Corpus::from_bundle(&b);
    let mut e = ev(&["T1566"], &[]);
    e.sectors = vec!["government".into()];
    let r = c.attribute(&e, 0);
    assert!(r.unrecognised.is_empty(), "{:?}", r.unrecognised);
    assert_eq!(r.candidates[0].actor, "Alpha");
    assert!(weight(&r, "Alpha", "sector", "government").is_some_and(|w| w > 0.0));
}
