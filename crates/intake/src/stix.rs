//! STIX 2.0 and 2.1 bundles. ATT&CK publishes 2.0-style objects (no
//! `spec_version`), with its own extensions (`x_mitre_*`); both are read the
//! same way. Revoked and deprecated objects are kept and flagged, as ATT&CK
//! documents: consumers hide them by default and follow `revoked-by`.

use crate::errors::IntakeError;
use crate::{Options, pattern, prov};
use cairn_model::{Bundle, Object, Relation, Tlp};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    objects: Option<Vec<&'a RawValue>>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Raw {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    name: Option<String>,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
    description: Option<String>,
    external_references: Vec<ExtRef>,
    created: Option<String>,
    modified: Option<String>,
    revoked: bool,
    x_mitre_deprecated: bool,
    kill_chain_phases: Vec<Phase>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    x_cairn_last_seen: Option<String>,
    confidence: Option<u8>,
    object_marking_refs: Vec<String>,
    created_by_ref: Option<String>,
    pattern: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    labels: Vec<String>,
    indicator_types: Vec<String>,
    infrastructure_types: Vec<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    sighting_of_ref: Option<String>,
    country: Option<String>,
    sectors: Vec<String>,
    identity_class: Option<String>,
    x_mitre_domains: Vec<String>,
    x_mitre_shortname: Option<String>,
    definition_type: Option<String>,
    definition: Option<Definition>,
    primary_motivation: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExtRef {
    source_name: Option<String>,
    external_id: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Phase {
    kill_chain_name: Option<String>,
    phase_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Definition {
    tlp: Option<String>,
}

const ATTACK_SOURCES: [&str; 3] = ["mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"];

/// Reads one object's JSON and checks its type and id: the errors name the
/// object by its place in the file.
fn check(path: &Path, i: usize, raw: &str, at: &dyn Fn() -> String) -> Result<Raw, IntakeError> {
    let r: Raw = serde_json::from_str(raw).map_err(|e| {
        IntakeError::object(path, format!("object #{}{}", i + 1, at()), e.to_string())
    })?;
    let place = || {
        format!(
            "object #{} ({}){}",
            i + 1,
            r.id.as_deref().unwrap_or("no id"),
            at()
        )
    };
    let (Some(kind), Some(id)) = (r.kind.as_deref(), r.id.as_deref()) else {
        return Err(IntakeError::object(
            path,
            place(),
            "missing \"type\" or \"id\"",
        ));
    };
    if !id.starts_with(kind) || !id[kind.len()..].starts_with("--") {
        return Err(IntakeError::object(
            path,
            place(),
            format!("id does not match type `{kind}`"),
        ));
    }
    Ok(r)
}

/// What the whole bundle tells each object: TLP markings defined inside it
/// and the source name (ATT&CK's domain, or the creator's identity).
#[derive(Default)]
struct Learned {
    markings: HashMap<String, Tlp>,
    identities: HashMap<String, String>,
    domain: Option<String>,
    /// `created_by_ref`s in the order first met.
    creators: Vec<String>,
}

impl Learned {
    fn learn(&mut self, r: &Raw) {
        match r.kind.as_deref() {
            Some("marking-definition") => {
                let tlp = r.definition.as_ref().and_then(|d| d.tlp.as_deref());
                if (r.definition_type.as_deref() == Some("tlp") || tlp.is_some())
                    && let (Some(id), Some(Ok(t))) = (r.id.as_deref(), tlp.map(str::parse::<Tlp>))
                {
                    self.markings.insert(id.to_string(), t);
                }
                if let (Some(id), Some(name)) = (r.id.as_deref(), r.name.as_deref())
                    && let Ok(t) = name.parse::<Tlp>()
                {
                    self.markings.entry(id.to_string()).or_insert(t);
                }
            }
            Some("identity") => {
                if let (Some(id), Some(name)) = (r.id.as_deref(), r.name.as_deref()) {
                    self.identities.insert(id.to_string(), name.to_string());
                }
            }
            _ => {}
        }
        if self.domain.is_none() {
            self.domain = r.x_mitre_domains.first().cloned();
        }
        if let Some(c) = &r.created_by_ref
            && !self.creators.contains(c)
        {
            self.creators.push(c.clone());
        }
    }

    fn source(&self, path: &Path, opts: &Options) -> String {
        let from_file = self
            .domain
            .as_ref()
            .map(|d| format!("MITRE ATT&CK ({d})"))
            .or_else(|| {
                self.creators
                    .iter()
                    .find_map(|c| self.identities.get(c))
                    .cloned()
            });
        prov::source_name(opts, from_file, path)
    }
}

/// One statement of a bundle.
// Short-lived: each is moved into a bundle as soon as it is made.
#[allow(clippy::large_enum_variant)]
enum Stated {
    Object(Object),
    Relation(Relation),
}

impl Stated {
    fn into_bundle(self, b: &mut Bundle) {
        match self {
            Stated::Object(o) => b.objects.push(o),
            Stated::Relation(r) => b.relations.push(r),
        }
    }
}

pub(crate) fn parse(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let trimmed = text.trim_start();
    // A bare array of objects, a bundle, or a single object.
    let raws: Vec<&RawValue> = if trimmed.starts_with('[') {
        serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?
    } else {
        let env: Envelope = serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?;
        match (env.kind.as_deref(), env.objects) {
            (Some("bundle"), Some(objs)) => objs,
            (Some("bundle"), None) => Vec::new(),
            (Some(_), _) => {
                vec![serde_json::from_str(text).map_err(|e| IntakeError::json(path, &e))?]
            }
            (None, _) => {
                return Err(IntakeError::Format {
                    path: path.to_path_buf(),
                    message: "not a STIX bundle or object: no top-level \"type\"".into(),
                });
            }
        }
    };

    let mut parsed = Vec::with_capacity(raws.len());
    let mut learned = Learned::default();
    for (i, raw) in raws.iter().enumerate() {
        let r = check(path, i, raw.get(), &String::new)?;
        learned.learn(&r);
        parsed.push((i, r, *raw));
    }
    let source = learned.source(path, opts);
    let mut bundle = Bundle {
        source: source.clone(),
        ..Bundle::default()
    };
    for (i, r, raw) in parsed {
        convert(path, i, r, raw.get(), &learned.markings, &source, opts)?.into_bundle(&mut bundle);
    }
    Ok(bundle)
}

/// A checked object as Cairn's model states it.
fn convert(
    path: &Path,
    i: usize,
    r: Raw,
    raw: &str,
    markings: &HashMap<String, Tlp>,
    source: &str,
    opts: &Options,
) -> Result<Stated, IntakeError> {
    let kind = r.kind.clone().unwrap_or_default();
    let id = r.id.clone().unwrap_or_default();
    let mut p = prov::base(opts, source);
    p.first_seen = r.first_seen.clone().or_else(|| r.valid_from.clone());
    p.last_seen = r.last_seen.clone().or_else(|| r.x_cairn_last_seen.clone());
    if r.confidence.is_some() {
        p.confidence = r.confidence;
    }
    if let Some(t) = r
        .object_marking_refs
        .iter()
        .filter_map(|m| Tlp::from_marking_ref(m).or_else(|| markings.get(m.as_str()).copied()))
        .max()
    {
        p.tlp = t;
    }
    let attack_ref = r.external_references.iter().find(|e| {
        e.source_name
            .as_deref()
            .is_some_and(|s| ATTACK_SOURCES.contains(&s))
    });
    p.reference = attack_ref
        .and_then(|e| e.url.clone())
        .or_else(|| r.external_references.iter().find_map(|e| e.url.clone()))
        .or(p.reference)
        .or_else(|| Some(id.clone()));

    if kind == "relationship" || kind == "sighting" {
        let rel_type = if kind == "sighting" {
            Some("sighting-of".to_string())
        } else {
            r.relationship_type.clone()
        };
        let src = if kind == "sighting" {
            Some(id.clone())
        } else {
            r.source_ref.clone()
        };
        let tgt = if kind == "sighting" {
            r.sighting_of_ref.clone()
        } else {
            r.target_ref.clone()
        };
        let (Some(rel_type), Some(source_ref), Some(target_ref)) = (rel_type, src, tgt) else {
            return Err(IntakeError::object(
                path,
                format!("object #{} ({id})", i + 1),
                "relationship needs relationship_type, source_ref and target_ref",
            ));
        };
        return Ok(Stated::Relation(Relation {
            id,
            rel_type,
            source_ref,
            target_ref,
            description: r.description,
            revoked: r.revoked,
            deprecated: r.x_mitre_deprecated,
            prov: p,
            raw: raw.to_string(),
        }));
    }

    let mut aliases = r.aliases;
    aliases.extend(r.x_mitre_aliases);
    let external_id = attack_ref
        .and_then(|e| e.external_id.clone())
        .or_else(|| {
            (kind == "vulnerability")
                .then(|| {
                    r.external_references
                        .iter()
                        .find_map(|e| e.external_id.clone())
                })
                .flatten()
        })
        .or_else(|| {
            (kind == "x-mitre-tactic")
                .then(|| r.x_mitre_shortname.clone())
                .flatten()
        });
    let tactics = r
        .kill_chain_phases
        .iter()
        .filter(|k| {
            k.kill_chain_name
                .as_deref()
                .is_some_and(|n| n.starts_with("mitre"))
        })
        .filter_map(|k| k.phase_name.clone())
        .collect();
    let mut labels = r.labels;
    labels.extend(r.indicator_types);
    labels.extend(r.infrastructure_types);
    labels.extend(r.primary_motivation);
    labels.extend(
        r.identity_class
            .filter(|c| c == "class")
            .map(|_| "sector".to_string()),
    );
    let observables = r
        .pattern
        .as_deref()
        .map(pattern::observables_from_pattern)
        .unwrap_or_default();
    Ok(Stated::Object(Object {
        id,
        kind,
        name: r.name,
        aliases,
        description: r.description,
        external_id,
        created: r.created,
        modified: r.modified,
        revoked: r.revoked,
        deprecated: r.x_mitre_deprecated,
        tactics,
        labels,
        country: r.country.map(|c| c.to_ascii_uppercase()),
        sectors: r.sectors,
        valid_until: r.valid_until,
        observables,
        references: r
            .external_references
            .into_iter()
            .filter_map(|e| e.url)
            .collect(),
        prov: p,
        raw: raw.to_string(),
    }))
}

/// Why a walk over a bundle's objects stopped early.
enum Stop {
    /// The callback refused an object (its error is kept by the caller).
    Refused,
    /// The JSON itself is wrong.
    Json(serde_json::Error),
}

/// Counts the lines a reader has given, so an object can be placed in the
/// file. serde_json reads byte by byte from a buffered reader, so at the
/// moment an object is handed over the count is the line of its last byte.
struct Counted<R> {
    inner: R,
    lines: Rc<Cell<usize>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let nl = buf[..n].iter().filter(|b| **b == b'\n').count();
        if nl > 0 {
            self.lines.set(self.lines.get() + nl);
        }
        Ok(n)
    }
}

/// Walks a bundle (or a bare array of objects) read from `reader`, handing
/// each object's JSON to `each` with its index and the line it ends on,
/// without holding more than one object. Returns the top-level `type`
/// (`None` for an array).
fn walk(
    reader: impl Read,
    each: &mut dyn FnMut(usize, Box<RawValue>, usize) -> Result<(), ()>,
) -> Result<Option<String>, Stop> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    struct Walk<'a> {
        each: &'a mut dyn FnMut(usize, Box<RawValue>, usize) -> Result<(), ()>,
        lines: Rc<Cell<usize>>,
        refused: bool,
        kind: Option<String>,
        index: usize,
    }
    struct Objects<'w, 'a>(&'w mut Walk<'a>);
    struct Top<'w, 'a>(&'w mut Walk<'a>);

    impl Walk<'_> {
        fn seq<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
            while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                let line = self.lines.get() + 1;
                let i = self.index;
                self.index += 1;
                if (self.each)(i, raw, line).is_err() {
                    self.refused = true;
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Objects<'_, '_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            // `null` is no objects, as the whole-file reader takes it.
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Objects<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of STIX objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            self.0.seq(seq)
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Top<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a STIX bundle or an array of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            self.0.seq(seq)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "objects" => map.next_value_seed(Objects(&mut *self.0))?,
                    "type" => self.0.kind = map.next_value::<Option<String>>()?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    let lines = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: reader,
        lines: lines.clone(),
    };
    let mut w = Walk {
        each,
        lines,
        refused: false,
        kind: None,
        index: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    let out = Top(&mut w).deserialize(&mut de).and_then(|()| de.end());
    match out {
        Ok(()) => Ok(w.kind),
        Err(_) if w.refused => Err(Stop::Refused),
        Err(e) => Err(Stop::Json(e)),
    }
}

