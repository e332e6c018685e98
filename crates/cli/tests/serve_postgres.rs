//! `cairn serve` on PostgreSQL: two servers on one database answer as one
//! server on the embedded store does, share tokens and revocations, and
//! follow each other's writes (the store's generation moves both caches).

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::ok;

/// A `cairn serve` killed when the test ends, however it ends.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(db: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--db")
            .arg(db)
            .args(["--quiet", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cairn serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, port }
    }

    /// One request (HTTP/1.0, no client crate for a handful): status and JSON body.
    fn call(&self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let json = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
        (status, json)
    }

    fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("GET", path, token, b"")
    }

    /// What a lookup of `value` finds, without the store's own row keys
    /// (each backend numbers its rows).
    fn lookup(&self, value: &str, token: &str) -> Value {
        let (status, mut v) = self.get(&format!("/api/v1/indicators/lookup?value={value}"), token);
        assert_eq!(status, 200, "{v}");
        for m in v["matches"].as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("key");
        }
        v
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cairn(db: &Path, args: &[&str]) -> String {
    ok(&support::cairn(db, args))
}

/// A new token's secret.
fn token(db: &Path, name: &str, role: &str) -> String {
    let out: Value = serde_json::from_str(&cairn(
        db,
        &["token", "create", "--name", name, "--role", role, "--json"],
    ))
    .unwrap();
    out["token"].as_str().unwrap().to_string()
}

/// Polls `f` until it holds or `secs` pass; whether it held.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

