//! Files and certificates: `POST /api/v1/scan` judges one uploaded file (a
//! zip's entries too) against the store, `GET /api/v1/cert/{query}` says
//! what the store knows of one certificate. The JSON is `cairn scan
//! --json`'s findings and `cairn cert --json`'s report, made by the same
//! engine functions ([`cairn_engine::scan_files`] with a
//! [`cairn_engine::FileMatcher`], [`cairn_engine::certificate_report`]) on
//! the caller's store connection, so a statement the caller's clearance
//! hides is neither a finding nor part of a report.

use crate::api::bounded;
use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::openapi::bounds;
use crate::state::{App, Clearance};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_engine::{CertReport, FileMatcher, Finding, certificate_report, scan_files};
use cairn_kb::{Role, SightingInput, Store};
use cairn_scan::{Input, Plan, ScanOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The routes; `max_scan_body` bounds the uploaded file (the server's
/// `max_body` still bounds every request).
pub(crate) fn routes(max_scan_body: usize) -> axum::Router<App> {
    let limited = post(scan).layer(DefaultBodyLimit::max(max_scan_body));
    axum::Router::new()
        .route("/api/v1/scan", limited)
        .route("/api/v1/cert/{query}", get(cert))
}

/// What a scan read and found, in numbers (`cairn scan`'s closing line).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScanCounts {
    /// Files and archive entries read.
    pub(crate) files: u64,
    /// Bytes hashed.
    pub(crate) bytes: u64,
    /// Files with at least one signature.
    pub(crate) signed: u64,
    /// Findings of kind certificate, hash or YARA.
    pub(crate) matches: u64,
    /// Files that could not be read at all.
    pub(crate) unreadable: u64,
}

/// One uploaded file judged against the store.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScanResult {
    /// The name it was uploaded under.
    pub(crate) file: String,
    /// One per match, as `cairn scan --json` prints them.
    pub(crate) findings: Vec<Finding>,
    pub(crate) summary: ScanCounts,
    /// Sightings written (with `record=true`).
    pub(crate) recorded: usize,
}

/// The name a file is scanned under when the caller gives none.
const DEFAULT_NAME: &str = "upload";

/// The upload's name: trimmed, blank is the default, bounded.
pub(crate) fn upload_name(name: Option<&str>) -> Result<String, ApiError> {
    let name = name.unwrap_or_default();
    // Counted as sent: the document's `maxLength` is the raw parameter's.
    if name.chars().count() > bounds::MAX_FILE_NAME {
        return Err(ApiError::bad_request(format!(
            "`name` holds up to {} characters",
            bounds::MAX_FILE_NAME
        )));
    }
    let name = name.trim();
    Ok(if name.is_empty() {
        DEFAULT_NAME.to_string()
    } else {
        name.to_string()
    })
}

impl App {
    /// Scans one uploaded file as `cairn scan` would (zip archives opened,
    /// entries named `name!entry`), judging it against the store as the
    /// clearance sees it. With `record`, matches are written back as
    /// sightings (the caller checks the role).
    pub(crate) async fn scan_bytes(
        &self,
        clearance: Clearance,
        name: String,
        bytes: Bytes,
        record: bool,
    ) -> Result<ScanResult, ApiError> {
        let (mut result, sightings) = self
            .read(clearance, move |store| scan_upload(store, &name, &bytes))
            .await?;
        if record && !sightings.is_empty() {
            result.recorded = self
                .write(move |s| Ok(s.record_sightings(&sightings)?))
                .await?;
            self.refresh().await?;
        }
        Ok(result)
    }

    /// Every statement naming the certificate `query`, as the clearance
    /// sees the store; 404 when none does.
    pub(crate) async fn cert_report(
        &self,
        clearance: Clearance,
        query: String,
        samples: usize,
    ) -> Result<CertReport, ApiError> {
        self.read(clearance, move |s| {
            let r = certificate_report(s, &query, samples)?;
            if r.statements.is_empty() {
                return Err(ApiError::not_found(format!(
                    "no statement names the certificate `{query}` (a serial or a SHA-1/SHA-256 thumbprint)"
                )));
            }
            Ok(r)
        })
        .await
    }
}

