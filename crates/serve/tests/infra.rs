//! The infrastructure surfaces of the server: `/api/v1/infra/{actor}`,
//! `/api/v1/infra/{actor}/score`, `/api/v1/pivot`, the actor page's
//! Infrastructure section and the pivot page — shapes, status codes, bounds,
//! the model cache, and TLP: a reader never sees, through a pivot or an
//! actor's infrastructure, an indicator or an observation above TLP:AMBER.

mod common;

use cairn_kb::{ObsHead, Store};
use cairn_model::observe::{NodeKind, ObsRelation, Observations};
use cairn_model::{Provenance, Tlp};
use common::{Fixture, get, post};
use serde_json::{Value, json};

/// 2023-06-05, in ms.
const JUNE: i64 = 1_686_000_000_000;

fn observe(store: &mut Store, source: &str, tlp: Tlp, pairs: &[(&str, &str)]) {
    let mut o = Observations::new();
    for (d, a) in pairs {
        o.add(
            (NodeKind::Domain, d),
            ObsRelation::ResolvesTo,
            (NodeKind::Address, a),
            JUNE,
            JUNE + 60_000,
            2,
        );
    }
    let head = ObsHead {
        source: source.into(),
        format: "cof".into(),
        prov: Provenance {
            tlp,
            ..Provenance::default()
        },
    };
    store
        .ingest_observations(&head, &o, None, None)
        .expect("observations ingest");
}

/// The common fixture (Open Panda: evil-c2.top GREEN, 91.195.240.94 RED,
/// strict-only.top AMBER+STRICT) plus passive DNS: a GREEN sensor that
/// sees evil-c2.top on its own address, on the RED indicator's address and
/// on shared hosting with 60 other names, and a RED sensor that sees it on
/// one more address.
fn infra_fixture() -> Fixture {
    let f = common::fixture_with(|c| c.anonymous_read = true);
    let mut s = Store::open(&f._dir.path().join("cairn.db")).expect("store");
    let mut green = vec![
        ("evil-c2.top", "198.51.100.7"),
        ("evil-c2.top", "91.195.240.94"),
        ("sister-c2.top", "198.51.100.7"),
        ("evil-c2.top", "203.0.113.9"),
    ];
    let tenants: Vec<String> = (0..60).map(|i| format!("tenant{i}.example")).collect();
    for t in &tenants {
        green.push((t.as_str(), "203.0.113.9"));
    }
    observe(&mut s, "sensor-1", Tlp::Green, &green);
    observe(
        &mut s,
        "secret-sensor",
        Tlp::Red,
        &[("evil-c2.top", "192.0.2.66")],
    );
    f
}

