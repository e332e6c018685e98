//! `cairn feed` on PostgreSQL: the same feeds — a Cairn server's TAXII 2.1
//! collection, a MISP feed of real CIRCL OSINT events, a plain list — synced
//! over loopback into a database and into an embedded store leave the same
//! statements, the same subscriptions' state, and withdraw the same things
//! when upstream changes.

mod support;

mod upstream;

use serde_json::Value;
use std::path::Path;
use support::ok;
use upstream::{Files, serve};

fn cairn(db: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    c.arg("--db").arg(db).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cairn")
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
    let events = upstream::events();
    let files = Files::default();
    upstream::publish(&files, &events);
    // Not reserved names: the export drops warninglisted values.
    files.put(
        "ember.txt",
        b"update.ember-cdn.top\n103.79.77[.]200\n".to_vec(),
    );
    let web = serve(upstream::file_router(&files));

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
    upstream::publish(&files, &events[..2]);
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

/// Servers killed when the test ends, however it ends.
struct Servers(Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn servers_syncing_one_database_fetch_each_due_feed_once() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let files = Files::default();
    files.put(
        "ember.txt",
        b"update.ember-cdn.top\nstage.ember-cdn.top\n".to_vec(),
    );
    let web = serve(upstream::file_router(&files));
    let pg = cairn_pg::admin::Scratch::new(&server, "lease").expect("database");
    let db = Path::new(pg.url());
    let url = format!("{}/feed/ember.txt", web.base);
    ok(&cairn(
        db,
        &["feed", "add", "ember", &url, "--kind", "list"],
        &[],
    ));
    // Three servers look for due feeds every second, starting together.
    let mut servers = Servers(Vec::new());
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        servers.0.push(
            std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
                .arg("--db")
                .arg(db)
                .args(["--quiet", "serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(["--sync", "--sync-check", "1"])
                .spawn()
                .expect("cairn serve"),
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = || -> Value {
        let v: Value =
            serde_json::from_str(&ok(&cairn(db, &["feed", "list", "--json"], &[]))).expect("list");
        v[0]["status"].clone()
    };
    while status() != "ok" {
        assert!(
            std::time::Instant::now() < deadline,
            "no server ran the feed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Several more looks by every server: the feed is next due in a day.
    std::thread::sleep(std::time::Duration::from_secs(4));
    drop(servers);
    let fetched = files
        .take_hits()
        .iter()
        .filter(|h| *h == "ember.txt")
        .count();
    assert_eq!(fetched, 1, "one fetch between three servers");
}
