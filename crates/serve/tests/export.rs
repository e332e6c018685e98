//! `GET /api/v1/export/{format}` through the router: tokens, the reader's
//! TLP ceiling whatever it asks for, errors as JSON, Suricata's files.

mod common;
use common::*;

const FORMATS: &[&str] = &["zeek-intel", "suricata-dataset", "rpz", "csv", "ecs-ndjson"];

#[tokio::test]
async fn exports_need_a_token_and_answer_errors_in_json() {
    let f = fixture();
    for fmt in FORMATS {
        let uri = format!("/api/v1/export/{fmt}");
        let r = get(&f.app, &uri, None).await;
        assert_eq!(r.status, 401, "{uri}");
        assert!(r.json()["error"].is_string());
        let r = get(&f.app, &uri, Some(&f.reader)).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.body);
    }
    let r = get(&f.app, "/api/v1/export/snort", Some(&f.reader)).await;
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("zeek-intel"))
    );
    let r = get(&f.app, "/api/v1/export/csv?tlp_max=purple", Some(&f.reader)).await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("tlp_max"))
    );
    let r = get(
        &f.app,
        "/api/v1/export/csv?since=yesterday-ish",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.status, 400);
    // Empty parameters (a script's unset variable) are absent ones.
    let all = get(&f.app, "/api/v1/export/csv", Some(&f.reader)).await;
    let empty = get(
        &f.app,
        "/api/v1/export/csv?since=&actor=&tlp_max=&url_base=",
        Some(&f.reader),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body, all.body);
    let r = get(
        &f.app,
        "/api/v1/export/csv?actor=Nobody%20Panda",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
}

#[tokio::test]
async fn readers_never_get_red_or_amber_strict() {
    let f = fixture();
    for ask in ["", "?tlp_max=red", "?tlp_max=amber%2Bstrict"] {
        let r = get(
            &f.app,
            &format!("/api/v1/export/zeek-intel{ask}"),
            Some(&f.reader),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/plain")
        );
        let mut lines = r.body.lines();
        assert_eq!(
            lines.next(),
            Some(
                "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice"
            )
        );
        assert!(
            r.body.contains("evil-c2.top\tIntel::DOMAIN\t"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("185.220.101.0/24\tIntel::SUBNET\t"),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("91.195.240.94"),
            "RED leaked to a reader ({ask})"
        );
        assert!(
            !r.body.contains("strict-only.top"),
            "AMBER+STRICT leaked ({ask})"
        );
        assert!(!r.body.contains("Crimson Tide"));
    }
    // An analyst asking for RED gets it; by default not.
    let r = get(&f.app, "/api/v1/export/zeek-intel", Some(&f.analyst)).await;
    assert!(!r.body.contains("91.195.240.94"));
    let r = get(
        &f.app,
        "/api/v1/export/zeek-intel?tlp_max=red",
        Some(&f.analyst),
    )
    .await;
    assert!(
        r.body.contains("91.195.240.94\tIntel::ADDR\t"),
        "{}",
        r.body
    );
    assert!(r.body.contains("strict-only.top"));
    // Links go where the caller says the web app is.
    let r = get(
        &f.app,
        "/api/v1/export/zeek-intel?actor=Open%20Panda&url_base=https://cairn.corp",
        Some(&f.reader),
    )
    .await;
    assert!(
        r.body
            .contains("https://cairn.corp/indicator?value=evil-c2.top"),
        "{}",
        r.body
    );
    assert!(r.body.contains("actor: Open Panda"));
}

#[tokio::test]
async fn suricata_files_one_at_a_time() {
    let f = fixture();
    let r = get(&f.app, "/api/v1/export/suricata-dataset", Some(&f.reader)).await;
    let list = r.json();
    let names: Vec<&str> = list["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert!(names.contains(&"cairn.rules") && names.contains(&"cairn-domains.lst"));
    let r = get(
        &f.app,
        "/api/v1/export/suricata-dataset?file=cairn-domains.lst",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.status, 200);
    // "evil-c2.top", base64.
    assert_eq!(r.body.trim(), "ZXZpbC1jMi50b3A=");
    let r = get(
        &f.app,
        "/api/v1/export/suricata-dataset?file=cairn.rules",
        Some(&f.reader),
    )
    .await;
    assert!(
        r.body
            .contains("dataset:isset,cairn-domains,type string,load cairn-domains.lst")
    );
    let r = get(
        &f.app,
        "/api/v1/export/suricata-dataset?file=..%2Fetc%2Fpasswd",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.status, 404);
}
