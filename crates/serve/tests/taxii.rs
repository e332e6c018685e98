//! TAXII 2.1, conformance-style: a client walks discovery → API root →
//! collections → objects (paged with `next`, filtered), manifest and
//! versions, with a reader's and an analyst's token, over a store holding two
//! sources read by Cairn's own intake — one of them STIX 2.0 ATT&CK-style
//! with a TLP:RED indicator and a TLP:AMBER+STRICT actor.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use cairn_kb::{Role, Store};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use tower::ServiceExt;

const TAXII: &str = "application/taxii+json;version=2.1";

const ACTOR: &str = "intrusion-set--22222222-2222-4222-8222-222222222222";
const TECH: &str = "attack-pattern--33333333-3333-4333-8333-333333333333";
const MAL: &str = "malware--44444444-4444-4444-8444-444444444444";
const RED: &str = "indicator--55555555-5555-4555-8555-555555555555";
const STRICT: &str = "intrusion-set--66666666-6666-4666-8666-666666666666";
const REL_USES_TECH: &str = "relationship--77777777-7777-4777-8777-777777777777";
const REL_USES_MAL: &str = "relationship--88888888-8888-4888-8888-888888888888";
const REL_NAMES_RED: &str = "relationship--99999999-9999-4999-8999-999999999999";
const REL_NAMES_STRICT: &str = "relationship--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const MISP_ACTOR: &str = "intrusion-set--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const TECH_MODIFIED: &str = "2023-05-06T07:08:09.123Z";

/// ATT&CK-style STIX 2.0: no `spec_version` on objects, malware without
/// `is_family`, indicator without `pattern_type`.
fn stix20() -> String {
    format!(
        r#"{{"type":"bundle","id":"bundle--0e0b5b0a-0000-4000-8000-000000000000","spec_version":"2.0","objects":[
  {{"type":"identity","id":"identity--11111111-1111-4111-8111-111111111111","created":"2017-06-01T00:00:00.000Z",
    "modified":"2017-06-01T00:00:00.000Z","name":"Lab A","identity_class":"organization"}},
  {{"type":"intrusion-set","id":"{ACTOR}","created":"2019-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
    "name":"Test Panda","aliases":["Test Panda","TP-1"],"created_by_ref":"identity--11111111-1111-4111-8111-111111111111",
    "external_references":[{{"source_name":"mitre-attack","external_id":"G9001","url":"https://attack.mitre.org/groups/G9001"}}]}},
  {{"type":"attack-pattern","id":"{TECH}","created":"2020-01-01T00:00:00.000Z","modified":"{TECH_MODIFIED}",
    "name":"Phishing","kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"initial-access"}}],
    "external_references":[{{"source_name":"mitre-attack","external_id":"T1566"}}]}},
  {{"type":"malware","id":"{MAL}","created":"2020-01-01T00:00:00.000Z","modified":"2020-02-02T00:00:00.000Z",
    "name":"Wrench","labels":["backdoor"]}},
  {{"type":"indicator","id":"{RED}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
    "labels":["malicious-activity"],"pattern":"[domain-name:value = 'red.example']","valid_from":"2021-01-01T00:00:00Z",
    "object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]}},
  {{"type":"intrusion-set","id":"{STRICT}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
    "name":"Hush Bear","object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]}},
  {{"type":"relationship","id":"{REL_USES_TECH}","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",
    "relationship_type":"uses","source_ref":"{ACTOR}","target_ref":"{TECH}"}},
  {{"type":"relationship","id":"{REL_USES_MAL}","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",
    "relationship_type":"uses","source_ref":"{ACTOR}","target_ref":"{MAL}"}},
  {{"type":"relationship","id":"{REL_NAMES_RED}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
    "relationship_type":"indicates","source_ref":"{RED}","target_ref":"{ACTOR}"}},
  {{"type":"relationship","id":"{REL_NAMES_STRICT}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z",
    "relationship_type":"uses","source_ref":"{STRICT}","target_ref":"{TECH}"}}
]}}"#
    )
}

/// A MISP galaxy: not STIX, so the feed builds STIX 2.1 from the columns.
fn galaxy() -> String {
    r#"{"name":"Threat Actor","type":"threat-actor","category":"actor","uuid":"7cdff317-a673-4474-84ec-4f1754947823",
  "values":[{"value":"Charcoal Test","uuid":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","description":"A galaxy actor.",
    "meta":{"synonyms":["CT-9"],"cfr-suspected-victims":["Taiwan"],"cfr-target-category":["Government"]}}]}"#
        .to_string()
}