/// A STIX bundle file read in two passes, never whole: the first checks
/// every object and learns what the bundle tells all of them (markings,
/// source name); [`StixStream::batches`] then reads it again, handing the
/// statements over in bundles of bounded size.
pub struct StixStream {
    path: PathBuf,
    opts: Options,
    source: String,
    markings: HashMap<String, Tlp>,
    objects: usize,
}

/// Opens a STIX bundle file (plain or gzip) for [`StixStream::batches`],
/// after a first pass that checks every object: a bad one is an error naming
/// the file, the object's index and id, and the line it ends on. `None` when
/// the file is not a bundle (a single object), which [`crate::parse_bytes`]
/// reads.
pub fn open_stix(path: &Path, opts: &Options) -> Result<Option<StixStream>, IntakeError> {
    let mut learned = Learned::default();
    let mut failed = None;
    let mut objects = 0;
    let reader = crate::stream::open_reader(path)?;
    let kind = walk(reader, &mut |i, raw, line| {
        match check(path, i, raw.get(), &|| format!(", ending at line {line}")) {
            Ok(r) => {
                learned.learn(&r);
                objects += 1;
                // Everything but the marking is checked here, so the second
                // pass only fails if the file changes underneath.
                match convert(path, i, r, "", &HashMap::new(), "", opts) {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        failed = Some(e);
                        Err(())
                    }
                }
            }
            Err(e) => {
                failed = Some(e);
                Err(())
            }
        }
    });
    match kind {
        Ok(None) => {}
        Ok(Some(k)) if k == "bundle" => {}
        Ok(Some(_)) => return Ok(None),
        Err(Stop::Refused) => {
            return Err(failed.unwrap_or_else(|| IntakeError::Format {
                path: path.to_path_buf(),
                message: "reading stopped".into(),
            }));
        }
        Err(Stop::Json(e)) => return Err(IntakeError::json(path, &e)),
    }
    Ok(Some(StixStream {
        path: path.to_path_buf(),
        source: learned.source(path, opts),
        opts: opts.clone(),
        markings: learned.markings,
        objects,
    }))
}

