//! Reports through the server: `POST /api/v1/extract` gives the engine's
//! lines (what `cairn extract --json` prints; the byte-for-byte comparison
//! with the binary is in crates/cli/tests/report.rs), `POST
//! /api/v1/attribute/report` ranks the groups with the named ones apart,
//! `actor=auto` on ingest links a report to its group, the attribution page
//! marks the evidence, bad uploads are JSON 4xx, and what an ingest teaches
//! is in the next request's reader.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::{Value, json};

const KESTREL: &str = "intrusion-set--50000000-0000-4000-8000-000000000001";
const GRANITE: &str = "intrusion-set--50000000-0000-4000-8000-000000000002";
const SHADOWPAD: &str = "malware--50000000-0000-4000-8000-000000000003";
const IMPACKET: &str = "tool--50000000-0000-4000-8000-000000000004";
const LSASS: &str = "attack-pattern--50000000-0000-4000-8000-000000000005";
const IMPACT: &str = "attack-pattern--50000000-0000-4000-8000-000000000006";
const TAIWAN: &str = "location--50000000-0000-4000-8000-000000000007";

/// A report naming one group, comparing another, with techniques by name,
/// software, a victim country and sector, indicators, and markup that must
/// come back escaped.
const REPORT: &str = "# A quarter of intrusions

TLP:GREEN

Kestrel Panda exploited public-facing applications at government agencies in Taiwan.
The operators dumped credentials from LSASS memory and <script>alert(1)</script> loaded ShadowPad on the servers.
Unlike Open Panda, the group has not been seen deploying ransomware.

## Indicators

C2: kestrel-update[.]net and 198.51.100.23
";

