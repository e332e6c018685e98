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
        form.tool #report-form action="/attribute/report" method="post" enctype="multipart/form-data" {
            (csrf_field(c))
            label for="report" { "…or upload a threat report (PDF, HTML, Markdown or text): its techniques, software, victims and known indicators are the evidence; the groups it names are shown apart, never used by the ranking" }
            input #report type="file" name="file" accept=".pdf,.html,.htm,.md,.markdown,.txt,application/pdf,text/html,text/markdown,text/plain" required;
            button type="submit" { "Attribute report" }
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
                            td.muted { (e.detail) @if !e.lines.is_empty() { " · report line " (lines_text(&e.lines)) } }
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
                div { label for="actor" { "Actor its indicators belong to" } input #actor name="actor" placeholder="a name, or auto";
                      label.check { input #actor-auto type="checkbox" name="actor_auto" value="1"; " auto (a report: the group it names, else the best inferred candidate, with that confidence)" } }
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
        let actor = if up.fields.get("actor_auto").is_some_and(|v| v == "1") { Some("auto".to_string()) } else { f("actor") };
        let mut opts = crate::engine::intake_options(f("source"), f("format"), f("tlp"), actor, confidence, None)?;
        let bytes = axum::body::Bytes::from(bytes);
        let choice = app.auto_actor(c.clearance(), &name, bytes.clone(), &mut opts).await?;
        let report = app.ingest_bytes(&name, Vec::from(bytes), opts).await?;
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
                    @if let Some(ch) = &choice {
                        tr #actor-choice { th { "Actor (auto)" } td { a href=(actor_href(&ch.name)) { (ch.name) } " — " (ch.how) "; confidence " (ch.confidence) } }
                    }
                } }
                (ingest_form_markup(&c))
            },
        ))
    }
    .await;
    respond(r)
}

/// `12, 14, 30` (the first five, then how many more).
fn lines_text(lines: &[u32]) -> String {
    let mut s: Vec<String> = lines.iter().take(5).map(u32::to_string).collect();
    if lines.len() > 5 {
        s.push(format!("+{} more", lines.len() - 5));
    }
    s.join(", ")
}