impl StixStream {
    /// The source name its statements are attributed to.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Reads the file again, handing its statements to `sink` in bundles of
    /// at most `size` objects and relationships (in file order). The first
    /// error, the sink's or the file's, ends the reading.
    pub fn batches<E: From<IntakeError>>(
        &self,
        size: usize,
        mut sink: impl FnMut(Bundle) -> Result<(), E>,
    ) -> Result<(), E> {
        let path = self.path.as_path();
        let fresh = || Bundle {
            source: self.source.clone(),
            format: crate::Format::Stix.as_str().to_string(),
            ..Bundle::default()
        };
        let mut batch = fresh();
        let mut failed: Option<E> = None;
        let reader = crate::stream::open_reader(path)?;
        let out = walk(reader, &mut |i, raw, line| {
            let stated = check(path, i, raw.get(), &|| format!(", ending at line {line}"))
                .and_then(|r| {
                    convert(
                        path,
                        i,
                        r,
                        raw.get(),
                        &self.markings,
                        &self.source,
                        &self.opts,
                    )
                });
            match stated {
                Ok(s) => s.into_bundle(&mut batch),
                Err(e) => {
                    failed = Some(e.into());
                    return Err(());
                }
            }
            if batch.objects.len() + batch.relations.len() >= size {
                let full = std::mem::replace(&mut batch, fresh());
                if let Err(e) = sink(full) {
                    failed = Some(e);
                    return Err(());
                }
            }
            Ok(())
        });
        match out {
            Ok(_) => {}
            Err(Stop::Refused) => {
                return Err(failed.unwrap_or_else(|| {
                    IntakeError::Format {
                        path: path.to_path_buf(),
                        message: "reading stopped".into(),
                    }
                    .into()
                }));
            }
            Err(Stop::Json(e)) => return Err(IntakeError::json(path, &e).into()),
        }
        if !batch.objects.is_empty() || !batch.relations.is_empty() {
            sink(batch)?;
        }
        Ok(())
    }

