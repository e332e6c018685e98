//! A trained reader saved to bytes and loaded back, so a store's reader is
//! trained once per store generation instead of on every run (training is
//! seconds; loading is tens of milliseconds).
//!
//! The automata are rebuilt from the saved patterns on load: they are quick
//! to build and their own layout is not a stable format.

use crate::errors::ProseError;
use crate::knowledge::NameKind;
use crate::names::{Lexicon, country_lexicon, sector_lexicon};
use crate::reader::{Calibrated, Reader};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"CAIRNRDR";

/// Bumped whenever what a saved reader holds, or how it is read, changes.
/// The crate's version is saved too, so a release never reads another's.
const FORMAT: u32 = 1;

type Parts<T> = (Vec<(String, bool, T)>, bool);

#[derive(Serialize, Deserialize)]
struct Saved {
    version: String,
    tag: String,
    techniques: Vec<(String, String)>,
    technique_names: Parts<usize>,
    model: Option<Calibrated>,
    named: Vec<(NameKind, String, Option<String>)>,
    names: Parts<usize>,
}

impl Reader {
    /// The reader as bytes, labelled with `tag` (what it was trained from:
    /// a store's id and generation, say), for [`Reader::from_bytes`].
    pub fn to_bytes(&self, tag: &str) -> Vec<u8> {
        let saved = Saved {
            version: env!("CARGO_PKG_VERSION").to_string(),
            tag: tag.to_string(),
            techniques: self.techniques.clone(),
            technique_names: self.technique_names.parts(),
            model: self.model.clone(),
            named: self.named.clone(),
            names: self.names.parts(),
        };
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT.to_le_bytes());
        // Serialising owned strings, numbers and vectors into a Vec cannot
        // fail; an empty payload would only make the load fail and retrain.
        out.extend(postcard::to_stdvec(&saved).unwrap_or_default());
        out
    }

    /// The reader saved by [`Reader::to_bytes`] when it was saved with `tag`
    /// by this version of the crate; `Ok(None)` when it was saved with
    /// another tag (trained from something else: train anew).
    pub fn from_bytes(bytes: &[u8], tag: &str) -> Result<Option<Reader>, ProseError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(ProseError::Format("no signature"))?;
        let (format, payload) = rest
            .split_first_chunk::<4>()
            .ok_or(ProseError::Format("truncated header"))?;
        if u32::from_le_bytes(*format) != FORMAT {
            return Err(ProseError::Format("another format"));
        }
        let saved: Saved =
            postcard::from_bytes(payload).map_err(|e| ProseError::Damaged(e.to_string()))?;
        if saved.version != env!("CARGO_PKG_VERSION") {
            return Err(ProseError::Format("another version"));
        }
        if saved.tag != tag {
            return Ok(None);
        }
        check(&saved).map_err(|m| ProseError::Damaged(m.to_string()))?;
        let technique_ids = saved
            .techniques
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        Ok(Some(Reader {
            technique_ids,
            techniques: saved.techniques,
            technique_names: Lexicon::from_parts(saved.technique_names),
            model: saved.model,
            named: saved.named,
            names: Lexicon::from_parts(saved.names),
            countries: country_lexicon(),
            sectors: sector_lexicon(),
        }))
    }
}

/// Every index a saved reader holds points inside it.
fn check(s: &Saved) -> Result<(), &'static str> {
    let techniques = s.techniques.len();
    if s.technique_names.0.iter().any(|e| e.2 >= techniques) {
        return Err("a technique name points past the techniques");
    }
    if s.names.0.iter().any(|e| e.2 >= s.named.len()) {
        return Err("an alias points past the names");
    }
    if let Some(m) = &s.model {
        if let Some(why) = m.model.inconsistency() {
            return Err(why);
        }
        if m.classes.len() < m.model.class_count() || m.classes.iter().any(|&t| t >= techniques) {
            return Err("a model class points past the techniques");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{FindingKind, Knowledge, Reader, ReaderOptions};
    use cairn_model::{Bundle, Object, Relation};

    fn reader() -> Reader {
        let obj = |id: &str, kind: &str, name: &str, ext: &str| Object {
            id: id.into(),
            kind: kind.into(),
            name: Some(name.into()),
            external_id: Some(ext.into()),
            ..Object::default()
        };
        let mut objects = vec![
            obj(
                "attack-pattern--1",
                "attack-pattern",
                "DLL Side-Loading",
                "T1574.002",
            ),
            obj(
                "attack-pattern--2",
                "attack-pattern",
                "PowerShell",
                "T1059.001",
            ),
            obj("intrusion-set--1", "intrusion-set", "APT41", "G0096"),
        ];
        let mut relations = Vec::new();
        for (i, (text, target)) in [
            (
                "The group side-loaded a DLL through a signed executable.",
                "1",
            ),
            (
                "The loader was placed beside a legitimate binary to be loaded.",
                "1",
            ),
            ("The group ran encoded PowerShell commands.", "2"),
            ("They used PowerShell scripts to download payloads.", "2"),
        ]
        .iter()
        .enumerate()
        {
            relations.push(Relation {
                id: format!("relationship--{i}"),
                rel_type: "uses".into(),
                source_ref: "intrusion-set--1".into(),
                target_ref: format!("attack-pattern--{target}"),
                description: Some(text.to_string()),
                ..Relation::default()
            });
        }
        objects.push(obj("malware--1", "malware", "ShadowPad", "S0596"));
        let bundle = Bundle {
            objects,
            relations,
            ..Bundle::default()
        };
        Reader::new(&Knowledge::from_bundle(&bundle), ReaderOptions::default())
    }

    const TEXT: &str = "APT41 loaded ShadowPad through DLL side-loading (T1574.002) and \
                        ran encoded PowerShell commands against hospitals in Taiwan.";

    #[test]
    fn a_loaded_reader_reads_as_the_trained_one() {
        let r = reader();
        let bytes = r.to_bytes("store=a;gen=3");
        let back = Reader::from_bytes(&bytes, "store=a;gen=3")
            .expect("loads")
            .expect("same tag");
        let found = r.read(TEXT);
        assert!(found.iter().any(|f| f.kind == FindingKind::Software));
        assert!(found.iter().any(|f| f.kind == FindingKind::Country));
        assert_eq!(back.read(TEXT), found);
        assert_eq!(back.technique_count(), r.technique_count());
        assert_eq!(back.threshold(), r.threshold());
    }

    #[test]
    fn another_tag_is_not_loaded() {
        let bytes = reader().to_bytes("store=a;gen=3");
        assert!(matches!(
            Reader::from_bytes(&bytes, "store=a;gen=4"),
            Ok(None)
        ));
    }

    #[test]
    fn damaged_bytes_are_an_error_never_a_panic() {
        let bytes = reader().to_bytes("t");
        assert!(Reader::from_bytes(b"", "t").is_err());
        assert!(Reader::from_bytes(b"CAIRNRDR\x09\x00\x00\x00", "t").is_err());
        // Every truncation, and a flipped byte at many places, either loads
        // or fails cleanly.
        for cut in (0..bytes.len()).step_by(7) {
            assert!(Reader::from_bytes(&bytes[..cut], "t").is_err(), "cut {cut}");
        }
        for at in (12..bytes.len()).step_by(5) {
            let mut b = bytes.clone();
            b[at] ^= 0xff;
            if let Ok(Some(r)) = Reader::from_bytes(&b, "t") {
                let _ = r.read(TEXT);
            }
        }
    }
}
