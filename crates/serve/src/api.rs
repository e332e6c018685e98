//! The REST API under `/api/v1`: every read the pages do, plus lookup, hunt,
//! attribution, ingest and token management. JSON in and out; documented in
//! the OpenAPI document at `/api/v1/openapi.json` (see `openapi.rs`).

use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::openapi::bounds;
use crate::state::{App, Clearance};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use cairn_kb::Role;
use serde::Deserialize;
use serde_json::json;

pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/search", get(search))
        .route("/api/v1/actors/{name}", get(actor))
        .route("/api/v1/actors/{name}/indicators", get(actor_indicators))
        .route("/api/v1/actors/{name}/stix", get(actor_stix))
        .route("/api/v1/actors/{name}/navigator", get(actor_navigator))
        .route("/api/v1/indicators/lookup", get(lookup))
        .route("/api/v1/indicators/{key}/sightings", get(sightings))
        .route("/api/v1/attribute", post(attribute))
        .route("/api/v1/hunt", post(hunt))
        .route("/api/v1/ingest", post(ingest))
        .route("/api/v1/feeds", get(list_feeds))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{name}", delete(revoke_token))
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

async fn stats(State(app): State<App>, ApiCaller(c): ApiCaller) -> Result<Response, ApiError> {
    let stats = app.stats_for(c.clearance()).await?;
    let engines = app.engines();
    Ok(Json(json!({
        "store": stats,
        "hunt_index": engines.index.stats(),
        "index_generation": engines.generation,
        "index_built": engines.built.to_string(),
        "index_rebuild_error": app.rebuild_error(c.clearance()),
        "answer_cache": app.answer_stats(),
        "infra_cache": app.inner.infra.stats(),
        "report_cache": app.report_stats(),
    }))
    .into_response())
}

/// `value` (or the default when absent) checked against `(min, max, default)`.
pub(crate) fn bounded(
    name: &str,
    value: Option<u64>,
    (min, max, default): (u64, u64, u64),
) -> Result<usize, ApiError> {
    let v = value.unwrap_or(default);
    if !(min..=max).contains(&v) {
        return Err(ApiError::bad_request(format!(
            "`{name}` is an integer from {min} to {max}"
        )));
    }
    usize::try_from(v).map_err(ApiError::internal)
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    limit: Option<u64>,
}

async fn search(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let limit = bounded("limit", q.limit, bounds::SEARCH_LIMIT)?;
    let hits = app
        .read_kb(c.clearance(), move |s| Ok(s.search(&q.q, limit)?))
        .await?;
    Ok(Json(json!({ "results": hits })).into_response())
}

/// A JSON body made once and kept (see [`App::answer`]).
fn json_bytes(v: &impl serde::Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

fn json_reply(body: &Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.clone(),
    )
        .into_response()
}

async fn actor(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let cl = c.clearance();
    let body = app
        .answer(cl, "actor.json", &name.clone(), || async {
            json_bytes(&*app.profile(cl, name).await?)
        })
        .await?;
    Ok(json_reply(&body))
}

#[derive(Deserialize)]
struct LimitQuery {
    limit: Option<u64>,
}