    /// Objects the first pass read.
    pub fn objects(&self) -> usize {
        self.objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = r#"{"type":"bundle","id":"bundle--1","objects":[
      {"type":"intrusion-set","id":"intrusion-set--11111111-1111-4111-8111-111111111111","name":"Earth Lusca",
       "aliases":["Earth Lusca","TAG-22"],"x_mitre_domains":["enterprise-attack"],
       "external_references":[{"source_name":"mitre-attack","external_id":"G1006","url":"https://attack.mitre.org/groups/G1006"}]},
      {"type":"attack-pattern","id":"attack-pattern--22222222-2222-4222-8222-222222222222","name":"PowerShell",
       "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
       "external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}]},
      {"type":"relationship","id":"relationship--33333333-3333-4333-8333-333333333333","relationship_type":"uses",
       "source_ref":"intrusion-set--11111111-1111-4111-8111-111111111111","target_ref":"attack-pattern--22222222-2222-4222-8222-222222222222",
       "object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]},
      {"type":"indicator","id":"indicator--44444444-4444-4444-8444-444444444444","pattern":"[domain-name:value = 'KB.dga.asia']","pattern_type":"stix","valid_from":"2023-05-01T00:00:00Z"}
    ]}"#;

    #[test]
    fn reads_attack_style_bundle() {
        let b = parse(Path::new("t.json"), B, &Options::default()).unwrap();
        assert_eq!(b.source, "MITRE ATT&CK (enterprise-attack)");
        assert_eq!(b.objects.len(), 3);
        assert_eq!(b.relations.len(), 1);
        assert_eq!(b.objects[0].external_id.as_deref(), Some("G1006"));
        assert_eq!(b.objects[1].tactics, vec!["execution"]);
        assert_eq!(b.relations[0].prov.tlp, Tlp::Red);
        assert_eq!(b.objects[2].observables[0].value, "kb.dga.asia");
        assert_eq!(
            b.objects[2].prov.first_seen.as_deref(),
            Some("2023-05-01T00:00:00Z")
        );
    }

    #[test]
    fn truncated_bundle_names_the_place() {
        let err = parse(Path::new("t.json"), &B[..B.len() / 2], &Options::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("t.json: invalid JSON at line"), "{msg}");
    }

    #[test]
    fn bad_object_names_its_index_and_id() {
        let bad = r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"relationship","id":"relationship--1"}]}"#;
        let msg = parse(Path::new("b.json"), bad, &Options::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("object #1 (relationship--1)"), "{msg}");
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(Path::new("d.json"), &deep, &Options::default()).is_err());
    }
}
