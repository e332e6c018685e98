//! `cairn feed` on PostgreSQL: the same feeds — a Cairn server's TAXII 2.1
//! collection, a MISP feed of real CIRCL OSINT events, a plain list — synced
//! over loopback into a database and into an embedded store leave the same
//! statements, the same subscriptions' state, and withdraw the same things
//! when upstream changes.

mod support;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use support::ok;

fn cairn(db: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--db").arg(db).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cairn")
}

/// A server on 127.0.0.1:0 in its own runtime, alive as long as this is.
struct Server {
    _rt: tokio::runtime::Runtime,
    base: String,
}

fn serve(router: Router) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move { axum::serve(listener, router).await });
    Server {
        _rt: rt,
        base: format!("http://{addr}"),
    }
}

/// Static files that can change between runs, with content validators.
#[derive(Clone, Default)]
struct Files(Arc<Mutex<HashMap<String, Vec<u8>>>>);

impl Files {
    fn put(&self, name: &str, body: Vec<u8>) {
        self.0.lock().expect("lock").insert(name.into(), body);
    }
}

async fn file(
    State(f): State<Files>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let body = f.0.lock().expect("lock").get(&name).cloned();
    let Some(body) = body else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!(
        "\"{:x}-{:x}\"",
        body.len(),
        body.iter()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)))
    );
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([("etag", etag)], Body::from(body)).into_response()
}

const EVENTS: [&str; 3] = [
    "57c4445b-c548-4654-af0b-4be3950d210f",
    "5a0a9aa9-23a4-4607-b6df-41a9950d210f",
    "5a0ac036-6fbc-4855-83af-422b950d210f",
];

fn publish(files: &Files, events: &[(String, Value)]) {
    let mut m = serde_json::Map::new();
    for (uuid, ev) in events {
        files.put(
            &format!("{uuid}.json"),
            serde_json::to_vec(ev).expect("json"),
        );
        let e = &ev["Event"];
        m.insert(
            uuid.clone(),
            serde_json::json!({"info": e["info"], "timestamp": e["timestamp"], "date": e["date"],
                               "Orgc": e["Orgc"], "Tag": e["Tag"], "analysis": e["analysis"]}),
        );
    }
    files.put(
        "manifest.json",
        serde_json::to_vec(&Value::Object(m)).expect("manifest"),
    );
}

/// What a store holds after a sync, in forms both backends give alike:
/// each feed's outcome and listing (times and row ids aside), the kinds
/// counted, and every exported value with its actors.
fn snapshot(db: &Path, env: &[(&str, &str)]) -> (Vec<Value>, Vec<Value>, Vec<String>, Vec<String>) {
    let out = cairn(db, &["feed", "sync", "--json", "--timeout", "10"], env);
    let mut runs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "sync output is no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    for r in &mut runs {
        // Requests differ with the TAXII page boundaries only by timing.
        r.as_object_mut().expect("object").remove("requests");
    }
    let mut listed: Vec<Value> =
        serde_json::from_str(&ok(&cairn(db, &["feed", "list", "--json"], &[]))).expect("list");
    for f in &mut listed {
        let f = f.as_object_mut().expect("object");
        for k in ["last_run", "next_due", "created_at", "cursor"] {
            f.remove(k);
        }
    }
    let stats: Value =
        serde_json::from_str(&ok(&cairn(db, &["stats", "--json"], &[]))).expect("stats");
    let mut kinds: Vec<String> = stats["objects_by_kind"]
        .as_array()
        .expect("kinds")
        .iter()
        .chain(stats["relations_by_type"].as_array().expect("types"))
        .map(Value::to_string)
        .collect();
    kinds.sort();
    let csv: Vec<String> = ok(&cairn(db, &["export", "csv", "--tlp-max", "red"], &[]))
        .lines()
        .map(String::from)
        .collect();
    (runs, listed, kinds, csv)
}

