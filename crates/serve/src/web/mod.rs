//! The analysts' web app: server-rendered HTML (maud escapes every value),
//! one stylesheet, no script and nothing fetched from elsewhere, so it works
//! offline and under a CSP that forbids inline code. Pages link into each
//! other the way an analyst pivots: search → actor → indicator → actor.

mod charts;
mod map;
mod pages;
mod tools;

use crate::auth::{COOKIE, ClientAddr, SESSION_TTL, WebCaller};
use crate::errors::ApiError;
use crate::state::App;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
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
        .route("/hunt", get(tools::hunt_form).post(tools::hunt))
        .route(
            "/attribute",
            get(tools::attribute).post(tools::attribute_upload),
        )
        .route("/ingest", get(tools::ingest_form).post(tools::ingest))
}

/// Percent-encodes a path segment or query value.
pub(crate) fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

pub(crate) fn actor_href(name: &str) -> String {
    format!("/actor/{}", url_encode(name))
}

pub(crate) fn indicator_href(value: &str) -> String {
    format!("/indicator?value={}", url_encode(value))
}

pub(crate) fn search_href(q: &str) -> String {
    format!("/search?q={}", url_encode(q))
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

/// The page frame: navigation, who is signed in, the content.
pub(crate) fn page(title: &str, caller: Option<&crate::auth::Caller>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Cairn" }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                header.top {
                    a.brand href="/" { "Cairn" }
                    @if let Some(c) = caller {
                        form.searchbox action="/search" method="get" role="search" {
                            input type="search" name="q" placeholder="Actor, alias, malware, technique, indicator…" aria-label="Search";
                            button type="submit" { "Search" }
                        }
                        nav {
                            a href="/attribute" { "Attribute" }
                            @if c.role() >= cairn_kb::Role::Analyst {
                                a href="/hunt" { "Hunt" }
                                a href="/ingest" { "Ingest" }
                            }
                        }
                        span.who {
                            (c.name()) " · " (c.role().as_str())
                            @if let Some(csrf) = &c.csrf {
                                form.inline action="/logout" method="post" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main { (body) }
                footer { "Cairn — every fact with its source. Readers see TLP:CLEAR, GREEN and AMBER only." }
            }
        }
    }
}

/// An error as a page, with the status kept.
pub(crate) fn error_page(e: &ApiError) -> Response {
    let body = html! {
        h1 { (e.status.as_u16()) " " (e.status.canonical_reason().unwrap_or("error")) }
        p.error { (e.message) }
        p { a href="/" { "Back to the start" } }
    };
    (e.status, page("Error", None, body)).into_response()
}

/// Renders a handler's result: the page, or the error as a page.
pub(crate) fn respond(r: Result<Markup, ApiError>) -> Response {
    match r {
        Ok(m) => m.into_response(),
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

/// Only same-site paths: an attacker's `next=//evil.example` goes home instead.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
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

/// A 403 page for a role the caller lacks.
pub(crate) fn forbidden(need: &str) -> Response {
    error_page(&ApiError::new(
        StatusCode::FORBIDDEN,
        format!("This page needs the {need} role."),
    ))
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
    }

    #[test]
    fn page_escapes_what_it_is_given() {
        let m = page(
            "<script>alert(1)</script>",
            None,
            html! { p { "<img src=x onerror=alert(1)>" } },
        );
        let s = m.into_string();
        assert!(!s.contains("<script>alert"));
        assert!(!s.contains("<img src=x"));
        assert!(s.contains("&lt;script&gt;"));
    }
}
