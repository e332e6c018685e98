//! Every error intake can return. Each names the file and the place in it.

use std::path::PathBuf;

/// Why a file could not be taken in. Nothing from a failed file is kept.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid JSON (truncated, bad syntax, nested too deep).
    #[error("{path}: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// One object in an otherwise well-formed file is wrong.
    #[error("{path}: {place}: {message}")]
    Object {
        /// The file.
        path: PathBuf,
        /// Where: `object #12 (indicator--…)`, `line 7`, `values[3] (Earth Lusca)`.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// The format could not be recognised, or is not the one forced.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was expected and found.
        message: String,
    },
}

impl IntakeError {
    pub(crate) fn json(path: &std::path::Path, e: &serde_json::Error) -> IntakeError {
        IntakeError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: {
                // serde_json appends the position, which the variant already shows.
                let m = e.to_string();
                m.rfind(" at line ")
                    .map_or(m.clone(), |i| m[..i].to_string())
            },
        }
    }

    pub(crate) fn object(
        path: &std::path::Path,
        place: impl Into<String>,
        message: impl Into<String>,
    ) -> IntakeError {
        IntakeError::Object {
            path: path.to_path_buf(),
            place: place.into(),
            message: message.into(),
        }
    }
}
