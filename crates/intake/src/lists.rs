//! Indicator lists: CSV with a header, and plain one-per-line lists. Both
//! are strict: a value that is not a recognisable indicator is an error
//! naming its line, so a list is taken whole or not at all.

use crate::errors::IntakeError;
use crate::{Options, prov};
use cairn_model::{
    Bundle, IndicatorKind, Object, Observable, Provenance, Relation, deterministic_id,
};
use std::collections::HashMap;
use std::path::Path;

/// Header names that hold the indicator value.
pub(crate) const VALUE_COLUMNS: &[&str] = &[
    "value",
    "indicator",
    "ioc",
    "observable",
    "ioc_value",
    "indicator_value",
    "domain",
    "ip",
    "url",
    "hash",
    "sha256",
];

/// Undoes the defanging styles a single-value line uses (`evil[.]com`,
/// `hxxps[:]//`, `1.2.3[.]4`, `a[@]b.com`). Full-text refanging with
/// positions is the extractor's job; a list line needs only this.
pub(crate) fn refang_token(s: &str) -> String {
    let mut t = s.trim().to_string();
    // Most lines of a large list are plain: no bracket, no escape, no hxxp.
    let defanged = t.bytes().any(|b| matches!(b, b'[' | b'(' | b'{' | b'\\'))
        || matches!(t.as_bytes().first(), Some(b'h' | b'H' | b'f' | b'F'));
    if !defanged {
        return t;
    }
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("[@]", "@"),
        ("(at)", "@"),
        ("[at]", "@"),
        ("\\.", "."),
    ] {
        t = t.replace(from, to);
    }
    let lower = t.to_ascii_lowercase();
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("fxp://", "ftp://"),
    ] {
        if lower.starts_with(from) {
            t = format!("{to}{}", &t[from.len()..]);
        }
    }
    t
}

/// Builds indicator objects and their links to the caller's actor and to
/// malware families, with deterministic ids so re-ingest is idempotent.
pub(crate) struct Linker {
    source: String,
    actor: Option<Object>,
    families: HashMap<String, Object>,
    /// Indicator ids already added (two 64-bit hashes of each): a list of a
    /// million values must not be searched once per value, nor keep every
    /// id's text.
    seen: std::collections::HashSet<(u64, u64)>,
    pub(crate) bundle: Bundle,
}

impl Linker {
    pub(crate) fn new(opts: &Options, source: &str) -> Linker {
        let actor = list_actor(opts, source);
        Linker {
            source: source.to_string(),
            actor,
            families: HashMap::new(),
            seen: std::collections::HashSet::new(),
            bundle: Bundle {
                source: source.to_string(),
                ..Bundle::default()
            },
        }
    }

    /// Adds one indicator; `family` links it (and the actor) to a malware object.
    pub(crate) fn add(
        &mut self,
        obs: Observable,
        original: &str,
        labels: Vec<String>,
        family: Option<&str>,
        description: Option<String>,
        p: Provenance,
    ) {
        let id = deterministic_id("indicator", &[&self.source, obs.kind.as_str(), &obs.value]);
        if !self.seen.insert(id_key(&id)) {
            return;
        }
        let pattern = obs.kind.stix_pattern(&obs.value);
        // STIX wants vocabulary values in `indicator_types`; the roles the
        // list gives (`c2`, `payload`, …) stay in `labels`.
        let mut types: Vec<&str> = Vec::new();
        for t in labels.iter().map(|l| cairn_model::vocab::indicator_type(l)) {
            if !types.contains(&t) {
                types.push(t);
            }
        }
        self.bundle.objects.push(Object {
            raw: serde_json::json!({"type":"indicator","spec_version":"2.1","id":id,"name":original,"pattern":pattern,
                "pattern_type":"stix","indicator_types":types,"labels":labels,"description":description}).to_string(),
            id: id.clone(),
            kind: "indicator".into(),
            name: Some(original.to_string()),
            description,
            labels,
            observables: vec![obs],
            prov: p.clone(),
            ..Object::default()
        });
        if let Some(a) = &self.actor {
            self.bundle.relations.push(rel(&id, "indicates", &a.id, &p));
        }
        if let Some(f) = family {
            let fam_id =
                deterministic_id("malware", &[&self.source, &cairn_model::normalize_name(f)]);
            self.families
                .entry(fam_id.clone())
                .or_insert_with(|| Object {
                    raw:
                        serde_json::json!({"type":"malware","id":fam_id,"name":f,"is_family":true})
                            .to_string(),
                    id: fam_id.clone(),
                    kind: "malware".into(),
                    name: Some(f.to_string()),
                    prov: p.clone(),
                    ..Object::default()
                });
            self.bundle
                .relations
                .push(rel(&id, "indicates", &fam_id, &p));
        }
    }

