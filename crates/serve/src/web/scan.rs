//! Files and certificates: the scan page (upload one file, analysts only,
//! CSRF-checked) showing each finding as `cairn scan` reports it, and the
//! certificate page (every statement about one certificate, readers
//! included). Both call what the API calls (`App::scan_bytes`,
//! `App::cert_report`), so the page and the JSON never disagree.

use super::frame::{actor_href, cert_href, forbidden, indicator_href, page, respond};
use super::tools::{check_form, csrf_field, read_upload};
use crate::auth::{Caller, WebCaller};
use crate::errors::ApiError;
use crate::scan_api::{ScanResult, upload_name};
use crate::state::App;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::Response;
use axum::routing::get;
use cairn_codesign::TimeSource;
use cairn_engine::{CertReport, Finding, FindingKind};
use cairn_kb::Role;
use maud::{Markup, html};

/// Room for the form's other fields and the multipart framing.
const FORM_OVERHEAD: usize = 64 << 10;

/// The routes; `max_scan_body` bounds the uploaded file.
pub(crate) fn routes(max_scan_body: usize) -> axum::Router<App> {
    let limit = DefaultBodyLimit::max(max_scan_body.saturating_add(FORM_OVERHEAD));
    axum::Router::new()
        .route("/scan", get(scan_form).post(scan).layer(limit))
        .route("/cert/{query}", get(cert))
}

fn scan_form_markup(c: &Caller) -> Markup {
    html! {
        form.tool action="/scan" method="post" enctype="multipart/form-data" {
            (csrf_field(c))
            label for="file" { "File (an executable, a zip of them, anything: hashed and its signatures read)" }
            input #file type="file" name="file" required;
            label.check { input type="checkbox" name="record" value="1"; " Record matches as sightings" }
            button type="submit" { "Scan" }
        }
    }
}

pub(crate) async fn scan_form(WebCaller(c): WebCaller) -> Response {
    if c.role() < Role::Analyst {
        return forbidden("analyst");
    }
    respond(Ok(page(
        "Scan a file",
        Some(&c),
        html! {
            h1 { "Scan a file" }
            p { "Its hashes and Authenticode hash against the store's indicators; each signer's certificate against the certificates sources list as abused, stolen or revoked (by thumbprint, or by serial confirmed by issuer or subject), with when it was signed against the stated compromise date. A zip's entries are opened." }
            (scan_form_markup(&c))
        },
    )))
}

pub(crate) async fn scan(
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
        let Some((name, bytes)) = up.file else {
            return Err(ApiError::bad_request("choose a file"));
        };
        // The body's limit leaves room for the form; the file gets the API's.
        let limit = app.config().max_scan_body;
        if bytes.len() > limit {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("the file is larger than {limit} bytes"),
            ));
        }
        let name = upload_name(Some(&name))?;
        let result = app
            .scan_bytes(c.clearance(), name, bytes.into(), record)
            .await?;
        Ok(page("Scan results", Some(&c), scan_results(&c, &result)))
    }
    .await;
    respond(r)
}

fn kind_label(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Certificate => "certificate",
        FindingKind::Hash => "hash",
        FindingKind::Yara => "yara",
        FindingKind::Signed => "signed",
        FindingKind::Error => "error",
    }
}

fn scan_results(c: &Caller, r: &ScanResult) -> Markup {
    let s = &r.summary;
    html! {
        h1 { "Scan of " code { (r.file) } }
        p class=(if s.matches > 0 { "verdict hit" } else { "verdict none" }) {
            @if s.matches > 0 { (s.matches) " match(es)" } @else { "Nothing known matched" }
            " · " (s.files) " file(s), " (s.bytes) " bytes, " (s.signed) " signed"
            @if s.unreadable > 0 { " · " (s.unreadable) " unreadable" }
            @if r.recorded > 0 { " · " (r.recorded) " sighting(s) recorded" }
        }
        @if r.findings.is_empty() {
            p.muted { "Unsigned, and no hash known: nothing to show." }
        } @else {
            table.findings #findings {
                thead { tr { th { "File" } th { "Kind" } th { "Match" } th { "Strength" } th { "Timing" } th { "Actors" } th { "Sources" } th { "Signatures" } } }
                tbody { @for f in &r.findings { (finding_row(f)) } }
            }
        }
        h2 { "Scan another" }
        (scan_form_markup(c))
    }
}

