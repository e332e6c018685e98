//! TAXII 2.1: a read-only server over the knowledge base, so OpenCTI, MISP or
//! a SIEM can subscribe to what Cairn knows.
//!
//! One API root, `/taxii2/cairn/`; one collection holding everything and one
//! per source (see [`cairn_kb::FeedCollection`]), all `can_read`, none
//! `can_write` (intel comes in through Cairn's own ingest). Objects are
//! served as STIX 2.1 with `added_after`, `match[id]`, `match[type]`,
//! `match[version]`, `match[spec_version]`, `limit` (default 100, at most
//! 1000) and an opaque `next` cursor.
//!
//! The store hands out pages of statements ([`Store::feed_objects`]); each
//! becomes STIX 2.1 through `cairn-export`'s emitter, the same one bundle
//! exports use ([`cairn_export::feed_object`]). A statement the emitter
//! cannot make valid STIX of is left out of objects, manifest and versions
//! alike.
//!
//! Every request needs a token (Bearer, or HTTP Basic with the token as
//! password) unless anonymous reading is on, and reads through a store
//! connection of the caller's clearance: a reader's connection cannot see
//! TLP:RED or TLP:AMBER+STRICT statements, so no endpoint here can hand them
//! out — not even a source's collection, when all it holds is hidden.

use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::state::App;
use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_export::STIX_MEDIA_TYPE;
use cairn_kb::{FEED_MAX_PAGE, FeedCollection, FeedPage, FeedQuery, Store, VersionMatch};
use serde_json::{Value, json};

/// The media type of every TAXII response.
pub(crate) const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The one API root.
const API_ROOT: &str = "/taxii2/cairn/";
/// Page size when the client names none.
const DEFAULT_LIMIT: usize = 100;

const DATE_FIRST: HeaderName = HeaderName::from_static("x-taxii-date-added-first");
const DATE_LAST: HeaderName = HeaderName::from_static("x-taxii-date-added-last");

pub(crate) fn routes() -> Router<App> {
    let mut r = Router::new();
    // TAXII URLs end in `/`; clients that drop it are answered all the same.
    for (path, handler) in [
        ("/taxii2", get(discovery)),
        ("/taxii2/cairn", get(api_root)),
        ("/taxii2/cairn/collections", get(collections)),
        ("/taxii2/cairn/collections/{id}", get(collection)),
        (
            "/taxii2/cairn/collections/{id}/objects",
            get(objects).post(write_refused),
        ),
        (
            "/taxii2/cairn/collections/{id}/objects/{object_id}",
            get(object),
        ),
        (
            "/taxii2/cairn/collections/{id}/objects/{object_id}/versions",
            get(versions),
        ),
        ("/taxii2/cairn/collections/{id}/manifest", get(manifest)),
    ] {
        r = r
            .route(&format!("{path}/"), handler.clone())
            .route(path, handler);
    }
    r
}

/// A TAXII error message, served with the TAXII media type.
#[derive(Debug)]
struct TaxiiError {
    status: StatusCode,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, description: impl Into<String>) -> TaxiiError {
        TaxiiError {
            status,
            description: description.into(),
        }
    }
    fn not_found(what: &str) -> TaxiiError {
        TaxiiError::new(StatusCode::NOT_FOUND, format!("no such {what}"))
    }
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> TaxiiError {
        TaxiiError::new(e.status, e.message)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = json!({
            "title": title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut res = taxii(self.status, &body, Vec::new());
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"cairn\", Basic realm=\"cairn\""),
            );
        }
        res
    }
}

/// A JSON body with the TAXII media type and any extra headers.
fn taxii(status: StatusCode, body: &Value, extra: Vec<(HeaderName, String)>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    res
}

fn ok(body: &Value) -> Response {
    taxii(StatusCode::OK, body, Vec::new())
}

/// Whether the `Accept` header allows a TAXII 2.1 answer (absent: yes).
fn acceptable(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return true;
    }
    values.iter().flat_map(|v| v.split(',')).any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_string(),
                )
            })
            .collect();
        let refused = params.iter().any(|(k, v)| k == "q" && v.parse() == Ok(0.0));
        let version_ok = params
            .iter()
            .find(|(k, _)| k == "version")
            .is_none_or(|(_, v)| v == "2.1");
        !refused
            && match media.as_str() {
                "application/taxii+json" => version_ok,
                "*/*" | "application/*" | "application/json" => true,
                _ => false,
            }
    })
}