fn ingest(store: &mut Store, dir: &Path, file: &str, body: &str, source: &str) {
    let path = dir.join(file);
    std::fs::write(&path, body).unwrap();
    let opts = cairn_intake::Options {
        source: Some(source.into()),
        ..cairn_intake::Options::default()
    };
    let bundle = cairn_intake::parse_path(&path, &opts).unwrap();
    store.ingest(&bundle, None, None).unwrap();
}

struct Fixture {
    dir: tempfile::TempDir,
    router: Router,
    reader: String,
    analyst: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cairn.db");
    let (reader, analyst) = {
        let mut store = Store::open(&db).unwrap();
        ingest(&mut store, dir.path(), "lab-a.json", &stix20(), "lab-a");
        ingest(&mut store, dir.path(), "galaxy.json", &galaxy(), "misp-b");
        let (reader, _) = store.create_token("feed-reader", Role::Reader).unwrap();
        let (analyst, _) = store.create_token("feed-analyst", Role::Analyst).unwrap();
        (reader, analyst)
    };
    let app = cairn_serve::App::open(cairn_serve::Config::new(db)).unwrap();
    Fixture {
        router: app.router(),
        dir,
        reader,
        analyst,
    }
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str),
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    auth: Auth<'_>,
    accept: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Basic(t) => {
            req = req.header(
                header::AUTHORIZATION,
                format!("Basic {}", b64(&format!("taxii:{t}"))),
            )
        }
    }
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    // Every TAXII answer, errors included, is TAXII JSON.
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some(TAXII),
        "{uri} answered {status} without the TAXII media type"
    );
    let body: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(router: &Router, uri: &str, token: &str) -> Reply {
    call(router, Method::GET, uri, Auth::Bearer(token), Some(TAXII)).await
}

fn assert_taxii_error(r: &Reply, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(r.body["title"].is_string(), "{}", r.body);
    assert!(r.body["description"].is_string(), "{}", r.body);
    assert_eq!(r.body["http_status"], status.as_u16().to_string());
}

fn list<'a>(body: &'a Value, key: &str) -> Vec<&'a Value> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn is_stix_ts(s: &str) -> bool {
    s.len() >= 20
        && s.ends_with('Z')
        && s.as_bytes()[10] == b'T'
        && s.parse::<jiff::Timestamp>().is_ok()
}

