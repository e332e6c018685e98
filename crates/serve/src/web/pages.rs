//! Reading pages: start, search, actor, indicator.

use super::frame::{
    actor_href, error_page, indicator_href, page, pivot_href, respond, search_href,
};
use super::{charts, map};
use crate::auth::WebCaller;
use crate::errors::ApiError;
use crate::state::App;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use cairn_kb::Profile;
use cairn_model::IndicatorKind;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

pub(crate) async fn home(State(app): State<App>, WebCaller(c): WebCaller) -> Response {
    let stats = app.stats_for(c.clearance()).await;
    // A reader's connection sees no feeds (clearance.rs): the table is then absent.
    let feeds = app
        .read_kb(c.clearance(), |s| Ok(s.feeds()?))
        .await
        .unwrap_or_default();
    respond(stats.map(|stats| {
        let count = |k: &str| {
            stats
                .objects_by_kind
                .iter()
                .find(|(kind, _)| kind == k)
                .map_or(0, |(_, n)| *n)
        };
        page(
            "Start",
            Some(&c),
            html! {
                section.hero {
                    h1 { "Are they in your network?" }
                    form.bigsearch action="/search" method="get" role="search" {
                        input type="search" name="q" placeholder="Charcoal Typhoon, TAG-22, G1006, ShadowPad, a domain or hash…" aria-label="Search" autofocus;
                        button type="submit" { "Search" }
                    }
                    p.hint { "Try " a href=(search_href("Charcoal Typhoon")) { "Charcoal Typhoon" } ", "
                        a href=(search_href("Earth Lusca")) { "Earth Lusca" } " or "
                        a href=(search_href("ShadowPad")) { "ShadowPad" } "." }
                }
                @if let Some(e) = app.rebuild_error(c.clearance()) {
                    p.error role="alert" {
                        "The hunt index could not be rebuilt for store generation " (e.generation)
                        " (since " (e.since) "): " (e.message)
                        ". Hunts and lookups use the previous index until a rebuild succeeds."
                    }
                }
                section.cards {
                    div.card { b { (count("intrusion-set")) } span { "actors" } }
                    div.card { b { (count("attack-pattern")) } span { "techniques" } }
                    div.card { b { (count("malware") + count("tool")) } span { "software" } }
                    div.card { b { (count("indicator")) } span { "indicators" } }
                }
                h2 { "Sources" }
                table {
                    thead { tr { th { "Source" } th { "Format" } th.num { "Objects" } th.num { "Relationships" } th { "Last ingested" } } }
                    tbody {
                        @for s in &stats.sources {
                            tr { td { (s.name) } td { (s.format) } td.num { (s.objects) } td.num { (s.relations) } td { (s.last_ingested) } }
                        }
                    }
                }
                @if !feeds.is_empty() {
                    h2 { "Feeds" }
                    table {
                        thead { tr { th { "Feed" } th { "Kind" } th { "Status" } th { "Last run" } th.num { "Added" } th.num { "Changed" } th.num { "Withdrawn" } th { "Next due" } th { "Error" } } }
                        tbody {
                            @for f in &feeds {
                                tr {
                                    td { (f.name) } td { (f.kind) } td { (f.status) }
                                    td { (f.last_run.as_deref().unwrap_or("never")) }
                                    td.num { (f.added) } td.num { (f.changed) } td.num { (f.withdrawn) }
                                    td { (f.next_due.as_deref().unwrap_or("now")) }
                                    td { (f.error.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            },
        )
    }))
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn search(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text = q.q.trim().to_string();
    let looks_like_indicator = IndicatorKind::detect(&text).is_some() && !text.contains(' ');
    let t = text.clone();
    let hits = app
        .read_kb(c.clearance(), move |s| Ok(s.search(&t, 50)?))
        .await;
    respond(hits.map(|hits| {
        page(
            &format!("Search: {text}"),
            Some(&c),
            html! {
                h1 { "Search " q { (text) } }
                @if looks_like_indicator {
                    p.pivot { "This looks like an indicator: " a href=(indicator_href(&text)) { "look up " code { (text) } } }
                }
                @if hits.is_empty() && !looks_like_indicator {
                    p { "Nothing matches. Names are matched across every vendor's aliases; try a shorter word." }
                }
                ul.results {
                    @for h in &hits {
                        li {
                            span.kind { (h.kind) }
                            @if h.kind == "intrusion-set" {
                                a href=(actor_href(&h.name)) { (h.name) }
                            } @else {
                                a href=(search_href(&h.name)) { (h.name) }
                            }
                            @if let Some(id) = &h.external_id { " " span.id { (id) } }
                            span.sources { " — " (h.sources.join(", ")) }
                            @if !h.snippet.is_empty() { p.snippet { (h.snippet) } }
                        }
                    }
                }
            },
        )
    }))
}

pub(crate) async fn actor(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Path(name): Path<String>,
) -> Response {
    let cl = c.clearance();
    // The page's content is made once per store generation; only the frame
    // (who is signed in, the CSRF token) is per request.
    let r: Result<Markup, ApiError> = async {
        let made = app
            .answer(cl, "actor.html", &name.clone(), || async {
                let p = app.profile(cl, name).await?;
                let ids: Vec<String> = p.members.iter().map(|m| m.stix_id.clone()).collect();
                let (indicators, total) = app
                    .read_kb(cl, move |s| Ok(s.actor_indicators(&ids, 200)?))
                    .await?;
                let infra = super::infra::actor_section(&app, cl, p.name.clone()).await;
                Ok((
                    p.name.clone(),
                    actor_body(&p, &indicators, total, infra).into_string(),
                ))
            })
            .await?;
        let (title, body) = &*made;
        Ok(page(title, Some(&c), PreEscaped(body.clone())))
    }
    .await;
    respond(r)
}

fn actor_body(
    p: &Profile,
    indicators: &[cairn_kb::IndicatorRow],
    total: usize,
    infra: Markup,
) -> Markup {
    let targets: Vec<(String, String, usize)> = p
        .countries
        .iter()
        .map(|c| {
            (
                c.value.clone(),
                format!("{} — {}", c.name, c.sources.join(", ")),
                c.sources.len(),
            )
        })
        .collect();
    html! {
        div.actorhead {
            h1 { (p.name) @if let Some(id) = &p.attack_id { " " span.id { (id) } } }
            p.meta {
                (p.members.len()) " source(s) describe this actor"
                @if let Some(f) = &p.first_seen { " · first seen " (f) }
                @if let Some(l) = &p.last_seen { " · last seen " (l) }
                @if p.sightings > 0 { " · " strong.seen { (p.sightings) " hit(s) in our network" } }
            }
            p.exports {
                "Export: "
                a href=(format!("{}/stix.json", actor_href(&p.name))) { "STIX 2.1 bundle" } " · "
                a href=(format!("{}/navigator.json", actor_href(&p.name))) { "ATT&CK Navigator layer" }
            }
        }
        section #names {
            h2 { "Names, and who uses them" }
            table {
                thead { tr { th { "Name" } th { "Sources" } } }
                tbody { @for a in &p.aliases { tr { td { (a.name) } td { (a.sources.join(", ")) } } } }
            }
            @if !p.conflicts.is_empty() {
                div #conflicts.conflicts {
                    h3 { "Where sources disagree" }
                    ul {
                        @for c in &p.conflicts {
                            li {
                                strong { (c.kept_apart_by) } " keeps " a href=(actor_href(&c.name)) { (c.name) } " (" (c.other_id) ") apart from "
                                (c.kept_apart_from) " (" (c.kept_apart_from_id) "), but " (c.linked_by.join(" + "))
                                " link them through " (c.linking_names.join(", ")) "."
                            }
                        }
                    }
                }
            }
            (charts::alias_graph(p))
        }
        @if let Some(d) = &p.description {
            section #description {
                h2 { "Description" }
                p.description { (plain_text(d)) }
                @if let Some(s) = &p.description_source { p.source { "— " (s) } }
            }
        }
        section #techniques {
            h2 { "ATT&CK techniques (" (p.techniques.len()) ")" }
            (charts::technique_matrix(&p.techniques))
        }
        section.two {
            div #software {
                h2 { "Software" }
                @if p.software.is_empty() { p.muted { "None stated." } }
                ul { @for s in &p.software {
                    li { a href=(search_href(&s.name)) { (s.name) } @if let Some(id) = &s.id { " " span.id { (id) } } " " span.kind { (s.kind) } span.sources { " — " (s.sources.join(", ")) } }
                } }
            }
            div #campaigns {
                h2 { "Campaigns" }
                @if p.campaigns.is_empty() { p.muted { "None stated." } }
                ul { @for s in &p.campaigns {
                    li { (s.name) @if let Some(id) = &s.id { " " span.id { (id) } } span.sources { " — " (s.sources.join(", ")) } }
                } }
            }
        }
        section #targets {
            h2 { "Targeted countries (" (p.countries.len()) ")" }
            (map::world_map(&targets))
            p.countrylist { @for (i, c) in p.countries.iter().enumerate() {
                @if i > 0 { ", " } span title=(c.sources.join(", ")) { (c.name) }
            } }
            h2 { "Sectors" }
            (charts::sector_bars(&p.sectors))
        }
        section #timeline {
            h2 { "Timeline" }
            (charts::timeline(p))
        }
        // Before the long indicator table: what the values have in common.
        (infra)
        section #indicators {
            h2 { "Indicators (" (total) ")" }
            @if !p.indicator_counts.is_empty() {
                p { @for (i, (k, n)) in p.indicator_counts.iter().enumerate() { @if i > 0 { " · " } (n) " " (k) } }
            }
            table.indicators {
                thead { tr { th { "Value" } th { "Type" } th { "Role" } th { "Source" } th { "First seen" } th { "Last seen" } th.num { "Conf." } th { "TLP" } th.num { "Hits" } } }
                tbody {
                    @for i in indicators {
                        tr {
                            td { a href=(indicator_href(&i.value)) { code { (i.value) } } " " a.pivot href=(pivot_href(&i.value)) title="Pivot from here" { "pivot" } }
                            td { (i.kind) } td { (i.roles.join(", ")) } td { (i.source) }
                            td { (i.first_seen.as_deref().unwrap_or("")) } td { (i.last_seen.as_deref().unwrap_or("")) }
                            td.num { @if let Some(c) = i.confidence { (c) } }
                            td { span class=(tlp_class(&i.tlp)) { (i.tlp) } }
                            td.num { @if i.sightings > 0 { strong.seen { (i.sightings) } } }
                        }
                    }
                }
            }
            @if total > indicators.len() { p.muted { "Showing " (indicators.len()) " of " (total) "; the API returns them all." } }
        }
        @if !p.references.is_empty() {
            section #references {
                h2 { "References" }
                ul { @for r in p.references.iter().take(30) { li { (r) } } }
            }
        }
    }
}

