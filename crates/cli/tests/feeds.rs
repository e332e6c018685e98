//! `cairn feed` over loopback, through the real binary: a Cairn server's
//! TAXII 2.1 collection synced into other stores (incremental, and an
//! interrupted run resumed), a MISP feed directory of real CIRCL OSINT
//! events (changed events only; removed events withdrawn), a list answering
//! 304, and failures that must leave the store exactly as it was.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use upstream::{EVENTS, Files, serve};

mod upstream;

fn cairn(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--db").arg(db).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cairn")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `cairn feed sync NAME --json` with tiny backoffs: (exit code, the feed's outcome).
fn sync(db: &Path, name: &str, env: &[(&str, &str)]) -> (i32, Value) {
    let out = cairn(
        db,
        &[
            "feed",
            "sync",
            name,
            "--json",
            "--retries",
            "2",
            "--backoff-ms",
            "1",
            "--timeout",
            "5",
        ],
        env,
    );
    let code = out.status.code().unwrap_or(-1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "sync output is no JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v[0].clone())
}

/// The feed's row in `cairn feed list --json`.
fn listed(db: &Path, name: &str) -> Value {
    let v: Value =
        serde_json::from_str(&ok(cairn(db, &["feed", "list", "--json"], &[]))).expect("list JSON");
    let arr = v.as_array().expect("an array");
    let keys: Vec<&str> = arr[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .take(9)
        .collect();
    // serde_json keeps keys sorted unless preserve_order; check presence, not order.
    for k in [
        "name",
        "kind",
        "url",
        "last_run",
        "status",
        "added",
        "changed",
        "withdrawn",
        "error",
    ] {
        assert!(arr[0].get(k).is_some(), "feed list lacks `{k}`: {keys:?}");
    }
    arr.iter()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no feed {name} in {v}"))
}

/// Every statement of a store: (table, source, STIX id, content hash, withdrawn), sorted.
fn dump(db: &Path) -> Vec<(String, String, String, i64, bool)> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut q = c
        .prepare(
            "SELECT 'o', s.name, stix_id, hash, withdrawn_at IS NOT NULL FROM objects o JOIN sources s ON s.id = o.source_id \
             UNION ALL SELECT 'r', s.name, stix_id, hash, withdrawn_at IS NOT NULL FROM relations r JOIN sources s ON s.id = r.source_id \
             UNION ALL SELECT 'l', s.name, l.kind || ':' || l.value, l.updated_at, l.withdrawn_at IS NOT NULL \
               FROM list_values l JOIN sources s ON s.id = l.source_id \
             ORDER BY 1, 2, 3",
        )
        .expect("prepare");
    q.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// The STIX ids a store states (active statements, any source), compact
/// list values' derived indicator and `indicates` ids included.
fn ids(db: &Path) -> std::collections::BTreeSet<String> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut q = c
        .prepare(
            "SELECT stix_id FROM objects WHERE withdrawn_at IS NULL \
             UNION SELECT stix_id FROM relations WHERE withdrawn_at IS NULL",
        )
        .expect("prepare");
    let mut out: std::collections::BTreeSet<String> = q
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut q = c
        .prepare(
            "SELECT s.name, v.kind, v.value, ls.actor_ref FROM list_values v \
             JOIN sources s ON s.id = v.source_id JOIN list_sources ls ON ls.source_id = v.source_id \
             WHERE v.withdrawn_at IS NULL",
        )
        .expect("prepare");
    let rows = q
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .expect("query");
    for row in rows {
        let (source, kind, value, actor) = row.expect("row");
        let ind = cairn_model::deterministic_id("indicator", &[&source, &kind, &value]);
        if let Some(a) = actor {
            out.insert(cairn_model::deterministic_id(
                "relationship",
                &[&ind, "indicates", &a],
            ));
        }
        out.insert(ind);
    }
    out
}

fn generation(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(db).expect("open");
    c.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
        r.get::<_, String>(0)
    })
    .expect("generation")
    .parse()
    .expect("number")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------- TAXII

/// Counts `objects` requests; from `fail_after` on (when set) answers 500;
/// with `no_dates`, drops the X-TAXII-Date-Added headers.
#[derive(Clone, Default)]
struct Faults {
    objects: Arc<AtomicUsize>,
    fail_after: Arc<AtomicUsize>,
    no_dates: Arc<std::sync::atomic::AtomicBool>,
}

async fn faulty(State(f): State<Faults>, req: Request, next: Next) -> Response {
    if req.uri().path().ends_with("/objects/") {
        let n = f.objects.fetch_add(1, Ordering::SeqCst);
        let limit = f.fail_after.load(Ordering::SeqCst);
        if limit > 0 && n >= limit {
            return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response();
        }
    }
    let mut res = next.run(req).await;
    if f.no_dates.load(Ordering::SeqCst) {
        res.headers_mut().remove("x-taxii-date-added-first");
        res.headers_mut().remove("x-taxii-date-added-last");
    }
    res
}

#[test]
fn taxii_collections_sync_incrementally_and_resume_without_loss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.db");
    let redhotel = repo().join("starter/redhotel-insikt-2023.json");
    let tag22 = repo().join("starter/tag22-insikt-2021.json");
    ok(cairn(
        &a,
        &["ingest", redhotel.to_str().expect("path")],
        &[],
    ));
    // A compact list upstream: served as its derived indicators and relationships.
    let list = dir.path().join("ember.txt");
    std::fs::write(
        &list,
        "c2.ember.example\n198.51.100[.]23\ncdn.ember.example\n",
    )
    .expect("write list");
    ok(cairn(
        &a,
        &[
            "ingest",
            "--format",
            "list",
            "--source",
            "Ember list",
            "--actor",
            "Ember Bear",
            list.to_str().expect("path"),
        ],
        &[],
    ));
    let token: Value = serde_json::from_str(&ok(cairn(
        &a,
        &[
            "token", "create", "--name", "partner", "--role", "reader", "--json",
        ],
        &[],
    )))
    .expect("token JSON");
    let token = token["token"].as_str().expect("secret").to_string();
    let env = [("PARTNER_TOKEN", token.as_str())];

    let app = cairn_serve::App::open(cairn_serve::Config::new(a.clone())).expect("app");
    let faults = Faults::default();
    let router = app
        .router()
        .layer(axum::middleware::from_fn_with_state(faults.clone(), faulty));
    let server = serve(router);
    let discovery = format!("{}/taxii2/", server.base);
    let add = |db: &Path| {
        ok(cairn(
            db,
            &[
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
                "40",
            ],
            &[],
        ))
    };

    // First sync: everything.
    let b = dir.path().join("b.db");
    add(&b);
    let (code, first) = sync(&b, "partner", &env);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["status"], "ok");
    let fetched1 = first["fetched"].as_u64().expect("fetched");
    let pages1 = faults.objects.load(Ordering::SeqCst);
    assert!(pages1 >= 3, "paged: {pages1} object requests");
    let after1 = dump(&b);
    assert!(after1.len() > 100, "{} statements", after1.len());
    assert_eq!(first["added"].as_u64(), Some(after1.len() as u64));
    assert!(fetched1 >= after1.len() as u64);
    // Everything upstream arrived; the server's emitter adds only what STIX needs beside it
    // (an author identity).
    let (a1, b1) = (ids(&a), ids(&b));
    assert!(
        b1.is_superset(&a1),
        "{} upstream ids missing",
        a1.difference(&b1).count()
    );
    assert!(b1.len() - a1.len() <= 3);
    // The list's three values arrived as indicators, each indicating the actor.
    let listed_in_b: i64 = rusqlite::Connection::open(&b)
        .expect("open")
        .query_row(
            "SELECT COUNT(*) FROM relations WHERE rel_type = 'indicates' AND withdrawn_at IS NULL \
             AND src_ref IN (SELECT stix_id FROM objects WHERE kind = 'indicator' \
               AND (name LIKE '%ember%' OR name LIKE '198.51.100%'))",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(listed_in_b, 3);
    let cursor = listed(&b, "partner")["cursor"].clone();
    assert!(cursor.is_string(), "cursor saved: {cursor}");

    // New objects upstream: the second sync fetches only those.
    // Another source: the same source name would withdraw RedHotel's statements upstream,
    // and TAXII carries no withdrawals.
    ok(cairn(
        &a,
        &[
            "ingest",
            "--source",
            "Insikt TAG-22",
            tag22.to_str().expect("path"),
        ],
        &[],
    ));
    let a2 = ids(&a);
    let upstream_new = a2.difference(&a1).count();
    assert!(upstream_new > 50);
    faults.objects.store(0, Ordering::SeqCst);
    let (code, second) = sync(&b, "partner", &env);
    assert_eq!(code, 0, "{second}");
    assert_eq!(
        second["added"].as_u64(),
        Some(upstream_new as u64),
        "{second}"
    );
    let fetched2 = second["fetched"].as_u64().expect("fetched");
    // Only the new statements (and the TLP markings a page carries) come again.
    assert!(
        fetched2 >= upstream_new as u64 && fetched2 <= upstream_new as u64 + 5,
        "fetched {fetched2} for {upstream_new} new, {fetched1} the first time"
    );
    let pages2 = faults.objects.load(Ordering::SeqCst);
    assert_eq!(
        pages2,
        upstream_new.div_ceil(40).max(1),
        "object pages asked for"
    );
    assert!(ids(&b).is_superset(&a2));
    let full = dump(&b);

    // A third store, cut off after two pages, then resumed.
    let c = dir.path().join("c.db");
    add(&c);
    faults.objects.store(0, Ordering::SeqCst);
    faults.fail_after.store(2, Ordering::SeqCst);
    let (code, cut) = sync(&c, "partner", &env);
    assert_eq!(code, 2, "{cut}");
    assert_eq!(cut["status"], "failed");
    assert!(
        cut["error"].as_str().unwrap_or_default().contains("500"),
        "{cut}"
    );
    let partial = dump(&c);
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} stored before the cut",
        partial.len()
    );
    let row = listed(&c, "partner");
    assert_eq!(row["status"], "failed");
    assert!(
        row["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{row}"
    );
    faults.fail_after.store(0, Ordering::SeqCst);
    faults.objects.store(0, Ordering::SeqCst);
    let (code, resumed) = sync(&c, "partner", &env);
    assert_eq!(code, 0, "{resumed}");
    // It went on from the page after the last one stored, not from the start.
    assert!(faults.objects.load(Ordering::SeqCst) < pages1 + pages2);
    let got = dump(&c);
    let missing: Vec<_> = full.iter().filter(|r| !got.contains(r)).collect();
    let extra_rows: Vec<_> = got.iter().filter(|r| !full.contains(r)).collect();
    assert!(
        missing.is_empty() && extra_rows.is_empty() && got.len() == full.len(),
        "no loss, no duplicates, same content: {} missing {:?}…, {} extra {:?}…; partial {}, cut {cut}, resumed {resumed}, {} object requests",
        missing.len(),
        missing.iter().take(3).collect::<Vec<_>>(),
        extra_rows.len(),
        extra_rows.iter().take(3).collect::<Vec<_>>(),
        partial.len(),
        faults.objects.load(Ordering::SeqCst)
    );
    assert_eq!(
        resumed["added"].as_u64().expect("added") + partial.len() as u64,
        full.len() as u64
    );

    // A server that sends no date headers: the cursor comes from the manifest, the same one.
    let e = dir.path().join("e.db");
    add(&e);
    faults.no_dates.store(true, Ordering::SeqCst);
    let (code, nodates) = sync(&e, "partner", &env);
    assert_eq!(code, 0, "{nodates}");
    assert_eq!(dump(&e), full);
    assert_eq!(
        listed(&e, "partner")["cursor"],
        listed(&b, "partner")["cursor"]
    );
    let (code, again) = sync(&e, "partner", &env);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["added"], 0);
    assert!(again["fetched"].as_u64().expect("n") <= 5, "{again}");
    faults.no_dates.store(false, Ordering::SeqCst);

    // HTTP Basic (the token as password, as Cairn's TAXII server takes it) works the same.
    let d = dir.path().join("d.db");
    ok(cairn(
        &d,
        &[
            "feed",
            "add",
            "partner",
            &discovery,
            "--kind",
            "taxii",
            "--collection",
            "Cairn: everything",
            "--user",
            "partner",
            "--password-env",
            "PARTNER_TOKEN",
        ],
        &[],
    ));
    let (code, basic) = sync(&d, "partner", &env);
    assert_eq!(code, 0, "{basic}");
    assert_eq!(dump(&d), full);
    // No secret in the store: only the variable's name.
    let row = listed(&d, "partner");
    assert_eq!(row["config"]["password_env"], "PARTNER_TOKEN");
    assert!(!row.to_string().contains(&token));
    let (code, unset) = sync(&d, "partner", &[]);
    assert_eq!(code, 2);
    assert!(
        unset["error"]
            .as_str()
            .unwrap_or_default()
            .contains("PARTNER_TOKEN"),
        "{unset}"
    );
}