#[test]
fn feeds_sync_into_postgres_as_into_the_embedded_store() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    // Upstream 1: a Cairn server's TAXII collection (the starter's RedHotel report).
    let up = dir.path().join("upstream.db");
    let redhotel = repo.join("starter/redhotel-insikt-2023.json");
    ok(&cairn(
        &up,
        &["ingest", redhotel.to_str().expect("path")],
        &[],
    ));
    let token: Value = serde_json::from_str(&ok(&cairn(
        &up,
        &[
            "token", "create", "--name", "partner", "--role", "reader", "--json",
        ],
        &[],
    )))
    .expect("token");
    let token = token["token"].as_str().expect("secret").to_string();
    let env = [("PARTNER_TOKEN", token.as_str())];
    let app = cairn_serve::App::open(cairn_serve::Config::new(up.clone())).expect("app");
    let taxii = serve(app.router());

    // Upstream 2 and 3: a MISP feed of real events, and a plain list.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/misp-feed");
    let events: Vec<(String, Value)> = EVENTS
        .iter()
        .map(|u| {
            let text = std::fs::read(fixtures.join(format!("{u}.json"))).expect("fixture");
            (u.to_string(), serde_json::from_slice(&text).expect("event"))
        })
        .collect();
    let files = Files::default();
    publish(&files, &events);
    // Not reserved names: the export drops warninglisted values.
    files.put(
        "ember.txt",
        b"update.ember-cdn.top\n103.79.77[.]200\n".to_vec(),
    );
    let web = serve(
        Router::new()
            .route("/feed/{name}", get(file))
            .with_state(files.clone()),
    );

    let pg = cairn_pg::admin::Scratch::new(&server, "feeds").expect("database");
    let stores = [dir.path().join("kb.db"), Path::new(pg.url()).to_path_buf()];
    let discovery = format!("{}/taxii2/", taxii.base);
    let misp = format!("{}/feed/", web.base);
    let list = format!("{}/feed/ember.txt", web.base);
    for db in &stores {
        for args in [
            vec![
                "feed",
                "add",
                "partner",
                &discovery,
                "--kind",
                "taxii",
                "--collection",
                "Cairn: everything",
                "--token-env",
                "PARTNER_TOKEN",
                "--page-size",
                "25",
            ],
            vec!["feed", "add", "circl", &misp, "--kind", "misp-feed"],
            vec![
                "feed",
                "add",
                "ember",
                &list,
                "--kind",
                "list",
                "--actor",
                "Ember Bear",
            ],
        ] {
            ok(&cairn(db, &args, &[]));
        }
    }

    // First runs: everything arrives, the same everywhere.
    let first: Vec<_> = stores.iter().map(|db| snapshot(db, &env)).collect();
    let (runs, listed, kinds, csv) = &first[0];
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "ok"), "{runs:?}");
    assert!(
        runs.iter().all(|r| r["added"].as_u64() > Some(0)),
        "{runs:?}"
    );
    assert!(listed.iter().all(|f| f["status"] == "ok"), "{listed:?}");
    assert!(kinds.len() > 3);
    assert!(csv.iter().any(|l| l.starts_with("update.ember-cdn.top,")));
    assert!(csv.len() > 50, "{}", csv.len());
    assert_eq!(first[0], first[1], "first sync: embedded vs PostgreSQL");

    // Upstream changes: an event leaves the MISP feed, the list changes.
    publish(&files, &events[..2]);
    files.put(
        "ember.txt",
        b"update.ember-cdn.top\nstage.ember-cdn.top\n".to_vec(),
    );
    let second: Vec<_> = stores.iter().map(|db| snapshot(db, &env)).collect();
    let runs = &second[0].0;
    let by = |name: &str| {
        runs.iter()
            .find(|r| r["name"] == name)
            .cloned()
            .expect("run")
    };
    assert_eq!(by("partner")["added"], 0, "TAXII asks only for what is new");
    assert!(by("circl")["withdrawn"].as_u64() > Some(0), "{runs:?}");
    assert_eq!(
        (
            by("ember")["added"].as_u64(),
            by("ember")["withdrawn"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(!second[0].3.iter().any(|l| l.starts_with("103.79.77.200,")));
    assert!(
        second[0]
            .3
            .iter()
            .any(|l| l.starts_with("stage.ember-cdn.top,"))
    );
    assert_eq!(second[0], second[1], "second sync: embedded vs PostgreSQL");

    // Nothing new: the list answers 304, the state kept on the database.
    let third = snapshot(&stores[1], &env);
    let ember = third
        .0
        .iter()
        .find(|r| r["name"] == "ember")
        .expect("ember");
    assert_eq!(ember["status"], "not-modified", "{ember}");

    // Unsubscribing keeps what the feed stored.
    let out = cairn(&stores[1], &["feed", "remove", "circl"], &[]);
    assert!(out.status.success());
    let left: Vec<Value> =
        serde_json::from_str(&ok(&cairn(&stores[1], &["feed", "list", "--json"], &[])))
            .expect("list");
    assert_eq!(left.len(), 2);
    assert_eq!(snapshot(&stores[1], &env).2, second[1].2, "statements kept");
}
