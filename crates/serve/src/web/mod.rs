//! The analysts' web app: server-rendered HTML (maud escapes every value),
//! one stylesheet, no script and nothing fetched from elsewhere, so it works
//! offline and under a CSP that forbids inline code. Pages link into each
//! other the way an analyst pivots: search → actor → indicator → actor.

mod charts;
mod frame;
mod graph;
mod infra;
mod map;
mod pages;
pub(crate) mod scan;
mod tools;

use crate::auth::{COOKIE, ClientAddr, SESSION_TTL, WebCaller};
use crate::state::App;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use frame::{error_page, page, url_encode};
use maud::{Markup, html};
use serde::Deserialize;

const CSS: &str = concat!(
    include_str!("../../assets/app.css"),
    "\n",
    include_str!("../../assets/map.css")
);

pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/", get(pages::home))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/static/app.css", get(css))
        .route("/search", get(pages::search))
        .route("/actor/{name}", get(pages::actor))
        .route("/actor/{name}/stix.json", get(pages::actor_stix))
        .route("/actor/{name}/navigator.json", get(pages::actor_navigator))
        .route("/indicator", get(pages::indicator))
        .route("/pivot", get(infra::pivot_page))
        .route("/hunt", get(tools::hunt_form).post(tools::hunt))
        .route(
            "/attribute",
            get(tools::attribute).post(tools::attribute_upload),
        )
        .route("/ingest", get(tools::ingest_form).post(tools::ingest))
}

/// Room for the report form's other fields and the multipart framing.
const REPORT_FORM_OVERHEAD: usize = 64 << 10;

/// The attribution page's report upload; `max_report_body` bounds the
/// report (checked again once read, for a 413 that says so).
pub(crate) fn report_routes(max_report_body: usize) -> axum::Router<App> {
    let limit =
        axum::extract::DefaultBodyLimit::max(max_report_body.saturating_add(REPORT_FORM_OVERHEAD));
    axum::Router::new().route(
        "/attribute/report",
        get(|| async { Redirect::to("/attribute") })
            .post(tools::attribute_report)
            .layer(limit),
    )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

/// Only same-site paths: an attacker's `next=//evil.example` goes home
/// instead. Browsers drop tabs and line breaks from a `Location` and read
/// `\\` as `/`, so `/\t/evil.example` and `/\\evil.example` are other
/// sites too: only visible ASCII without a backslash is kept (anything else
/// could not be a header value either).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.into()
        }
        _ => "/".into(),
    }
}

async fn login_form(Query(q): Query<NextQuery>) -> Markup {
    let next = safe_next(q.next.as_deref());
    page(
        "Sign in",
        None,
        html! {
            section.signin {
                h1 { "Sign in" }
                p { "Paste an API token. An admin creates one with "
                    code { "cairn token create --name you --role analyst" } "." }
                @if q.error.is_some() {
                    p.error { "That token is not valid (or was revoked)." }
                }
                form action="/login" method="post" {
                    input type="hidden" name="next" value=(next);
                    label for="token" { "Token" }
                    input #token type="password" name="token" autocomplete="off" required;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(
    State(app): State<App>,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Response {
    if let Err(e) = app.limit_login(&addr) {
        return error_page(&e);
    }
    let next = safe_next(f.next.as_deref());
    let grant = match app.verify(f.token.trim()) {
        Ok(Some(g)) => g,
        Ok(None) => {
            return Redirect::to(&format!("/login?error=1&next={}", url_encode(&next)))
                .into_response();
        }
        Err(e) => return error_page(&e),
    };
    let id = match app.start_session(grant) {
        Ok(id) => id,
        Err(e) => return error_page(&e),
    };
    let secure = if app.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = c.check_csrf(&f.csrf) {
        return error_page(&e);
    }
    app.end_session(&headers);
    let mut res = Redirect::to("/login").into_response();
    let gone = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&gone) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next(Some("/actor/x")), "/actor/x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some("/search?q=a%2Fb&x=1")),
            "/search?q=a%2Fb&x=1"
        );
        // What browsers strip or fold into `//`, and what no header may hold.
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\\/evil.example",
            "/x\\..\\..\\evil",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/é",
            "\t//evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