fn finding_row(f: &Finding) -> Markup {
    let mut sources: Vec<&str> = f.sources.iter().map(|s| s.source.as_str()).collect();
    sources.dedup();
    html! {
        tr class=(format!("finding {}", kind_label(f.kind))) {
            td { code { (f.file) } @if let Some(h) = &f.sha256 { br; span.muted { "sha256 " code { (h) } } } }
            td { span.kind { (kind_label(f.kind)) } }
            td {
                @if let Some(m) = &f.matched {
                    (m.on) " "
                    @if f.kind == FindingKind::Certificate {
                        a href=(cert_href(&m.value)) { code { (m.value) } }
                    } @else if f.kind == FindingKind::Hash {
                        a href=(indicator_href(&m.value)) { code { (m.value) } }
                    } @else {
                        code { (m.value) }
                    }
                    @if !m.families.is_empty() { br; span.muted { "families: " (m.families.join(", ")) } }
                    @if !m.roles.is_empty() { br; span.muted { (m.roles.join(", ")) } }
                }
                @for n in &f.notes { br; span.muted { "note: " (n) } }
                @if let Some(e) = &f.error { br; span.error { (e) } }
            }
            td { @if let Some(s) = f.matched.as_ref().and_then(|m| m.strength.as_ref()) { (s) } }
            td { @if let Some(t) = f.matched.as_ref().and_then(|m| m.timing.as_ref()) { (t) } }
            td { @for (i, a) in f.actors.iter().enumerate() {
                @if i > 0 { ", " } a href=(actor_href(&a.name)) { (a.name) } span.muted { " (" (a.via) ")" }
            } }
            td { (sources.join(", ")) }
            td { @for s in &f.signatures {
                div.signature {
                    (s.subject.as_deref().unwrap_or("(signer certificate missing)"))
                    @if let Some(serial) = &s.serial { br; span.muted { "serial " code { (serial) } } }
                    br;
                    @match s.digest_ok {
                        Some(true) => span { "digest ok" },
                        Some(false) => span.error { "DIGEST MISMATCH" },
                        None => span.muted { "digest not checked" },
                    }
                    ", "
                    @match (&s.signing_time, s.signing_time_source) {
                        (Some(t), Some(TimeSource::Claimed)) => { "claims " (t) " (not timestamped)" },
                        (Some(t), _) => { "timestamped " (t) },
                        (None, _) => { "not timestamped" },
                    }
                }
            } }
        }
    }
}

pub(crate) async fn cert(
    State(app): State<App>,
    WebCaller(c): WebCaller,
    Path(query): Path<String>,
) -> Response {
    let r: Result<Markup, ApiError> = async {
        let query = query.trim().to_string();
        if query.chars().count() > crate::openapi::bounds::MAX_VALUE {
            return Err(ApiError::bad_request(
                "that is not a serial or a thumbprint",
            ));
        }
        let report = app.cert_report(c.clearance(), query, 50).await?;
        Ok(page("Certificate", Some(&c), cert_markup(&report)))
    }
    .await;
    respond(r)
}

fn cert_markup(r: &CertReport) -> Markup {
    let row = |label: &str, v: &[String]| {
        html! { @if !v.is_empty() { tr { th { (label) } td { @for (i, x) in v.iter().enumerate() { @if i > 0 { br; } code { (x) } } } } } }
    };
    html! {
        h1 { "Certificate " code { (r.query) } }
        table.certificate { tbody {
            (row("Serial", &r.serials))
            (row("SHA-1", &r.thumbprints_sha1))
            (row("SHA-256", &r.thumbprints_sha256))
            (row("Subject", &r.subjects))
            (row("Issuer", &r.issuers))
        } }
        h2 { "Statements (" (r.statements.len()) ")" }
        table #statements {
            thead { tr { th { "Source" } th { "TLP" } th { "Labels" } th { "Families" } th { "Compromised since" } th { "Reference" } } }
            tbody { @for s in &r.statements { tr {
                td { (s.source) }
                td { (s.tlp) }
                td { (s.labels.join(", ")) }
                td { (s.families.join(", ")) }
                td { (s.certificate.as_ref().and_then(|c| c["compromised_since"].as_str()).unwrap_or("")) }
                td { @if let Some(reference) = &s.reference { (reference) } }
            } } }
        }
        @if !r.actors.is_empty() {
            h2 { "Actors" }
            ul #actors { @for a in &r.actors {
                li { a href=(actor_href(&a.name)) { (a.name) } span.muted { " (" (a.via) ")" } }
            } }
            @if r.actors.len() > 1 {
                p.muted { "Linked to " (r.actors.len()) " groups: a shared or stolen certificate is evidence, not a verdict." }
            }
        }
        @if !r.samples.is_empty() {
            h2 { "Samples seen signed with it (" (r.samples.len()) " shown)" }
            table #samples {
                thead { tr { th { "Kind" } th { "Value" } th { "Source" } } }
                tbody { @for s in &r.samples { tr {
                    td { (s.kind) } td { a href=(indicator_href(&s.value)) { code { (s.value) } } } td { (s.source) }
                } } }
            }
        }
    }
}