/// Byte ranges of `text` where one of `words` stands (ASCII case folded),
/// merged; only on character boundaries.
fn mark_ranges(text: &str, words: &[&str]) -> Vec<(usize, usize)> {
    let hay = text.as_bytes();
    let mut ranges = Vec::new();
    for w in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        let n = w.as_bytes();
        let mut i = 0;
        while i + n.len() <= hay.len() {
            let end = i + n.len();
            if hay[i..end].eq_ignore_ascii_case(n)
                && text.is_char_boundary(i)
                && text.is_char_boundary(end)
            {
                ranges.push((i, end));
                i = end;
            } else {
                i += 1;
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// `text` with `words` in `<mark>`; every piece escaped by maud.
fn marked(text: &str, words: &[&str]) -> Markup {
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for (a, b) in mark_ranges(text, words) {
        if let (Some(before), Some(word)) = (text.get(at..a), text.get(a..b)) {
            pieces.push((false, before));
            pieces.push((true, word));
            at = b;
        }
    }
    pieces.push((false, text.get(at..).unwrap_or_default()));
    html! { @for (hit, piece) in pieces { @if hit { mark { (piece) } } @else { (piece) } } }
}

/// Most indicators the report page lists (all are counted).
const MAX_INDICATOR_ROWS: usize = 500;

/// A finding's sentences (most shown per finding).
const MAX_SENTENCES: usize = 10;

fn stance_text(s: cairn_prose::Stance) -> &'static str {
    match s {
        cairn_prose::Stance::Asserted => "asserted",
        cairn_prose::Stance::Compared => "compared",
        cairn_prose::Stance::Negated => "negated",
    }
}

/// One sentence naming something, the words that named it marked; a
/// technique the model read from the whole sentence has none to mark.
fn mention_markup(m: &cairn_prose::Mention) -> Markup {
    html! {
        span.line { "line " (m.line) } " "
        @if m.text.is_empty() { span.inferred title="read from the whole sentence" { (m.sentence) } }
        @else { (marked(&m.sentence, &[m.text.as_str()])) }
    }
}

/// The report page: the groups the report names, apart; the inferred
/// ranking; then everything read, each with its sentence and the words
/// that named it marked.
fn report_markup(
    c: &Caller,
    name: &str,
    read: &crate::report_api::ReadReport,
    att: &cairn_engine::ReportAttribution,
) -> Markup {
    let reading = &read.reading;
    let lines: Vec<&str> = read.doc.text().lines().collect();
    let used = |kind: &str, value: &str| {
        att.evidence
            .iter()
            .any(|e| e.used && e.kind == kind && e.value == value)
    };
    let x = &reading.extraction;
    html! {
        h1 { "Candidates for " code { (name) } }
        p.muted #report-summary {
            (x.indicators.len()) " indicator(s), " (reading.findings.len()) " finding(s) in the prose"
            @if !x.suppressed.is_empty() { ", " (x.suppressed.len()) " value(s) suppressed as benign" }
            @if let Some(t) = &x.tlp { " · the report is marked TLP:" (t.to_ascii_uppercase()) }
        }
        @for w in &x.warnings { p.error { (w) } }
        section #named {
            h2 { "Named in the report" }
            p.muted { "What the report itself says; not used by the ranking below, so the two can be checked against each other." }
            @if att.named_in_report.is_empty() { p.verdict.none { "The report names no group." } }
            ul { @for g in &att.named_in_report { li.named {
                a href=(actor_href(&g.name)) { (g.name) } " " span.id { (g.value) } " — "
                @match g.inferred_rank { Some(r) => { "inferred rank #" (r) }, None => { "not among the inferred candidates" } }
                @if let Some(m) = g.mentions.first() { br; (mention_markup(m)) }
            } } }
            @if !att.mentioned_not_claimed.is_empty() {
                h3 { "Also mentioned, not claimed" }
                ul { @for g in &att.mentioned_not_claimed { li {
                    (g.name) " " span.kind { (stance_text(g.stance)) }
                    @if let Some(m) = g.mentions.first() { br; (mention_markup(m)) }
                } } }
            }
        }
        section #inferred {
            h2 { "Inferred from the report's techniques, software, victims and indicators" }
            (ranking_markup(&att.ranking))
        }
        section #extraction {
            h2 { "What the report says" }
            @if !reading.findings.is_empty() {
                table.findings { thead { tr { th { "Kind" } th { "Value" } th.num { "Confidence" } th { "Stance" } th { "Used" } th { "Where" } } }
                tbody { @for f in &reading.findings { tr {
                    td { span.kind { (f.kind.as_str()) } }
                    td { (f.name) @if f.name != f.value { " " span.id { (f.value) } } }
                    td.num { (format!("{:.2}", f.confidence)) }
                    td { (stance_text(f.stance)) }
                    td { @if f.kind == cairn_prose::FindingKind::Group { "named" } @else if used(f.kind.as_str(), &f.value) { "yes" } @else { "no" } }
                    td.evidence {
                        @for m in f.mentions.iter().take(MAX_SENTENCES) { p.sentence { (mention_markup(m)) } }
                        @if f.mentions.len() > MAX_SENTENCES { p.muted { (f.mentions.len() - MAX_SENTENCES) " more sentence(s)" } }
                    }
                } } } }
            }
            @if !x.indicators.is_empty() {
                h3 { "Indicators" }
                table.indicators { thead { tr { th { "Type" } th { "Value" } th { "Role / family" } th { "Where" } } }
                tbody { @for i in x.indicators.iter().take(MAX_INDICATOR_ROWS) { tr {
                    td { span.kind { (i.kind.as_str()) } }
                    td { a href=(indicator_href(&i.value)) { code { (i.value) } } " " a.pivot href=(pivot_href(&i.value)) title="Pivot from here" { "pivot" } }
                    @let first = i.occurrences.first();
                    td { @if let Some(o) = first { (o.context.role.clone().unwrap_or_default()) " " (o.context.family.clone().unwrap_or_default()) } }
                    td.evidence { @if let Some(o) = first {
                        span.line { "line " (o.line) @if let Some(p) = o.page { " (p. " (p) ")" } } " "
                        (marked(lines.get((o.line as usize).saturating_sub(1)).copied().unwrap_or_default(), &[o.original.as_str()]))
                    } }
                } } } }
                @if x.indicators.len() > MAX_INDICATOR_ROWS { p.muted { "The first " (MAX_INDICATOR_ROWS) " of " (x.indicators.len()) " indicators are shown; POST /api/v1/extract gives them all." } }
            }
        }
        h2 { "Again" }
        (attribute_form(c, &AttributeQuery::default()))
    }
}

/// `POST /attribute/report`: a report uploaded, read and attributed as
/// `POST /api/v1/attribute/report` does it.
pub(crate) async fn attribute_report(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    m: Multipart,
) -> Response {
    let r: Result<Markup, ApiError> = async {
        let up = read_upload(m).await?;
        check_form(&c, &up)?;
        let Some((file, bytes)) = up.file else {
            return Err(ApiError::bad_request("choose a report file"));
        };
        // The body's limit leaves room for the form; the report gets the API's.
        let limit = app.config().max_report_body;
        if bytes.len() > limit {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the report is larger than {limit} bytes (cairn serve --max-report-upload)"
                ),
            ));
        }
        let name: String = file
            .trim()
            .chars()
            .take(crate::openapi::bounds::MAX_FILE_NAME)
            .collect();
        let name = crate::scan_api::upload_name(Some(&name))?;
        let (read, att) = app
            .attribute_report(
                c.clearance(),
                name.clone(),
                axum::body::Bytes::from(bytes),
                10,
            )
            .await?;
        Ok(page(
            "Attribute a report",
            Some(&c),
            report_markup(&c, &name, &read, &att),
        ))
    }
    .await;
    respond(r)
}

#[cfg(test)]
mod tests {
    use super::{mark_ranges, marked};

    #[test]
    fn marks_fold_ascii_case_and_escape_the_rest() {
        assert_eq!(
            mark_ranges("Loaded shadowpad, then ShadowPad.", &["ShadowPad"]),
            [(7, 16), (23, 32)]
        );
        assert_eq!(mark_ranges("abc", &["", " "]), Vec::<(usize, usize)>::new());
        // Overlapping words merge; a non-ASCII word matches as written.
        assert_eq!(
            mark_ranges("Türkiye and Taiwan", &["Türkiye", "kiye and"]),
            [(0, 12)]
        );
        let html = marked("<b>Spyder</b> & co", &["spyder"]).into_string();
        assert_eq!(html, "&lt;b&gt;<mark>Spyder</mark>&lt;/b&gt; &amp; co");
    }
}