#[test]
fn two_servers_on_one_database_answer_as_the_embedded_store_does() {
    let Some(server) = cairn_testkit::postgres() else {
        return;
    };
    let Some(list) = cairn_testkit::dataset("insikt/tag-22-2021-indicators.txt") else {
        return;
    };
    let list = list.to_str().unwrap();
    let pg = cairn_pg::admin::Scratch::new(&server, "serve").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kb.db");
    let url = Path::new(pg.url());
    // Ours, marked TLP:RED: a reader must not see it through either server.
    let ours = dir.path().join("ours.txt");
    std::fs::write(&ours, "dga[.]asia\n45.77.153[.]197\n").unwrap();
    for db in [file.as_path(), url] {
        cairn(
            db,
            &["ingest", list, "--actor", "TAG-22", "--source", "insikt"],
        );
        cairn(
            db,
            &[
                "ingest",
                ours.to_str().unwrap(),
                "--format",
                "list",
                "--actor",
                "RedHotel",
                "--source",
                "our team",
                "--tlp",
                "red",
            ],
        );
    }
    let embedded = Server::start(&file);
    let (a, b) = (Server::start(url), Server::start(url));
    let e_admin = token(&file, "admin", "admin");
    let e_reader = token(&file, "reader", "reader");
    // One token, made once, works on both database servers.
    let admin = token(url, "admin", "admin");
    let reader = token(url, "reader", "reader");

    let values = [
        "coivo2xo.livehost.live",
        "www.wvt.livehost.live",
        "kb.dga.asia",
        "45.77.153.197",
        "example.org",
    ];
    for v in values {
        let want = embedded.lookup(v, &e_admin);
        assert_eq!(a.lookup(v, &admin), want, "analyst lookup of {v}, server A");
        assert_eq!(b.lookup(v, &admin), want, "analyst lookup of {v}, server B");
        let want = embedded.lookup(v, &e_reader);
        assert_eq!(a.lookup(v, &reader), want, "reader lookup of {v}, server A");
        assert_eq!(b.lookup(v, &reader), want, "reader lookup of {v}, server B");
    }
    assert_eq!(a.lookup("coivo2xo.livehost.live", &admin)["found"], true);
    assert_eq!(a.lookup("kb.dga.asia", &admin)["found"], true);
    // TLP:RED stays with analysts: PostgreSQL's row-level security hides it.
    assert_eq!(b.lookup("kb.dga.asia", &reader)["found"], false);
    let (status, s) = b.get("/api/v1/search?q=earth%20lusca", &reader);
    assert_eq!(status, 200, "{s}");
    let sources = |v: Value| v["store"]["sources"].as_array().map_or(0, Vec::len);
    assert_eq!(sources(a.get("/api/v1/stats", &admin).1), 2);
    assert_eq!(
        sources(b.get("/api/v1/stats", &reader).1),
        sources(embedded.get("/api/v1/stats", &e_reader).1),
        "the sources a reader sees"
    );

    // Actor profiles: resolved across sources as on the embedded store,
    // and RedHotel (named only by our TLP:RED list) hidden from readers.
    for (name, found_by_reader) in [("RedHotel", false), ("TAG-22", true), ("tag%2022", true)] {
        let path = format!("/api/v1/actors/{name}");
        for (theirs, ours, reads) in [
            (&e_admin, &admin, true),
            (&e_reader, &reader, found_by_reader),
        ] {
            let (status, mut want) = embedded.get(&path, theirs);
            assert_eq!(status, if reads { 200 } else { 404 }, "{name}: {want}");
            let (got_status, mut got) = b.get(&path, ours);
            assert_eq!(got_status, status, "{name}: {got}");
            for p in [&mut want, &mut got] {
                if let Some(m) = p["members"].as_array_mut() {
                    m.sort_by_key(|m| m.to_string());
                }
            }
            assert_eq!(got, want, "profile of {name}");
        }
    }

    // An actor's indicator list, keys aside (each backend numbers its rows).
    for name in ["TAG-22", "RedHotel"] {
        let path = format!("/api/v1/actors/{name}/indicators?limit=500");
        let strip = |(status, mut v): (u16, Value)| {
            if let Some(rows) = v["indicators"].as_array_mut() {
                for r in rows.iter_mut() {
                    r.as_object_mut().unwrap().remove("key");
                }
                rows.sort_by_key(|r| r.to_string());
            }
            (status, v)
        };
        let want = strip(embedded.get(&path, &e_admin));
        assert_eq!(want.0, 200, "{name}: {}", want.1);
        assert!(want.1["total"].as_u64().unwrap() >= 2, "{name}: {}", want.1);
        assert_eq!(strip(a.get(&path, &admin)), want, "{name}, analyst");
        assert_eq!(
            strip(b.get(&path, &reader)),
            strip(embedded.get(&path, &e_reader)),
            "{name}, reader"
        );
    }

    // Sensor exports, as a sensor's cron pulls them: the same file from
    // either backend; the reader's capped below our TLP:RED list.
    for (path, has) in [
        ("/api/v1/export/csv?tlp_max=red", "livehost.live"),
        ("/api/v1/export/csv?tlp_max=red&actor=RedHotel", "dga.asia"),
        // Links back name one address, whichever server wrote them.
        (
            "/api/v1/export/zeek-intel?actor=TAG-22&url_base=http://cairn.test",
            "livehost.live",
        ),
    ] {
        let body = |s: &Server, t: &str| -> (u16, String) {
            let (status, v) = s.get(path, t);
            let text = match v.as_str() {
                Some(t) => t
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join("\n"),
                None => v.to_string(),
            };
            (status, text)
        };
        let want = body(&embedded, &e_admin);
        assert_eq!(want.0, 200, "{path}: {}", want.1);
        assert!(want.1.contains(has), "{path}: {}", want.1);
        assert_eq!(body(&a, &admin), want, "{path}, analyst");
        let want = body(&embedded, &e_reader);
        assert!(!want.1.contains("dga.asia"), "{path}: RED reached a reader");
        assert_eq!(body(&b, &reader), want, "{path}, reader");
    }

    // A write through one server reaches the other: the store's generation
    // moves, B's engines rebuild on their next look.
    let new = b"grid.example-c2.net\n";
    let (status, report) = a.call(
        "POST",
        "/api/v1/ingest?name=new.txt&format=list&actor=RedHotel&source=desk&tlp=green",
        &admin,
        new,
    );
    assert_eq!(status, 200, "{report}");
    assert!(
        eventually(30, || b.lookup("x.grid.example-c2.net", &reader)["found"]
            == true),
        "server B never saw server A's ingest"
    );

    // A hunt uploaded to B, recorded: its sightings are read back through A.
    let log =
        b"{\"ts\":1,\"query\":\"coivo2xo.livehost.live\"}\n{\"ts\":2,\"query\":\"example.org\"}\n";
    let (status, hunt) = b.call("POST", "/api/v1/hunt?name=dns.log&record=true", &admin, log);
    assert_eq!(status, 200, "{hunt}");
    // The name itself and its parent domain, both on TAG-22's list.
    assert_eq!(hunt["hits"], 2, "{hunt}");
    assert_eq!(hunt["recorded"], 2, "{hunt}");
    let (_, found) = a.get(
        "/api/v1/indicators/lookup?value=coivo2xo.livehost.live",
        &admin,
    );
    let key = found["matches"][0]["key"].as_u64().unwrap();
    let (status, sightings) = a.get(&format!("/api/v1/indicators/{key}/sightings"), &reader);
    assert_eq!(status, 200, "{sightings}");
    assert_eq!(sightings["sightings"].as_array().unwrap().len(), 1);

    // What needs the embedded store says so instead of failing obscurely.
    let (status, v) = a.get("/api/v1/actors/RedHotel/stix", &admin);
    assert_eq!(status, 501, "{v}");
    assert!(v.to_string().contains("PostgreSQL"), "{v}");

    // A token revoked through A stops working on B too.
    let (status, v) = a.call("DELETE", "/api/v1/tokens/reader", &admin, b"");
    assert_eq!(status, 200, "{v}");
    assert!(
        eventually(20, || b.get("/api/v1/stats", &reader).0 == 401),
        "the revoked token still works on server B"
    );
    assert_eq!(b.get("/api/v1/stats", &admin).0, 200);
}