/// The caller, once authenticated (401/429 otherwise) and willing to take TAXII (406).
fn admit(
    caller: Result<ApiCaller, ApiError>,
    headers: &HeaderMap,
) -> Result<ApiCaller, TaxiiError> {
    let caller = caller?;
    if !acceptable(headers) {
        return Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("this server answers in {TAXII_MEDIA_TYPE}"),
        ));
    }
    Ok(caller)
}

fn path_of<T>(p: Result<Path<T>, PathRejection>) -> Result<T, TaxiiError> {
    p.map(|Path(v)| v)
        .map_err(|e| TaxiiError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// The request's filters, from the query string.
fn filters(
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<(FeedQuery, bool), TaxiiError> {
    let Query(pairs) = q.map_err(|e| TaxiiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let bad = |m: String| TaxiiError::new(StatusCode::BAD_REQUEST, m);
    let mut fq = FeedQuery {
        limit: DEFAULT_LIMIT,
        ..FeedQuery::default()
    };
    let mut spec_ok = true;
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "added_after" => fq.added_after = Some(v),
            "limit" => {
                let n: usize = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(format!("limit `{v}` is not a positive integer")))?;
                fq.limit = n.min(FEED_MAX_PAGE);
            }
            "next" => fq.next = Some(v),
            "match[id]" => fq.ids.extend(list(&v)),
            "match[type]" => fq.types.extend(list(&v)),
            "match[version]" => fq
                .versions
                .extend(VersionMatch::parse_list(&v).map_err(|e| bad(e.to_string()))?),
            // Everything is served as STIX 2.1.
            "match[spec_version]" => spec_ok = list(&v).iter().any(|s| s == "2.1"),
            _ => {}
        }
    }
    Ok((fq, spec_ok))
}

/// A page of a collection as the caller may see it; 404 for a collection it cannot.
async fn page(
    app: &App,
    caller: &ApiCaller,
    collection: String,
    query: FeedQuery,
    spec_ok: bool,
) -> Result<FeedPage, TaxiiError> {
    let page = app
        .read(caller.0.clearance(), move |s: &Store| {
            if !spec_ok {
                // Nothing matches, but an unknown collection is still unknown.
                return Ok(s.feed_collection(&collection)?.map(|_| FeedPage {
                    objects: Vec::new(),
                    more: false,
                    next: None,
                }));
            }
            Ok(s.feed_objects(&collection, &query)?)
        })
        .await?;
    page.ok_or_else(|| TaxiiError::not_found("collection"))
}

/// Whether `object_id` is in the collection, whatever its date or version.
async fn object_exists(
    app: &App,
    caller: &ApiCaller,
    collection: String,
    object_id: String,
) -> Result<bool, TaxiiError> {
    let q = FeedQuery {
        ids: vec![object_id],
        versions: vec![VersionMatch::All],
        limit: 1,
        ..FeedQuery::default()
    };
    let page = app
        .read(caller.0.clearance(), move |s: &Store| {
            Ok(s.feed_objects(&collection, &q)?)
        })
        .await?;
    Ok(page.is_some_and(|p| !served(&p).is_empty()))
}

/// One served object: its published id, TAXII date added and version.
struct Served {
    id: String,
    date_added: String,
    version: String,
    object: Value,
}

/// A page's items as STIX 2.1 objects, through the one emitter.
fn served(page: &FeedPage) -> Vec<Served> {
    page.objects
        .iter()
        .filter_map(|item| {
            let object = cairn_export::feed_object(item)?;
            let id = object.get("id").and_then(Value::as_str)?.to_string();
            let version = object
                .get("modified")
                .or_else(|| object.get("created"))
                .and_then(Value::as_str)
                .map_or_else(|| item.date_added.clone(), str::to_string);
            Some(Served {
                id,
                date_added: item.date_added.clone(),
                version,
                object,
            })
        })
        .collect()
}

/// The date headers and the `more`/`next` members shared by every page.
fn paged(page: &FeedPage, key: &str, items: Vec<Value>) -> (Value, Vec<(HeaderName, String)>) {
    let mut body = serde_json::Map::new();
    body.insert("more".into(), Value::Bool(page.more));
    if let Some(n) = &page.next {
        body.insert("next".into(), Value::String(n.clone()));
    }
    if !items.is_empty() {
        body.insert(key.into(), Value::Array(items));
    }
    let mut extra = Vec::new();
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        extra.push((DATE_FIRST, first.date_added.clone()));
        extra.push((DATE_LAST, last.date_added.clone()));
    }
    (Value::Object(body), extra)
}