    pub(crate) fn finish(mut self) -> Bundle {
        if let Some(a) = self.actor.take() {
            let mut fams: Vec<&Object> = self.families.values().collect();
            fams.sort_by(|x, y| x.id.cmp(&y.id));
            for f in fams {
                let r = rel(&a.id, "uses", &f.id, &a.prov);
                self.bundle.relations.push(r);
            }
            self.bundle.objects.push(a);
        }
        let mut fams: Vec<Object> = self.families.into_values().collect();
        fams.sort_by(|x, y| x.id.cmp(&y.id));
        self.bundle.objects.extend(fams);
        self.bundle
    }
}

/// Two independent 64-bit hashes of an id (SipHash under two fixed keys).
fn id_key(id: &str) -> (u64, u64) {
    use std::hash::{Hash, Hasher};
    let mut a = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (0x9e37_79b9_7f4a_7c15u64, id).hash(&mut b);
    (a.finish(), b.finish())
}

/// The actor object a list's values indicate, as a statement of `source`.
pub(crate) fn list_actor(opts: &Options, source: &str) -> Option<Object> {
    opts.actor.as_ref().map(|name| {
        let id = deterministic_id("intrusion-set", &[source, name]);
        Object {
            raw: serde_json::json!({"type":"intrusion-set","id":id,"name":name}).to_string(),
            id,
            kind: "intrusion-set".into(),
            name: Some(name.clone()),
            prov: prov::base(opts, source),
            ..Object::default()
        }
    })
}

fn rel(src: &str, t: &str, tgt: &str, p: &Provenance) -> Relation {
    let id = deterministic_id("relationship", &[src, t, tgt]);
    Relation {
        raw: serde_json::json!({"type":"relationship","spec_version":"2.1","id":id,"relationship_type":t,"source_ref":src,"target_ref":tgt}).to_string(),
        id,
        rel_type: t.into(),
        source_ref: src.into(),
        target_ref: tgt.into(),
        prov: p.clone(),
        ..Relation::default()
    }
}

pub(crate) fn parse_list(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let source = prov::source_name(opts, None, path);
    let mut linker = Linker::new(opts, &source);
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let clean = refang_token(t);
        let Some(kind) = IndicatorKind::detect(&clean) else {
            return Err(IntakeError::object(
                path,
                format!("line {}", i + 1),
                format!("`{}` is not a recognisable indicator", truncate(t)),
            ));
        };
        linker.add(
            Observable::new(kind, &clean),
            t,
            Vec::new(),
            None,
            None,
            prov::base(opts, &source),
        );
    }
    Ok(linker.finish())
}

/// Which column of a CSV holds what: the caller's mapping, else the usual
/// header names.
pub(crate) struct CsvColumns {
    value: usize,
    kind: Option<usize>,
    actor: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    conf: Option<usize>,
    tlp: Option<usize>,
    reference: Option<usize>,
    role: Option<usize>,
    family: Option<usize>,
    desc: Option<usize>,
}

/// Tab-separated when the first line has tabs and no commas.
pub(crate) fn csv_delimiter(first_line: &str) -> u8 {
    if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    }
}