// ---------------------------------------------------------------- MISP feed

fn active_indicators(db: &Path, event: &str) -> i64 {
    let c = rusqlite::Connection::open(db).expect("open");
    c.query_row(
        "SELECT COUNT(*) FROM objects WHERE kind = 'indicator' AND reference = ?1 AND withdrawn_at IS NULL",
        [format!("misp-event:{event}")],
        |r| r.get(0),
    )
    .expect("count")
}

#[test]
fn misp_feed_fetches_changed_events_only_and_withdraws_removed_ones() {
    let mut events = upstream::events();
    let files = Files::default();
    let publish = |events: &[(String, Value)]| upstream::publish(&files, events);
    publish(&events);
    let server = serve(upstream::file_router(&files));
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb.db");
    ok(cairn(
        &db,
        &[
            "feed",
            "add",
            "circl",
            &format!("{}/feed/", server.base),
            "--kind",
            "misp-feed",
        ],
        &[],
    ));

    let (code, first) = sync(&db, "circl", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["fetched"], 3);
    let mut hits = files.take_hits();
    hits.sort();
    assert_eq!(hits.len(), 4, "{hits:?}");
    assert!(hits.contains(&"manifest.json".to_string()));
    for u in EVENTS {
        assert!(active_indicators(&db, u) > 0, "{u} stored");
    }

    // Unchanged manifest: 304, nothing else asked for.
    let (code, same) = sync(&db, "circl", &[]);
    assert_eq!(code, 0);
    assert_eq!(same["status"], "not-modified");
    assert_eq!(files.take_hits(), vec!["manifest.json".to_string()]);

    // One event edited (an attribute dropped, timestamp moved), one removed from the manifest.
    let before = active_indicators(&db, EVENTS[1]);
    let edited = &mut events[1].1["Event"];
    let attrs = edited["Attribute"].as_array_mut().expect("attributes");
    let dropped = attrs
        .iter()
        .position(|a| a["to_ids"] == true)
        .expect("an IDS attribute");
    attrs.remove(dropped);
    let ts: i64 = edited["timestamp"]
        .as_str()
        .expect("ts")
        .parse()
        .expect("int");
    edited["timestamp"] = Value::String((ts + 60).to_string());
    let kept: Vec<(String, Value)> = events[1..].to_vec();
    publish(&kept);
    let gen_before = generation(&db);
    let (code, third) = sync(&db, "circl", &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!(third["fetched"], 1, "only the changed event: {third}");
    let mut hits = files.take_hits();
    hits.sort();
    assert_eq!(
        hits,
        vec![format!("{}.json", EVENTS[1]), "manifest.json".to_string()]
    );
    assert_eq!(
        active_indicators(&db, EVENTS[0]),
        0,
        "removed event withdrawn"
    );
    assert_eq!(
        active_indicators(&db, EVENTS[1]),
        before - 1,
        "dropped attribute withdrawn"
    );
    assert!(
        active_indicators(&db, EVENTS[2]) > 0,
        "untouched event kept"
    );
    assert!(third["withdrawn"].as_u64().expect("n") > 1);
    assert!(generation(&db) > gen_before);
    let row = listed(&db, "circl");
    assert_eq!(row["status"], "ok");
    assert_eq!(row["withdrawn"], third["withdrawn"]);
}

// ---------------------------------------------------------------- 304 and failures

#[derive(Clone, Default)]
struct Modes {
    mode: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
    conditional: Arc<AtomicUsize>,
}

const LIST: &str = "# a list\nkb.dga[.]asia\n45.77.153.197\nupdate.microsoftsupport.info\n";

async fn list(State(m): State<Modes>, headers: HeaderMap) -> Response {
    m.hits.fetch_add(1, Ordering::SeqCst);
    let mode = m.mode.lock().expect("lock").clone();
    let inm = headers.get("if-none-match").and_then(|v| v.to_str().ok());
    if inm.is_some() {
        m.conditional.fetch_add(1, Ordering::SeqCst);
    }
    match mode.as_str() {
        "500" => (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response(),
        "429-once" => {
            *m.mode.lock().expect("lock") = "ok".into();
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "0")],
                "slow down",
            )
                .into_response()
        }
        "badjson" => ([("etag", "\"j\"")], "{\"type\": \"bundle\", \"objects\": [").into_response(),
        "big" => Body::from("a.example\n".repeat(220_000)).into_response(),
        _ if inm == Some("\"v1\"") => StatusCode::NOT_MODIFIED.into_response(),
        _ => ([("etag", "\"v1\"")], LIST).into_response(),
    }
}

