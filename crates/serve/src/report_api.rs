//! Reports read by the server. `POST /api/v1/extract` answers the JSON
//! lines `cairn extract --json` prints (the engine's `write_report_lines`,
//! so the same bytes), `POST /api/v1/attribute/report` the JSON of `cairn
//! attribute --report --json` (the engine's `attribute_report`), and
//! `actor=auto` on ingest picks the group as `cairn ingest --actor auto`
//! does (the engine's `actor_choice`). The extractor, reader and corpus are
//! built from the store as the caller's clearance sees it and kept per
//! store generation (`App::report_kit`): a reader never learns from a
//! statement it may not see, and an ingest is in the next request's reader.

use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::openapi::bounds;
use crate::scan_api::upload_name;
use crate::state::{App, Clearance};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cairn_engine::{ActorChoice, ReportAttribution, ReportReading};
use cairn_extract::Document;
use serde::Deserialize;

/// The routes; `max_report_body` bounds the report (the server's
/// `max_body` still bounds every request).
pub(crate) fn routes(max_report_body: usize) -> axum::Router<App> {
    let limit = DefaultBodyLimit::max(max_report_body);
    axum::Router::new()
        .route("/api/v1/extract", post(extract).layer(limit))
        .route("/api/v1/attribute/report", post(attribute).layer(limit))
}

/// A report read: the document (its text, for pages that show lines) and
/// what was read from it.
pub(crate) struct ReadReport {
    pub(crate) doc: Document,
    pub(crate) reading: ReportReading,
}

/// The document in an upload, read as `cairn extract` reads a file; what it
/// cannot read, or text that is not UTF-8 (the CLI would decode it lossily
/// with a warning; an answer has no room for one), is a 400.
pub(crate) fn report_document(name: &str, bytes: &[u8]) -> Result<Document, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "send the report (text, Markdown, HTML or PDF) as the request body",
        ));
    }
    let doc = Document::from_bytes(name, bytes)
        .map_err(|e| ApiError::bad_request(format!("not a report Cairn reads: {e}")))?;
    let utf16 = bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff");
    if doc.format() != cairn_extract::Format::Pdf
        && !utf16
        && let Err(e) = std::str::from_utf8(bytes)
    {
        return Err(ApiError::bad_request(format!(
            "{name}: not valid UTF-8 (first bad byte at offset {}); send text as UTF-8 (or UTF-16 with a byte-order mark), or a PDF",
            e.valid_up_to()
        )));
    }
    Ok(doc)
}

/// Runs `f` off the async threads (reading a large report takes a while).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

impl App {
    /// Reads an uploaded report as `cairn extract` reads a file: indicators
    /// with the store's warninglists, and the prose with the reader
    /// `cairn extract` trains (when `prose`).
    pub(crate) async fn extract_report(
        &self,
        clearance: Clearance,
        name: String,
        bytes: Bytes,
        prose: bool,
    ) -> Result<ReadReport, ApiError> {
        // The document first: a bad upload costs no training.
        let doc = blocking(move || report_document(&name, &bytes)).await?;
        let kit = self.report_kit(clearance).await?;
        let extractor = self.report_extractor(clearance, &kit).await?;
        let reader = if prose {
            Some(self.report_reader(clearance, &kit).await?)
        } else {
            None
        };
        blocking(move || {
            let reading = cairn_engine::read_report(&extractor, reader.as_deref(), &doc);
            Ok(ReadReport { doc, reading })
        })
        .await
    }

    /// Reads an uploaded report and attributes it as `cairn attribute
    /// --report` does, with the reader and corpus of the caller's clearance.
    pub(crate) async fn attribute_report(
        &self,
        clearance: Clearance,
        name: String,
        bytes: Bytes,
        top: usize,
    ) -> Result<(ReadReport, ReportAttribution), ApiError> {
        let doc = blocking(move || report_document(&name, &bytes)).await?;
        let kit = self.report_kit(clearance).await?;
        let extractor = self.report_extractor(clearance, &kit).await?;
        let models = self.report_models(clearance, &kit).await?;
        if models.corpus.group_count() == 0 || models.reader.is_none() {
            return Err(ApiError::bad_request(
                "the knowledge base holds no ATT&CK groups and techniques this caller may see; an analyst ingests them first (cairn ingest --starter)",
            ));
        }
        blocking(move || {
            let reading = cairn_engine::read_report(&extractor, models.reader.as_deref(), &doc);
            let att = cairn_engine::attribute_report(&models.corpus, &reading, top);
            Ok((ReadReport { doc, reading }, att))
        })
        .await
    }

