//! The infrastructure API: an actor's infrastructure, candidates scored
//! against it, and the pivot walk over the observations. The JSON is what
//! `cairn infra ACTOR --json`, `cairn infra score --json` and `cairn pivot
//! --json` print, made by the same engine functions
//! ([`cairn_engine::InfraModel::summary`], [`cairn_engine::InfraModel::score_all`],
//! [`cairn_engine::pivot`]); models are kept by the engine's
//! [`cairn_engine::InfraCache`], keyed by clearance among the rest.

use crate::auth::ApiCaller;
use crate::errors::ApiError;
use crate::openapi::bounds;
use crate::state::{App, Clearance};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_engine::InfraModel;
use cairn_infra::Scored;
use cairn_infra::pivot::{Pivot, PivotOptions, parse_at};
use cairn_kb::ObsWindow;
use serde::Deserialize;
use std::sync::Arc;

pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/api/v1/infra/{actor}", get(infra))
        .route("/api/v1/infra/{actor}/score", post(score))
        .route("/api/v1/pivot", get(pivot))
}

/// The query of a pivot, as the API and the pivot page take it: every field
/// optional text, so a web form's blank field means the default.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct PivotParams {
    pub(crate) value: Option<String>,
    pub(crate) depth: Option<String>,
    pub(crate) budget: Option<String>,
    pub(crate) max_fan_out: Option<String>,
    pub(crate) expand_common: Option<String>,
    pub(crate) at: Option<String>,
}

/// An integer parameter checked against `(min, max, default)`; blank or
/// absent is the default.
fn int_param(
    name: &str,
    v: Option<&str>,
    (min, max, default): (u64, u64, u64),
) -> Result<usize, ApiError> {
    let bad = || ApiError::bad_request(format!("`{name}` is an integer from {min} to {max}"));
    let n = match v.map(str::trim) {
        None | Some("") => default,
        Some(s) => s.parse::<u64>().map_err(|_| bad())?,
    };
    if !(min..=max).contains(&n) {
        return Err(bad());
    }
    usize::try_from(n).map_err(ApiError::internal)
}

impl PivotParams {
    /// The start value (trimmed), checked for length.
    pub(crate) fn start(&self) -> Result<String, ApiError> {
        let v = self.value.as_deref().unwrap_or("").trim();
        if v.chars().count() > bounds::MAX_VALUE {
            return Err(ApiError::bad_request(format!(
                "`value` holds up to {} characters",
                bounds::MAX_VALUE
            )));
        }
        Ok(v.to_string())
    }

    /// The API's stricter reading (the page's form sends blank fields and
    /// `on`; the API's document says integers, a date and a boolean): a
    /// parameter given must be one, not blank or padded.
    fn refuse_loose(&self) -> Result<(), ApiError> {
        let given = [
            ("depth", &self.depth),
            ("budget", &self.budget),
            ("max_fan_out", &self.max_fan_out),
            ("at", &self.at),
        ];
        for (name, v) in given {
            if let Some(v) = v
                && (v.is_empty() || v.trim() != v)
            {
                return Err(ApiError::bad_request(format!(
                    "`{name}` is blank or padded with spaces"
                )));
            }
        }
        match self.expand_common.as_deref() {
            None | Some("true" | "false") => Ok(()),
            Some(_) => Err(ApiError::bad_request("`expand_common` is true or false")),
        }
    }

    /// The walk's options, each bounded as the OpenAPI document says.
    pub(crate) fn options(&self) -> Result<PivotOptions, ApiError> {
        let expand_common = match self.expand_common.as_deref().map(str::trim) {
            None | Some("" | "false" | "0" | "off") => false,
            Some("true" | "1" | "on") => true,
            Some(_) => return Err(ApiError::bad_request("`expand_common` is true or false")),
        };
        let window = match self.at.as_deref().map(str::trim) {
            None | Some("") => ObsWindow::ALL,
            Some(s) => parse_at(s).map_err(|_| {
                ApiError::bad_request(format!(
                    "`at` `{s}`: expected a date as YYYY, YYYY-MM or YYYY-MM-DD"
                ))
            })?,
        };
        Ok(PivotOptions {
            depth: int_param("depth", self.depth.as_deref(), bounds::PIVOT_DEPTH)?,
            budget: int_param("budget", self.budget.as_deref(), bounds::PIVOT_BUDGET)?,
            max_fan_out: int_param(
                "max_fan_out",
                self.max_fan_out.as_deref(),
                bounds::PIVOT_FAN_OUT,
            )?,
            expand_common,
            window,
        })
    }
}

