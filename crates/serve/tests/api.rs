//! The REST API end to end through the router: every endpoint, its auth
//! failures, roles, and TLP filtering for readers.

mod common;
use common::*;

const READ_ENDPOINTS: &[&str] = &[
    "/api/v1/stats",
    "/api/v1/search?q=panda",
    "/api/v1/actors/Open%20Panda",
    "/api/v1/actors/Open%20Panda/indicators",
    "/api/v1/actors/Open%20Panda/stix",
    "/api/v1/actors/Open%20Panda/navigator",
    "/api/v1/indicators/lookup?value=evil-c2.top",
];

#[tokio::test]
async fn every_read_endpoint_needs_a_valid_token() {
    let f = fixture();
    for uri in READ_ENDPOINTS {
        let r = get(&f.app, uri, None).await;
        assert_eq!(r.status, 401, "{uri} without a token");
        assert!(
            r.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("token"))
        );
        let r = get(&f.app, uri, Some("cairn_0000")).await;
        assert_eq!(r.status, 401, "{uri} with a bad token");
        let r = get(&f.app, uri, Some(&f.reader)).await;
        assert_eq!(r.status, 200, "{uri} as reader: {}", r.body);
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("application/json")
        );
    }
    // The document describing the API is public.
    let r = get(&f.app, "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["openapi"], "3.1.0");
}

