//! What every response carries and every request is held to: security
//! headers (a CSP without inline script, no sniffing, no framing), body size
//! limits, a time limit, and panics turned into a bare 500. Under `/api/`
//! every error is the documented JSON error, whoever produced it (a handler,
//! an axum extractor's rejection, a body limit, the router's 404 or 405),
//! and every 401 names its scheme in `WWW-Authenticate`.

use crate::state::App;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy: everything from this origin, nothing inline,
/// nothing framed.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    crate::errors::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        .into_response()
}

/// Longest error text kept when an axum rejection is rewritten as JSON.
const MAX_ERROR_TEXT: usize = 4096;

/// The challenge a 401 carries: the API takes bearer tokens, TAXII also Basic.
const BEARER_CHALLENGE: &str = "Bearer realm=\"cairn\"";

/// Rewrites errors under `/api/` that are not already JSON (axum's extractor
/// rejections, the body limit's 413, the router's 404/405) into the
/// documented `{error, status}` body, keeping their status and headers; adds
/// the `WWW-Authenticate` challenge to 401s under `/api/` and `/taxii2/`.
async fn api_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api = path.starts_with("/api/");
    let taxii = path.starts_with("/taxii2/");
    let mut res = next.run(req).await;
    if !(api || taxii) || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    if res.status() == StatusCode::UNAUTHORIZED {
        let challenge = if taxii {
            "Bearer realm=\"cairn\", Basic realm=\"cairn\""
        } else {
            BEARER_CHALLENGE
        };
        res.headers_mut()
            .entry(header::WWW_AUTHENTICATE)
            .or_insert(HeaderValue::from_static(challenge));
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if taxii || is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = match axum::body::to_bytes(body, MAX_ERROR_TEXT).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).trim().to_string(),
        _ => String::new(),
    };
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase()
    } else {
        text
    };
    let json = crate::errors::ApiError::new(parts.status, message).into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        json_parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json")),
    );
    Response::from_parts(parts, json_body)
}

pub(crate) fn wrap(router: Router<App>, app: &App) -> Router<App> {
    let cfg = app.config();
    let fixed = |name: header::HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(axum::extract::DefaultBodyLimit::max(cfg.max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(cfg.max_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            cfg.timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(axum::middleware::from_fn(api_errors))
        .layer(fixed(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