fn gzipped(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

/// The list gzip-encoded in transit (`Content-Encoding: gzip`).
async fn list_encoded() -> Response {
    ([("content-encoding", "gzip")], gzipped(LIST)).into_response()
}

/// The list as a `.gz` file.
async fn list_gz_file() -> Response {
    ([("content-type", "application/gzip")], gzipped(LIST)).into_response()
}

/// Answers every connection with a body shorter than its Content-Length.
fn truncating_server() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nkb.dga.asia\n");
        }
    });
    format!("http://{addr}/list.txt")
}

#[test]
fn not_modified_and_failures_leave_the_store_as_it_was() {
    let modes = Modes::default();
    *modes.mode.lock().expect("lock") = "ok".into();
    let server = serve(
        Router::new()
            .route("/list.txt", get(list))
            .route("/bundle.json", get(list))
            .route("/encoded.txt", get(list_encoded))
            .route("/list.txt.gz", get(list_gz_file))
            .with_state(modes.clone()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb.db");
    let add = |name: &str, url: &str, kind: &str, extra: &[&str]| {
        let mut args = vec!["feed", "add", name, url, "--kind", kind];
        args.extend_from_slice(extra);
        ok(cairn(&db, &args, &[]))
    };
    // Compressed in transit and compressed as a file: both read as the plain list.
    add(
        "encoded",
        &format!("{}/encoded.txt", server.base),
        "list",
        &[],
    );
    add(
        "gzfile",
        &format!("{}/list.txt.gz", server.base),
        "list",
        &[],
    );
    for feed in ["encoded", "gzfile"] {
        let (code, out) = sync(&db, feed, &[]);
        assert_eq!(code, 0, "{feed}: {out}");
        assert_eq!(out["added"], 3, "{feed}: three indicators: {out}");
    }
    add(
        "list",
        &format!("{}/list.txt", server.base),
        "list",
        &["--actor", "RedHotel", "--max-size", "1"],
    );
    let (code, first) = sync(&db, "list", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(listed(&db, "list")["etag"], "\"v1\"");
    // A list feed is kept in compact form, like `cairn ingest --format list`.
    let compact = dump(&db)
        .iter()
        .filter(|(t, s, ..)| t == "l" && s == "list")
        .count();
    assert_eq!(compact, 3, "{first}");
    // The three values and the actor they indicate.
    assert_eq!(first["added"], 4, "{first}");

    // 304: nothing transferred, nothing written.
    let (gen0, dump0) = (generation(&db), dump(&db));
    let (code, again) = sync(&db, "list", &[]);
    assert_eq!(code, 0);
    assert_eq!(again["status"], "not-modified");
    assert_eq!(modes.conditional.load(Ordering::SeqCst), 1);
    assert_eq!((generation(&db), dump(&db)), (gen0, dump0.clone()));
    assert_eq!(listed(&db, "list")["status"], "not-modified");

    // Each failure: exit 2, store untouched, the error on the feed.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = l.local_addr().expect("addr");
        drop(l);
        format!("http://{a}/list.txt")
    };
    add("refused", &dead, "list", &[]);
    add("truncated", &truncating_server(), "list", &[]);
    add("stix", &format!("{}/bundle.json", server.base), "stix", &[]);
    let cases: [(&str, &str, &str); 5] = [
        ("refused", "ok", "refused"),
        ("list", "500", "HTTP 500"),
        ("truncated", "ok", "truncated"),
        ("stix", "badjson", "JSON"),
        ("list", "big", "size limit"),
    ];
    for (feed, mode, expect) in cases {
        *modes.mode.lock().expect("lock") = mode.into();
        let hits_before = modes.hits.load(Ordering::SeqCst);
        let (code, out) = sync(&db, feed, &[]);
        assert_eq!(code, 2, "{feed}/{mode}: {out}");
        assert_eq!(out["status"], "failed");
        assert_eq!(generation(&db), gen0, "{feed}/{mode}: generation moved");
        assert_eq!(dump(&db), dump0, "{feed}/{mode}: statements changed");
        let row = listed(&db, feed);
        assert_eq!(row["status"], "failed");
        let err = row["error"].as_str().unwrap_or_default();
        assert!(
            err.to_lowercase().contains(&expect.to_lowercase()),
            "{feed}/{mode}: {err}"
        );
        if mode == "500" {
            // The first attempt and two retries.
            assert_eq!(modes.hits.load(Ordering::SeqCst) - hits_before, 3);
        }
    }
    // The list recovers (after one 429 with Retry-After, retried): the old validators
    // were kept through the failures, so it is not modified.
    *modes.mode.lock().expect("lock") = "429-once".into();
    let hits_before = modes.hits.load(Ordering::SeqCst);
    let (code, back) = sync(&db, "list", &[]);
    assert_eq!(code, 0, "{back}");
    assert_eq!(back["status"], "not-modified");
    assert_eq!(modes.hits.load(Ordering::SeqCst) - hits_before, 2);
    assert_eq!((generation(&db), dump(&db)), (gen0, dump0));
}

#[test]
fn serve_sync_runs_due_feeds_in_the_background() {
    let modes = Modes::default();
    *modes.mode.lock().expect("lock") = "ok".into();
    let upstream = serve(
        Router::new()
            .route("/list.txt", get(list))
            .with_state(modes.clone()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb.db");
    ok(cairn(
        &db,
        &[
            "feed",
            "add",
            "list",
            &format!("{}/list.txt", upstream.base),
            "--kind",
            "list",
        ],
        &[],
    ));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--db")
        .arg(&db)
        .args([
            "--quiet",
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--sync",
            "--sync-check",
            "1",
        ])
        .spawn()
        .expect("cairn serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut row = Value::Null;
    while std::time::Instant::now() < deadline {
        row = listed(&db, "list");
        if row["status"] == "ok" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The server takes requests while feeds run.
    let mut answered = false;
    while !answered && std::time::Instant::now() < deadline {
        answered = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(row["status"], "ok", "{row}");
    assert!(row["added"].as_u64().expect("n") >= 3);
    assert!(answered);
    assert_eq!(
        modes.hits.load(Ordering::SeqCst),
        1,
        "run once: next due in a day"
    );
}

#[test]
fn a_disabled_feed_is_skipped_until_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb.db");
    // Nothing listens there: a run of this feed fails.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = l.local_addr().expect("addr");
        drop(l);
        format!("http://{a}/list.txt")
    };
    ok(cairn(
        &db,
        &["feed", "add", "paused", &dead, "--kind", "list"],
        &[],
    ));
    ok(cairn(&db, &["feed", "disable", "paused"], &[]));
    assert_eq!(listed(&db, "paused")["enabled"], false);
    let all = cairn(&db, &["feed", "sync", "--json", "--retries", "0"], &[]);
    assert_eq!(all.status.code(), Some(0), "a disabled feed is not run");
    assert_eq!(listed(&db, "paused")["status"], "never");
    ok(cairn(&db, &["feed", "enable", "paused"], &[]));
    assert_eq!(listed(&db, "paused")["enabled"], true);
    let all = cairn(&db, &["feed", "sync", "--json", "--retries", "0"], &[]);
    assert_eq!(
        all.status.code(),
        Some(2),
        "enabled again, it runs (and fails)"
    );
    assert_eq!(listed(&db, "paused")["status"], "failed");
    let missing = cairn(&db, &["feed", "disable", "nope"], &[]);
    assert_eq!(missing.status.code(), Some(1));
}
