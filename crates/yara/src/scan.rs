//! Scanning bytes with a compiled rule set.

use crate::errors::YaraError;
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::time::Duration;

/// A rule that matched, with what its author wrote about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMatch {
    /// The rule's identifier.
    pub rule: String,
    /// Its namespace: the source it came from (see
    /// [`namespace_for`](crate::namespace_for)).
    pub namespace: String,
    /// Its tags, in the order written.
    pub tags: Vec<String>,
    /// Its `meta:` entries, in the order written (a key may repeat).
    pub metadata: Vec<(String, MetaValue)>,
}

/// A `meta:` value. Serialises as the plain JSON value: string, integer,
/// float or boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// `key = "text"`.
    String(String),
    /// `key = 42`.
    Integer(i64),
    /// `key = 4.2`.
    Float(f64),
    /// `key = true`.
    Bool(bool),
    /// A string holding escapes that are not UTF-8 (`"\xff"`): kept as bytes,
    /// serialised as a string with each such byte written `\xNN`.
    Bytes(Vec<u8>),
}

impl MetaValue {
    /// The value as text: strings as they are, bytes with `\xNN` escapes
    /// where they are not UTF-8, numbers and booleans as YARA writes them.
    pub fn to_text(&self) -> String {
        match self {
            MetaValue::String(s) => s.clone(),
            MetaValue::Integer(i) => i.to_string(),
            MetaValue::Float(f) => f.to_string(),
            MetaValue::Bool(b) => b.to_string(),
            MetaValue::Bytes(b) => escape_bytes(b),
        }
    }
}

impl Serialize for MetaValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MetaValue::String(s) => serializer.serialize_str(s),
            MetaValue::Integer(i) => serializer.serialize_i64(*i),
            MetaValue::Float(f) => serializer.serialize_f64(*f),
            MetaValue::Bool(b) => serializer.serialize_bool(*b),
            MetaValue::Bytes(b) => serializer.serialize_str(&escape_bytes(b)),
        }
    }
}

// Valid UTF-8 runs as they are, every other byte as `\xNN`.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Scans inputs with one [`Rules`](crate::Rules). Not shared between threads:
/// make one per thread with [`Rules::scanner`](crate::Rules::scanner).
pub struct Scanner<'r> {
    inner: yara_x::Scanner<'r>,
    timeout: Option<Duration>,
}

impl<'r> Scanner<'r> {
    pub(crate) fn new(rules: &'r yara_x::Rules) -> Self {
        Scanner {
            inner: yara_x::Scanner::new(rules),
            timeout: None,
        }
    }

    /// Gives up on an input after `timeout` (per [`scan`](Self::scan) call),
    /// returning [`YaraError::Timeout`]. yara-x counts whole seconds, rounding
    /// up, and may overrun by up to a second. No timeout by default.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.inner.set_timeout(timeout);
        self.timeout = Some(timeout);
        self
    }

    /// The rules that match `bytes`, in the order the rule set holds them.
    pub fn scan(&mut self, bytes: &[u8]) -> Result<Vec<RuleMatch>, YaraError> {
        let timeout = self.timeout;
        let results = self.inner.scan(bytes).map_err(|e| match e {
            yara_x::ScanError::Timeout => YaraError::Timeout {
                after: timeout.unwrap_or_default(),
            },
            other => YaraError::Scan {
                message: other.to_string(),
            },
        })?;
        Ok(results.matching_rules().map(|r| rule_match(&r)).collect())
    }
}

fn rule_match(rule: &yara_x::Rule<'_, '_>) -> RuleMatch {
    RuleMatch {
        rule: rule.identifier().to_owned(),
        namespace: rule.namespace().to_owned(),
        tags: rule.tags().map(|t| t.identifier().to_owned()).collect(),
        metadata: rule
            .metadata()
            .map(|(key, value)| (key.to_owned(), meta_value(value)))
            .collect(),
    }
}

fn meta_value(value: yara_x::MetaValue<'_>) -> MetaValue {
    match value {
        yara_x::MetaValue::Integer(i) => MetaValue::Integer(i),
        yara_x::MetaValue::Float(f) => MetaValue::Float(f),
        yara_x::MetaValue::Bool(b) => MetaValue::Bool(b),
        yara_x::MetaValue::String(s) => MetaValue::String(s.to_owned()),
        yara_x::MetaValue::Bytes(b) => MetaValue::Bytes(b.to_vec()),
    }
}
