//! Working pages: hunt an uploaded log, attribute from evidence, ingest a
//! file. State-changing forms (hunt with recording, ingest) carry the
//! session's CSRF token and need the analyst role.

use super::frame::{actor_href, forbidden, indicator_href, page, pivot_href, respond, search_href};
use crate::auth::{Caller, WebCaller};
use crate::engine::HuntResult;
use crate::errors::ApiError;
use crate::state::App;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use cairn_attribute::{Evidence, Ranking};
use cairn_kb::Role;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// Multipart fields: text fields as strings, the file (if any) as bytes.
pub(super) struct Upload {
    pub(super) fields: HashMap<String, String>,
    pub(super) file: Option<(String, Vec<u8>)>,
}

/// Reads a multipart form; a body over the route's limit is a 413.
pub(super) async fn read_upload(mut m: Multipart) -> Result<Upload, ApiError> {
    let mut fields = HashMap::new();
    let mut file = None;
    let refused = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), format!("upload: {}", e.body_text()))
    };
    while let Some(field) = m.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(refused)?;
        match file_name {
            Some(f) if name == "file" => {
                if !data.is_empty() {
                    file = Some((f, data.to_vec()));
                }
            }
            _ => {
                fields.insert(name, String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
    Ok(Upload { fields, file })
}

pub(super) fn csrf_field(c: &Caller) -> Markup {
    html! { @if let Some(t) = &c.csrf { input type="hidden" name="csrf" value=(t); } }
}

/// A session must prove the form came from this site; anonymous callers
/// carry no ambient credentials, so there is nothing to forge.
pub(super) fn check_form(c: &Caller, up: &Upload) -> Result<(), ApiError> {
    if c.csrf.is_some() {
        c.check_csrf(up.fields.get("csrf").map_or("", String::as_str))?;
    }
    Ok(())
}

fn hunt_form_markup(c: &Caller) -> Markup {
    html! {
        form.tool action="/hunt" method="post" enctype="multipart/form-data" {
            (csrf_field(c))
            label for="file" { "Log file (Zeek TSV or JSON, JSON lines, CSV, text; gzip/zstd)" }
            input #file type="file" name="file";
            label for="text" { "…or paste log lines" }
            textarea #text name="text" rows="8" placeholder="1686787200.1\tCxyz\t10.0.0.5\t53124\t8.8.8.8\t53\tudp\t1\t0.01\tupdate.dga.asia …" {}
            label.check { input type="checkbox" name="record" value="1"; " Record hits as sightings (shows on actor and indicator pages)" }
            button type="submit" { "Hunt" }
        }
    }
}

pub(crate) async fn hunt_form(WebCaller(c): WebCaller) -> Response {
    if c.role() < Role::Analyst {
        return forbidden("analyst");
    }
    respond(Ok(page(
        "Hunt",
        Some(&c),
        html! { h1 { "Hunt a log" } p { "Every active indicator in the store, with subdomain, CIDR and URL semantics; warninglisted values never alert." } (hunt_form_markup(&c)) },
    )))
}

pub(crate) async fn hunt(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    m: Multipart,
) -> Response {
    if c.role() < Role::Analyst {
        return forbidden("analyst");
    }
    let r: Result<Markup, ApiError> = async {
        let up = read_upload(m).await?;
        check_form(&c, &up)?;
        let record = up.fields.get("record").is_some_and(|v| v == "1");
        let (name, bytes) = match up.file {
            Some(f) => f,
            None => {
                let text = up.fields.get("text").cloned().unwrap_or_default();
                if text.trim().is_empty() {
                    return Err(ApiError::bad_request("upload a log or paste some lines"));
                }
                ("pasted.log".to_string(), text.into_bytes())
            }
        };
        let result = app.hunt_bytes(c.clearance(), &name, bytes, record).await?;
        Ok(page("Hunt results", Some(&c), hunt_results(&c, &result)))
    }
    .await;
    respond(r)
}

fn hunt_results(c: &Caller, r: &HuntResult) -> Markup {
    html! {
        h1 { "Hunt results" }
        p class=(if r.hits > 0 { "verdict hit" } else { "verdict none" }) {
            @if r.hits > 0 { (r.hits) " hit(s) in " (r.lines) " line(s)" } @else { "No hits in " (r.lines) " line(s)" }
            @if r.malformed > 0 { " · " (r.malformed) " malformed line(s) skipped" }
            @if r.recorded > 0 { " · " (r.recorded) " sighting(s) recorded" }
        }
        @for e in &r.errors { p.error { (e) } }
        @if !r.by_actor.is_empty() {
            h2 { "By actor" }
            ul { @for (a, n) in &r.by_actor { li { a href=(actor_href(a)) { (a) } ": " (n) " hit(s)" } } }
        }
        @if !r.alerts.is_empty() {
            h2 { "Alerts" }
            table.alerts {
                thead { tr { th.num { "Line" } th { "Field" } th { "Value" } th { "Indicator" } th { "Match" } th { "Actors" } th { "Role / family" } th { "Sources" } } }
                tbody { @for a in &r.alerts { tr {
                    td.num { (a.line) } td { (a.field) } td { a href=(pivot_href(&a.value)) title="Pivot from here" { code { (a.value) } } }
                    td { a href=(indicator_href(&a.indicator.value)) { code { (a.indicator.value) } } " " span.kind { (a.indicator.kind) } " " a.pivot href=(pivot_href(&a.indicator.value)) title="Pivot from here" { "pivot" } }
                    td { (a.indicator.match_kind) }
                    td { @for (i, x) in a.actors.iter().enumerate() { @if i > 0 { ", " } a href=(actor_href(&x.name)) { (x.name) } } }
                    td { (a.roles.join(", ")) @if !a.families.is_empty() { " " (a.families.join(", ")) } }
                    td { (a.sources.iter().map(|s| s.source.as_str()).collect::<Vec<_>>().join(", ")) }
                } } }
            }
            @if r.truncated { p.muted { "The first " (r.alerts.len()) " of " (r.hits) " alerts are shown (every hit is counted above); `cairn hunt` prints them all." } }
        }
        h2 { "Hunt another" }
        (hunt_form_markup(c))
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct AttributeQuery {
    #[serde(default)]
    techniques: String,
    #[serde(default)]
    software: String,
    #[serde(default)]
    indicators: String,
    #[serde(default)]
    countries: String,
    #[serde(default)]
    sectors: String,
    #[serde(default)]
    when: String,
}

fn split(s: &str) -> Vec<String> {
    s.split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

impl AttributeQuery {
    fn evidence(&self) -> Evidence {
        Evidence {
            techniques: split(&self.techniques),
            software: split(&self.software),
            indicators: split(&self.indicators),
            countries: split(&self.countries),
            sectors: split(&self.sectors),
            when: Some(self.when.trim().to_string()).filter(|w| !w.is_empty()),
            ..Evidence::default()
        }
    }
}

fn attribute_form(c: &Caller, q: &AttributeQuery) -> Markup {
    html! {
        form.tool #attribute-form action="/attribute" method="get" {
            div.grid {
                div { label for="techniques" { "Techniques (T1190, T1059.001, names…)" }
                      textarea #techniques name="techniques" rows="4" { (q.techniques) } }
                div { label for="software" { "Software (ShadowPad, Cobalt Strike, S0596…)" }
                      textarea #software name="software" rows="4" { (q.software) } }
                div { label for="indicators" { "Indicators" }
                      textarea #indicators name="indicators" rows="4" { (q.indicators) } }
                div { label for="countries" { "Victim countries" }
                      input #countries name="countries" value=(q.countries);
                      label for="sectors" { "Victim sectors" }
                      input #sectors name="sectors" value=(q.sectors);
                      label for="when" { "When (2023-06)" }
                      input #when name="when" value=(q.when); }
            }
            button #attribute-submit type="submit" { "Attribute" }
        }
        form.tool action="/attribute" method="post" enctype="multipart/form-data" {
            (csrf_field(c))
            label for="layer" { "…or upload an ATT&CK Navigator layer, or a Windows event log (.evtx, or JSON lines) for the store's Sigma rules to read" }
            input #layer type="file" name="file" accept=".json,.evtx,.jsonl,.ndjson,application/json";
            button type="submit" { "Attribute upload" }
        }
    }
}

fn ranking_markup(r: &Ranking) -> Markup {
    html! {
        @if r.candidates.is_empty() {
            p.verdict.none { "No actor in the store shares this evidence." }
        }
        ol.ranking #ranking {
            @for cand in &r.candidates {
                li.candidate {
                    h3 {
                        a href=(actor_href(&cand.actor)) { (cand.actor) }
                        @if let Some(id) = &cand.attack_id { " " span.id { (id) } }
                        " " span class=(format!("band {}", cand.confidence.as_str())) { (cand.confidence.as_str()) }
                        " " span.score { "score " (format!("{:.2}", cand.score)) }
                    }
                    @if !cand.aliases.is_empty() { p.muted { "aka " (cand.aliases.iter().take(8).cloned().collect::<Vec<_>>().join(", ")) } }
                    details open[cand.rank == 1] {
                        summary { "Why (" (cand.evidence.len()) " contribution(s))" }
                        table { tbody { @for e in &cand.evidence { tr {
                            td.num { (format!("{:+.2}", e.weight)) }
                            td { span.kind { (e.kind) } " " (e.value) }
                            td.muted { (e.detail) }
                        } } } }
                    }
                }
            }
        }
        @if !r.recognised.is_empty() {
            h3 { "Understood as" }
            ul { @for x in &r.recognised { li { (x.kind) " " code { (x.input) } " → " (x.resolved_as) @if let Some(n) = &x.note { span.muted { " (" (n) ")" } } } } }
        }
        @if !r.unrecognised.is_empty() {
            h3 { "Not used" }
            ul { @for x in &r.unrecognised { li { (x.kind) " " code { (x.value) } ": " (x.reason) } } }
        }
        p.muted { (r.considered) " actor clusters considered." }
    }
}

pub(crate) async fn attribute(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Query(q): Query<AttributeQuery>,
) -> Response {
    let evidence = q.evidence();
    let r: Result<Markup, ApiError> = async {
        let ranking = if evidence.is_empty() {
            None
        } else {
            Some(app.attribute(c.clearance(), evidence, 10).await?)
        };
        Ok(page(
            "Attribute",
            Some(&c),
            html! {
                h1 { "Who is behind it?" }
                p { "Give what you saw; every candidate comes with the evidence that put it there. Technique ids link to "
                    a href=(search_href("T1190")) { "search" } "." }
                (attribute_form(&c, &q))
                @if let Some(r) = &ranking { h2 { "Candidates" } (ranking_markup(r)) }
            },
        ))
    }
    .await;
    respond(r)
}

pub(crate) async fn attribute_upload(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    m: Multipart,
) -> Response {
    let r: Result<Markup, ApiError> = async {
        let up = read_upload(m).await?;
        check_form(&c, &up)?;
        let Some((name, bytes)) = up.file else {
            return Err(ApiError::bad_request(
                "choose a Navigator layer or an event log file",
            ));
        };
        let is_layer = crate::engine::evidence_from_json(&bytes);
        let (evidence, detected) = match is_layer {
            Ok(ev) => (ev, None),
            // Not a layer: an event log, read by the store's Sigma rules.
            Err(_) => {
                let (lines, rules) = app.detect_upload(c.clearance(), bytes).await?;
                let ev = Evidence::from_detections_jsonl(&lines)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                (ev, Some((lines.lines().count(), rules)))
            }
        };
        if evidence.is_empty() {
            let what = match detected {
                Some((n, rules)) => format!("{n} detection(s) by {rules} Sigma rule(s), none with an ATT&CK technique"),
                None => "no technique in the layer".into(),
            };
            return Ok(page(
                "Attribute",
                Some(&c),
                html! { h1 { "Nothing to attribute in " (name) } p.verdict.none { (what) } (attribute_form(&c, &AttributeQuery::default())) },
            ));
        }
        let ranking = app.attribute(c.clearance(), evidence, 10).await?;
        Ok(page(
            "Attribute",
            Some(&c),
            html! {
                h1 { "Candidates for " (name) }
                @if let Some((n, rules)) = detected {
                    p #detections { (n) " detection(s) by the store's " (rules) " Sigma rule(s); their techniques weighted by rule level and spread." }
                }
                (ranking_markup(&ranking))
                h2 { "Again" } (attribute_form(&c, &AttributeQuery::default()))
            },
        ))
    }
    .await;
    respond(r)
}

fn ingest_form_markup(c: &Caller) -> Markup {
    html! {
        form.tool action="/ingest" method="post" enctype="multipart/form-data" {
            (csrf_field(c))
            label for="file" { "File (STIX, MISP galaxy/event/warninglist, CSV, list, report)" }
            input #file type="file" name="file" required;
            div.grid {
                div { label for="source" { "Source name" } input #source name="source" placeholder="my team"; }
                div { label for="actor" { "Actor its indicators belong to" } input #actor name="actor"; }
                div { label for="tlp" { "TLP (for statements without one)" }
                      select #tlp name="tlp" { option value="" { "as marked" } option { "clear" } option { "green" } option { "amber" } option { "amber+strict" } option { "red" } } }
                div { label for="confidence" { "Confidence 0-100" } input #confidence name="confidence" type="number" min="0" max="100"; }
            }
            button type="submit" { "Ingest" }
        }
    }
}

pub(crate) async fn ingest_form(WebCaller(c): WebCaller) -> Response {
    if c.role() < Role::Analyst {
        return forbidden("analyst");
    }
    respond(Ok(page(
        "Ingest",
        Some(&c),
        html! { h1 { "Ingest intel" } p { "One transaction: a file that fails to parse changes nothing." } (ingest_form_markup(&c)) },
    )))
}

pub(crate) async fn ingest(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    m: Multipart,
) -> Response {
    if c.role() < Role::Analyst {
        return forbidden("analyst");
    }
    let r: Result<Markup, ApiError> = async {
        let up = read_upload(m).await?;
        check_form(&c, &up)?;
        let Some((name, bytes)) = up.file else {
            return Err(ApiError::bad_request("choose a file"));
        };
        let f = |k: &str| up.fields.get(k).cloned();
        let confidence = match f("confidence").filter(|v| !v.trim().is_empty()) {
            Some(v) => Some(v.trim().parse::<u8>().map_err(|_| ApiError::bad_request("confidence is 0-100"))?),
            None => None,
        };
        let opts = crate::engine::intake_options(f("source"), f("format"), f("tlp"), f("actor"), confidence, None)?;
        let report = app.ingest_bytes(&name, bytes, opts).await?;
        Ok(page(
            "Ingested",
            Some(&c),
            html! {
                h1 { "Ingested " code { (name) } }
                table { tbody {
                    tr { th { "Source" } td { (report.source) } }
                    tr { th { "Format" } td { (report.format) } }
                    tr { th { "Status" } td { (report.status) } }
                    tr { th { "Objects / relationships" } td { (report.objects) " / " (report.relationships) } }
                    tr { th { "Added · changed · withdrawn" } td { (report.added) " · " (report.changed) " · " (report.withdrawn) } }
                } }
                (ingest_form_markup(&c))
            },
        ))
    }
    .await;
    respond(r)
}