fn values_of(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {v}"))
        .iter()
        .map(|n| n["value"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn node<'a>(v: &'a Value, value: &str) -> &'a Value {
    v["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["value"] == value))
        .unwrap_or_else(|| panic!("no node {value} in {v}"))
}

#[tokio::test]
async fn infra_profile_follows_the_callers_clearance_and_is_built_once() {
    let f = infra_fixture();
    let url = "/api/v1/infra/Open%20Panda";
    let r = get(&f.app, url, Some(&f.reader)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["actor"], "Open Panda");
    for k in ["registered_domains", "addresses"] {
        assert!(v[k].is_u64(), "{k}: {v}");
    }
    assert!(v["habits"].is_array());
    let values = values_of(&v, "values");
    assert!(values.contains(&"evil-c2.top".to_string()), "{values:?}");
    for hidden in ["91.195.240.94", "strict-only.top"] {
        assert!(
            !values.contains(&hidden.to_string()),
            "reader sees {hidden}"
        );
    }
    assert!(!r.body.contains("91.195.240.94"));
    // Every value has its tier; none rests on the RED sensor's observation.
    assert_eq!(values_of(&v, "tiers"), values);
    assert!(!r.body.contains("192.0.2.66") && !r.body.contains("secret-sensor"));
    let evil = &v["values"][values.iter().position(|x| x == "evil-c2.top").unwrap_or(0)];
    assert_eq!(evil["sources"], json!(["fixture intel"]));

    // The analyst's model is its own entry: it holds what the reader's lacks.
    let a = get(&f.app, url, Some(&f.analyst)).await.json();
    let all = values_of(&a, "values");
    for v in ["evil-c2.top", "91.195.240.94", "strict-only.top"] {
        assert!(all.contains(&v.to_string()), "analyst lacks {v}: {all:?}");
    }
    // And the reader's is not replaced by it.
    let again = get(&f.app, url, Some(&f.reader)).await;
    assert_eq!(again.json(), v);

    let stats = get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json();
    let cache = &stats["infra_cache"];
    assert_eq!(cache["built"], 2, "one model per clearance: {cache}");
    assert!(cache["hits"].as_u64().unwrap_or(0) >= 1, "{cache}");

    // A RED actor does not exist for a reader; nothing at all is a 404 too.
    let red = get(&f.app, "/api/v1/infra/Crimson%20Tide", Some(&f.reader)).await;
    assert_eq!(red.status, 404, "{}", red.body);
    assert_eq!(red.json()["status"], 404);
    assert_eq!(
        get(&f.app, "/api/v1/infra/Crimson%20Tide", Some(&f.analyst))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&f.app, "/api/v1/infra/Nobody%20Here", Some(&f.reader))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn scores_rank_candidates_with_their_contributions() {
    let f = infra_fixture();
    let url = "/api/v1/infra/Open%20Panda/score";
    let body = json!({ "values": ["evil-c2.top", "weather.com", "91.195.240.94", "not a value!", "evil-c2.top"] });
    let r = post(
        &f.app,
        url,
        Some(&f.reader),
        "application/json",
        body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json();
    let rows = rows.as_array().expect("an array");
    let values: Vec<&str> = rows
        .iter()
        .map(|s| s["value"].as_str().unwrap_or(""))
        .collect();
    // Each distinct scorable candidate once; the rest left out.
    assert_eq!(rows.len(), 3, "{values:?}");
    assert!(!values.contains(&"not a value!"));
    for s in rows {
        let sum: f64 = s["contributions"]
            .as_array()
            .expect("contributions")
            .iter()
            .map(|c| {
                assert!(c["feature"].is_string() && c["value"].is_string(), "{c}");
                c["weight"].as_f64().expect("weight")
            })
            .sum();
        let score = s["score"].as_f64().expect("score");
        assert!((sum - score).abs() < 0.05, "{s}");
        assert!(["domain", "ipv4", "ipv6"].contains(&s["type"].as_str().unwrap_or("")));
    }
    let scores: Vec<f64> = rows.iter().filter_map(|s| s["score"].as_f64()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not highest first: {scores:?}"
    );

    for (bad, why) in [
        ("{\"values\": 3}".to_string(), "values not a list"),
        ("not json".to_string(), "not JSON"),
        (
            json!({ "values": vec!["a.example"; 1001] }).to_string(),
            "too many",
        ),
        (
            json!({ "values": ["x".repeat(5000)] }).to_string(),
            "too long",
        ),
    ] {
        let r = post(&f.app, url, Some(&f.reader), "application/json", bad).await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    let none = post(
        &f.app,
        "/api/v1/infra/Nobody/score",
        Some(&f.reader),
        "application/json",
        "{\"values\":[]}",
    )
    .await;
    assert_eq!(none.status, 404);
    let anon = post(&f.app, url, None, "application/json", "{\"values\":[]}").await;
    // Anonymous read is on in this fixture: a reader's call.
    assert_eq!(anon.status, 200, "{}", anon.body);
}

#[tokio::test]
async fn pivot_damps_shared_hosting_and_hides_what_a_reader_may_not_see() {
    let f = infra_fixture();
    let url = "/api/v1/pivot?value=EVIL-C2.top&depth=2";
    let r = get(&f.app, url, Some(&f.reader)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let mut values = values_of(&v, "nodes");
    assert_eq!(values[0], "evil-c2.top");
    values.sort();
    assert_eq!(
        values,
        [
            "198.51.100.7",
            "203.0.113.9",
            "91.195.240.94",
            "evil-c2.top",
            "sister-c2.top"
        ]
    );
    assert_eq!(
        v["damped"],
        json!([{ "value": "203.0.113.9", "fan_out": 61 }])
    );
    assert_eq!(
        node(&v, "sister-c2.top")["path"],
        json!(["evil-c2.top", "198.51.100.7", "sister-c2.top"])
    );
    assert_eq!(
        node(&v, "evil-c2.top")["actors"],
        json!([{ "name": "Open Panda", "sources": ["fixture intel"] }])
    );
    // Observed by a GREEN sensor, named by a RED indicator: the node, not the actor.
    assert_eq!(node(&v, "91.195.240.94")["actors"], json!([]));
    assert_eq!(node(&v, "91.195.240.94")["sources"], json!(["sensor-1"]));
    for secret in ["192.0.2.66", "secret-sensor"] {
        assert!(!r.body.contains(secret), "reader sees {secret}");
    }
    let edge = v["edges"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["to"] == "198.51.100.7" && e["from"] == "evil-c2.top")
        })
        .expect("edge");
    assert_eq!(edge["kind"], "resolves-to");
    assert_eq!(edge["count"], 2);
    assert_eq!(edge["first_seen"], "2023-06-05T21:20:00.000Z");

    // The analyst sees the RED sensor's address and the RED indicator's actor.
    let a = get(&f.app, url, Some(&f.analyst)).await.json();
    assert!(values_of(&a, "nodes").contains(&"192.0.2.66".to_string()));
    assert_eq!(
        node(&a, "91.195.240.94")["actors"],
        json!([{ "name": "Open Panda", "sources": ["fixture intel"] }])
    );
    // Started from a value only the RED sensor saw: nothing for a reader.
    let hidden = get(&f.app, "/api/v1/pivot?value=192.0.2.66", Some(&f.reader))
        .await
        .json();
    assert_eq!(hidden, json!({ "nodes": [], "edges": [], "damped": [] }));
    let shown = get(&f.app, "/api/v1/pivot?value=192.0.2.66", Some(&f.analyst))
        .await
        .json();
    assert_eq!(values_of(&shown, "nodes")[0], "192.0.2.66");

    // Expanding the shared address reaches its tenants; a budget stops it.
    let wide = get(
        &f.app,
        "/api/v1/pivot?value=evil-c2.top&expand_common=true&budget=20",
        Some(&f.reader),
    )
    .await
    .json();
    assert_eq!(wide["nodes"].as_array().map(Vec::len), Some(20));
    assert_eq!(wide["damped"], json!([]));
    // Out of the window: the start alone.
    let before = get(
        &f.app,
        "/api/v1/pivot?value=evil-c2.top&at=2022",
        Some(&f.reader),
    )
    .await
    .json();
    assert_eq!(values_of(&before, "nodes"), ["evil-c2.top"]);
}

#[tokio::test]
async fn pivot_parameters_are_bounded_and_errors_are_json() {
    let f = infra_fixture();
    for q in [
        "value=evil-c2.top&depth=5",
        "value=evil-c2.top&depth=-1",
        "value=evil-c2.top&budget=0",
        "value=evil-c2.top&budget=2001",
        "value=evil-c2.top&max_fan_out=0",
        "value=evil-c2.top&at=2023-13",
        "value=evil-c2.top&at=2023-02-29",
        "value=evil-c2.top&expand_common=maybe",
        "value=evil-c2.top&expand_common=on",
        "value=evil-c2.top&depth=",
        "value=evil-c2.top&at=",
        "value=evil-c2.top&budget=%2010",
        "depth=1",
    ] {
        let r = get(&f.app, &format!("/api/v1/pivot?{q}"), Some(&f.reader)).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(r.json()["status"], 400, "{q}");
    }
    let long = format!("/api/v1/pivot?value={}", "a".repeat(4097));
    assert_eq!(get(&f.app, &long, Some(&f.reader)).await.status, 400);
    let blank = get(&f.app, "/api/v1/pivot?value=", Some(&f.reader)).await;
    assert_eq!(blank.status, 200);
    assert_eq!(blank.json()["nodes"], json!([]));
    let leap = get(
        &f.app,
        "/api/v1/pivot?value=evil-c2.top&at=2024-02-29&depth=0",
        Some(&f.reader),
    )
    .await;
    assert_eq!(leap.status, 200, "{}", leap.body);
    // Every route is in the OpenAPI document with its bounds.
    let doc = get(&f.app, "/api/v1/openapi.json", None).await.json();
    let params = &doc["paths"]["/api/v1/pivot"]["get"]["parameters"];
    let depth = params
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "depth"))
        .expect("depth documented");
    assert_eq!(depth["schema"]["maximum"], 4);
    assert!(doc["paths"]["/api/v1/infra/{actor}/score"]["post"].is_object());
}

#[tokio::test]
async fn actor_page_shows_infrastructure_and_the_pivot_page_draws_the_walk() {
    let f = infra_fixture();
    let page = get(&f.app, "/actor/Open%20Panda", None).await;
    assert_eq!(page.status, 200);
    let html = &page.body;
    let section = html
        .split("<section id=\"infrastructure\">")
        .nth(1)
        .expect("an Infrastructure section");
    assert!(section.contains("registered domain(s)"), "{section}");
    assert!(section.contains("<table class=\"tiers\">"), "{section}");
    assert!(
        section.contains("href=\"/pivot?value=evil%2Dc2%2Etop\""),
        "{section}"
    );
    assert!(
        !html.contains("91.195.240.94"),
        "reader's actor page shows a RED value"
    );
    // The indicators table links each value to its pivot too.
    let indicators = html
        .split("<section id=\"indicators\">")
        .nth(1)
        .unwrap_or("");
    assert!(indicators.contains("/pivot?value=evil%2Dc2%2Etop"));

    let p = get(&f.app, "/pivot?value=evil-c2.top&depth=2", None).await;
    assert_eq!(p.status, 200);
    let csp = p
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!p.body.contains("<script"));
    let svg = p
        .body
        .split("<svg class=\"pivotgraph\"")
        .nth(1)
        .expect("an SVG graph");
    let svg = svg.split("</svg>").next().unwrap_or("");
    let mut drawn: Vec<&str> = svg
        .split("data-value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    drawn.sort();
    assert_eq!(
        drawn,
        [
            "198.51.100.7",
            "203.0.113.9",
            "91.195.240.94",
            "evil-c2.top",
            "sister-c2.top"
        ]
    );
    assert!(svg.contains("fan-out 61"), "damped node not marked");
    assert!(svg.contains(">resolves-to</text>"), "edges not labelled");
    assert!(!p.body.contains("192.0.2.66"));
    assert!(
        p.body.contains("<table class=\"nodes\">") && p.body.contains("<table class=\"edges\">")
    );
    assert!(p.body.contains("href=\"/actor/Open%20Panda\""));

    // Bad parameters are a 400 page; no value is the form alone.
    // The form's blank fields are the defaults there (the API refuses them).
    let blank = get(
        &f.app,
        "/pivot?value=evil-c2.top&depth=&budget=&max_fan_out=&at=&expand_common=on",
        None,
    )
    .await;
    assert_eq!(blank.status, 200, "{}", blank.body);
    assert!(
        blank.body.contains("data-value=\"tenant0.example\""),
        "expanded"
    );
    let bad = get(&f.app, "/pivot?value=evil-c2.top&depth=9", None).await;
    assert_eq!(bad.status, 400);
    let form = get(&f.app, "/pivot", None).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<form class=\"tool pivotform\"") && !form.body.contains("<svg"));
    // HTML in a value stays text.
    let x = get(
        &f.app,
        "/pivot?value=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        None,
    )
    .await;
    assert_eq!(x.status, 200);
    assert!(!x.body.contains("<script>alert"));
}
