//! File scanning and certificates through the router: `POST /api/v1/scan`
//! and `GET /api/v1/cert/{query}` on a real signed sample, the same
//! findings the engine's `FileMatcher` gives directly, roles, the upload
//! limit, TLP clearance, and the scan and certificate pages.
//!
//! The sample is `codesign/signed-samples/uthenticode/64/pegoat-authenticode.exe`
//! (skipped without the datasets). Its signer's serial
//! `5c01626be30e6696475724efa09135f3` and issuer e-mail
//! `contact@trailofbits.com` are signify's reading of it
//! (`crates/codesign/tests/signify_expected.json`); the list below says it
//! leaked on 2020-01-01, for RedHotel, as `crates/cli/tests/scan.rs` does.

mod common;

use axum::body::Body;
use axum::http::Request;
use cairn_kb::{Role, Store};
use cairn_model::Tlp;
use cairn_serve::{App, Config};
use common::{Reply, get, post, send};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const SAMPLE: &str = "codesign/signed-samples/uthenticode/64/pegoat-authenticode.exe";
const SERIAL: &str = "5c01626be30e6696475724efa09135f3";

struct Setup {
    dir: tempfile::TempDir,
    app: App,
    reader: String,
    analyst: String,
}

impl Setup {
    fn db(&self) -> PathBuf {
        self.dir.path().join("cairn.db")
    }
}

/// A store holding one LOLCerts-style list naming the sample's signer,
/// ingested under `tlp` for RedHotel.
fn setup(tlp: Tlp, configure: impl FnOnce(&mut Config)) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("cairn.db");
    let list = dir.path().join("team-leaks.csv");
    std::fs::write(
        &list,
        "name,status,source,description,references,date,author,issuer,timestamp,serial\n\
         pegoat,revoked,leaked,Test certificate seen in an intrusion.,https://example.org/case-7,01-01-2020,team,contact@trailofbits.com,1577836800,5c:01:62:6b:e3:0e:66:96:47:57:24:ef:a0:91:35:f3\n",
    )
    .expect("write list");
    let mut store = Store::open(&db).expect("store");
    let opts = cairn_intake::Options {
        source: Some("team leaks".into()),
        actor: Some("RedHotel".into()),
        tlp: Some(tlp),
        ..cairn_intake::Options::default()
    };
    let bundle = cairn_intake::parse_path(&list, &opts).expect("the list parses");
    store
        .ingest(&bundle, Some("team-leaks.csv"), None)
        .expect("ingest");
    let reader = store.create_token("reader", Role::Reader).expect("token").0;
    let analyst = store
        .create_token("analyst", Role::Analyst)
        .expect("token")
        .0;
    drop(store);
    let mut config = Config::new(db);
    configure(&mut config);
    let app = App::open(config).expect("app");
    Setup {
        dir,
        app,
        reader,
        analyst,
    }
}

async fn upload(s: &Setup, uri: &str, token: Option<&str>, bytes: Vec<u8>) -> Reply {
    post(&s.app, uri, token, "application/octet-stream", bytes).await
}

fn assert_json_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    let ctype = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ctype.starts_with("application/json"), "{ctype}: {}", r.body);
    assert_eq!(r.json()["status"], status);
}

/// The findings `cairn scan --json` would print for `path`: the engine's
/// `FileMatcher` on a full store connection, renamed as the server names
/// uploads.
fn direct_findings(db: &Path, path: &Path, name: &str) -> Vec<Value> {
    let store = Store::open_existing(db).expect("store");
    let mut matcher = cairn_engine::FileMatcher::new(&store, HashMap::new());
    let plan = cairn_scan::Plan::new(&[cairn_scan::Input::Path(path.to_path_buf())]);
    let opts = cairn_scan::ScanOptions {
        threads: 1,
        ..cairn_scan::ScanOptions::default()
    };
    let given = path.display().to_string();
    let mut out = Vec::new();
    cairn_engine::scan_files(&mut matcher, &plan, &opts, &mut |_, found| {
        for mut f in found {
            f.file = f.file.replacen(&given, name, 1);
            out.push(serde_json::to_value(&f).expect("finding as JSON"));
        }
    })
    .expect("scan");
    out
}