/// Follows `next` from `first_uri` until `more` is false; every page's
/// `key` items, in order. Checks the envelope and the date headers.
async fn walk(
    router: &Router,
    first_uri: &str,
    token: &str,
    key: &str,
    limit: usize,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut uri = first_uri.to_string();
    for _ in 0..1000 {
        let r = get(router, &uri, token).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        let items = list(&r.body, key);
        assert!(items.len() <= limit, "{uri}: page larger than limit");
        if !items.is_empty() {
            for h in ["x-taxii-date-added-first", "x-taxii-date-added-last"] {
                let v = r
                    .headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                assert!(is_stix_ts(v), "{uri}: {h} = {v:?}");
            }
        }
        out.extend(items.into_iter().cloned());
        let more = r.body["more"].as_bool().expect("envelope carries `more`");
        if !more {
            assert!(r.body.get("next").is_none(), "next without more");
            return out;
        }
        let next = r.body["next"].as_str().expect("`more` comes with `next`");
        let sep = if first_uri.contains('?') { '&' } else { '?' };
        uri = format!("{first_uri}{sep}next={next}");
    }
    panic!("{first_uri}: paging never ended");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

fn uniq(items: &[Value]) -> BTreeSet<String> {
    let v = ids(items);
    let set: BTreeSet<String> = v.iter().cloned().collect();
    assert_eq!(set.len(), v.len(), "an object came twice: {v:?}");
    set
}

/// Discovery → API root → collections: (title → collection id).
async fn discover(router: &Router, token: &str) -> BTreeMap<String, String> {
    let d = get(router, "/taxii2/", token).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.body["title"].is_string());
    let root = d.body["default"].as_str().unwrap().to_string();
    assert_eq!(d.body["api_roots"], serde_json::json!([root]));
    let r = get(router, &root, token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["title"].is_string());
    assert_eq!(r.body["versions"], serde_json::json!([TAXII]));
    assert!(r.body["max_content_length"].as_u64().unwrap() > 0);
    let c = get(router, &format!("{root}collections/"), token).await;
    assert_eq!(c.status, StatusCode::OK);
    let mut out = BTreeMap::new();
    for coll in list(&c.body, "collections") {
        assert_eq!(coll["can_read"], true);
        assert_eq!(coll["can_write"], false);
        assert_eq!(
            coll["media_types"],
            serde_json::json!(["application/stix+json;version=2.1"])
        );
        let id = coll["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "a UUID");
        let one = get(router, &format!("{root}collections/{id}/"), token).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(&one.body, coll);
        out.insert(coll["title"].as_str().unwrap().to_string(), id.to_string());
    }
    out
}

fn all_of(colls: &BTreeMap<String, String>) -> String {
    colls
        .iter()
        .find(|(t, _)| t.contains("everything"))
        .map(|(_, id)| id.clone())
        .expect("a collection of everything")
}

fn objects_uri(coll: &str) -> String {
    format!("/taxii2/cairn/collections/{coll}/objects/")
}

#[tokio::test]
async fn taxii_walk_paging_and_filters() {
    let f = fixture();
    let r = &f.router;
    let colls = discover(r, &f.analyst).await;
    assert_eq!(colls.len(), 3, "{colls:?}");
    assert!(colls.contains_key("lab-a") && colls.contains_key("misp-b"));
    let all = all_of(&colls);

    // Paging with limit=2 reaches every object exactly once, in date-added order.
    let paged = walk(
        r,
        &format!("{}?limit=2", objects_uri(&all)),
        &f.analyst,
        "objects",
        2,
    )
    .await;
    let set = uniq(&paged);
    // lab-a: 6 objects + 4 relationships; misp-b: actor, country, sector + 2
    // relationships; and the TLP marking definitions they need: CLEAR,
    // AMBER+STRICT, RED (its 2.0 definition for the stored TLP, its 1.0 one
    // because the indicator names it).
    let (markings, statements): (BTreeSet<String>, BTreeSet<String>) = set
        .iter()
        .cloned()
        .partition(|id| id.starts_with("marking-definition--"));
    assert_eq!(statements.len(), 15, "{set:?}");
    assert_eq!(
        markings,
        BTreeSet::from([
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487".to_string(),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003".to_string(),
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1".to_string(),
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed".to_string(),
        ])
    );
    for id in [
        ACTOR,
        TECH,
        MAL,
        RED,
        STRICT,
        REL_NAMES_RED,
        REL_NAMES_STRICT,
        MISP_ACTOR,
    ] {
        assert!(set.contains(id), "{id} missing");
    }
    let whole = get(r, &format!("{}?limit=1000", objects_uri(&all)), &f.analyst).await;
    assert_eq!(whole.body["more"], false);
    assert_eq!(
        ids(&paged),
        ids(&list(&whole.body, "objects")
            .into_iter()
            .cloned()
            .collect::<Vec<_>>())
    );
    // The per-source collections partition the collection of everything.
    let mut union = BTreeSet::new();
    for src in ["lab-a", "misp-b"] {
        let got = walk(
            r,
            &format!("{}?limit=3", objects_uri(&colls[src])),
            &f.analyst,
            "objects",
            3,
        )
        .await;
        for id in uniq(&got) {
            if id.starts_with("marking-definition--") {
                assert!(markings.contains(&id), "{id}");
                continue;
            }
            assert!(union.insert(id), "in two source collections");
        }
    }
    assert_eq!(union, statements);

    // Every object is STIX 2.1 with its required properties.
    for o in &paged {
        assert_eq!(o["spec_version"], "2.1", "{o}");
        assert!(o["type"].is_string() && o["id"].is_string(), "{o}");
        assert!(is_stix_ts(o["created"].as_str().unwrap_or_default()), "{o}");
        if o["type"] != "marking-definition" {
            assert!(
                is_stix_ts(o["modified"].as_str().unwrap_or_default()),
                "{o}"
            );
        }
        assert!(o.as_object().unwrap().values().all(|v| !v.is_null()), "{o}");
        match o["type"].as_str().unwrap() {
            "relationship" => {
                for k in ["relationship_type", "source_ref", "target_ref"] {
                    assert!(o[k].is_string(), "{o}");
                }
            }
            "indicator" => {
                assert_eq!(o["pattern_type"], "stix");
                assert!(
                    o["pattern"].is_string() && o["valid_from"].is_string(),
                    "{o}"
                );
            }
            "malware" => assert!(o["is_family"].is_boolean(), "{o}"),
            "intrusion-set" | "identity" | "attack-pattern" => {
                assert!(o["name"].is_string(), "{o}")
            }
            "location" => assert_eq!(o["country"], "TW", "{o}"),
            _ => {}
        }
    }

    // As a bundle, the collection passes the STIX 2.1 checks export holds itself to
    // (required properties, no nulls or empty lists, relationship ends present).
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--5d0a3c3e-6c1e-4c8e-9a57-0b9f6a1e2d3c",
        "objects": paged,
    });
    cairn_export::check_bundle(&bundle).unwrap();

    // The manifest agrees with the objects, page for page.
    let man = walk(
        r,
        &format!("/taxii2/cairn/collections/{all}/manifest/?limit=4"),
        &f.analyst,
        "objects",
        4,
    )
    .await;
    assert_eq!(ids(&man), ids(&paged));
    let mut dates = Vec::new();
    for (m, o) in man.iter().zip(&paged) {
        let version = if o["type"] == "marking-definition" {
            &o["created"]
        } else {
            &o["modified"]
        };
        assert_eq!(&m["version"], version, "{m} vs {o}");
        assert_eq!(m["media_type"], "application/stix+json;version=2.1");
        let d = m["date_added"].as_str().unwrap().to_string();
        assert!(
            is_stix_ts(&d) && d.len() == 24,
            "millisecond precision: {d}"
        );
        dates.push(d);
    }
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "objects come in date-added order");

    // added_after: everything is after the epoch, nothing after the last date;
    // a statement stored later is the only one after it.
    let last = dates.last().unwrap().clone();
    let after = |t: &str| format!("{}?added_after={t}", objects_uri(&all));
    let got = walk(
        r,
        &after("1970-01-01T00:00:00Z"),
        &f.analyst,
        "objects",
        100,
    )
    .await;
    assert_eq!(uniq(&got), set);
    let none = get(r, &after(&last), &f.analyst).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["more"], false);
    assert!(list(&none.body, "objects").is_empty());
    assert!(none.headers.get("x-taxii-date-added-first").is_none());
    // No pause: stamps are to the millisecond and always move forward.
    {
        let mut store = Store::open(&f.dir.path().join("cairn.db")).unwrap();
        let late = stix20().replace(
            "\"name\":\"Wrench\"",
            "\"name\":\"Wrench\",\"description\":\"now with a description\"",
        );
        ingest(&mut store, f.dir.path(), "lab-a.json", &late, "lab-a");
    }
    let late = walk(r, &after(&last), &f.analyst, "objects", 100).await;
    assert_eq!(ids(&late), vec![MAL.to_string()]);
    assert_eq!(late[0]["description"], "now with a description");

    // match[type], several at once.
    let typed = walk(
        r,
        &format!(
            "{}?match[type]=attack-pattern,relationship&limit=2",
            objects_uri(&all)
        ),
        &f.analyst,
        "objects",
        2,
    )
    .await;
    let types: BTreeSet<&str> = typed.iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(types, BTreeSet::from(["attack-pattern", "relationship"]));
    assert_eq!(typed.len(), 1 + 4 + 2);

    // match[id], several at once, unknown ones ignored.
    let by_id = get(
        r,
        &format!(
            "{}?match[id]={TECH},{MISP_ACTOR},malware--00000000-0000-4000-8000-000000000000",
            objects_uri(&all)
        ),
        &f.analyst,
    )
    .await;
    let got: BTreeSet<String> = ids(&list(&by_id.body, "objects")
        .into_iter()
        .cloned()
        .collect::<Vec<_>>())
    .into_iter()
    .collect();
    assert_eq!(
        got,
        BTreeSet::from([TECH.to_string(), MISP_ACTOR.to_string()])
    );

    // match[version]: the exact version, first/last/all, and a version that is not there.
    let v = |q: &str| {
        format!(
            "{}?match[id]={TECH}&match[version]={q}",
            objects_uri(&colls["lab-a"])
        )
    };
    for q in [TECH_MODIFIED, "last", "first", "all", "first,last"] {
        let got = get(r, &v(q), &f.analyst).await;
        assert_eq!(
            ids(&list(&got.body, "objects")
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()),
            vec![TECH.to_string()],
            "match[version]={q}"
        );
    }
    let got = get(r, &v("2023-05-06T07:08:09.124Z"), &f.analyst).await;
    assert!(list(&got.body, "objects").is_empty());
    // match[spec_version]: everything is 2.1.
    let got = get(
        r,
        &format!("{}?match[spec_version]=2.0", objects_uri(&all)),
        &f.analyst,
    )
    .await;
    assert!(list(&got.body, "objects").is_empty());
    let got = get(
        r,
        &format!("{}?match[spec_version]=2.1&limit=1", objects_uri(&all)),
        &f.analyst,
    )
    .await;
    assert_eq!(list(&got.body, "objects").len(), 1);

    // One object, and its versions.
    let one = get(r, &format!("{}{TECH}/", objects_uri(&all)), &f.analyst).await;
    assert_eq!(one.status, StatusCode::OK);
    let objs = list(&one.body, "objects");
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["modified"], TECH_MODIFIED);
    let vs = get(
        r,
        &format!("{}{TECH}/versions/", objects_uri(&all)),
        &f.analyst,
    )
    .await;
    assert_eq!(vs.status, StatusCode::OK);
    assert_eq!(vs.body["versions"], serde_json::json!([TECH_MODIFIED]));
    assert_eq!(vs.body["more"], false);

    // Bad requests are TAXII errors.
    for q in [
        "limit=0",
        "limit=many",
        "next=zz",
        "added_after=soon",
        "match[version]=newest",
    ] {
        let bad = get(r, &format!("{}?{q}", objects_uri(&all)), &f.analyst).await;
        assert_taxii_error(&bad, StatusCode::BAD_REQUEST);
    }
    // Unknown collection and object: 404 with a TAXII error message.
    let missing = "aaaaaaaa-0000-5000-8000-000000000000";
    for uri in [
        format!("/taxii2/cairn/collections/{missing}/"),
        objects_uri(missing),
        format!("/taxii2/cairn/collections/{missing}/manifest/"),
        format!("{}{TECH}/", objects_uri(missing)),
        format!(
            "{}malware--00000000-0000-4000-8000-000000000000/",
            objects_uri(&all)
        ),
        format!(
            "{}malware--00000000-0000-4000-8000-000000000000/versions/",
            objects_uri(&all)
        ),
    ] {
        assert_taxii_error(&get(r, &uri, &f.analyst).await, StatusCode::NOT_FOUND);
    }
    // Read-only collections.
    let post = call(
        r,
        Method::POST,
        &objects_uri(&all),
        Auth::Bearer(&f.analyst),
        Some(TAXII),
    )
    .await;
    assert_taxii_error(&post, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn taxii_auth_and_content_negotiation() {
    let f = fixture();
    let r = &f.router;
    let all = all_of(&discover(r, &f.reader).await);
    for uri in [
        "/taxii2/".to_string(),
        "/taxii2/cairn/collections/".into(),
        objects_uri(&all),
    ] {
        let anon = call(r, Method::GET, &uri, Auth::None, Some(TAXII)).await;
        assert_taxii_error(&anon, StatusCode::UNAUTHORIZED);
        assert!(anon.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let bad = call(
        r,
        Method::GET,
        "/taxii2/",
        Auth::Bearer("cairn_not-a-token"),
        Some(TAXII),
    )
    .await;
    assert_taxii_error(&bad, StatusCode::UNAUTHORIZED);
    let bad = call(
        r,
        Method::GET,
        "/taxii2/",
        Auth::Basic("cairn_not-a-token"),
        Some(TAXII),
    )
    .await;
    assert_taxii_error(&bad, StatusCode::UNAUTHORIZED);
    // HTTP Basic with the token as password, for clients that only speak Basic.
    let basic = call(
        r,
        Method::GET,
        &objects_uri(&all),
        Auth::Basic(&f.reader),
        Some(TAXII),
    )
    .await;
    assert_eq!(basic.status, StatusCode::OK);

    // Accept: TAXII 2.1, TAXII unversioned, any, JSON, none — but not HTML or TAXII 2.0.
    for accept in [
        Some(TAXII),
        Some("application/taxii+json"),
        Some("*/*"),
        Some("application/json"),
        None,
    ] {
        let ok = call(
            r,
            Method::GET,
            &objects_uri(&all),
            Auth::Bearer(&f.reader),
            accept,
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "Accept {accept:?}");
    }
    for accept in ["text/html", "application/taxii+json;version=2.0"] {
        for uri in [
            "/taxii2/".to_string(),
            "/taxii2/cairn/".into(),
            objects_uri(&all),
        ] {
            let no = call(r, Method::GET, &uri, Auth::Bearer(&f.reader), Some(accept)).await;
            assert_taxii_error(&no, StatusCode::NOT_ACCEPTABLE);
        }
    }
}

#[tokio::test]
async fn taxii_reader_never_sees_red_or_amber_strict() {
    let f = fixture();
    let r = &f.router;
    let hidden = [RED, STRICT, REL_NAMES_RED, REL_NAMES_STRICT];
    let leaks = |body: &Value| -> Vec<&str> {
        let text = body.to_string();
        hidden
            .iter()
            .copied()
            .filter(|id| text.contains(id))
            .collect()
    };

    for (token, sees) in [(&f.reader, false), (&f.analyst, true)] {
        let colls = discover(r, token).await;
        for (title, coll) in &colls {
            let objs = walk(
                r,
                &format!("{}?limit=2&match[version]=all", objects_uri(coll)),
                token,
                "objects",
                2,
            )
            .await;
            let man = walk(
                r,
                &format!("/taxii2/cairn/collections/{coll}/manifest/?limit=2"),
                token,
                "objects",
                2,
            )
            .await;
            assert_eq!(
                ids(&man),
                ids(&objs),
                "{title}: manifest and objects differ"
            );
            if title.contains("everything") {
                // What the reader gets is still a consistent STIX 2.1 graph.
                let bundle = serde_json::json!({
                    "type": "bundle",
                    "id": "bundle--5d0a3c3e-6c1e-4c8e-9a57-0b9f6a1e2d3c",
                    "objects": objs,
                });
                cairn_export::check_bundle(&bundle).unwrap();
            }
            for v in [Value::Array(objs), Value::Array(man)] {
                if sees {
                    continue;
                }
                assert!(leaks(&v).is_empty(), "{title}: reader got {:?}", leaks(&v));
            }
            // Asked for by id, in every way TAXII allows.
            for id in hidden {
                let filtered = get(
                    r,
                    &format!("{}?match[id]={id}&match[version]=all", objects_uri(coll)),
                    token,
                )
                .await;
                assert_eq!(filtered.status, StatusCode::OK);
                let filtered_man = get(
                    r,
                    &format!("/taxii2/cairn/collections/{coll}/manifest/?match[id]={id}"),
                    token,
                )
                .await;
                assert_eq!(filtered_man.status, StatusCode::OK);
                let one = get(r, &format!("{}{id}/", objects_uri(coll)), token).await;
                let vs = get(r, &format!("{}{id}/versions/", objects_uri(coll)), token).await;
                if sees {
                    if title == "misp-b" {
                        continue;
                    }
                    assert_eq!(one.status, StatusCode::OK, "{title}: analyst asks {id}");
                    assert_eq!(
                        vs.status,
                        StatusCode::OK,
                        "{title}: analyst asks versions of {id}"
                    );
                    assert_eq!(
                        ids(&list(&filtered.body, "objects")
                            .into_iter()
                            .cloned()
                            .collect::<Vec<_>>()),
                        vec![id.to_string()]
                    );
                } else {
                    assert!(
                        list(&filtered.body, "objects").is_empty(),
                        "{title}: {id} leaked"
                    );
                    assert!(
                        list(&filtered_man.body, "objects").is_empty(),
                        "{title}: {id} leaked"
                    );
                    assert_taxii_error(&one, StatusCode::NOT_FOUND);
                    assert_taxii_error(&vs, StatusCode::NOT_FOUND);
                    assert!(leaks(&one.body).is_empty() && leaks(&vs.body).is_empty());
                }
            }
        }
    }
    // The analyst's copy of the RED indicator carries its marking.
    let colls = discover(r, &f.analyst).await;
    let one = get(
        r,
        &format!("{}{RED}/", objects_uri(&colls["lab-a"])),
        &f.analyst,
    )
    .await;
    assert_eq!(
        list(&one.body, "objects")[0]["object_marking_refs"],
        serde_json::json!(["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"])
    );
}

#[tokio::test]
async fn taxii_source_seen_only_through_hidden_statements_has_no_collection_for_readers() {
    let f = fixture();
    {
        let mut store = Store::open(&f.dir.path().join("cairn.db")).unwrap();
        let body = stix20().replace(
            "\"name\":\"Hush Bear\"",
            "\"name\":\"Hush Bear\",\"description\":\"only here\"",
        );
        // A source holding nothing but the AMBER+STRICT actor.
        let only: Value = serde_json::from_str(&body).unwrap();
        let strict: Vec<&Value> = only["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["id"] == STRICT)
            .collect();
        let bundle = serde_json::json!({"type":"bundle","id":"bundle--1d1d1d1d-0000-4000-8000-000000000000","objects":strict});
        ingest(
            &mut store,
            f.dir.path(),
            "secret.json",
            &bundle.to_string(),
            "secret-src",
        );
    }
    let reader = discover(&f.router, &f.reader).await;
    assert!(!reader.contains_key("secret-src"), "{reader:?}");
    let analyst = discover(&f.router, &f.analyst).await;
    let secret = analyst
        .get("secret-src")
        .expect("the analyst sees the source");
    let r = get(
        &f.router,
        &format!("/taxii2/cairn/collections/{secret}/"),
        &f.reader,
    )
    .await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
    let r = get(&f.router, &objects_uri(secret), &f.reader).await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
}

/// A client polling with `added_after` = the `X-TAXII-Date-Added-Last` it
/// was sent, with an ingest between polls (well within one second): every
/// object arrives exactly once.
#[tokio::test]
async fn taxii_polling_with_date_added_last_loses_nothing() {
    let f = fixture();
    let r = &f.router;
    let all = all_of(&discover(r, &f.analyst).await);
    let mut store = Store::open(&f.dir.path().join("cairn.db")).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut last: Option<String> = None;
    let rounds = 60;
    for i in 0..=rounds {
        let mut uri = format!("{}?limit=5", objects_uri(&all));
        if let Some(l) = &last {
            uri.push_str(&format!("&added_after={l}"));
        }
        loop {
            let page = get(r, &uri, &f.analyst).await;
            assert_eq!(page.status, StatusCode::OK);
            for o in list(&page.body, "objects") {
                *seen
                    .entry(o["id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            if let Some(h) = page.headers.get("x-taxii-date-added-last") {
                last = Some(h.to_str().unwrap().to_string());
            }
            match page.body["next"].as_str() {
                Some(n) if page.body["more"] == true => {
                    uri = format!("{}?limit=5&next={n}", objects_uri(&all));
                    if let Some(l) = &last {
                        uri.push_str(&format!("&added_after={l}"));
                    }
                }
                _ => break,
            }
        }
        if i < rounds {
            // A new source each round: one intrusion set.
            let body = format!(
                r#"{{"type":"bundle","id":"bundle--1d1d1d1d-0000-4000-8000-{i:012}","objects":[
                  {{"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--0000{i:04}-0000-4000-8000-000000000000",
                    "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Poll {i}"}}]}}"#
            );
            ingest(
                &mut store,
                f.dir.path(),
                "poll.json",
                &body,
                &format!("poll-{i}"),
            );
        }
    }
    for i in 0..rounds {
        let id = format!("intrusion-set--0000{i:04}-0000-4000-8000-000000000000");
        assert_eq!(seen.get(&id), Some(&1), "{id}");
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "served more than once: {twice:?}");
}
