//! Well-known public feeds, shipped disabled: `cairn feed add NAME
//! --from-catalogue ID` subscribes to one. Nothing here is contacted until
//! a user adds and syncs it.

use crate::config::FeedKind;
use serde::Serialize;

/// One well-known feed.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Catalogue id.
    pub id: &'static str,
    /// What it is.
    pub title: &'static str,
    /// Feed kind (`FeedKind::as_str`).
    pub kind: &'static str,
    /// Where it is fetched from.
    pub url: &'static str,
    /// Its licence or terms.
    pub licence: &'static str,
    /// Its home page.
    pub homepage: &'static str,
    /// Suggested interval (`1d`, `6h`, …).
    pub every: &'static str,
}

impl Entry {
    /// The entry's kind.
    pub fn feed_kind(&self) -> FeedKind {
        // Every entry's kind is one of FeedKind's names (tested below).
        self.kind.parse().unwrap_or(FeedKind::File)
    }
}

const ATTACK_TERMS: &str = "MITRE ATT&CK Terms of Use (royalty-free, attribution required)";
const ATTACK_HOME: &str = "https://attack.mitre.org/";
const MISP_LICENCE: &str = "CC0-1.0 or BSD-2-Clause (dual)";
const ABUSE_LICENCE: &str = "CC0-1.0";

/// The catalogue.
pub const CATALOGUE: &[Entry] = &[
    Entry {
        id: "attack-enterprise",
        title: "MITRE ATT&CK Enterprise (STIX 2.1)",
        kind: "stix",
        url: "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json",
        licence: ATTACK_TERMS,
        homepage: ATTACK_HOME,
        every: "1d",
    },
    Entry {
        id: "attack-mobile",
        title: "MITRE ATT&CK Mobile (STIX 2.1)",
        kind: "stix",
        url: "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/mobile-attack/mobile-attack.json",
        licence: ATTACK_TERMS,
        homepage: ATTACK_HOME,
        every: "1d",
    },
    Entry {
        id: "attack-ics",
        title: "MITRE ATT&CK ICS (STIX 2.1)",
        kind: "stix",
        url: "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/ics-attack/ics-attack.json",
        licence: ATTACK_TERMS,
        homepage: ATTACK_HOME,
        every: "1d",
    },
    Entry {
        id: "misp-galaxy-threat-actor",
        title: "MISP galaxy: threat actors (names, synonyms, countries, victims)",
        kind: "file",
        url: "https://raw.githubusercontent.com/MISP/misp-galaxy/main/clusters/threat-actor.json",
        licence: MISP_LICENCE,
        homepage: "https://github.com/MISP/misp-galaxy",
        every: "1d",
    },
    Entry {
        id: "misp-warninglist-google",
        title: "MISP warninglist: Google's address ranges",
        kind: "file",
        url: "https://raw.githubusercontent.com/MISP/misp-warninglists/main/lists/google/list.json",
        licence: MISP_LICENCE,
        homepage: "https://github.com/MISP/misp-warninglists",
        every: "1w",
    },
    Entry {
        id: "misp-warninglist-cloudflare",
        title: "MISP warninglist: Cloudflare's address ranges",
        kind: "file",
        url: "https://raw.githubusercontent.com/MISP/misp-warninglists/main/lists/cloudflare/list.json",
        licence: MISP_LICENCE,
        homepage: "https://github.com/MISP/misp-warninglists",
        every: "1w",
    },
    Entry {
        id: "misp-warninglist-amazon-aws",
        title: "MISP warninglist: Amazon AWS address ranges",
        kind: "file",
        url: "https://raw.githubusercontent.com/MISP/misp-warninglists/main/lists/amazon-aws/list.json",
        licence: MISP_LICENCE,
        homepage: "https://github.com/MISP/misp-warninglists",
        every: "1w",
    },
    Entry {
        id: "urlhaus-online",
        title: "abuse.ch URLhaus: malware URLs online now",
        kind: "list",
        url: "https://urlhaus.abuse.ch/downloads/text_online/",
        licence: ABUSE_LICENCE,
        homepage: "https://urlhaus.abuse.ch/",
        every: "1h",
    },
    Entry {
        id: "feodo-ipblocklist",
        title: "abuse.ch Feodo Tracker: botnet C2 IP blocklist",
        kind: "list",
        url: "https://feodotracker.abuse.ch/downloads/ipblocklist.txt",
        licence: ABUSE_LICENCE,
        homepage: "https://feodotracker.abuse.ch/",
        every: "1h",
    },
    Entry {
        id: "circl-osint",
        title: "CIRCL OSINT MISP feed",
        kind: "misp-feed",
        url: "https://www.circl.lu/doc/misp/feed-osint/",
        licence: "TLP:CLEAR; CIRCL's terms (see homepage)",
        homepage: "https://www.circl.lu/doc/misp/feed-osint/",
        every: "1d",
    },
];

/// A catalogue entry by id.
pub fn entry(id: &str) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_well_formed_and_unique() {
        let mut ids = std::collections::HashSet::new();
        for e in CATALOGUE {
            assert!(ids.insert(e.id), "duplicate {}", e.id);
            assert!(e.kind.parse::<FeedKind>().is_ok(), "{}", e.id);
            assert!(e.url.starts_with("https://"), "{}", e.id);
            assert!(!e.licence.is_empty() && e.homepage.starts_with("https://"));
            assert!(crate::config::parse_every(e.every).is_ok(), "{}", e.id);
        }
        assert!(entry("attack-enterprise").is_some());
    }
}