/// Statements the fixture's store lacks: two groups with their software,
/// techniques (with procedure examples) and a victim, all TLP:GREEN.
fn knowledge() -> String {
    let obj = |kind: &str, id: &str, extra: Value| {
        let mut o = json!({ "type": kind, "spec_version": "2.1", "id": id,
            "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z",
            "object_marking_refs": [GREEN] });
        if let (Some(o), Some(e)) = (o.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        o
    };
    let attack = |id: &str| json!([{ "source_name": "mitre-attack", "external_id": id }]);
    let mut n = 0;
    let mut rel = |kind: &str, from: &str, to: &str, desc: &str| {
        n += 1;
        obj(
            "relationship",
            &format!("relationship--60000000-0000-4000-8000-0000000000{n:02}"),
            json!({ "relationship_type": kind, "source_ref": from, "target_ref": to, "description": desc }),
        )
    };
    let objects = vec![
        obj(
            "intrusion-set",
            KESTREL,
            json!({ "name": "Kestrel Panda", "aliases": ["Kestrel Panda", "KP-7"],
                    "external_references": attack("G9001") }),
        ),
        obj(
            "intrusion-set",
            GRANITE,
            json!({ "name": "Granite Typhoon", "external_references": attack("G9002") }),
        ),
        obj(
            "malware",
            SHADOWPAD,
            json!({ "name": "ShadowPad", "is_family": true, "external_references": attack("S0596") }),
        ),
        obj(
            "tool",
            IMPACKET,
            json!({ "name": "Impacket", "external_references": attack("S0357") }),
        ),
        obj(
            "attack-pattern",
            LSASS,
            json!({ "name": "LSASS Memory", "x_mitre_is_subtechnique": true,
                    "external_references": attack("T1003.001") }),
        ),
        obj(
            "attack-pattern",
            IMPACT,
            json!({ "name": "Data Encrypted for Impact", "external_references": attack("T1486") }),
        ),
        obj(
            "location",
            TAIWAN,
            json!({ "name": "Taiwan", "country": "TW" }),
        ),
        rel(
            "uses",
            KESTREL,
            LSASS,
            "Kestrel Panda dumped credentials from LSASS memory.",
        ),
        rel(
            "uses",
            KESTREL,
            TECH,
            "Kestrel Panda exploited internet-facing servers.",
        ),
        rel(
            "uses",
            KESTREL,
            SHADOWPAD,
            "Kestrel Panda deployed ShadowPad.",
        ),
        rel("targets", KESTREL, TAIWAN, "Kestrel Panda targeted Taiwan."),
        rel(
            "uses",
            GRANITE,
            IMPACT,
            "Granite Typhoon encrypted files for ransom.",
        ),
        rel("uses", GRANITE, IMPACKET, "Granite Typhoon ran Impacket."),
    ];
    json!({ "type": "bundle", "id": "bundle--50000000-0000-4000-8000-000000000099", "objects": objects })
        .to_string()
}

/// The fixture's store with [`knowledge`] ingested through the API.
async fn store_with_knowledge(f: &Fixture) {
    let r = post(
        &f.app,
        "/api/v1/ingest?name=knowledge.json",
        Some(&f.analyst),
        "application/json",
        knowledge(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

fn lines(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn find<'a>(lines: &'a [Value], kind: &str, value: &str) -> Option<&'a Value> {
    lines
        .iter()
        .find(|l| l["kind"] == kind && l["value"] == value)
}

/// What the engine writes for `text` on the fixture's store, as the CLI
/// reads it: a full-clearance connection, its warninglists, its reader.
fn engine_lines(f: &Fixture, name: &str, text: &[u8]) -> String {
    let store = cairn_kb::Store::open_existing(&f._dir.path().join("cairn.db")).expect("store");
    let (benign, _) = cairn_engine::benign_filter(&store).expect("warninglists");
    let extractor = cairn_extract::Extractor::new(cairn_extract::Options {
        benign,
        ..cairn_extract::Options::default()
    });
    let reader = cairn_engine::prose_reader(&store).expect("reader");
    let doc = cairn_extract::Document::from_bytes(name, text).expect("document");
    let reading = cairn_engine::read_report(&extractor, Some(&reader), &doc);
    let mut out = Vec::new();
    cairn_engine::write_report_lines(&mut out, &reading).expect("lines");
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test]
async fn extract_answers_the_engines_lines() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let r = post(
        &f.app,
        "/api/v1/extract?name=kestrel.md",
        Some(&f.analyst),
        "text/markdown",
        REPORT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    assert_eq!(r.headers["x-cairn-report-tlp"], "green");
    assert_eq!(r.body, engine_lines(&f, "kestrel.md", REPORT.as_bytes()));

    let got = lines(&r.body);
    let c2 = find(&got, "indicator", "kestrel-update.net").expect("the C2 domain");
    assert_eq!(c2["type"], "domain");
    assert_eq!(c2["original"], "kestrel-update[.]net");
    assert_eq!(c2["line"], 11);
    let lsass = find(&got, "technique", "T1003.001").expect("LSASS Memory");
    assert_eq!(lsass["rule"], "technique name");
    assert_eq!(lsass["line"], 6);
    assert_eq!(lsass["mentions"][0]["text"], "LSASS memory");
    assert_eq!(
        find(&got, "software", "S0596").expect("ShadowPad")["name"],
        "ShadowPad"
    );
    let named = find(&got, "group", "G9001").expect("Kestrel Panda");
    assert_eq!(named["stance"], "asserted");
    assert_eq!(
        named["sentence"]
            .as_str()
            .map(|s| s.starts_with("Kestrel Panda exploited")),
        Some(true)
    );
    assert_eq!(
        find(&got, "group", "Open Panda").expect("Open Panda")["stance"],
        "compared"
    );
    assert!(find(&got, "country", "TW").is_some(), "{got:?}");
    assert!(find(&got, "sector", "government").is_some(), "{got:?}");
    // Indicators first, then the prose.
    let first_prose = got.iter().position(|l| l["kind"] != "indicator");
    let last_indicator = got.iter().rposition(|l| l["kind"] == "indicator");
    assert!(last_indicator < first_prose, "{got:?}");

    // Indicators only.
    let r = post(
        &f.app,
        "/api/v1/extract?name=kestrel.md&prose=false",
        Some(&f.reader),
        "text/plain",
        REPORT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = lines(&r.body);
    assert!(
        !got.is_empty() && got.iter().all(|l| l["kind"] == "indicator"),
        "{got:?}"
    );
}

#[tokio::test]
async fn extract_reads_the_example_report_as_the_engine_does() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let report = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/reports/redhotel-2023.md"),
    )
    .expect("the example report");
    let r = post(
        &f.app,
        "/api/v1/extract?name=redhotel-2023.md",
        Some(&f.admin),
        "application/octet-stream",
        report.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, engine_lines(&f, "redhotel-2023.md", &report));
    let got = lines(&r.body);
    let ip = find(&got, "indicator", "1.13.82.101").expect("a C2 address");
    assert_eq!(ip["context"]["role"], "c2");
    assert_eq!(
        find(&got, "software", "S0596").expect("ShadowPad")["stance"],
        "asserted"
    );
    for c in ["TW", "VN", "PH"] {
        assert!(find(&got, "country", c).is_some(), "{c}");
    }
}

#[tokio::test]
async fn readers_read_reports_with_what_readers_may_see() {
    let f = fixture();
    store_with_knowledge(&f).await;
    // Crimson Tide is TLP:RED: an analyst's reader knows the name, a reader's does not.
    let text = "Crimson Tide deployed ShadowPad against the ministry.\n";
    let groups = |body: &str| -> Vec<String> {
        lines(body)
            .iter()
            .filter(|l| l["kind"] == "group")
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect()
    };
    let analyst = post(
        &f.app,
        "/api/v1/extract",
        Some(&f.analyst),
        "text/plain",
        text,
    )
    .await;
    assert_eq!(analyst.status, 200, "{}", analyst.body);
    assert_eq!(groups(&analyst.body), ["Crimson Tide"]);
    let reader = post(
        &f.app,
        "/api/v1/extract",
        Some(&f.reader),
        "text/plain",
        text,
    )
    .await;
    assert_eq!(reader.status, 200, "{}", reader.body);
    assert!(groups(&reader.body).is_empty(), "{}", reader.body);
    assert!(find(&lines(&reader.body), "software", "S0596").is_some());
    let r = post(&f.app, "/api/v1/extract", None, "text/plain", text).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn attribute_report_ranks_the_named_group_and_keeps_it_apart() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let r = post(
        &f.app,
        "/api/v1/attribute/report?name=kestrel.md&top=5",
        Some(&f.reader),
        "text/markdown",
        REPORT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["candidates"][0]["actor"], "Kestrel Panda", "{v}");
    assert_eq!(v["candidates"][0]["attack_id"], "G9001");
    assert!(v["candidates"].as_array().is_some_and(|c| c.len() <= 5));
    // The report's lines behind the ranking's technique contribution.
    let lsass = v["candidates"][0]["evidence"]
        .as_array()
        .and_then(|e| {
            e.iter().find(|c| {
                c["kind"] == "technique"
                    && c["value"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("T1003.001"))
            })
        })
        .unwrap_or_else(|| panic!("no LSASS contribution: {v}"));
    assert_eq!(lsass["lines"], json!([6]));
    let named = &v["named_in_report"];
    assert_eq!(named.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(named[0]["name"], "Kestrel Panda");
    assert_eq!(named[0]["inferred_rank"], 1);
    assert_eq!(named[0]["mentions"][0]["line"], 5);
    assert_eq!(v["mentioned_not_claimed"][0]["name"], "Open Panda");
    assert_eq!(v["mentioned_not_claimed"][0]["stance"], "compared");
    let used = |kind: &str, value: &str| {
        v["evidence"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["kind"] == kind && x["value"] == value))
            .map(|x| x["used"].clone())
    };
    assert_eq!(used("technique", "T1003.001"), Some(json!(true)));
    assert_eq!(used("country", "TW"), Some(json!(true)));
    assert_eq!(used("domain", "kestrel-update.net"), Some(json!(true)));

    for top in ["0", "51", "x"] {
        let r = post(
            &f.app,
            &format!("/api/v1/attribute/report?top={top}"),
            Some(&f.reader),
            "text/plain",
            REPORT,
        )
        .await;
        assert_eq!(r.status, 400, "top={top}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
}

#[tokio::test]
async fn ingest_actor_auto_links_the_report_to_its_group() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let r = post(
        &f.app,
        "/api/v1/ingest?name=kestrel.md&actor=auto&source=desk",
        Some(&f.analyst),
        "text/markdown",
        REPORT,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["actor_choice"]["name"], "Kestrel Panda", "{v}");
    assert_eq!(v["actor_choice"]["confidence"], 90);
    assert!(
        v["actor_choice"]["how"]
            .as_str()
            .is_some_and(|h| h.starts_with("named in the report (line 5)")),
        "{v}"
    );
    let look = get(
        &f.app,
        "/api/v1/indicators/lookup?value=kestrel-update.net",
        Some(&f.reader),
    )
    .await
    .json();
    assert_eq!(look["found"], true, "{look}");
    let actors: Vec<&str> = look["matches"][0]["actors"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actors, ["Kestrel Panda"], "{look}");
    assert_eq!(look["matches"][0]["sources"][0]["confidence"], 90, "{look}");

    // A report that names no group: the best inferred candidate, with the
    // confidence of its band.
    let unnamed = "The operators dumped credentials from LSASS memory and loaded ShadowPad on government servers in Taiwan.\nC2: quiet-kestrel[.]org\n";
    let r = post(
        &f.app,
        "/api/v1/ingest?name=unnamed.txt&actor=AUTO",
        Some(&f.analyst),
        "text/plain",
        unnamed,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["actor_choice"]["name"], "Kestrel Panda", "{v}");
    assert!(
        v["actor_choice"]["how"]
            .as_str()
            .is_some_and(|h| h.starts_with("inferred (confidence")),
        "{v}"
    );
    assert!(
        matches!(v["actor_choice"]["confidence"].as_u64(), Some(15 | 40 | 70)),
        "{v}"
    );

    // Only reports; and a report must point somewhere.
    let r = post(
        &f.app,
        "/api/v1/ingest?name=more.json&actor=auto",
        Some(&f.analyst),
        "application/json",
        knowledge(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("actor=auto"))
    );
    let r = post(
        &f.app,
        "/api/v1/ingest?name=nothing.txt&actor=auto",
        Some(&f.analyst),
        "text/plain",
        "A quiet week: nothing to report.\n",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("names no known group"))
    );
    // Readers never ingest, automatic or not.
    let r = post(
        &f.app,
        "/api/v1/ingest?name=kestrel.md&actor=auto",
        Some(&f.reader),
        "text/plain",
        REPORT,
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn bad_and_oversized_uploads_are_json_client_errors() {
    let f = fixture_with(|c| c.max_report_body = 4096);
    store_with_knowledge(&f).await;
    let truncated_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "r.txt",
            b"Kestrel Panda in Ta\xefwan\n".to_vec(),
            400,
            "UTF-8",
        ),
        ("r.txt", "café".as_bytes()[..4].to_vec(), 400, "UTF-8"),
        ("r.bin", vec![0, 1, 2, 3, 0, 0, 7, 8], 400, "binary"),
        ("r.pdf", truncated_pdf, 400, "PDF"),
        ("r.txt", Vec::new(), 400, "request body"),
        ("r.txt", vec![b'a'; 5000], 413, "--max-report-upload"),
    ];
    for path in ["/api/v1/extract", "/api/v1/attribute/report"] {
        for (name, body, status, says) in &cases {
            let r = post(
                &f.app,
                &format!("{path}?name={name}"),
                Some(&f.analyst),
                "application/octet-stream",
                body.clone(),
            )
            .await;
            assert_eq!(r.status, *status, "{path} {name}: {}", r.body);
            let v = r.json();
            assert_eq!(v["status"], *status);
            let e = v["error"].as_str().unwrap_or_default();
            assert!(e.contains(says), "{path} {name}: {e}");
        }
    }
    // Past the server's own limit, the server's 413, still JSON.
    let f = fixture_with(|c| c.max_body = 1024);
    let r = post(
        &f.app,
        "/api/v1/extract",
        Some(&f.analyst),
        "text/plain",
        vec![b'a'; 2048],
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json()["status"], 413);
}

#[tokio::test]
async fn an_ingest_is_in_the_next_requests_reader() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let text = "Zircon Weasel deployed ShadowPad against the ministry.\n";
    let groups = |body: &str| -> Vec<String> {
        lines(body)
            .iter()
            .filter(|l| l["kind"] == "group")
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect()
    };
    let trained = |stats: Value| stats["report_cache"]["trained"].as_u64();
    let before = trained(get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json());
    for _ in 0..2 {
        let r = post(
            &f.app,
            "/api/v1/extract",
            Some(&f.analyst),
            "text/plain",
            text,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(groups(&r.body).is_empty(), "{}", r.body);
    }
    let stats = get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json();
    // One reader trained for both requests.
    assert_eq!(trained(stats.clone()), before.map(|n| n + 1), "{stats}");

    let zircon = json!({ "type": "bundle", "id": "bundle--70000000-0000-4000-8000-000000000001", "objects": [
        { "type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--70000000-0000-4000-8000-000000000001",
          "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z",
          "name": "Zircon Weasel", "object_marking_refs": [GREEN] }
    ]});
    let r = post(
        &f.app,
        "/api/v1/ingest?name=zircon.json",
        Some(&f.analyst),
        "application/json",
        zircon.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(
        &f.app,
        "/api/v1/extract",
        Some(&f.analyst),
        "text/plain",
        text,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(groups(&r.body), ["Zircon Weasel"]);
    let stats = get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.json();
    assert_eq!(trained(stats.clone()), before.map(|n| n + 2), "{stats}");
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().expect("value").to_string()
}

async fn page(app: &cairn_serve::App, cookie: &str, uri: &str) -> Reply {
    send(
        app,
        Request::get(uri)
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

/// A multipart form: the CSRF token, text fields, and one file.
fn multipart(csrf: &str, fields: &[(&str, &str)], file: (&str, &str)) -> (String, String) {
    let b = "cairnboundary7";
    let mut body =
        format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
    for (k, v) in fields {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: text/markdown\r\n\r\n{}\r\n--{b}--\r\n",
        file.0, file.1
    ));
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn submit(app: &cairn_serve::App, cookie: &str, uri: &str, form: (String, String)) -> Reply {
    send(
        app,
        Request::post(uri)
            .header("cookie", cookie)
            .header("content-type", form.0)
            .body(Body::from(form.1))
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn the_attribution_page_reads_an_uploaded_report() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let cookie = sign_in(&f.app, &f.reader).await;
    let form = page(&f.app, &cookie, "/attribute").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("action=\"/attribute/report\""),
        "{}",
        form.body
    );
    let csrf = csrf_of(&form.body);

    let r = submit(
        &f.app,
        &cookie,
        "/attribute/report",
        multipart("forged", &[], ("kestrel.md", REPORT)),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let r = submit(
        &f.app,
        &cookie,
        "/attribute/report",
        multipart(&csrf, &[], ("kestrel.md", REPORT)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let html = &r.body;
    // Named apart from the ranking, the ranking, the evidence marked.
    let named = html.find("id=\"named\"").expect("the named section");
    let inferred = html.find("id=\"inferred\"").expect("the ranking");
    let extraction = html.find("id=\"extraction\"").expect("the extraction");
    assert!(named < inferred && inferred < extraction);
    assert!(html[named..inferred].contains("Kestrel Panda"));
    assert!(html[named..inferred].contains("inferred rank #1"));
    assert!(html[named..inferred].contains("<mark>Kestrel Panda</mark> exploited"));
    assert!(html[named..inferred].contains("Open Panda"));
    assert!(html.contains("<mark>ShadowPad</mark>"), "{html}");
    assert!(html.contains("from <mark>LSASS memory</mark>"), "{html}");
    assert!(
        html.contains("C2: <mark>kestrel-update[.]net</mark>"),
        "{html}"
    );
    // The report's markup is text.
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    // Not a report: the error page.
    let r = submit(
        &f.app,
        &cookie,
        "/attribute/report",
        multipart(&csrf, &[], ("bad.txt", "\u{1}\u{2}\u{3}\u{4}")),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn the_ingest_page_offers_actor_auto() {
    let f = fixture();
    store_with_knowledge(&f).await;
    let cookie = sign_in(&f.app, &f.analyst).await;
    let form = page(&f.app, &cookie, "/ingest").await;
    assert!(form.body.contains("name=\"actor_auto\""), "{}", form.body);
    let csrf = csrf_of(&form.body);
    let r = submit(
        &f.app,
        &cookie,
        "/ingest",
        multipart(
            &csrf,
            &[("actor_auto", "1"), ("source", "desk")],
            ("kestrel.md", REPORT),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r
        .body
        .find("id=\"actor-choice\"")
        .expect("the actor chosen");
    let row: String = r.body[at..].chars().take(300).collect();
    assert!(
        row.contains("Kestrel Panda") && row.contains("named in the report"),
        "{row}"
    );
}
