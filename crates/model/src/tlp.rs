use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Traffic Light Protocol 2.0 marking. Ordered from least to most restricted.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0's WHITE).
    #[default]
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER.
    Amber,
    /// TLP:AMBER+STRICT.
    AmberStrict,
    /// TLP:RED.
    Red,
}

impl Tlp {
    /// Canonical label, `TLP:AMBER+STRICT` style.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The marking for a STIX marking-definition id, for the TLP 1.0 and 2.0
    /// definitions the STIX specification and its TLP extension publish.
    pub fn from_marking_ref(id: &str) -> Option<Tlp> {
        Some(match id {
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
            | "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" => Tlp::Clear,
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
            | "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" => Tlp::Green,
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
            | "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" => Tlp::Amber,
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" => Tlp::AmberStrict,
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
            | "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" => Tlp::Red,
            _ => return None,
        })
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = String;
    /// Accepts `TLP:AMBER+STRICT`, `amber+strict`, `tlp:white`, `Red`, MISP
    /// tags such as `tlp:amber`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t);
        let t = t.strip_prefix("tlp-").unwrap_or(t);
        Ok(match t.replace([' ', '_', '-'], "+").as_str() {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => {
                return Err(format!(
                    "unknown TLP marking `{s}` (expected clear, green, amber, amber+strict or red)"
                ));
            }
        })
    }
}

impl From<Tlp> for String {
    fn from(t: Tlp) -> String {
        t.as_str().to_string()
    }
}

impl TryFrom<String> for Tlp {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("amber strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        assert_eq!("tlp:white".parse::<Tlp>(), Ok(Tlp::Clear));
        assert_eq!("Red".parse::<Tlp>(), Ok(Tlp::Red));
        assert!("purple".parse::<Tlp>().is_err());
        assert!(Tlp::Red > Tlp::AmberStrict && Tlp::AmberStrict > Tlp::Amber);
    }
}
