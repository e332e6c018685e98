//! Every error `cairn-extract` can return.

use std::path::PathBuf;

/// Why a document could not be read into text.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes look like binary data (many NULs or control bytes), not a report.
    #[error("{name}: looks like binary data, not a text, HTML or PDF report ({detail})")]
    Binary {
        /// The document's name.
        name: String,
        /// What gave it away.
        detail: String,
    },
    /// The document is in a format this build cannot read: `cairn-extract`
    /// was compiled without the cargo feature that reads it.
    #[error(
        "{name}: this build cannot read {format} (cairn-extract built without its `{feature}` feature)"
    )]
    Unsupported {
        /// The document's name.
        name: String,
        /// The format met (`PDF`, `HTML`).
        format: &'static str,
        /// The feature that reads it (`pdf`, `html`).
        feature: &'static str,
    },
    /// The PDF could not be parsed, or has no text layer.
    #[error("{name}: cannot read PDF text layer: {detail}")]
    Pdf {
        /// The document's name.
        name: String,
        /// The parser's message.
        detail: String,
    },
}

/// Why the labelled evaluation corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A corpus file could not be read.
    #[error("cannot read corpus {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of an `.expected` file is not `type<TAB>value`.
    #[error("{file}:{line}: {detail}")]
    Expected {
        /// The `.expected` file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// A document has no `.expected` file beside it, or the reverse.
    #[error("{0}")]
    Layout(String),
    /// A document in the corpus could not be read.
    #[error(transparent)]
    Document(#[from] ExtractError),
}
