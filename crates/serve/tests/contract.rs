//! The API keeps its OpenAPI promises: every error under `/api/v1` is the
//! documented JSON error (axum's own rejections and the body limit
//! included), integer bounds are the document's, roles come before bodies,
//! and 401s name their scheme.

mod common;
use common::*;

/// The reply is the documented error: JSON content type, `{error, status}`.
fn assert_json_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    let ctype = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        ctype.starts_with("application/json"),
        "content type {ctype}: {}",
        r.body
    );
    let v = r.json();
    assert_eq!(v["status"], status, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
}

#[tokio::test]
async fn missing_and_malformed_parameters_are_json_errors() {
    let f = fixture();
    let t = Some(f.reader.as_str());
    for uri in [
        "/api/v1/indicators/lookup",
        "/api/v1/search",
        "/api/v1/search?q=panda&limit=-1",
        "/api/v1/search?q=panda&limit=abc",
        "/api/v1/actors/Open%20Panda/indicators?limit=0",
        "/api/v1/indicators/abc/sightings",
    ] {
        assert_json_error(&get(&f.app, uri, t).await, 400);
    }
    let r = post(
        &f.app,
        "/api/v1/attribute?top=abc",
        t,
        "application/json",
        "{}",
    )
    .await;
    assert_json_error(&r, 400);
    let r = post(
        &f.app,
        "/api/v1/hunt?record=null",
        Some(&f.analyst),
        "text/plain",
        "x\n",
    )
    .await;
    assert_json_error(&r, 400);
    assert_json_error(&get(&f.app, "/api/v1/no-such-thing", t).await, 404);
}

#[tokio::test]
async fn integer_bounds_are_the_documents() {
    let f = fixture();
    let doc = get(&f.app, "/api/v1/openapi.json", None).await.json();
    let params = doc["paths"]["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let limit = params
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit documented");
    let min = limit["schema"]["minimum"].as_u64().expect("minimum");
    let max = limit["schema"]["maximum"].as_u64().expect("maximum");
    for (v, ok) in [(min, true), (max, true), (max + 1, false)] {
        let r = get(
            &f.app,
            &format!("/api/v1/search?q=panda&limit={v}"),
            Some(&f.reader),
        )
        .await;
        if ok {
            assert_eq!(r.status, 200, "limit={v}: {}", r.body);
        } else {
            assert_json_error(&r, 400);
        }
    }
    if min > 0 {
        let r = get(
            &f.app,
            &format!("/api/v1/search?q=panda&limit={}", min - 1),
            Some(&f.reader),
        )
        .await;
        assert_json_error(&r, 400);
    }
}

#[tokio::test]
async fn oversize_bodies_are_json_413s() {
    let f = fixture_with(|c| c.max_body = 1024);
    let r = post(
        &f.app,
        "/api/v1/ingest?format=list",
        Some(&f.admin),
        "text/plain",
        "a.example\n".repeat(500),
    )
    .await;
    assert_json_error(&r, 413);
}

#[tokio::test]
async fn token_creation_checks_the_role_before_the_body() {
    let f = fixture();
    // A reader is refused whatever the body: never told it is malformed.
    for (ctype, body) in [
        ("text/plain", "nonsense"),
        ("application/json", "{\"name\": 5}"),
    ] {
        let r = post(&f.app, "/api/v1/tokens", Some(&f.reader), ctype, body).await;
        assert_json_error(&r, 403);
    }
    let r = post(
        &f.app,
        "/api/v1/tokens",
        Some(&f.admin),
        "text/plain",
        "nonsense",
    )
    .await;
    assert_json_error(&r, 415);
    let r = post(
        &f.app,
        "/api/v1/tokens",
        Some(&f.admin),
        "application/json",
        "{\"name\": 5}",
    )
    .await;
    assert_json_error(&r, 422);
    let doc = get(&f.app, "/api/v1/openapi.json", None).await.json();
    let documented = &doc["paths"]["/api/v1/tokens"]["post"]["responses"];
    for status in ["201", "400", "401", "403", "415", "422"] {
        assert!(documented.get(status).is_some(), "{status} undocumented");
    }
}

#[tokio::test]
async fn unauthorized_answers_name_the_bearer_scheme() {
    let f = fixture();
    for token in [None, Some("not-a-token")] {
        let r = get(&f.app, "/api/v1/stats", token).await;
        assert_json_error(&r, 401);
        let challenge = r
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(challenge, "Bearer realm=\"cairn\"");
    }
}