/// The scan itself, on this thread: the bytes are written to a scratch
/// file (the scanner reads paths), and the scratch path is replaced by the
/// upload's name in what comes back.
fn scan_upload(
    store: &Store,
    name: &str,
    bytes: &[u8],
) -> Result<(ScanResult, Vec<SightingInput>), ApiError> {
    let dir = tempfile::tempdir().map_err(ApiError::internal)?;
    let path = dir.path().join(DEFAULT_NAME);
    std::fs::write(&path, bytes).map_err(ApiError::internal)?;
    let scratch = path.display().to_string();
    let rename = |f: &str| match f.strip_prefix(scratch.as_str()) {
        Some(rest) => format!("{name}{rest}"),
        None => f.to_string(),
    };
    // One reader thread: a request must not take the server's cores; and
    // an uploaded zip may not inflate past a few times the upload limit.
    let cap = (bytes.len() as u64).max(1 << 20).saturating_mul(8);
    let opts = ScanOptions {
        threads: 1,
        max_file_size: cap.min(256 << 20),
        max_depth: 2,
        max_archive_total: cap.min(512 << 20),
        ..ScanOptions::default()
    };
    let plan = Plan::new(&[Input::Path(path.clone())]);
    // No YARA here: the server is built without it.
    let mut matcher = FileMatcher::new(store, HashMap::new());
    let mut findings = Vec::new();
    let outcome = scan_files(&mut matcher, &plan, &opts, &mut |_, found| {
        for mut f in found {
            f.file = rename(&f.file);
            findings.push(f);
        }
    })?;
    let mut sightings = matcher.sightings();
    for s in &mut sightings {
        s.where_ = s.where_.replace(scratch.as_str(), name);
    }
    let s = &outcome.summary;
    Ok((
        ScanResult {
            file: name.to_string(),
            findings,
            summary: ScanCounts {
                files: s.files,
                bytes: s.bytes,
                signed: s.signed,
                matches: outcome.matches,
                unreadable: outcome.unreadable,
            },
            recorded: 0,
        },
        sightings,
    ))
}

#[derive(Deserialize)]
struct ScanQuery {
    name: Option<String>,
    #[serde(default)]
    record: bool,
}

async fn scan(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    req: Request,
) -> Result<Response, ApiError> {
    // The role first: a reader learns nothing about the query or the body.
    c.require(Role::Analyst)?;
    let Query(q) = Query::<ScanQuery>::try_from_uri(req.uri())
        .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let name = upload_name(q.name.as_deref())?;
    let body = Bytes::from_request(req, &app)
        .await
        .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let result = app.scan_bytes(c.clearance(), name, body, q.record).await?;
    tracing::info!(caller = c.name(), file = %result.file, matches = result.summary.matches, "scanned");
    Ok(Json(result).into_response())
}

#[derive(Deserialize)]
struct CertQuery {
    samples: Option<u64>,
}

async fn cert(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(query): Path<String>,
    Query(q): Query<CertQuery>,
) -> Result<Response, ApiError> {
    let samples = bounded("samples", q.samples, bounds::CERT_SAMPLES)?;
    if query.chars().count() > bounds::MAX_VALUE {
        return Err(ApiError::bad_request(format!(
            "the certificate holds up to {} characters",
            bounds::MAX_VALUE
        )));
    }
    let query = query.trim().to_string();
    let report = app.cert_report(c.clearance(), query, samples).await?;
    Ok(Json(report).into_response())
}

#[cfg(test)]
mod tests {
    use super::upload_name;

    #[test]
    fn upload_names_default_and_are_bounded() {
        assert_eq!(upload_name(None).ok().as_deref(), Some("upload"));
        assert_eq!(upload_name(Some("  ")).ok().as_deref(), Some("upload"));
        assert_eq!(
            upload_name(Some(" setup.exe ")).ok().as_deref(),
            Some("setup.exe")
        );
        let long = "a".repeat(super::bounds::MAX_FILE_NAME + 1);
        assert!(upload_name(Some(&long)).is_err());
    }
}