async fn actor_indicators(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Response, ApiError> {
    let limit = bounded("limit", q.limit, bounds::INDICATOR_LIMIT)?;
    let cl = c.clearance();
    let body = app
        .answer(
            cl,
            "actor.indicators",
            &format!("{limit} {name}"),
            || async {
                let p = app.profile(cl, name).await?;
                let ids: Vec<String> = p.members.iter().map(|m| m.stix_id.clone()).collect();
                let (rows, total) = app
                    .read_kb(cl, move |s| Ok(s.actor_indicators(&ids, limit)?))
                    .await?;
                json_bytes(&json!({ "actor": p.name, "total": total, "indicators": rows }))
            },
        )
        .await?;
    Ok(json_reply(&body))
}

async fn actor_stix(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let cl = c.clearance();
    let body = app
        .answer(cl, "actor.stix", &name.clone(), || {
            app.read(cl, move |s| match cairn_export::actor_bundle(s, &name)? {
                Some(b) => json_bytes(&b),
                None => Err(ApiError::not_found(format!("no actor called `{name}`"))),
            })
        })
        .await?;
    Ok(json_reply(&body))
}

async fn actor_navigator(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let p = app.profile(c.clearance(), name).await?;
    Ok(Json(cairn_export::navigator_layer(&p)).into_response())
}

#[derive(Deserialize)]
struct LookupQuery {
    value: String,
}

async fn lookup(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    if q.value.chars().count() > bounds::MAX_VALUE {
        return Err(ApiError::bad_request(format!(
            "`value` holds up to {} characters",
            bounds::MAX_VALUE
        )));
    }
    // Blank is a value nothing matches, not a malformed request.
    if q.value.trim().is_empty() {
        return Ok(Json(json!({ "value": "", "found": false, "matches": [] })).into_response());
    }
    Ok(Json(app.lookup(c.clearance(), &q.value)?).into_response())
}

async fn sightings(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(key): Path<u32>,
) -> Result<Response, ApiError> {
    let (ctx, rows) = app
        .read_kb(c.clearance(), move |s| {
            let ctx = match s.indicator_context(i64::from(key)) {
                Ok(c) => c,
                Err(cairn_kb::errors::KbError::NotFound(_)) => {
                    return Err(ApiError::not_found("no such indicator"));
                }
                Err(e) => return Err(e.into()),
            };
            Ok((ctx, s.sightings_of(i64::from(key))?))
        })
        .await?;
    Ok(Json(json!({ "indicator": ctx, "sightings": rows })).into_response())
}

#[derive(Deserialize)]
struct TopQuery {
    top: Option<u64>,
}

async fn attribute(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<TopQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let top = bounded("top", q.top, bounds::TOP)?;
    let evidence = crate::engine::evidence_from_json(&body)?;
    let ranking = app.attribute(c.clearance(), evidence, top).await?;
    Ok(Json(ranking).into_response())
}

#[derive(Deserialize)]
struct HuntQuery {
    name: Option<String>,
    #[serde(default)]
    record: bool,
}

async fn hunt(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<HuntQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    c.require(Role::Analyst)?;
    let name = q.name.unwrap_or_else(|| "upload.log".into());
    let result = app
        .hunt_bytes(c.clearance(), &name, body.to_vec(), q.record)
        .await?;
    Ok(Json(result).into_response())
}

#[derive(Deserialize)]
struct IngestQuery {
    source: Option<String>,
    name: Option<String>,
    format: Option<String>,
    tlp: Option<String>,
    actor: Option<String>,
    confidence: Option<u8>,
    reference: Option<String>,
}

async fn ingest(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<IngestQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    c.require(Role::Analyst)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("send the file as the request body"));
    }
    let mut opts = crate::engine::intake_options(
        q.source,
        q.format,
        q.tlp,
        q.actor,
        q.confidence,
        q.reference,
    )?;
    let name = q.name.unwrap_or_else(|| "upload".into());
    // `actor=auto`: the report's group, chosen before anything is written.
    let choice = app
        .auto_actor(c.clearance(), &name, body.clone(), &mut opts)
        .await?;
    let report = app.ingest_bytes(&name, Vec::from(body), opts).await?;
    tracing::info!(caller = c.name(), source = %report.source, "ingested");
    let mut v = serde_json::to_value(&report).map_err(ApiError::internal)?;
    if let (Some(choice), Some(fields)) = (choice, v.as_object_mut()) {
        let choice = serde_json::to_value(choice).map_err(ApiError::internal)?;
        fields.insert("actor_choice".into(), choice);
    }
    Ok(Json(v).into_response())
}

/// Feed subscriptions and their last runs (`cairn feed list --json`'s rows).
async fn list_feeds(State(app): State<App>, ApiCaller(c): ApiCaller) -> Result<Response, ApiError> {
    c.require(Role::Analyst)?;
    let feeds = app.read_kb(Clearance::Full, |s| Ok(s.feeds()?)).await?;
    Ok(Json(json!({ "feeds": feeds })).into_response())
}

async fn list_tokens(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
) -> Result<Response, ApiError> {
    c.require(Role::Admin)?;
    let tokens = app.read_kb(Clearance::Full, |s| Ok(s.tokens()?)).await?;
    Ok(Json(json!({ "tokens": tokens })).into_response())
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    role: String,
}

async fn create_token(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    req: Request,
) -> Result<Response, ApiError> {
    // The role first: a reader learns nothing about the body's form.
    c.require(Role::Admin)?;
    let Json(t) = Json::<NewToken>::from_request(req, &app)
        .await
        .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let role: Role = t
        .role
        .parse()
        .map_err(|e: String| ApiError::bad_request(e))?;
    let (secret, token) = app
        .write(move |s| {
            let name = t.name.trim();
            // Names are never reused, revoked or not.
            if s.tokens()?.iter().any(|k| k.name == name) {
                return Err(ApiError::new(
                    axum::http::StatusCode::CONFLICT,
                    format!("a token named `{name}` exists; pick another name"),
                ));
            }
            Ok(s.create_token(name, role)?)
        })
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({ "token": secret, "info": token, "note": "shown once; store it now" })),
    )
        .into_response())
}

async fn revoke_token(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    c.require(Role::Admin)?;
    let done = app.write(move |s| Ok(s.revoke_token(&name)?)).await?;
    app.forget_tokens();
    if done {
        Ok(Json(json!({ "revoked": true })).into_response())
    } else {
        Err(ApiError::not_found("no live token of that name"))
    }
}
