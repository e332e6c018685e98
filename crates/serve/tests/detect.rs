//! The attribution page reading an uploaded EVTX with the store's Sigma
//! rules: SigmaHQ's Windows rules and ATT&CK 18.1 in the store, a real
//! pass-the-hash sample uploaded, the ranking shown with the detections'
//! techniques as evidence (skipped without the datasets).

mod common;

use axum::body::Body;
use axum::http::Request;
use cairn_kb::{Role, Store};
use cairn_serve::{App, Config};
use common::{send, sign_in};

#[tokio::test]
async fn the_attribution_page_reads_an_uploaded_evtx_with_the_stores_sigma_rules() {
    let Some(root) = cairn_testkit::datasets(&["sigma", "evtx", "attack"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("cairn.db");
    let mut store = Store::open(&db).expect("store");
    let opts = cairn_intake::Options::default();
    let attack = root.join("attack/enterprise-attack-18.1.json");
    let bundle = cairn_intake::parse_path(&attack, &opts).expect("ATT&CK parses");
    store
        .ingest(&bundle, Some("enterprise-attack-18.1.json"), None)
        .expect("ingest");
    let rules_dir = root.join("sigma/rules/windows");
    let packed = cairn_intake::pack_sigma_dir(&rules_dir).expect("pack");
    let rules = cairn_intake::parse_bytes(
        &rules_dir,
        &packed,
        &cairn_intake::Options {
            source: Some("SigmaHQ".into()),
            ..cairn_intake::Options::default()
        },
    )
    .expect("rules parse");
    store
        .ingest(&rules, Some("rules/windows"), None)
        .expect("ingest rules");
    let token = store.create_token("reader", Role::Reader).expect("token").0;
    drop(store);
    let app = App::open(Config::new(db)).expect("app");
    let cookie = sign_in(&app, &token).await;
    let form = send(
        &app,
        Request::get("/attribute")
            .header("cookie", &cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(".evtx"), "the form offers event logs");
    let at = form.body.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = form.body[at..]
        .split('"')
        .next()
        .expect("value")
        .to_string();
    let evtx = std::fs::read(
        root.join("evtx/TA0008-Lateral Movement/T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx"),
    )
    .expect("sample");
    let b = "XBOUNDARYX";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pth.evtx\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&evtx);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let r = send(
        &app,
        Request::post("/attribute")
            .header("cookie", &cookie)
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for shown in [
        "Candidates for pth.evtx",
        "id=\"detections\"",
        "T1550.002",
        "class=\"candidate\"",
    ] {
        assert!(r.body.contains(shown), "{shown} not shown: {}", r.body);
    }
}
