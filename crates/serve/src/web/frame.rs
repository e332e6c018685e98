//! The page frame every page is drawn in, errors as pages, and the links
//! pages make into each other.

use crate::auth::{Caller, WebReject};
use crate::errors::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

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

/// The pivot page of a value (every indicator value shown links to one).
pub(crate) fn pivot_href(value: &str) -> String {
    format!("/pivot?value={}", url_encode(value))
}

/// The certificate page of a serial or thumbprint.
pub(crate) fn cert_href(query: &str) -> String {
    format!("/cert/{}", url_encode(query))
}

pub(crate) fn search_href(q: &str) -> String {
    format!("/search?q={}", url_encode(q))
}

/// The page frame: navigation, who is signed in, the content.
pub(crate) fn page(title: &str, caller: Option<&Caller>, body: Markup) -> Markup {
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
                                a href="/scan" { "Scan" }
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

/// A 403 page for a role the caller lacks.
pub(crate) fn forbidden(need: &str) -> Response {
    error_page(&ApiError::new(
        StatusCode::FORBIDDEN,
        format!("This page needs the {need} role."),
    ))
}

impl IntoResponse for WebReject {
    fn into_response(self) -> Response {
        match self {
            WebReject::SignIn(next) => {
                Redirect::to(&format!("/login?next={}", url_encode(&next))).into_response()
            }
            WebReject::Error(e) => error_page(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
