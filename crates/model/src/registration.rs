//! A domain's registration record (WHOIS, RDAP), shared by intake, which
//! reads it, and the store, which keeps one per domain per source.

use serde::Serialize;

/// One domain's registration as one source states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The domain, lower case, no trailing dot.
    pub domain: String,
    /// The source that states it: empty as parsed, named once stored.
    pub source: String,
    /// The registrar as written.
    pub registrar: Option<String>,
    /// The registrar's IANA id.
    pub registrar_iana_id: Option<String>,
    /// The registrar's URL.
    pub registrar_url: Option<String>,
    /// Creation, RFC 3339 UTC to the second.
    pub created: Option<String>,
    /// Last update, RFC 3339 UTC.
    pub updated: Option<String>,
    /// Expiry, RFC 3339 UTC.
    pub expires: Option<String>,
    /// Status codes as written, in order, without duplicates.
    pub status: Vec<String>,
    /// Name servers, lower case, no trailing dot, without duplicates.
    pub name_servers: Vec<String>,
    /// Registrant organisation, when not redacted.
    pub registrant_org: Option<String>,
    /// Registrant e-mail, when not redacted.
    pub registrant_email: Option<String>,
    /// Whether the record hides its registrant (GDPR notice or privacy proxy).
    pub redacted: bool,
}