fn collection_json(c: &FeedCollection) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": true,
        "can_write": false,
        "media_types": [STIX_MEDIA_TYPE],
    })
}

async fn discovery(
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    admit(caller, &headers)?;
    Ok(ok(&json!({
        "title": "Cairn TAXII 2.1",
        "description": "Threat intelligence from a Cairn knowledge base, as STIX 2.1",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    })))
}

async fn api_root(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    admit(caller, &headers)?;
    Ok(ok(&json!({
        "title": "Cairn",
        "description": "Every source in the knowledge base, and everything together",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": app.config().max_body,
    })))
}

async fn collections(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let list = app
        .read(caller.0.clearance(), |s: &Store| Ok(s.feed_collections()?))
        .await?;
    let items: Vec<Value> = list.iter().map(collection_json).collect();
    Ok(ok(&json!({ "collections": items })))
}

async fn collection(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let id = path_of(id)?;
    let found = app
        .read(caller.0.clearance(), move |s: &Store| {
            Ok(s.feed_collection(&id)?)
        })
        .await?;
    let c = found.ok_or_else(|| TaxiiError::not_found("collection"))?;
    Ok(ok(&collection_json(&c)))
}

async fn objects(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let id = path_of(id)?;
    let (q, spec_ok) = filters(query)?;
    let p = page(&app, &caller, id, q, spec_ok).await?;
    let items = served(&p).into_iter().map(|o| o.object).collect();
    let (body, extra) = paged(&p, "objects", items);
    Ok(taxii(StatusCode::OK, &body, extra))
}

async fn object(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    ids: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let (id, object_id) = path_of(ids)?;
    let (mut q, spec_ok) = filters(query)?;
    q.ids = vec![object_id.clone()];
    q.types.clear();
    let p = page(&app, &caller, id.clone(), q, spec_ok).await?;
    let objs = served(&p);
    if objs.is_empty() && !object_exists(&app, &caller, id, object_id).await? {
        return Err(TaxiiError::not_found("object in this collection"));
    }
    let items = objs.into_iter().map(|o| o.object).collect();
    let (body, extra) = paged(&p, "objects", items);
    Ok(taxii(StatusCode::OK, &body, extra))
}

async fn versions(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    ids: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let (id, object_id) = path_of(ids)?;
    let (mut q, spec_ok) = filters(query)?;
    q.ids = vec![object_id.clone()];
    q.types.clear();
    q.versions = vec![VersionMatch::All];
    let p = page(&app, &caller, id.clone(), q, spec_ok).await?;
    let objs = served(&p);
    if objs.is_empty() && !object_exists(&app, &caller, id, object_id).await? {
        return Err(TaxiiError::not_found("object in this collection"));
    }
    let mut items: Vec<String> = objs.into_iter().map(|o| o.version).collect();
    items.sort();
    items.dedup();
    let (body, extra) = paged(
        &p,
        "versions",
        items.into_iter().map(Value::String).collect(),
    );
    Ok(taxii(StatusCode::OK, &body, extra))
}

async fn manifest(
    State(app): State<App>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    let caller = admit(caller, &headers)?;
    let id = path_of(id)?;
    let (q, spec_ok) = filters(query)?;
    let p = page(&app, &caller, id, q, spec_ok).await?;
    let items = served(&p)
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "date_added": o.date_added,
                "version": o.version,
                "media_type": STIX_MEDIA_TYPE,
            })
        })
        .collect();
    let (body, extra) = paged(&p, "objects", items);
    Ok(taxii(StatusCode::OK, &body, extra))
}

/// Collections are read-only: intel comes in through Cairn's own ingest.
async fn write_refused(
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    admit(caller, &headers)?;
    Err(TaxiiError::new(
        StatusCode::FORBIDDEN,
        "collections are read-only here; ingest through Cairn's API (POST /api/v1/ingest)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        acceptable(&h)
    }

    #[test]
    fn accept_header_negotiation() {
        assert!(acceptable(&HeaderMap::new()));
        assert!(accept("application/taxii+json;version=2.1"));
        assert!(accept("application/taxii+json; version=\"2.1\""));
        assert!(accept("application/taxii+json"));
        assert!(accept("*/*"));
        assert!(accept("application/json"));
        assert!(accept("text/html, application/json;q=0.5"));
        assert!(!accept("text/html"));
        assert!(!accept("application/taxii+json;version=2.0"));
        assert!(!accept("application/stix+json;version=2.1"));
        assert!(!accept("application/json;q=0"));
    }
}