fn no_actor(s: &cairn_kb::Store, name: &str) -> Result<ApiError, ApiError> {
    let near = s.suggest(name, 5)?;
    Ok(ApiError::not_found(if near.is_empty() {
        format!("no actor called `{name}`")
    } else {
        format!(
            "no actor called `{name}`; did you mean {}?",
            near.join(", ")
        )
    }))
}

impl App {
    /// The actor's infrastructure model as the clearance sees the store
    /// (built once per store state, clearance and name; 404 for no actor).
    pub(crate) async fn infra_model(
        &self,
        clearance: Clearance,
        actor: String,
    ) -> Result<Arc<InfraModel>, ApiError> {
        let app = self.clone();
        self.read(clearance, move |s| {
            match app.inner.infra.model(s, &actor)? {
                Some(m) => Ok(m),
                None => Err(no_actor(s, &actor)?),
            }
        })
        .await
    }

    /// Candidates scored against the actor's model, highest first.
    pub(crate) async fn infra_scores(
        &self,
        clearance: Clearance,
        actor: String,
        values: Vec<String>,
    ) -> Result<Vec<Scored>, ApiError> {
        let app = self.clone();
        self.read(clearance, move |s| {
            match app.inner.infra.model(s, &actor)? {
                Some(m) => Ok(m.score_all(s, &values)?),
                None => Err(no_actor(s, &actor)?),
            }
        })
        .await
    }

    /// The pivot walk from `start` as the clearance sees the store, the
    /// store's warninglists damping benign values.
    pub(crate) async fn pivot(
        &self,
        clearance: Clearance,
        start: String,
        opts: PivotOptions,
    ) -> Result<Pivot, ApiError> {
        let app = self.clone();
        self.read(clearance, move |s| {
            if start.is_empty() {
                return Ok(Pivot::default());
            }
            let lists = app.inner.infra.warninglists(s)?;
            Ok(cairn_engine::pivot(s, &lists, &start, &opts)?)
        })
        .await
    }
}

async fn infra(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(actor): Path<String>,
) -> Result<Response, ApiError> {
    let m = app.infra_model(c.clearance(), actor).await?;
    Ok(Json(m.summary()).into_response())
}

#[derive(Deserialize)]
struct ScoreBody {
    values: Vec<String>,
}

async fn score(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Path(actor): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ScoreBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("body: expected {{\"values\": [\"…\"]}} ({e})"))
    })?;
    if b.values.len() > bounds::MAX_SCORE_VALUES {
        return Err(ApiError::bad_request(format!(
            "`values` holds up to {} candidates",
            bounds::MAX_SCORE_VALUES
        )));
    }
    if let Some(i) = b
        .values
        .iter()
        .position(|v| v.chars().count() > bounds::MAX_VALUE)
    {
        return Err(ApiError::bad_request(format!(
            "`values[{i}]` is longer than {} characters",
            bounds::MAX_VALUE
        )));
    }
    let scored = app.infra_scores(c.clearance(), actor, b.values).await?;
    Ok(Json(scored).into_response())
}

async fn pivot(
    State(app): State<App>,
    ApiCaller(c): ApiCaller,
    Query(q): Query<PivotParams>,
) -> Result<Response, ApiError> {
    if q.value.is_none() {
        return Err(ApiError::bad_request(
            "give the value to start from as ?value=",
        ));
    }
    q.refuse_loose()?;
    let start = q.start()?;
    let opts = q.options()?;
    let p = app.pivot(c.clearance(), start, opts).await?;
    Ok(Json(p).into_response())
}
