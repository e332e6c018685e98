//! Errors of the attribution engine.
//!
//! Attribution itself never fails: evidence it cannot use is returned as
//! [`crate::Unrecognised`]. Only the loaders of evidence files can fail, when
//! the file is not the JSON it claims to be.

/// An evidence file could not be read as the format it was given as.
#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    /// The text is not valid JSON (or not the expected JSON shape).
    #[error("{what}: line {line}, column {column}: {message}")]
    Json {
        /// What was being read ("ATT&CK Navigator layer", "STIX bundle", "alerts line 3").
        what: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The JSON is valid but lacks what the format requires.
    #[error("{what}: {message}")]
    Shape {
        /// What was being read.
        what: String,
        /// What is missing or wrong.
        message: String,
    },
}

impl AttributeError {
    pub(crate) fn json(what: impl Into<String>, e: &serde_json::Error) -> AttributeError {
        AttributeError::Json {
            what: what.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}
