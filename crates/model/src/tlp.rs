use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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

    /// Every level, least restricted first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The id of this level's TLP 2.0 marking definition, as the OASIS TLP
    /// 2.0 extension publishes it.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The id of this level's TLP 1.0 marking definition (STIX 2.1 §7.2.1.4);
    /// TLP 1.0 had no AMBER+STRICT.
    pub fn marking_id_v1(self) -> Option<&'static str> {
        Some(match self {
            Tlp::Clear => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Amber => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::AmberStrict => return None,
            Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        })
    }

    /// The marking for a STIX marking-definition id, for the TLP 1.0 and 2.0
    /// definitions the STIX specification and its TLP extension publish.
    pub fn from_marking_ref(id: &str) -> Option<Tlp> {
        Tlp::ALL
            .into_iter()
            .find(|t| t.marking_id() == id || t.marking_id_v1() == Some(id))
    }

    /// The published STIX 2.1 object of the standard TLP marking definition
    /// with this id (TLP 2.0 or 1.0); `None` for any other id.
    pub fn marking_definition(id: &str) -> Option<Value> {
        let t = Tlp::from_marking_ref(id)?;
        if t.marking_id() == id {
            let level = match t {
                Tlp::Clear => "clear",
                Tlp::Green => "green",
                Tlp::Amber => "amber",
                Tlp::AmberStrict => "amber+strict",
                Tlp::Red => "red",
            };
            return Some(json!({
                "type": "marking-definition", "spec_version": "2.1", "id": id,
                "created": "2022-10-01T00:00:00.000Z", "name": t.as_str(),
                "extensions": { TLP2_EXTENSION: {
                    "extension_type": "property-extension", "tlp_2_0": level } }
            }));
        }
        let level = match t {
            Tlp::Clear => "white",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict | Tlp::Red => "red",
        };
        Some(json!({
            "type": "marking-definition", "spec_version": "2.1", "id": id,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "name": format!("TLP:{}", level.to_ascii_uppercase()),
            "definition": { "tlp": level }
        }))
    }
}

/// The OASIS extension definition the TLP 2.0 marking definitions use.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

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

    #[test]
    fn marking_ids_round_trip_and_define_themselves() {
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_marking_ref(t.marking_id()), Some(t));
            let d = Tlp::marking_definition(t.marking_id()).unwrap();
            assert_eq!(d["id"], t.marking_id());
            assert_eq!(d["name"], t.as_str());
            if let Some(v1) = t.marking_id_v1() {
                assert_eq!(Tlp::from_marking_ref(v1), Some(t));
                let d = Tlp::marking_definition(v1).unwrap();
                assert_eq!(d["definition_type"], "tlp");
                assert!(d["created"].as_str().unwrap().ends_with(".000Z"));
            }
        }
        assert_eq!(
            Tlp::marking_definition("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9")
                .unwrap()["name"],
            "TLP:WHITE"
        );
        assert!(
            Tlp::marking_definition("marking-definition--00000000-0000-4000-8000-000000000000")
                .is_none()
        );
    }
}
