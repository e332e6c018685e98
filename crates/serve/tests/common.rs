//! A small store for server tests: two actors (one TLP:RED), indicators at
//! every marking, a technique, an actor whose name is an HTML payload.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response};
use cairn_kb::{Role, Store};
use cairn_serve::{App, Config};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
pub const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
pub const AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
pub const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
pub const XSS_NAME: &str = "<script>alert(1)</script> Group";
pub const XSS_DESC: &str = "<img src=x onerror=alert(1)> wrote this";

fn obj(kind: &str, id: &str, marking: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut o = serde_json::json!({
        "type": kind, "spec_version": "2.1", "id": id,
        "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z",
        "object_marking_refs": [marking],
    });
    if let (Some(o), Some(e)) = (o.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    o
}

fn indicates(n: u32, ind: &str, actor: &str, marking: &str) -> serde_json::Value {
    obj(
        "relationship",
        &format!("relationship--00000000-0000-4000-8000-0000000000{n:02}"),
        marking,
        serde_json::json!({ "relationship_type": "indicates", "source_ref": ind, "target_ref": actor }),
    )
}

pub const OPEN: &str = "intrusion-set--10000000-0000-4000-8000-000000000001";
pub const CRIMSON: &str = "intrusion-set--10000000-0000-4000-8000-000000000002";
pub const XSS: &str = "intrusion-set--10000000-0000-4000-8000-000000000003";
pub const IND_GREEN: &str = "indicator--20000000-0000-4000-8000-000000000001";
pub const IND_RED: &str = "indicator--20000000-0000-4000-8000-000000000002";
pub const IND_STRICT: &str = "indicator--20000000-0000-4000-8000-000000000003";
pub const IND_CIDR: &str = "indicator--20000000-0000-4000-8000-000000000004";
pub const TECH: &str = "attack-pattern--30000000-0000-4000-8000-000000000001";

pub fn bundle_json() -> String {
    let ind = |id: &str, pattern: &str, marking: &str| {
        obj(
            "indicator",
            id,
            marking,
            serde_json::json!({ "pattern": pattern, "pattern_type": "stix", "valid_from": "2023-01-01T00:00:00Z", "indicator_types": ["malicious-activity"] }),
        )
    };
    let objects = vec![
        obj(
            "intrusion-set",
            OPEN,
            GREEN,
            serde_json::json!({ "name": "Open Panda", "aliases": ["Visible Bear"], "description": "Seen widely." }),
        ),
        obj(
            "intrusion-set",
            CRIMSON,
            RED,
            serde_json::json!({ "name": "Crimson Tide", "aliases": ["Scarlet Mist"], "description": "Only for us." }),
        ),
        obj(
            "intrusion-set",
            XSS,
            GREEN,
            serde_json::json!({ "name": XSS_NAME, "aliases": ["Payload Actor"], "description": XSS_DESC }),
        ),
        obj(
            "attack-pattern",
            TECH,
            GREEN,
            serde_json::json!({ "name": "Exploit Public-Facing Application",
            "external_references": [{ "source_name": "mitre-attack", "external_id": "T1190" }],
            "kill_chain_phases": [{ "kill_chain_name": "mitre-attack", "phase_name": "initial-access" }] }),
        ),
        obj(
            "relationship",
            "relationship--00000000-0000-4000-8000-000000000099",
            GREEN,
            serde_json::json!({ "relationship_type": "uses", "source_ref": OPEN, "target_ref": TECH }),
        ),
        ind(IND_GREEN, "[domain-name:value = 'evil-c2.top']", GREEN),
        ind(IND_RED, "[ipv4-addr:value = '91.195.240.94']", RED),
        ind(
            IND_STRICT,
            "[domain-name:value = 'strict-only.top']",
            AMBER_STRICT,
        ),
        ind(IND_CIDR, "[ipv4-addr:value = '185.220.101.0/24']", AMBER),
        indicates(1, IND_GREEN, OPEN, GREEN),
        indicates(2, IND_RED, OPEN, RED),
        indicates(3, IND_STRICT, OPEN, AMBER_STRICT),
        indicates(4, IND_CIDR, OPEN, AMBER),
    ];
    serde_json::json!({ "type": "bundle", "id": "bundle--40000000-0000-4000-8000-000000000001", "objects": objects })
        .to_string()
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub app: App,
    pub reader: String,
    pub analyst: String,
    pub admin: String,
}

pub fn fixture_with(configure: impl FnOnce(&mut Config)) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("cairn.db");
    let mut store = Store::open(&db).expect("store");
    let opts = cairn_intake::Options {
        source: Some("fixture intel".into()),
        ..cairn_intake::Options::default()
    };
    let bundle = cairn_intake::parse_bytes(
        std::path::Path::new("fixture.json"),
        bundle_json().as_bytes(),
        &opts,
    )
    .expect("fixture parses");
    store.ingest(&bundle, None, None).expect("ingest");
    let reader = store.create_token("reader", Role::Reader).expect("token").0;
    let analyst = store
        .create_token("analyst", Role::Analyst)
        .expect("token")
        .0;
    let admin = store.create_token("admin", Role::Admin).expect("token").0;
    drop(store);
    let mut config = Config::new(db);
    configure(&mut config);
    let app = App::open(config).expect("app");
    Fixture {
        _dir: dir,
        app,
        reader,
        analyst,
        admin,
    }
}

pub fn fixture() -> Fixture {
    fixture_with(|_| {})
}

pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn send(app: &App, req: Request<Body>) -> Reply {
    let res: Response<Body> = app.router().oneshot(req).await.expect("router answers");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(app: &App, uri: &str, token: Option<&str>) -> Reply {
    let mut b = Request::get(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    send(app, b.body(Body::empty()).expect("request")).await
}

pub async fn post(
    app: &App,
    uri: &str,
    token: Option<&str>,
    ctype: &str,
    body: impl Into<Body>,
) -> Reply {
    let mut b = Request::post(uri).header("content-type", ctype);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    send(app, b.body(body.into()).expect("request")).await
}

/// Signs in to the web app with `token`; returns the session cookie.
pub async fn sign_in(app: &App, token: &str) -> String {
    let r = send(
        app,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&next=%2F")))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.headers["set-cookie"].to_str().expect("cookie");
    cookie.split(';').next().expect("pair").to_string()
}