    /// `actor=auto`: when `opts` asks for it, reads the report and sets the
    /// actor it names (else the best inferred candidate) and, unless one
    /// was given, the confidence of that choice, as `cairn ingest --actor
    /// auto` does. `None` when no automatic choice was asked for.
    pub(crate) async fn auto_actor(
        &self,
        clearance: Clearance,
        name: &str,
        bytes: Bytes,
        opts: &mut cairn_intake::Options,
    ) -> Result<Option<ActorChoice>, ApiError> {
        if !cairn_engine::is_auto_actor(opts.actor.as_deref()) {
            return Ok(None);
        }
        let name = crate::engine::sanitize_name(name);
        let format = match opts.format {
            cairn_intake::Format::Auto => {
                cairn_intake::detect_format(std::path::Path::new(&name), &bytes)
            }
            f => f,
        };
        if format != cairn_intake::Format::Text {
            return Err(ApiError::bad_request(format!(
                "`actor=auto` reads reports (text, Markdown, HTML, PDF); this file is {}",
                format.as_str()
            )));
        }
        let doc = blocking(move || report_document(&name, &bytes)).await?;
        let kit = self.report_kit(clearance).await?;
        let extractor = self.report_extractor(clearance, &kit).await?;
        let models = self.report_models(clearance, &kit).await?;
        let choice = blocking(move || Ok(cairn_engine::actor_choice(&models, &extractor, &doc)))
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "`actor=auto`: the report names no known group and nothing in it points to one; give the actor's name",
                )
            })?;
        opts.actor = Some(choice.name.clone());
        if opts.confidence.is_none() {
            opts.confidence = Some(choice.confidence);
        }
        Ok(Some(choice))
    }
}

/// The request's body, a 413 that says the limit when it is larger.
async fn report_body(app: &App, req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, app).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the report is larger than this server takes ({} bytes; cairn serve --max-report-upload)",
                    app.config().max_report_body.min(app.config().max_body)
                ),
            )
        } else {
            ApiError::new(r.status(), r.body_text())
        }
    })
}

/// The query string, its errors in the API's form.
fn query<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(req.uri())
        .map(|Query(q)| q)
        .map_err(|r| ApiError::new(r.status(), r.body_text()))
}

#[derive(Deserialize)]
struct ExtractQuery {
    name: Option<String>,
    prose: Option<bool>,
}

async fn extract(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    req: Request,
) -> Result<Response, ApiError> {
    let q: ExtractQuery = query(&req)?;
    let name = upload_name(q.name.as_deref())?;
    let body = report_body(&app, req).await?;
    let read = app
        .extract_report(c.clearance(), name, body, q.prose.unwrap_or(true))
        .await?;
    let mut out = Vec::new();
    cairn_engine::write_report_lines(&mut out, &read.reading).map_err(ApiError::internal)?;
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        out,
    )
        .into_response();
    // The report's own marking is no line (the CLI says it on stderr).
    if let Some(tlp) = &read.reading.extraction.tlp
        && let Ok(v) = HeaderValue::from_str(tlp)
    {
        res.headers_mut().insert("x-cairn-report-tlp", v);
    }
    Ok(res)
}

#[derive(Deserialize)]
struct AttributeQuery {
    name: Option<String>,
    top: Option<u64>,
}

async fn attribute(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    req: Request,
) -> Result<Response, ApiError> {
    let q: AttributeQuery = query(&req)?;
    let top = crate::api::bounded("top", q.top, bounds::TOP)?;
    let name = upload_name(q.name.as_deref())?;
    let body = report_body(&app, req).await?;
    let (_, att) = app.attribute_report(c.clearance(), name, body, top).await?;
    Ok(Json(att).into_response())
}

#[cfg(test)]
mod tests {
    use super::report_document;

    #[test]
    fn uploads_that_are_no_report_are_told_so() {
        let status = |b: &[u8]| report_document("r.txt", b).err().map(|e| e.status.as_u16());
        assert_eq!(status(b""), Some(400));
        assert_eq!(status(b"caf\xc3"), Some(400), "truncated UTF-8");
        assert_eq!(status(b"\x00\x01\x02\x03binary"), Some(400));
        assert_eq!(status(b"%PDF-1.7\ntruncated"), Some(400));
        assert_eq!(status("café at evil[.]top".as_bytes()), None);
        assert_eq!(status(b"\xff\xfeh\x00i\x00"), None, "UTF-16 with a BOM");
    }
}
