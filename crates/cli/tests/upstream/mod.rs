//! Upstreams the feed tests sync from, on loopback: a server in its own
//! runtime, static files that change between runs (with validators, as a
//! static file server gives them), and a MISP feed of real CIRCL events.

// Each test file takes what it needs of this module.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A server on 127.0.0.1:0 in its own runtime, alive as long as this is.
pub struct Server {
    _rt: tokio::runtime::Runtime,
    pub base: String,
}

pub fn serve(router: Router) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move { axum::serve(listener, router).await });
    Server {
        _rt: rt,
        base: format!("http://{addr}"),
    }
}

/// Files served under `/feed/{name}`, and the names asked for.
#[derive(Clone, Default)]
pub struct Files {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Files {
    pub fn put(&self, name: &str, body: Vec<u8>) {
        self.files.lock().expect("lock").insert(name.into(), body);
    }
    pub fn take_hits(&self) -> Vec<String> {
        std::mem::take(&mut *self.hits.lock().expect("lock"))
    }
}

pub async fn file(
    State(f): State<Files>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    f.hits.lock().expect("lock").push(name.clone());
    let body = f.files.lock().expect("lock").get(&name).cloned();
    let Some(body) = body else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Validators from the content, as a static file server gives them.
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.iter().map(|b| *b as usize).sum::<usize>()
    );
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    ([("etag", etag)], Body::from(body)).into_response()
}

pub const EVENTS: [&str; 3] = [
    "57c4445b-c548-4654-af0b-4be3950d210f",
    "5a0a9aa9-23a4-4607-b6df-41a9950d210f",
    "5a0ac036-6fbc-4855-83af-422b950d210f",
];

pub fn manifest(events: &[(String, Value)]) -> Vec<u8> {
    let mut m = serde_json::Map::new();
    for (uuid, ev) in events {
        let e = &ev["Event"];
        m.insert(
            uuid.clone(),
            serde_json::json!({"info": e["info"], "timestamp": e["timestamp"], "date": e["date"],
                               "Orgc": e["Orgc"], "Tag": e["Tag"], "analysis": e["analysis"]}),
        );
    }
    serde_json::to_vec(&Value::Object(m)).expect("manifest")
}

/// The feed's events, read from the fixtures.
pub fn events() -> Vec<(String, Value)> {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/misp-feed");
    EVENTS
        .iter()
        .map(|u| {
            let text = std::fs::read(fixtures.join(format!("{u}.json"))).expect("fixture");
            (
                u.to_string(),
                serde_json::from_slice(&text).expect("event JSON"),
            )
        })
        .collect()
}

/// Publishes `events` and their manifest in `files`.
pub fn publish(files: &Files, events: &[(String, Value)]) {
    for (u, ev) in events {
        files.put(&format!("{u}.json"), serde_json::to_vec(ev).expect("json"));
    }
    files.put("manifest.json", manifest(events));
}

/// A router serving `files` under `/feed/{name}`.
pub fn file_router(files: &Files) -> Router {
    Router::new()
        .route("/feed/{name}", axum::routing::get(file))
        .with_state(files.clone())
}