pub(crate) fn csv_reader<R: std::io::Read>(delim: u8, r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(r)
}

impl CsvColumns {
    pub(crate) fn from_header<R: std::io::Read>(
        path: &Path,
        rdr: &mut csv::Reader<R>,
        opts: &Options,
    ) -> Result<CsvColumns, IntakeError> {
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| IntakeError::object(path, "header", e.to_string()))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        // A column the caller names must be there; it replaces the usual names.
        let named = |given: &Option<String>| -> Result<Option<Option<usize>>, IntakeError> {
            let Some(name) = given else { return Ok(None) };
            let want = name.trim().to_ascii_lowercase();
            match headers.iter().position(|h| *h == want) {
                Some(i) => Ok(Some(Some(i))),
                None => Err(IntakeError::object(
                    path,
                    "header",
                    format!(
                        "no column `{name}` (the header has: {})",
                        headers.join(", ")
                    ),
                )),
            }
        };
        let mapped = &opts.columns;
        let value_given = named(&mapped.value)?;
        let kind_given = named(&mapped.kind)?;
        let actor_given = named(&mapped.actor)?;
        let first_given = named(&mapped.first_seen)?;
        let comment_given = named(&mapped.comment)?;
        let Some(value) = value_given.flatten().or_else(|| col(VALUE_COLUMNS)) else {
            return Err(IntakeError::object(
                path,
                "header",
                format!(
                    "no indicator column (expected one of: {})",
                    VALUE_COLUMNS.join(", ")
                ),
            ));
        };
        Ok(CsvColumns {
            value,
            kind: kind_given.unwrap_or_else(|| {
                col(&[
                    "type",
                    "kind",
                    "indicator_type",
                    "ioc_type",
                    "attribute_type",
                ])
            }),
            actor: actor_given.unwrap_or_else(|| {
                col(&[
                    "actor",
                    "threat_actor",
                    "group",
                    "intrusion_set",
                    "adversary",
                ])
            }),
            first: first_given
                .unwrap_or_else(|| col(&["first_seen", "firstseen", "first seen", "valid_from"])),
            last: col(&["last_seen", "lastseen", "last seen"]),
            conf: col(&["confidence"]),
            tlp: col(&["tlp"]),
            reference: col(&["reference", "ref", "link", "report"]),
            role: col(&["role", "tags", "label", "labels"]),
            family: col(&["family", "malware", "malware_family"]),
            desc: comment_given.unwrap_or_else(|| col(&["description", "comment", "notes"])),
        })
    }

    /// Whether a row may say more than its value and kind (an actor, dates,
    /// provenance, roles, a family, a comment): if not, every row says the
    /// same thing and the CSV is a list.
    pub(crate) fn per_row(&self) -> bool {
        [
            self.actor,
            self.first,
            self.last,
            self.conf,
            self.tlp,
            self.reference,
            self.role,
            self.family,
            self.desc,
        ]
        .iter()
        .any(Option::is_some)
    }

    fn get<'r>(&self, rec: &'r csv::StringRecord, c: Option<usize>) -> Option<&'r str> {
        c.and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A row's value: the observable and the value as written; `None` for a
    /// row with no value.
    pub(crate) fn value<'r>(
        &self,
        path: &Path,
        place: &dyn Fn() -> String,
        rec: &'r csv::StringRecord,
    ) -> Result<Option<(Observable, &'r str)>, IntakeError> {
        let Some(raw_value) = self.get(rec, Some(self.value)) else {
            return Ok(None);
        };
        let clean = refang_token(raw_value);
        let kind = match self.get(rec, self.kind) {
            Some(t) => t
                .parse::<IndicatorKind>()
                .map_err(|e| IntakeError::object(path, place(), e))?,
            None => IndicatorKind::detect(&clean).ok_or_else(|| {
                IntakeError::object(
                    path,
                    place(),
                    format!("`{}` is not a recognisable indicator", truncate(raw_value)),
                )
            })?,
        };
        Ok(Some((Observable::new(kind, &clean), raw_value)))
    }
}