/// ATT&CK descriptions are Markdown with citations: shown as plain text,
/// links reduced to their words, `(Citation: …)` markers dropped.
fn plain_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(i) = rest.find(['[', '(']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(body) = tail.strip_prefix("(Citation:")
            && let Some(end) = body.find(')')
        {
            rest = &body[end + 1..];
            continue;
        }
        if tail.starts_with('[')
            && let Some(close) = tail.find("](")
            && let Some(end) = tail[close..].find(')')
        {
            out.push_str(&tail[1..close]);
            rest = &tail[close + end + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out.replace("  ", " ").replace(" .", ".")
}

pub(crate) fn tlp_class(tlp: &str) -> &'static str {
    match tlp {
        "TLP:RED" => "tlp red",
        "TLP:AMBER+STRICT" | "TLP:AMBER" => "tlp amber",
        "TLP:GREEN" => "tlp green",
        _ => "tlp clear",
    }
}

pub(crate) async fn actor_stix(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Path(name): Path<String>,
) -> Response {
    let r = app
        .read(c.clearance(), move |s| {
            match cairn_export::actor_bundle(s, &name)? {
                Some(b) => Ok(b),
                None => Err(ApiError::not_found(format!("no actor called `{name}`"))),
            }
        })
        .await;
    match r {
        Ok(b) => Json(b).into_response(),
        Err(e) => error_page(&e),
    }
}

pub(crate) async fn actor_navigator(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Path(name): Path<String>,
) -> Response {
    match app.profile(c.clearance(), name).await {
        Ok(p) => Json(cairn_export::navigator_layer(&p)).into_response(),
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ValueQuery {
    #[serde(default)]
    value: String,
}

pub(crate) async fn indicator(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Query(q): Query<ValueQuery>,
) -> Response {
    let r: Result<Markup, ApiError> = async {
        let value = q.value.trim().to_string();
        let lookup = app.lookup(c.clearance(), &value)?;
        let keys: Vec<i64> = lookup.matches.iter().map(|m| i64::from(m.key)).collect();
        let sightings = app
            .read_kb(c.clearance(), move |s| {
                keys.iter()
                    .map(|k| Ok((*k, s.sightings_of(*k)?)))
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await?;
        Ok(page(
            &value,
            Some(&c),
            html! {
                h1 { "Indicator " code { (value) } }
                @if !value.is_empty() { p.pivot { a href=(pivot_href(&value)) { "Pivot from " code { (value) } } " over the observations (passive DNS, TLS)" } }
                @if !lookup.found {
                    p.verdict.none { "Not a known indicator (active indicators, with subdomain, CIDR and URL-host matching; warninglisted values are never flagged)." }
                }
                @for (m, (_, seen)) in lookup.matches.iter().zip(&sightings) {
                    article.match {
                        h2 { a href=(pivot_href(&m.indicator.value)) title="Pivot from here" { code { (m.indicator.value) } } " " span.kind { (m.indicator.kind) } " " span.how { (m.indicator.match_kind) " match" } }
                        p {
                            "Indicates: "
                            @if m.actors.is_empty() && m.families.is_empty() { span.muted { "no actor stated" } }
                            @for (i, a) in m.actors.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href=(actor_href(&a.name)) { (a.name) }
                                @if !a.aliases.is_empty() { span.muted { " (aka " (a.aliases.iter().take(5).cloned().collect::<Vec<_>>().join(", ")) ")" } }
                            }
                            @for f in &m.families { " · " a href=(search_href(f)) { (f) } }
                            @if !m.roles.is_empty() { " · role: " (m.roles.join(", ")) }
                        }
                        table {
                            thead { tr { th { "Source" } th { "Confidence" } th { "First seen" } th { "Last seen" } th { "TLP" } th { "Reference" } } }
                            tbody { @for s in &m.sources { tr {
                                td { (s.source) } td { @if let Some(c) = s.confidence { (c) } }
                                td { (s.first_seen.as_deref().unwrap_or("")) } td { (s.last_seen.as_deref().unwrap_or("")) }
                                td { span class=(tlp_class(s.tlp.as_str())) { (s.tlp.as_str()) } }
                                td { (s.reference.as_deref().unwrap_or("")) }
                            } } }
                        }
                        h3 { "Sightings in our network" }
                        @if seen.is_empty() { p.muted { "None recorded (hunt with “record sightings” to add them)." } }
                        @else { ul { @for s in seen { li { strong { (s.count) " hit(s)" } " " (s.first_seen) " → " (s.last_seen) " in " (s.location) } } } }
                    }
                }
            },
        ))
    }
    .await;
    respond(r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn attack_markdown_reads_as_text() {
        let md = "[Earth Lusca](https://attack.mitre.org/groups/G1006) is a group (Citation: TrendMicro 2022) [x] (y).";
        assert_eq!(super::plain_text(md), "Earth Lusca is a group [x] (y).");
    }
}
