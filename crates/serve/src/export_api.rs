//! `GET /api/v1/export/{format}`: the store's indicators in a sensor's
//! format, for sensors that pull (a Zeek manager's cron, a Suricata
//! rule-update job, a DNS firewall's zone transfer script, a SIEM lookup).
//!
//! The same options as `cairn export`, as query parameters. The caller's
//! clearance caps `tlp_max` (a reader never gets TLP:AMBER+STRICT or
//! TLP:RED, whatever it asks), and the export runs on a connection
//! restricted to that ceiling, so not even an actor's name from a
//! higher-marked source reaches a description. Suricata's export is several
//! files: without `file` the answer lists them, with `file` it is that file.

use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::state::{App, Clearance};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_export::sensors::{self, SensorFormat, SensorOptions, SensorRequest};
use cairn_model::Tlp;
use serde::Deserialize;
use serde_json::json;

pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new().route("/api/v1/export/{format}", get(export))
}

#[derive(Deserialize)]
struct ExportParams {
    tlp_max: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    url_base: Option<String>,
    file: Option<String>,
}

async fn export(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(format): Path<String>,
    Query(mut p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    // `since=` from a sensor's script whose last-run variable is still
    // empty means "everything", as an absent parameter does.
    for v in [
        &mut p.tlp_max,
        &mut p.actor,
        &mut p.since,
        &mut p.url_base,
        &mut p.file,
    ] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *v = None;
        }
    }
    let format: SensorFormat = format.parse().map_err(ApiError::not_found)?;
    let asked = match &p.tlp_max {
        Some(t) => t
            .parse::<Tlp>()
            .map_err(|e| ApiError::bad_request(format!("tlp_max: {e}")))?,
        None => Tlp::Amber,
    };
    let ceiling = match c.clearance() {
        Clearance::Full => Tlp::Red,
        Clearance::Restricted => Clearance::READER_CEILING,
    };
    let tlp_max = asked.min(ceiling);
    let url_base = p
        .url_base
        .clone()
        .unwrap_or_else(|| format!("http://{}", app.config().addr));
    let (actor, since) = (p.actor.clone(), p.since.clone());
    let out = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        // Its own connection: the export restricts it to its ceiling.
        let mut conn = app.own_connection()?;
        let req = SensorRequest {
            tlp_max,
            actor: actor.as_deref(),
            since: since.as_deref(),
        };
        let collected = match sensors::collect_request(conn.kb_mut(), &req) {
            Ok(Some(c)) => c,
            Ok(None) => {
                let name = actor.unwrap_or_default();
                return Err(ApiError::not_found(format!("no actor called `{name}`")));
            }
            Err(cairn_export::ExportError::Kb(k)) => return Err(ApiError::from(k)),
            Err(e @ cairn_export::ExportError::BadTime(_)) => {
                return Err(ApiError::bad_request(e.to_string()));
            }
            Err(e) => return Err(ApiError::internal(e)),
        };
        Ok(sensors::render(
            format,
            &collected.indicators,
            &SensorOptions::now(url_base),
        ))
    })
    .await
    .map_err(ApiError::internal)??;

    if format == SensorFormat::SuricataDataset {
        let Some(name) = &p.file else {
            let files: Vec<_> = out
                .files
                .iter()
                .map(|f| json!({ "name": f.name, "url": format!("/api/v1/export/suricata-dataset?file={}", f.name) }))
                .collect();
            return Ok(Json(json!({ "format": format.as_str(), "files": files })).into_response());
        };
        let Some(f) = out.files.into_iter().find(|f| &f.name == name) else {
            return Err(ApiError::not_found(format!(
                "no file `{name}` in the Suricata export"
            )));
        };
        return Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            f.content,
        )
            .into_response());
    }
    let body = out
        .files
        .into_iter()
        .next()
        .map(|f| f.content)
        .unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, format.media_type())], body).into_response())
}