/// Statements of a CSV built row by row: one linker per actor, drained into
/// batches as they fill.
pub(crate) struct CsvBuilder<'o> {
    opts: &'o Options,
    source: String,
    cols: CsvColumns,
    linkers: Vec<(Option<String>, Linker)>,
    pending: usize,
}

impl<'o> CsvBuilder<'o> {
    pub(crate) fn new(opts: &'o Options, source: String, cols: CsvColumns) -> CsvBuilder<'o> {
        CsvBuilder {
            opts,
            source,
            cols,
            linkers: Vec::new(),
            pending: 0,
        }
    }

    /// Adds row `i` (from 0, after the header).
    pub(crate) fn row(
        &mut self,
        path: &Path,
        i: usize,
        rec: &csv::StringRecord,
    ) -> Result<(), IntakeError> {
        let place = || format!("line {}", i + 2);
        let cols = &self.cols;
        let Some((obs, raw_value)) = cols.value(path, &place, rec)? else {
            return Ok(());
        };
        let opts = self.opts;
        let mut p = prov::base(opts, &self.source);
        p.first_seen = cols.get(rec, cols.first).map(str::to_string);
        p.last_seen = cols.get(rec, cols.last).map(str::to_string);
        if let Some(c) = cols.get(rec, cols.conf) {
            p.confidence = Some(c.parse::<u8>().ok().filter(|c| *c <= 100).ok_or_else(|| {
                IntakeError::object(path, place(), format!("confidence `{c}` is not 0–100"))
            })?);
        }
        if let Some(t) = cols.get(rec, cols.tlp) {
            p.tlp = t
                .parse()
                .map_err(|e: String| IntakeError::object(path, place(), e))?;
        }
        if let Some(r) = cols.get(rec, cols.reference) {
            p.reference = Some(r.to_string());
        }
        let actor = cols
            .get(rec, cols.actor)
            .map(str::to_string)
            .or_else(|| opts.actor.clone());
        let idx = match self.linkers.iter().position(|(a, _)| *a == actor) {
            Some(i) => i,
            None => {
                let o = Options {
                    actor: actor.clone(),
                    ..opts.clone()
                };
                self.linkers.push((actor, Linker::new(&o, &self.source)));
                self.linkers.len() - 1
            }
        };
        let labels = cols
            .get(rec, cols.role)
            .map(|r| {
                r.split([';', '|'])
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let family = cols.get(rec, cols.family);
        let desc = cols.get(rec, cols.desc).map(str::to_string);
        let linker = &mut self.linkers[idx].1;
        let before = linker.bundle.objects.len() + linker.bundle.relations.len();
        linker.add(obs, raw_value, labels, family, desc, p);
        self.pending += linker.bundle.objects.len() + linker.bundle.relations.len() - before;
        Ok(())
    }

    /// Statements added since the last drain.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Takes the indicators and relationships added so far (the actors and
    /// families come at the end, once all their links are known).
    pub(crate) fn drain(&mut self) -> Bundle {
        let mut out = Bundle {
            source: self.source.clone(),
            ..Bundle::default()
        };
        for (_, l) in &mut self.linkers {
            out.objects.append(&mut l.bundle.objects);
            out.relations.append(&mut l.bundle.relations);
        }
        self.pending = 0;
        out
    }

    /// The rest: everything not drained, with the actors and families.
    pub(crate) fn finish(self) -> Bundle {
        let mut out = Bundle {
            source: self.source.clone(),
            ..Bundle::default()
        };
        for (_, l) in self.linkers {
            let b = l.finish();
            out.objects.extend(b.objects);
            out.relations.extend(b.relations);
        }
        out
    }
}

pub(crate) fn parse_csv(path: &Path, text: &str, opts: &Options) -> Result<Bundle, IntakeError> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut rdr = csv_reader(csv_delimiter(first), text.as_bytes());
    let cols = CsvColumns::from_header(path, &mut rdr, opts)?;
    let source = prov::source_name(opts, None, path);
    let mut b = CsvBuilder::new(opts, source, cols);
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.map_err(|e| IntakeError::object(path, format!("line {}", i + 2), e.to_string()))?;
        b.row(path, i, &rec)?;
    }
    Ok(b.finish())
}

pub(crate) fn truncate(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refangs_list_tokens() {
        assert_eq!(refang_token("kb.dga[.]asia "), "kb.dga.asia");
        assert_eq!(refang_token("hxxps[:]//evil[.]com/x"), "https://evil.com/x");
        assert_eq!(refang_token("1.2.3[.]4"), "1.2.3.4");
        assert_eq!(refang_token("a[@]b(.)com"), "a@b.com");
    }

    #[test]
    fn list_links_to_actor_and_rejects_junk_with_line() {
        let opts = Options {
            actor: Some("RedHotel".into()),
            source: Some("s".into()),
            ..Options::default()
        };
        let b = parse_list(
            Path::new("l.txt"),
            "# c\nkb.dga[.]asia\n\n45.77.153[.]197\n",
            &opts,
        )
        .unwrap();
        assert_eq!(b.indicator_count(), 2);
        assert_eq!(b.relations.len(), 2);
        let err = parse_list(Path::new("l.txt"), "evil.com\nnot an ioc\n", &opts).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn csv_columns_named_by_the_caller() {
        let csv = "ioc_id,ioc_value,malware_printable,first_seen_utc,note\n\
                   1,kb.dga[.]asia,ShadowPad,2023-05-01,seen twice\n";
        let opts = Options {
            columns: crate::Columns {
                value: Some("ioc_value".into()),
                actor: Some("Malware_Printable".into()),
                first_seen: Some("first_seen_utc".into()),
                comment: Some("note".into()),
                ..crate::Columns::default()
            },
            ..Options::default()
        };
        let b = parse_csv(Path::new("c.csv"), csv, &opts).unwrap();
        let ind = b.objects.iter().find(|o| o.kind == "indicator").unwrap();
        assert_eq!(ind.name.as_deref(), Some("kb.dga[.]asia"));
        assert_eq!(ind.prov.first_seen.as_deref(), Some("2023-05-01"));
        assert_eq!(ind.description.as_deref(), Some("seen twice"));
        assert!(
            b.objects
                .iter()
                .any(|o| o.name.as_deref() == Some("ShadowPad"))
        );
        let missing = Options {
            columns: crate::Columns {
                value: Some("nope".into()),
                ..crate::Columns::default()
            },
            ..Options::default()
        };
        let err = parse_csv(Path::new("c.csv"), csv, &missing).unwrap_err();
        assert!(err.to_string().contains("no column `nope`"), "{err}");
    }

    #[test]
    fn csv_with_types_actors_and_provenance() {
        let csv = "indicator,type,actor,first_seen,confidence,tlp,family\n\
                   kb.dga[.]asia,domain,RedHotel,2023-05-01,80,amber,Cobalt Strike\n\
                   1.2.3.4,,APT41,,,,\n";
        let b = parse_csv(Path::new("c.csv"), csv, &Options::default()).unwrap();
        assert_eq!(b.indicator_count(), 2);
        let d = b
            .objects
            .iter()
            .find(|o| o.name.as_deref() == Some("kb.dga[.]asia"))
            .unwrap();
        assert_eq!(d.prov.confidence, Some(80));
        assert_eq!(d.prov.tlp, cairn_model::Tlp::Amber);
        assert_eq!(
            b.objects
                .iter()
                .filter(|o| o.kind == "intrusion-set")
                .count(),
            2
        );
        assert!(b.objects.iter().any(|o| o.kind == "malware"));
        let bad = parse_csv(
            Path::new("c.csv"),
            "value,confidence\nevil.com,300\n",
            &Options::default(),
        );
        assert!(bad.unwrap_err().to_string().contains("line 2"));
    }
}
