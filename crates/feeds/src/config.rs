//! A feed's kind and its options, as kept in the store's `feeds.config`.

use crate::errors::FeedError;
use crate::http::Auth;
use cairn_intake::Columns;
use serde::{Deserialize, Serialize};

/// What a feed is, which decides how it is fetched and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// A STIX 2.x bundle by URL.
    Stix,
    /// Any file `cairn ingest` understands, format detected.
    File,
    /// A TAXII 2.1 collection.
    Taxii,
    /// A MISP feed directory (`manifest.json` + one JSON per event).
    MispFeed,
    /// CSV with a header.
    Csv,
    /// One indicator per line.
    List,
}

impl FeedKind {
    /// Every kind, as the CLI spells them.
    pub const ALL: [FeedKind; 6] = [
        FeedKind::Stix,
        FeedKind::File,
        FeedKind::Taxii,
        FeedKind::MispFeed,
        FeedKind::Csv,
        FeedKind::List,
    ];

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Stix => "stix",
            FeedKind::File => "file",
            FeedKind::Taxii => "taxii",
            FeedKind::MispFeed => "misp-feed",
            FeedKind::Csv => "csv",
            FeedKind::List => "list",
        }
    }
}

impl std::str::FromStr for FeedKind {
    type Err = FeedError;
    fn from_str(s: &str) -> Result<FeedKind, FeedError> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FeedError::Config(format!(
                    "unknown feed kind `{s}` (stix, file, taxii, misp-feed, csv, list)"
                ))
            })
    }
}

/// A feed's options. Secrets are never stored: only the NAMES of the
/// environment variables that hold them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedConfig {
    /// TAXII: the collection's id or title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// TAXII: objects per page asked for (the server may send fewer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
    /// Bearer token: the environment variable holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Basic auth user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Basic auth: the environment variable holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// CSV columns.
    #[serde(skip_serializing_if = "Columns::is_empty")]
    pub columns: Columns,
    /// Marking for statements that carry none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<String>,
    /// Actor a list's or CSV's indicators belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Confidence (0–100) for statements that carry none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// Largest body accepted, in bytes (default: the client's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Where it came from, when added from the catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<String>,
}

impl FeedConfig {
    /// The credentials the config names, read from the environment now.
    pub fn auth(&self) -> Result<Option<Auth>, FeedError> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                FeedError::Config(format!(
                    "environment variable `{name}` (named by the feed) is not set"
                ))
            })
        };
        if let Some(t) = &self.token_env {
            return Ok(Some(Auth::Bearer(var(t)?)));
        }
        match (&self.user, &self.password_env) {
            (Some(u), Some(p)) => Ok(Some(Auth::Basic(u.clone(), var(p)?))),
            (None, None) => Ok(None),
            _ => Err(FeedError::Config(
                "Basic auth needs both --user and --password-env".into(),
            )),
        }
    }

    /// Intake options for this feed's content, stored under `source`.
    pub fn intake(
        &self,
        source: &str,
        format: cairn_intake::Format,
    ) -> Result<cairn_intake::Options, FeedError> {
        let tlp = match &self.tlp {
            Some(t) => Some(t.parse().map_err(FeedError::Config)?),
            None => None,
        };
        Ok(cairn_intake::Options {
            format,
            source: Some(source.to_string()),
            actor: self.actor.clone(),
            tlp,
            confidence: self.confidence,
            columns: self.columns.clone(),
            ..cairn_intake::Options::default()
        })
    }
}

/// `1d`, `6h`, `30m`, `45s` or plain seconds, as seconds.
pub fn parse_every(s: &str) -> Result<i64, FeedError> {
    let t = s.trim();
    let bad = || FeedError::Config(format!("interval `{s}` is not like 1d, 6h, 30m or 3600"));
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: i64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_every("1d").unwrap(), 86_400);
        assert_eq!(parse_every("90").unwrap(), 90);
        assert_eq!(parse_every("6h").unwrap(), 21_600);
        assert!(parse_every("0").is_err());
        assert!(parse_every("soon").is_err());
        assert!(parse_every("3y").is_err());
    }

    #[test]
    fn config_round_trips_without_secrets() {
        let c = FeedConfig {
            collection: Some("abc".into()),
            token_env: Some("PARTNER_TOKEN".into()),
            ..FeedConfig::default()
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"collection": "abc", "token_env": "PARTNER_TOKEN"})
        );
        let back: FeedConfig = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
