//! The CLI and the server hunt through one engine: the same store and the
//! same log give the same alerts, counts and sightings from
//! `cairn hunt --json --record` and `POST /api/v1/hunt?record=true`.
//! One table of cases; each runs both surfaces on copies of one store.

use axum::body::Body;
use axum::http::Request;
use cairn_kb::{Role, Store};
use cairn_serve::{App, Config};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use tower::ServiceExt;

/// An indicator list: file name, body, actor (if any), source.
type List = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

struct Case {
    name: &'static str,
    lists: Vec<List>,
    /// Other intel files, e.g. a MISP warninglist.
    intel: Vec<(&'static str, String)>,
    log_name: &'static str,
    log: Vec<u8>,
}

const ZEEK_DNS_HEAD: &str = "#separator \\x09\n#set_separator\t,\n#fields\tts\tuid\tquery\tanswers\n#types\ttime\tstring\tstring\tvector[string]\n";

fn cases() -> Vec<Case> {
    // More hits than the server ever returned before its engine was the
    // CLI's: every one must still be counted and recorded.
    let mut conn = String::from(
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\n#types\ttime\tstring\taddr\taddr\n",
    );
    for i in 0..25_000u32 {
        let resp = if i % 10 == 9 {
            "8.8.8.8".to_string()
        } else {
            format!("5.188.33.{}", i % 250)
        };
        conn.push_str(&format!(
            "{}.{:06}\tC{i}\t10.0.0.{}\t{resp}\n",
            1_685_577_600 + i64::from(i),
            i % 1_000_000,
            i % 200
        ));
    }
    vec![
        Case {
            name: "zeek dns: subdomains, answers, epoch times",
            lists: vec![(
                "redhotel.txt",
                "dga[.]asia\n45.77.153[.]197\n",
                Some("RedHotel"),
                "Insikt",
            )],
            intel: vec![],
            log_name: "dns.log",
            log: format!(
                "{ZEEK_DNS_HEAD}1685577600.100000\tC1\tkb.dga.asia\t45.77.153.197,1.1.1.1\n\
                 1685577601.200000\tC2\tnotdga.asia\t-\n\
                 1685577602.300000\tC3\tdga.asia\t-\n\
                 1685577599.000000\tC4\twww.google.com\t45.77.153.197\n"
            )
            .into_bytes(),
        },
        Case {
            name: "json lines: a value two sources hold, ISO times with offsets",
            lists: vec![
                ("a.txt", "dga[.]asia\n", Some("RedHotel"), "feed-a"),
                (
                    "b.txt",
                    "dga[.]asia\n103.159.132[.]80\n",
                    Some("Earth Lusca"),
                    "feed-b",
                ),
                // A second source for RedHotel's value: still one hit for RedHotel.
                ("c.txt", "dga[.]asia\n", Some("RedHotel"), "feed-c"),
            ],
            intel: vec![],
            log_name: "proxy.jsonl",
            log: concat!(
                r#"{"@timestamp":"2023-06-01T02:00:00+02:00","host":"kb.dga.asia","dst":"103.159.132.80"}"#,
                "\n",
                r#"{"@timestamp":"2023-05-31T23:30:00Z","host":"dga.asia","dst":"9.9.9.9"}"#,
                "\n",
                r#"{"@timestamp":"2023-06-02T00:00:00.5Z","host":"other.asia","dst":"103.159.132.80"}"#,
                "\n"
            )
            .as_bytes()
            .to_vec(),
        },
        Case {
            name: "no actor, CIDR, URL, warninglisted values never alert",
            lists: vec![
                (
                    "mixed.txt",
                    "5.188.33.0/24\nhxxp://evil-c[.]net/gate.php\n10.0.0.5\ngithub[.]com\n",
                    None,
                    "scratch",
                ),
                ("tag22.txt", "evil-c[.]net\n", Some("TAG-22"), "feed-t"),
            ],
            intel: vec![(
                "github-list.json",
                r#"{"name":"GitHub","version":1,"description":"d","type":"hostname","matching_attributes":["hostname","domain","url"],"list":["github.com"]}"#
                    .to_string(),
            )],
            log_name: "http.jsonl",
            log: concat!(
                r#"{"ts":"2023-06-01T00:00:00Z","url":"http://evil-c.net/gate.php?id=1","ip":"5.188.33.7"}"#,
                "\n",
                r#"{"ts":"2023-06-01T00:00:01Z","url":"http://www.github.com/x","ip":"10.0.0.5"}"#,
                "\n",
                r#"{"ts":"2023-06-01T00:00:02Z","url":"http://a.evil-c.net/","ip":"5.188.34.7"}"#,
                "\n"
            )
            .as_bytes()
            .to_vec(),
        },
        Case {
            name: "more than 20,000 hits",
            lists: vec![("bulk.txt", "5.188.33.0/24\n", Some("Bulk Panda"), "feed-z")],
            intel: vec![],
            log_name: "conn.log",
            log: conn.into_bytes(),
        },
    ]
}

fn cairn(db: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("CAIRN_DB")
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home)
        .output()
        .expect("cairn runs");
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "cairn {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A store holding the case's intel, copied for each surface.
fn stores(case: &Case, dir: &Path) -> (PathBuf, PathBuf) {
    let cli = dir.join("cli.db");
    for (file, body, actor, source) in &case.lists {
        let p = dir.join(file);
        std::fs::write(&p, body).expect("write list");
        let mut args = vec![
            "ingest",
            p.to_str().expect("utf-8 path"),
            "--format",
            "list",
            "--source",
            source,
        ];
        if let Some(a) = actor {
            args.extend(["--actor", a]);
        }
        cairn(&cli, dir, &args);
    }
    for (file, body) in &case.intel {
        let p = dir.join(file);
        std::fs::write(&p, body).expect("write intel");
        cairn(&cli, dir, &["ingest", p.to_str().expect("utf-8 path")]);
    }
    let srv = dir.join("srv.db");
    std::fs::copy(&cli, &srv).expect("copy store");
    (cli, srv)
}

/// Per actor: hits, each alert counting once per actor it names.
fn by_actor(alerts: &[Value]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for a in alerts {
        let names: BTreeSet<&str> = a["actors"]
            .as_array()
            .expect("actors")
            .iter()
            .filter_map(|x| x["name"].as_str())
            .collect();
        for n in names {
            *out.entry(n.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// Every sighting: (indicator STIX id, count, first, last, where).
fn sightings(db: &Path) -> BTreeSet<(String, i64, String, String, String)> {
    let c = rusqlite::Connection::open(db).expect("open store");
    let mut q = c
        .prepare(
            // A list value (key 2^31 + its row) has no stored STIX id: its
            // source, kind and value name it as uniquely.
            "SELECT COALESCE(o.stix_id, 'list:' || s.name || ':' || v.kind || ':' || v.value), \
               g.count, g.first_seen, g.last_seen, g.location \
             FROM sightings g LEFT JOIN objects o ON o.id = g.object_id \
             LEFT JOIN list_values v ON v.id = g.object_id - 2147483648 \
             LEFT JOIN sources s ON s.id = v.source_id \
             WHERE o.id IS NOT NULL OR v.id IS NOT NULL",
        )
        .expect("query");
    q.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("sightings")
}

fn base_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_and_server_give_the_same_alerts_counts_and_sightings() {
    for case in cases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cli_db, srv_db) = stores(&case, dir.path());
        let log = dir.path().join(case.log_name);
        std::fs::write(&log, &case.log).expect("write log");

        // The CLI: every alert as a JSON line, the summary on stderr.
        let out = cairn(
            &cli_db,
            dir.path(),
            &["hunt", "--json", "--record", log.to_str().expect("utf-8")],
        );
        let mut cli_alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("alert JSON"))
            .collect();
        for a in &mut cli_alerts {
            let f = base_name(a["file"].as_str().expect("file"));
            a["file"] = Value::String(f);
        }
        cli_alerts.sort_by_key(|a| a["line"].as_u64());
        let stderr = String::from_utf8_lossy(&out.stderr);

        // The server, on a copy of the same store.
        let token = Store::open(&srv_db)
            .expect("store")
            .create_token("parity", Role::Analyst)
            .expect("token")
            .0;
        let app = App::open(Config::new(srv_db.clone())).expect("server opens");
        let req = Request::post(format!("/api/v1/hunt?name={}&record=true", case.log_name))
            .header("Authorization", format!("Bearer {token}"))
            .body(Body::from(case.log.clone()))
            .expect("request");
        let res = app.router().oneshot(req).await.expect("router answers");
        assert_eq!(res.status(), 200, "{}", case.name);
        let body = res.into_body().collect().await.expect("body").to_bytes();
        let srv: Value = serde_json::from_slice(&body).expect("hunt JSON");

        let name = case.name;
        let hits = cli_alerts.len() as u64;
        assert!(hits > 0, "{name}: the case must hit");
        assert_eq!(srv["hits"].as_u64(), Some(hits), "{name}: hits");
        assert!(
            stderr.contains(&format!(
                "{hits} hit(s) on {} indicator(s)",
                srv["indicators"]
            )),
            "{name}: {stderr}"
        );
        let limit = srv["alert_limit"].as_u64().expect("alert_limit") as usize;
        let srv_alerts = srv["alerts"].as_array().expect("alerts");
        assert_eq!(srv_alerts.len(), cli_alerts.len().min(limit), "{name}");
        assert_eq!(srv["truncated"], Value::Bool(cli_alerts.len() > limit));
        assert_eq!(srv_alerts[..], cli_alerts[..srv_alerts.len()], "{name}");
        let srv_by_actor: BTreeMap<String, u64> =
            serde_json::from_value(srv["by_actor"].clone()).expect("by_actor");
        assert_eq!(srv_by_actor, by_actor(&cli_alerts), "{name}: by actor");
        for (actor, n) in &srv_by_actor {
            assert!(
                stderr
                    .lines()
                    .any(|l| l.trim_start().starts_with(actor.as_str())
                        && l.split_whitespace().rev().nth(1) == Some(&n.to_string())),
                "{name}: the CLI's summary row for {actor}: {stderr}"
            );
        }

        // Sightings: the same rows, the inputs named by their file names.
        let cli_rows: BTreeSet<_> = sightings(&cli_db)
            .into_iter()
            .map(|(id, n, f, l, w)| (id, n, f, l, base_name(&w)))
            .collect();
        let srv_rows = sightings(&srv_db);
        assert!(!cli_rows.is_empty(), "{name}");
        assert_eq!(srv["recorded"].as_u64(), Some(srv_rows.len() as u64));
        assert_eq!(cli_rows, srv_rows, "{name}: sightings");
        let counted: i64 = srv_rows.iter().map(|r| r.1).sum();
        assert!(counted as u64 >= hits, "{name}: every hit recorded");
    }
}