/// `value`'s keys are exactly the schema's `required` (the document lists
/// every field, and nothing the JSON lacks).
fn assert_fields(doc: &Value, schema: &str, value: &Value) {
    let s = &doc["components"]["schemas"][schema];
    let mut required: Vec<&str> = s["required"]
        .as_array()
        .unwrap_or_else(|| panic!("{schema} documented"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("{schema} is an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    required.sort_unstable();
    keys.sort_unstable();
    assert_eq!(keys, required, "{schema}");
    let props = s["properties"].as_object().expect("properties");
    assert_eq!(props.len(), keys.len(), "{schema}: properties");
    for (k, p) in props {
        if let Some(allowed) = p["enum"].as_array() {
            assert!(allowed.contains(&value[k]), "{schema}.{k} = {}", value[k]);
        }
    }
}

#[tokio::test]
async fn a_listed_signer_is_a_certificate_finding_as_the_engine_gives_it() {
    let Some(exe) = cairn_testkit::dataset(SAMPLE) else {
        return;
    };
    let s = setup(Tlp::Amber, |_| {});
    let bytes = std::fs::read(&exe).expect("sample");
    let r = upload(
        &s,
        "/api/v1/scan?name=pegoat.exe",
        Some(&s.analyst),
        bytes.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["file"], "pegoat.exe");
    let findings = v["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{v}");
    let f = &findings[0];
    assert_eq!(f["kind"], "certificate");
    assert_eq!(f["file"], "pegoat.exe");
    assert_eq!(f["match"]["strength"], "serial+issuer");
    assert_eq!(f["match"]["value"], SERIAL);
    assert_eq!(f["signatures"][0]["serial"], SERIAL);
    assert_eq!(f["signatures"][0]["digest_ok"], true);
    assert_eq!(f["actors"][0]["name"], "RedHotel");
    assert_eq!(f["actors"][0]["via"], "indicated");
    assert_eq!(f["sources"][0]["source"], "team leaks");
    assert_eq!(f["sources"][0]["tlp"], "TLP:AMBER");
    assert_eq!(
        v["summary"],
        serde_json::json!({ "files": 1, "bytes": bytes.len(), "signed": 1, "matches": 1, "unreadable": 0 })
    );
    assert_eq!(v["recorded"], 0);

    // Parity: the engine's FileMatcher on the same file says the same.
    let direct = direct_findings(&s.db(), &exe, "pegoat.exe");
    assert_eq!(findings, &direct);

    // The JSON is the OpenAPI document's, field for field.
    let doc = get(&s.app, "/api/v1/openapi.json", None).await.json();
    let op = &doc["paths"]["/api/v1/scan"]["post"];
    let top = &op["responses"]["200"]["content"]["application/json"]["schema"];
    let mut want: Vec<&str> = top["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    want.sort_unstable();
    let mut got: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_fields(&doc, "Finding", f);
    assert_fields(&doc, "Match", &f["match"]);
    assert_fields(&doc, "SignatureSummary", &f["signatures"][0]);
    assert_fields(&doc, "ActorLink", &f["actors"][0]);
    assert_fields(&doc, "Provenance", &f["sources"][0]);
}

#[tokio::test]
async fn a_zip_is_opened_and_matches_can_be_recorded() {
    let Some(exe) = cairn_testkit::dataset(SAMPLE) else {
        return;
    };
    let s = setup(Tlp::Green, |_| {});
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bin/pegoat.exe", zip::write::SimpleFileOptions::default())
        .expect("entry");
    zip.write_all(&std::fs::read(&exe).expect("sample"))
        .expect("write entry");
    let bytes = zip.finish().expect("zip").into_inner();
    let r = upload(
        &s,
        "/api/v1/scan?name=samples.zip&record=true",
        Some(&s.analyst),
        bytes,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let findings = v["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["file"], "samples.zip!bin/pegoat.exe");
    assert_eq!(findings[0]["kind"], "certificate");
    assert_eq!(v["summary"]["files"], 2, "the zip and its entry");
    assert_eq!(v["recorded"], 1);
    // The sighting names the upload, not the server's scratch file.
    let store = Store::open_existing(&s.db()).expect("store");
    let keys = store.indicator_keys(SERIAL).expect("keys");
    assert_eq!(keys.len(), 1);
    let seen = store.sightings_of(keys[0]).expect("sightings");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].location, "samples.zip!bin/pegoat.exe");
}

#[tokio::test]
async fn scanning_needs_an_analyst_and_a_body_within_the_limit() {
    assert_eq!(Config::new("x.db".into()).max_scan_body, 32 << 20);
    let s = setup(Tlp::Green, |c| c.max_scan_body = 1024);
    // Readers are refused whatever the body; no token is a 401.
    for body in [vec![0u8; 10], vec![0u8; 4096]] {
        let r = upload(&s, "/api/v1/scan", Some(&s.reader), body).await;
        assert_json_error(&r, 403);
    }
    assert_json_error(&upload(&s, "/api/v1/scan", None, vec![1, 2, 3]).await, 401);
    // Over the limit: the API's JSON 413; at the limit: scanned.
    let r = upload(&s, "/api/v1/scan", Some(&s.analyst), vec![0u8; 1025]).await;
    assert_json_error(&r, 413);
    let r = upload(&s, "/api/v1/scan", Some(&s.analyst), vec![0u8; 1024]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["file"], "upload");
    assert_eq!(v["findings"], serde_json::json!([]), "unsigned, unknown");
    assert_eq!(v["summary"]["bytes"], 1024);
    // An empty body is an empty file; bad parameters are 400s.
    let r = upload(&s, "/api/v1/scan", Some(&s.analyst), Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let long = "a".repeat(256);
    let r = upload(
        &s,
        &format!("/api/v1/scan?name={long}"),
        Some(&s.analyst),
        vec![1],
    )
    .await;
    assert_json_error(&r, 400);
    let r = upload(&s, "/api/v1/scan?record=maybe", Some(&s.analyst), vec![1]).await;
    assert_json_error(&r, 400);
}

#[tokio::test]
async fn a_certificate_report_follows_the_callers_clearance() {
    // AMBER: a reader may see it, by any spelling of the serial.
    let s = setup(Tlp::Amber, |_| {});
    for q in [
        SERIAL,
        "5c%3A01%3A62%3A6b%3Ae3%3A0e%3A66%3A96%3A47%3A57%3A24%3Aef%3Aa0%3A91%3A35%3Af3",
    ] {
        let r = get(&s.app, &format!("/api/v1/cert/{q}"), Some(&s.reader)).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let v = r.json();
        assert_eq!(v["serials"], serde_json::json!([SERIAL]), "{v}");
        assert_eq!(v["issuers"], serde_json::json!(["contact@trailofbits.com"]));
        let st = v["statements"].as_array().expect("statements");
        assert_eq!(st.len(), 1);
        assert_eq!(st[0]["source"], "team leaks");
        assert_eq!(st[0]["tlp"], "TLP:AMBER");
        assert_eq!(
            st[0]["certificate"]["compromised_since"],
            "2020-01-01T00:00:00.000Z"
        );
        assert_eq!(v["actors"][0]["name"], "RedHotel");
        let doc = get(&s.app, "/api/v1/openapi.json", None).await.json();
        assert_fields(&doc, "CertReport", &v);
        assert_fields(&doc, "CertStatement", &st[0]);
        assert_fields(&doc, "ActorLink", &v["actors"][0]);
    }
    assert_json_error(
        &get(&s.app, "/api/v1/cert/0badc0de0badc0de", Some(&s.reader)).await,
        404,
    );
    assert_json_error(
        &get(&s.app, "/api/v1/cert/x?samples=-1", Some(&s.reader)).await,
        400,
    );
    assert_json_error(
        &get(&s.app, &format!("/api/v1/cert/{SERIAL}"), None).await,
        401,
    );

    // RED: above a reader's clearance (TLP:AMBER and below), so for a
    // reader no statement names it; an analyst sees it.
    let s = setup(Tlp::Red, |_| {});
    let uri = format!("/api/v1/cert/{SERIAL}");
    assert_json_error(&get(&s.app, &uri, Some(&s.reader)).await, 404);
    let r = get(&s.app, &uri, Some(&s.analyst)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["statements"][0]["tlp"], "TLP:RED");
}

/// Signs in with `token`; returns the session cookie.
async fn sign_in(s: &Setup, token: &str) -> String {
    common::sign_in(&s.app, token).await
}

async fn page(s: &Setup, cookie: &str, uri: &str) -> Reply {
    send(
        &s.app,
        Request::get(uri)
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn the_scan_page_posts_with_csrf_and_shows_the_finding() {
    let Some(exe) = cairn_testkit::dataset(SAMPLE) else {
        return;
    };
    let s = setup(Tlp::Amber, |_| {});
    let reader = sign_in(&s, &s.reader).await;
    assert_eq!(page(&s, &reader, "/scan").await.status, 403);
    let analyst = sign_in(&s, &s.analyst).await;
    let home = page(&s, &analyst, "/").await;
    assert!(home.body.contains("href=\"/scan\""), "the tool is linked");
    let form = page(&s, &analyst, "/scan").await;
    assert_eq!(form.status, 200);
    let csrf = csrf_of(&form.body);
    let exe_bytes = std::fs::read(&exe).expect("sample");
    let multipart = |csrf: &str| {
        let b = "XBOUNDARYX";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pegoat.exe\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&exe_bytes);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={b}"), body)
    };
    for (given, want) in [("forged", 403), (csrf.as_str(), 200)] {
        let (ctype, body) = multipart(given);
        let r = send(
            &s.app,
            Request::post("/scan")
                .header("cookie", &analyst)
                .header("content-type", ctype)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
        assert_eq!(r.status, want, "csrf {given}: {}", r.body);
        if want == 200 {
            for shown in [
                "<p class=\"verdict hit\">1 match(es)",
                "pegoat.exe",
                "serial+issuer",
                "not timestamped",
                "digest ok",
                "/actor/RedHotel",
                "team leaks",
                &format!("/cert/{SERIAL}"),
            ] {
                assert!(r.body.contains(shown), "{shown} not shown: {}", r.body);
            }
        }
    }
}

#[tokio::test]
async fn the_certificate_page_lists_statements_actors_and_hides_above_clearance() {
    let s = setup(Tlp::Amber, |_| {});
    let reader = sign_in(&s, &s.reader).await;
    let r = page(&s, &reader, &format!("/cert/{SERIAL}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for shown in [
        SERIAL,
        "contact@trailofbits.com",
        "team leaks",
        "TLP:AMBER",
        "2020-01-01T00:00:00.000Z",
        "/actor/RedHotel",
        "(indicated)",
    ] {
        assert!(r.body.contains(shown), "{shown} not shown: {}", r.body);
    }
    assert_eq!(
        page(&s, &reader, "/cert/0badc0de0badc0de").await.status,
        404
    );
    let s = setup(Tlp::Red, |_| {});
    let reader = sign_in(&s, &s.reader).await;
    assert_eq!(
        page(&s, &reader, &format!("/cert/{SERIAL}")).await.status,
        404
    );
}

#[tokio::test]
async fn the_scan_page_refuses_a_file_over_the_limit() {
    let s = setup(Tlp::Green, |c| c.max_scan_body = 1024);
    let analyst = sign_in(&s, &s.analyst).await;
    let csrf = csrf_of(&page(&s, &analyst, "/scan").await.body);
    let b = "XBOUNDARYX";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n"
    )
    .into_bytes();
    // Past the file limit and the form's allowance for its other fields.
    body.extend(std::iter::repeat_n(b'x', 100 << 10));
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let r = send(
        &s.app,
        Request::post("/scan")
            .header("cookie", &analyst)
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    // Within the form's allowance but over the file limit: refused too.
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(b'x', 1025));
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let r = send(
        &s.app,
        Request::post("/scan")
            .header("cookie", &analyst)
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
}