#[tokio::test]
async fn anonymous_readers_only_where_the_admin_opened_it() {
    let f = fixture_with(|c| c.anonymous_read = true);
    let r = get(&f.app, "/api/v1/indicators/lookup?value=evil-c2.top", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["found"], true);
    // Anonymous is a reader: nothing above AMBER, no analyst actions.
    let r = get(
        &f.app,
        "/api/v1/indicators/lookup?value=91.195.240.94",
        None,
    )
    .await;
    assert_eq!(r.json()["found"], false);
    let r = post(&f.app, "/api/v1/hunt", None, "text/plain", "evil-c2.top\n").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn roles_gate_actions() {
    let f = fixture();
    let log = "2023-06-01 query evil-c2.top from 10.0.0.5\n";
    let r = post(&f.app, "/api/v1/hunt", Some(&f.reader), "text/plain", log).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(
        &f.app,
        "/api/v1/ingest?format=list",
        Some(&f.reader),
        "text/plain",
        "x.example\n",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = get(&f.app, "/api/v1/tokens", Some(&f.analyst)).await;
    assert_eq!(r.status, 403);
    let r = get(&f.app, "/api/v1/tokens", Some(&f.admin)).await;
    assert_eq!(r.status, 200);
    let names: Vec<String> = r.json()["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names, ["reader", "analyst", "admin"]);
    assert!(!r.body.contains(&f.reader), "secrets never listed");
}

#[tokio::test]
async fn readers_never_see_red_or_amber_strict() {
    let f = fixture();
    // Lookup: the RED IP and the AMBER+STRICT domain exist for analysts only.
    for (value, hidden) in [
        ("91.195.240.94", true),
        ("strict-only.top", true),
        ("evil-c2.top", false),
        ("185.220.101.9", false), // AMBER CIDR: readers see AMBER
    ] {
        let as_reader = get(
            &f.app,
            &format!("/api/v1/indicators/lookup?value={value}"),
            Some(&f.reader),
        )
        .await;
        let as_analyst = get(
            &f.app,
            &format!("/api/v1/indicators/lookup?value={value}"),
            Some(&f.analyst),
        )
        .await;
        assert_eq!(as_analyst.json()["found"], true, "{value} for analysts");
        assert_eq!(as_reader.json()["found"], !hidden, "{value} for readers");
    }
    // The RED actor does not exist for a reader, by any name.
    for (name, other) in [
        ("Crimson%20Tide", "Scarlet"),
        ("Scarlet%20Mist", "Crimson"),
        (CRIMSON, "Scarlet"),
    ] {
        let r = get(&f.app, &format!("/api/v1/actors/{name}"), Some(&f.reader)).await;
        assert_eq!(r.status, 404, "{name}");
        assert!(
            !r.body.contains(other),
            "no suggestion leaks it: {}",
            r.body
        );
        let r = get(&f.app, &format!("/api/v1/actors/{name}"), Some(&f.analyst)).await;
        assert_eq!(r.status, 200, "{name} for analysts");
    }
    let r = get(&f.app, "/api/v1/search?q=crimson", Some(&f.reader)).await;
    assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(0));
    // The visible actor's indicators, profile, exports: no hidden values or ids.
    for uri in [
        "/api/v1/actors/Open%20Panda",
        "/api/v1/actors/Open%20Panda/indicators",
        "/api/v1/actors/Open%20Panda/stix",
        "/api/v1/actors/Open%20Panda/navigator",
        "/api/v1/stats",
        "/metrics",
    ] {
        let r = get(&f.app, uri, Some(&f.reader)).await;
        assert_eq!(r.status, 200, "{uri}");
        for secret in [
            "91.195.240.94",
            "strict-only.top",
            IND_RED,
            IND_STRICT,
            CRIMSON,
            "Crimson",
        ] {
            assert!(!r.body.contains(secret), "{uri} leaks {secret} to a reader");
        }
        let r = get(&f.app, uri, Some(&f.analyst)).await;
        assert_eq!(r.status, 200, "{uri}");
    }
    let r = get(
        &f.app,
        "/api/v1/actors/Open%20Panda/indicators",
        Some(&f.analyst),
    )
    .await;
    let body = r.json();
    assert_eq!(body["total"], 4, "{body}");
    assert!(r.body.contains("91.195.240.94") && r.body.contains("strict-only.top"));
    let r = get(
        &f.app,
        "/api/v1/actors/Open%20Panda/indicators",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.json()["total"], 2);
    let r = get(&f.app, "/api/v1/actors/Open%20Panda/stix", Some(&f.analyst)).await;
    assert!(r.body.contains(IND_RED), "analysts export everything");
}

#[tokio::test]
async fn lookup_uses_the_hunt_semantics() {
    let f = fixture();
    let cases = [
        ("evil-c2.top", Some("exact")),
        ("www.evil-c2.top", Some("subdomain")),
        ("EVIL-C2.TOP.", Some("exact")),
        ("notevil-c2.top", None),
        ("evil-c2.top.attacker.net", None),
        ("185.220.101.200", Some("cidr")),
        ("185.220.102.1", None),
        ("http://www.evil-c2.top:80/a?b=c", Some("host")),
    ];
    for (value, want) in cases {
        let uri = format!("/api/v1/indicators/lookup?value={}", urlenc(value));
        let r = get(&f.app, &uri, Some(&f.analyst)).await;
        let v = r.json();
        match want {
            Some(how) => {
                assert_eq!(v["found"], true, "{value}: {v}");
                assert_eq!(v["matches"][0]["indicator"]["match"], how, "{value}");
                assert_eq!(
                    v["matches"][0]["actors"][0]["name"], "Open Panda",
                    "{value}"
                );
                assert_eq!(v["matches"][0]["sources"][0]["source"], "fixture intel");
            }
            None => assert_eq!(v["found"], false, "{value}: {v}"),
        }
    }
    // Blank is a value nothing matches; no value at all is a bad request.
    let r = get(&f.app, "/api/v1/indicators/lookup?value=", Some(&f.analyst)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["found"], false);
    let r = get(&f.app, "/api/v1/indicators/lookup", Some(&f.analyst)).await;
    assert_eq!(r.status, 400);
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn hunt_ingest_and_sightings_round_trip() {
    let f = fixture();
    let log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tquery\n#types\ttime\tstring\taddr\tstring\n\
               1686787200.0\tC1\t10.0.0.5\tkb.evil-c2.top\n\
               1686787201.0\tC2\t10.0.0.6\tnotevil-c2.top\n";
    let r = post(
        &f.app,
        "/api/v1/hunt?name=dns.log&record=true",
        Some(&f.analyst),
        "text/plain",
        log,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert!(v["lines"].as_u64().is_some_and(|n| n >= 2), "{v}");
    assert_eq!(v["hits"], 1, "{v}");
    assert_eq!(v["alerts"][0]["value"], "kb.evil-c2.top");
    assert_eq!(v["alerts"][0]["indicator"]["match"], "subdomain");
    assert_eq!(v["alerts"][0]["actors"][0]["name"], "Open Panda");
    assert_eq!(v["recorded"], 1);
    // The sighting shows on the indicator.
    let r = get(
        &f.app,
        "/api/v1/indicators/lookup?value=evil-c2.top",
        Some(&f.reader),
    )
    .await;
    let key = r.json()["matches"][0]["key"].as_u64().expect("key");
    let r = get(
        &f.app,
        &format!("/api/v1/indicators/{key}/sightings"),
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.json()["sightings"][0]["count"], 1, "{}", r.body);
    // Ingest a new list; the lookup sees it without a restart.
    let r = post(
        &f.app,
        "/api/v1/ingest?name=new.txt&format=list&source=team%20notes&actor=Open%20Panda",
        Some(&f.analyst),
        "text/plain",
        "fresh-c2[.]top\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["source"], "team notes");
    let r = get(
        &f.app,
        "/api/v1/indicators/lookup?value=fresh-c2.top",
        Some(&f.reader),
    )
    .await;
    assert_eq!(r.json()["found"], true, "{}", r.body);
    // A file that does not parse is a 400 naming the place, and changes nothing.
    let r = post(
        &f.app,
        "/api/v1/ingest?name=bad.json&format=stix",
        Some(&f.analyst),
        "application/json",
        "{\"type\":\"bundle\",",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("bad.json")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn attribution_over_the_api() {
    let f = fixture();
    let r = post(
        &f.app,
        "/api/v1/attribute",
        Some(&f.reader),
        "application/json",
        r#"{"techniques":["T1190"]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["candidates"][0]["actor"], "Open Panda", "{v}");
    assert!(
        !v["candidates"][0]["evidence"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let layer = r#"{"name":"x","domain":"enterprise-attack","techniques":[{"techniqueID":"T1190","score":1}]}"#;
    let r = post(
        &f.app,
        "/api/v1/attribute",
        Some(&f.reader),
        "application/json",
        layer,
    )
    .await;
    assert_eq!(r.json()["candidates"][0]["actor"], "Open Panda");
    let r = post(
        &f.app,
        "/api/v1/attribute",
        Some(&f.reader),
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post(
        &f.app,
        "/api/v1/attribute",
        Some(&f.reader),
        "application/json",
        "[[[[",
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn tokens_over_the_api() {
    let f = fixture();
    let r = post(
        &f.app,
        "/api/v1/tokens",
        Some(&f.admin),
        "application/json",
        r#"{"name":"siem","role":"reader"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.json()["token"].as_str().expect("secret").to_string();
    assert_eq!(
        get(&f.app, "/api/v1/stats", Some(&secret)).await.status,
        200
    );
    let r = send(
        &f.app,
        axum::http::Request::delete("/api/v1/tokens/siem")
            .header("authorization", format!("Bearer {}", f.admin))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        get(&f.app, "/api/v1/stats", Some(&secret)).await.status,
        401,
        "revoked at once"
    );
    let r = post(
        &f.app,
        "/api/v1/tokens",
        Some(&f.admin),
        "application/json",
        r#"{"name":"x","role":"god"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn rate_limits_and_body_limits() {
    let f = fixture_with(|c| {
        c.rate_limit = 2;
        c.max_body = 1024;
    });
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(get(&f.app, "/api/v1/stats", Some(&f.reader)).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 200);
    // Another token has its own budget.
    assert_eq!(
        get(&f.app, "/api/v1/stats", Some(&f.analyst)).await.status,
        200
    );
    let big = "a.example\n".repeat(500);
    let r = post(
        &f.app,
        "/api/v1/ingest?format=list",
        Some(&f.admin),
        "text/plain",
        big,
    )
    .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn responses_carry_strict_security_headers_and_no_internals() {
    let f = fixture();
    for uri in ["/api/v1/stats", "/login", "/api/v1/actors/nobody"] {
        let r = get(&f.app, uri, Some(&f.reader)).await;
        let h = |n: &str| {
            r.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let csp = h("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{uri}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("x-frame-options"), "DENY");
        assert!(
            !r.body.contains("src/") && !r.body.contains("panicked"),
            "{uri}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn actor_answers_come_from_memory_until_the_store_changes() {
    let f = fixture();
    let made = |v: &serde_json::Value| v["answer_cache"]["made"].as_u64().expect("made");
    let hits = |v: &serde_json::Value| v["answer_cache"]["hits"].as_u64().expect("hits");
    let uri = "/api/v1/actors/Open%20Panda/indicators";
    let first = get(&f.app, uri, Some(&f.analyst)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let before = get(&f.app, "/api/v1/stats", Some(&f.admin)).await.json();
    let second = get(&f.app, uri, Some(&f.analyst)).await;
    let after = get(&f.app, "/api/v1/stats", Some(&f.admin)).await.json();
    assert_eq!(second.body, first.body);
    assert_eq!(
        made(&after),
        made(&before),
        "the second answer was made again"
    );
    assert_eq!(hits(&after), hits(&before) + 1);
    // A reader's answer is its own, never the analyst's kept one.
    assert!(first.body.contains("91.195.240.94"), "{}", first.body);
    let reader = get(&f.app, uri, Some(&f.reader)).await;
    assert_eq!(reader.status, 200, "{}", reader.body);
    assert!(!reader.body.contains("91.195.240.94"), "{}", reader.body);
    assert!(!reader.body.contains("strict-only.top"), "{}", reader.body);
    // An ingest moves the store generation: the next answer is made afresh.
    let r = post(
        &f.app,
        "/api/v1/ingest?name=new.txt&format=list&source=team%20notes&actor=Open%20Panda",
        Some(&f.analyst),
        "text/plain",
        "fresh-c2[.]top\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let third = get(&f.app, uri, Some(&f.analyst)).await;
    assert!(third.body.contains("fresh-c2.top"), "{}", third.body);
    let profile = get(&f.app, "/api/v1/actors/Open%20Panda", Some(&f.analyst)).await;
    assert!(profile.body.contains("team notes"), "{}", profile.body);
}

#[tokio::test]
async fn feeds_are_listed_for_analysts_only() {
    let f = fixture();
    let mut store = cairn_kb::Store::open_existing(&f._dir.path().join("cairn.db")).expect("store");
    store
        .add_feed(&cairn_kb::NewFeed {
            name: "partner".into(),
            kind: "taxii".into(),
            url: "https://cti.partner.example/taxii2/".into(),
            config: serde_json::json!({"collection": "APT", "token_env": "PARTNER_TOKEN"}),
            every: 3600,
            enabled: true,
        })
        .expect("feed");
    store
        .record_feed_run(
            "partner",
            "2026-01-01T00:00:00.000Z",
            &cairn_kb::FeedRun {
                status: "failed".into(),
                added: 0,
                changed: 0,
                withdrawn: 0,
                error: Some(
                    "https://cti.partner.example/taxii2/: HTTP 503 (after 4 attempts)".into(),
                ),
            },
        )
        .expect("run");
    drop(store);
    let r = get(&f.app, "/api/v1/feeds", Some(&f.reader)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = get(&f.app, "/api/v1/feeds", Some(&f.analyst)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let feeds = r.json()["feeds"].as_array().expect("feeds").clone();
    assert_eq!(feeds.len(), 1);
    let feed = &feeds[0];
    assert_eq!(feed["name"], "partner");
    assert_eq!(feed["status"], "failed");
    assert_eq!(feed["next_due"], "2026-01-01T01:00:00.000Z");
    assert!(feed["error"].as_str().expect("error").contains("HTTP 503"));
    // Every key the OpenAPI document requires is there.
    let doc = get(&f.app, "/api/v1/openapi.json", None).await.json();
    let schema = &doc["paths"]["/api/v1/feeds"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    for k in schema["properties"]["feeds"]["items"]["required"]
        .as_array()
        .expect("required")
    {
        assert!(feed.get(k.as_str().expect("key")).is_some(), "{k} missing");
    }
}

/// The value of the series `name` (with its labels) in a `/metrics` body.
fn series(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{body}"))
}

#[tokio::test]
async fn metrics_count_what_the_server_answered() {
    let f = fixture();
    for _ in 0..3 {
        assert_eq!(
            get(&f.app, "/api/v1/stats", Some(&f.reader)).await.status,
            200
        );
    }
    assert_eq!(get(&f.app, "/api/v1/stats", None).await.status, 401);
    // Without a token, or with a bad one: refused (and counted).
    assert_eq!(get(&f.app, "/metrics", None).await.status, 401);
    assert_eq!(
        get(&f.app, "/metrics", Some("cairn_0000")).await.status,
        401
    );
    let r = get(&f.app, "/metrics", Some(&f.reader)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.headers["content-type"]
    );
    let b = &r.body;
    // The metrics request itself is still being answered.
    assert_eq!(series(b, "cairn_http_requests_total{code=\"2xx\"}"), 3.0);
    assert_eq!(series(b, "cairn_http_requests_total{code=\"4xx\"}"), 3.0);
    assert_eq!(series(b, "cairn_http_requests_in_flight"), 1.0);
    let count = series(b, "cairn_http_request_duration_seconds_count");
    assert_eq!(count, 6.0);
    assert_eq!(
        series(b, "cairn_http_request_duration_seconds_bucket{le=\"+Inf\"}"),
        count
    );
    // Buckets never shrink as the bound grows.
    let buckets: Vec<f64> = b
        .lines()
        .filter(|l| l.starts_with("cairn_http_request_duration_seconds_bucket"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(
        buckets.len() > 5 && buckets.windows(2).all(|w| w[0] <= w[1]),
        "{buckets:?}"
    );
    assert!(series(b, "cairn_index_indicators") >= 1.0);
    assert!(series(b, "cairn_store_generation") >= 1.0);
    assert!(b.contains("# TYPE cairn_http_request_duration_seconds histogram"));
    let again = get(&f.app, "/metrics", Some(&f.reader)).await;
    assert_eq!(
        series(&again.body, "cairn_http_requests_total{code=\"2xx\"}"),
        4.0
    );
}
