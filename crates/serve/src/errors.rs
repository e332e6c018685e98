//! Every error the server returns or fails to start with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("store {path}: {source}")]
    Store {
        /// The store file.
        path: String,
        /// The cause.
        source: cairn_kb::errors::KbError,
    },
    /// The engines could not be compiled from the store.
    #[error("store {path}: {source}")]
    Engine {
        /// The store file.
        path: String,
        /// The cause.
        source: cairn_engine::EngineError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A failed request: a status and a message safe to show the caller (never
/// a stack trace or an internal path).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the caller.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    pub(crate) fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer <token>)",
        )
    }
    pub(crate) fn forbidden(need: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, format!("this needs the {need} role"))
    }
    /// An internal failure: logged in full, reported to the caller in general terms.
    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<cairn_kb::errors::KbError> for ApiError {
    fn from(e: cairn_kb::errors::KbError) -> ApiError {
        match e {
            cairn_kb::errors::KbError::Invalid(m) => ApiError::bad_request(m),
            cairn_kb::errors::KbError::NotFound(_) => ApiError::not_found("no such object"),
            other => ApiError::internal(other),
        }
    }
}

impl From<cairn_engine::EngineError> for ApiError {
    fn from(e: cairn_engine::EngineError) -> ApiError {
        match e {
            cairn_engine::EngineError::Kb(k) => k.into(),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<cairn_export::ExportError> for ApiError {
    fn from(e: cairn_export::ExportError) -> ApiError {
        match e {
            cairn_export::ExportError::Kb(k) => k.into(),
            cairn_export::ExportError::Engine(k) => k.into(),
            other => ApiError::internal(other),
        }
    }
}
