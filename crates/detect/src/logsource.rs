//! Which Sigma log sources an event belongs to. Windows logs do not say
//! "process_creation"; their channel and event id do, through a table kept
//! as data (`data/logsources.yml`) that users extend with their own file.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::errors::DetectError;

const BUILTIN: &str = include_str!("../data/logsources.yml");

#[derive(Deserialize)]
struct TableFile {
    channels: Vec<ChannelEntry>,
}

#[derive(Deserialize, Clone)]
struct ChannelEntry {
    channel: String,
    product: Option<String>,
    service: Option<String>,
    #[serde(default)]
    categories: BTreeMap<String, Vec<u64>>,
}

/// The log source of one event: a product, a service, and the categories
/// its event id belongs to (several: a Sysmon registry event is both
/// `registry_event` and `registry_set`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct EventSource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub categories: Vec<String>,
}

/// The channel table: lower-cased channel → entry.
#[derive(Clone)]
pub struct LogSources {
    channels: HashMap<String, ChannelEntry>,
}

impl LogSources {
    /// The table shipped with Cairn.
    pub fn builtin() -> LogSources {
        let mut t = LogSources {
            channels: HashMap::new(),
        };
        // The embedded table is checked by a unit test; failing here would
        // be a build defect, not an input error.
        if let Err(e) = t.extend_from_yaml("builtin logsources.yml", BUILTIN) {
            debug_assert!(false, "{e}");
        }
        t
    }

    /// Adds (or replaces, by channel) the entries of a table in the same
    /// shape as the builtin one; `origin` names it in errors.
    pub fn extend_from_yaml(&mut self, origin: &str, text: &str) -> Result<(), DetectError> {
        let file: TableFile = yaml_serde::from_str(text).map_err(|e| DetectError::LogSources {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        for c in file.channels {
            self.channels.insert(c.channel.to_ascii_lowercase(), c);
        }
        Ok(())
    }

    /// The log source of an event on `channel` with `event_id`. An unknown
    /// channel gives no service and no category, so only rules that name
    /// neither can match it.
    pub(crate) fn route(&self, channel: &str, event_id: Option<u64>) -> EventSource {
        let Some(c) = self.channels.get(&channel.to_ascii_lowercase()) else {
            return EventSource {
                product: None,
                service: None,
                categories: Vec::new(),
            };
        };
        let categories = match event_id {
            Some(id) => c
                .categories
                .iter()
                .filter(|(_, ids)| ids.contains(&id))
                .map(|(name, _)| name.clone())
                .collect(),
            None => Vec::new(),
        };
        EventSource {
            product: c.product.clone(),
            service: c.service.clone(),
            categories,
        }
    }

    /// Services the table can route to (for the load report).
    pub(crate) fn knows_service(&self, product: Option<&str>, service: &str) -> bool {
        self.channels.values().any(|c| {
            c.service
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(service))
                && product.is_none_or(|p| {
                    c.product
                        .as_deref()
                        .is_some_and(|cp| cp.eq_ignore_ascii_case(p))
                })
        })
    }

    /// Categories the table can route to (for the load report).
    pub(crate) fn knows_category(&self, product: Option<&str>, category: &str) -> bool {
        self.channels.values().any(|c| {
            c.categories.contains_key(category)
                && product.is_none_or(|p| {
                    c.product
                        .as_deref()
                        .is_some_and(|cp| cp.eq_ignore_ascii_case(p))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_routes() {
        let mut t = LogSources {
            channels: HashMap::new(),
        };
        t.extend_from_yaml("builtin", BUILTIN)
            .expect("builtin table");
        let s = t.route("Microsoft-Windows-Sysmon/Operational", Some(13));
        assert_eq!(s.product.as_deref(), Some("windows"));
        assert_eq!(s.service.as_deref(), Some("sysmon"));
        assert!(s.categories.contains(&"registry_set".to_string()));
        assert!(s.categories.contains(&"registry_event".to_string()));
        assert!(!s.categories.contains(&"registry_add".to_string()));
        // The YAML anchor shares Sysmon's ids with Sysmon for Linux.
        let l = t.route("linux-sysmon/operational", Some(1));
        assert_eq!(l.product.as_deref(), Some("linux"));
        assert_eq!(l.categories, vec!["process_creation".to_string()]);
        assert_eq!(
            t.route("Security", Some(4688)).categories,
            ["process_creation"]
        );
        assert!(t.route("Security", Some(4624)).categories.is_empty());
        assert_eq!(t.route("Nope", Some(1)), EventSource::default());
    }

    #[test]
    fn user_table_overrides_by_channel_and_bad_yaml_names_the_file() {
        let mut t = LogSources::builtin();
        t.extend_from_yaml(
            "mine.yml",
            "channels:\n  - {channel: security, product: windows, service: sec2}\n",
        )
        .expect("valid");
        assert_eq!(t.route("Security", None).service.as_deref(), Some("sec2"));
        let e = t
            .extend_from_yaml("bad.yml", "channels: [")
            .expect_err("invalid");
        assert!(e.to_string().contains("bad.yml"), "{e}");
    }
}
