//! `cairn ingest`: check every file first, then store each in its own
//! transaction, in order. A file that fails to parse stops the command before
//! anything is written. Files too large to hold (STIX bundles, CSV) are not
//! read whole: they are checked in a first pass (a STIX bundle always, since
//! its markings and source name come from the whole bundle; a CSV or list
//! only when other files share the command) and stored in batches as they
//! are read again, in one transaction.

use crate::Global;
use crate::output::{json_line, table};
use anyhow::Context;
use cairn_intake::{Format, Options};
use cairn_model::Tlp;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The starter pack: public facts about RedHotel, built by starter/build.py.
const STARTER: &[(&str, &str, &str)] = &[
    (
        "starter/redhotel-insikt-2023.json",
        "Insikt Group: RedHotel report (2023-08)",
        include_str!("../../../../starter/redhotel-insikt-2023.json"),
    ),
    (
        "starter/tag22-insikt-2021.json",
        "Insikt Group: TAG-22 report (2021-06)",
        include_str!("../../../../starter/tag22-insikt-2021.json"),
    ),
];

/// MITRE ATT&CK, unchanged but zstd-compressed (terms of use in
/// starter/attack/LICENSE-ATTACK.txt), so attribution works on a machine that
/// has only the clone. Ingested with the default options, so loading the same
/// published file later is recognised as unchanged.
const STARTER_ATTACK: &[(&str, &[u8])] = &[
    (
        "starter/enterprise-attack-18.1.json",
        include_bytes!("../../../../starter/attack/enterprise-attack-18.1.json.zst"),
    ),
    (
        "starter/ics-attack-18.1.json",
        include_bytes!("../../../../starter/attack/ics-attack-18.1.json.zst"),
    ),
];

/// Arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Files to load (`-` for stdin). Format is detected from content.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Force a format: auto, stix, misp-galaxy, misp-event, misp-warninglist, csv, list, text,
    /// asn-table, whois, rdap (one domain per file; the files of one `--source` are one version).
    #[arg(long, default_value = "auto")]
    format: Format,
    /// Source name every statement is attributed to (default: from the file).
    #[arg(long)]
    source: Option<String>,
    /// Actor the file's indicators belong to (lists, CSV, reports). `auto`
    /// (reports only): the group the report names, else the best candidate
    /// inferred from its techniques, software, victims and indicators, with
    /// the confidence of that inference.
    #[arg(long)]
    actor: Option<String>,
    /// TLP marking for statements that carry none (clear, green, amber, amber+strict, red).
    #[arg(long)]
    tlp: Option<Tlp>,
    /// Confidence 0–100 for statements that carry none.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    confidence: Option<u8>,
    /// Reference URL for statements that carry none.
    #[arg(long)]
    reference: Option<String>,
    /// Keep indicators of benign infrastructure found in reports.
    #[arg(long)]
    keep_benign: bool,
    /// Also load Cairn's bundled starter pack: MITRE ATT&CK Enterprise and ICS, and
    /// RedHotel's indicators from Insikt Group's public reporting.
    #[arg(long)]
    starter: bool,
    /// The date an address → AS table describes (YYYY-MM-DD): routing changes,
    /// so every answer from the table carries it.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// One JSON object per file.
    #[arg(long)]
    json: bool,
}

struct Input {
    name: String,
    bytes: Vec<u8>,
    /// A file read as it is stored, never whole: a list (`--format list`),
    /// or a large STIX bundle or CSV (the format it was detected as).
    stream: Option<(PathBuf, Format)>,
}

/// Statements per batch of a streamed STIX bundle or CSV: memory is bounded
/// by a batch, not by the file.
const BATCH: usize = 5_000;

/// Files whose content is larger than this are streamed when their format
/// allows it (STIX bundles, CSV); smaller ones are read whole.
const STREAM_ABOVE: usize = 4 << 20;

/// What the parse pass found for one input.
enum Parsed {
    /// Stored before from exactly this input: (source, format).
    Unchanged(String, String),
    Bundle(cairn_model::Bundle),
    /// A list, stored in compact form as it is read.
    List,
    /// An address → AS table, stored range by range.
    AsnTable,
    /// A CSV whose rows say only a value and its kind: a list.
    CsvList,
    /// A CSV with per-row columns, stored in batches as it is read.
    CsvRows,
    /// A STIX bundle, checked whole, stored in batches as it is read again.
    Stix(cairn_intake::StixStream),
}

fn fingerprint(bytes: &[u8], opts: &Options) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    finish_fingerprint(h, opts)
}

fn finish_fingerprint(mut h: Sha256, opts: &Options) -> String {
    // The options shape what is stored, so they are part of the identity.
    h.update(
        format!(
            "\0{}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\0{}",
            opts.format.as_str(),
            opts.source,
            opts.actor,
            opts.tlp,
            opts.confidence,
            opts.reference,
            opts.keep_benign
        )
        .as_bytes(),
    );
    format!("{:x}", h.finalize())
}

/// A list input's values, read from its file or from the bytes in memory.
fn list_lines(
    input: &Input,
) -> anyhow::Result<
    Box<
        dyn Iterator<Item = Result<cairn_intake::ListLine, cairn_intake::errors::IntakeError>> + '_,
    >,
> {
    Ok(match &input.stream {
        Some((p, _)) => Box::new(cairn_intake::open_list(p)?),
        None => Box::new(cairn_intake::list_lines(
            Path::new(&input.name),
            &input.bytes[..],
        )),
    })
}

/// An address → AS table's ranges, read from its file or from memory.
fn asn_rows(
    input: &Input,
) -> anyhow::Result<
    Box<dyn Iterator<Item = Result<cairn_model::AsnRange, cairn_intake::errors::IntakeError>> + '_>,
> {
    Ok(match &input.stream {
        Some((p, _)) => Box::new(cairn_intake::open_asn_table(p)?),
        None => Box::new(cairn_intake::asn_rows(
            Path::new(&input.name),
            &input.bytes[..],
        )),
    })
}

/// A list's values, or a list-like CSV's, as they are read.
type Values<'a> = Box<
    dyn Iterator<Item = Result<cairn_intake::ListLine, cairn_intake::errors::IntakeError>> + 'a,
>;

/// A CSV input's values when its rows say nothing but a value and kind.
fn csv_values<'a>(input: &'a Input, o: &Options) -> anyhow::Result<Option<Values<'a>>> {
    let name = Path::new(&input.name);
    Ok(match &input.stream {
        Some((p, _)) => cairn_intake::csv_values(name, cairn_intake::open_reader(p)?, o)?
            .map(|v| Box::new(v) as Box<dyn Iterator<Item = _>>),
        None => cairn_intake::csv_values(name, &input.bytes[..], o)?
            .map(|v| Box::new(v) as Box<dyn Iterator<Item = _>>),
    })
}

/// A streamed CSV input's statements, in batches.
fn csv_rows(
    input: &Input,
    o: &Options,
    sink: impl FnMut(cairn_model::Bundle) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some((p, _)) = &input.stream else {
        anyhow::bail!("{}: not a streamed file", input.name);
    };
    cairn_intake::csv_batches(
        Path::new(&input.name),
        cairn_intake::open_reader(p)?,
        o,
        BATCH,
        sink,
    )
}

/// Stdin, read once. When it holds observations or registration records it
/// is spooled to a file named `<stdin>` that takes `-`'s place, so it goes
/// their way; otherwise its bytes are kept for the bundle path.
struct Stdin {
    /// The paths, `-` replaced when spooled.
    paths: Vec<PathBuf>,
    /// What stdin held, when not spooled.
    bytes: Option<Vec<u8>>,
    /// Keeps the spooled file until the command ends.
    _spool: Option<tempfile::TempDir>,
}

impl Stdin {
    fn read(paths: &[PathBuf], opts: &Options) -> anyhow::Result<Stdin> {
        let mut out = Stdin {
            paths: paths.to_vec(),
            bytes: None,
            _spool: None,
        };
        let Some(i) = paths.iter().position(|p| p.as_os_str() == "-") else {
            return Ok(out);
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .context("reading stdin")?;
        let spool = tempfile::tempdir().context("making a scratch folder")?;
        let file = spool.path().join("<stdin>");
        std::fs::write(&file, &bytes).context("spooling stdin")?;
        let head = &bytes[..bytes.len().min(64 * 1024)];
        let routed = match opts.format {
            Format::Auto => {
                cairn_intake::observation_format(&file).is_some()
                    || matches!(
                        cairn_intake::detect_format(&file, head),
                        Format::Whois | Format::Rdap
                    )
            }
            f => matches!(f, Format::Whois | Format::Rdap),
        };
        if routed {
            out.paths[i] = file;
        } else {
            out.bytes = Some(bytes);
        }
        out._spool = Some(spool);
        Ok(out)
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if args.paths.is_empty() && !args.starter {
        anyhow::bail!("nothing to ingest: give files, `-` for stdin, or --starter");
    }
    let opts = Options {
        format: args.format,
        source: args.source.clone(),
        actor: args.actor.clone(),
        tlp: args.tlp,
        confidence: args.confidence,
        reference: args.reference.clone(),
        keep_benign: args.keep_benign,
        benign: None,
        columns: Default::default(),
    };
    let mut inputs: Vec<(Input, Options)> = Vec::new();
    if args.starter {
        for (name, source, text) in STARTER {
            let o = Options {
                format: Format::Stix,
                source: Some(source.to_string()),
                ..Options::default()
            };
            inputs.push((
                Input {
                    name: name.to_string(),
                    bytes: text.as_bytes().to_vec(),
                    stream: None,
                },
                o,
            ));
        }
        for (name, packed) in STARTER_ATTACK {
            let bytes = zstd::decode_all(*packed)
                .with_context(|| format!("{name}: the bundled copy is damaged"))?;
            inputs.push((
                Input {
                    name: name.to_string(),
                    bytes,
                    stream: None,
                },
                Options::default(),
            ));
        }
    }
    let stdin = Stdin::read(&args.paths, &opts)?;
    let all_paths = stdin.paths;
    let mut stdin_bytes = stdin.bytes;
    // Observation logs (Zeek dns/ssl/x509/conn, COF) go their own way: observe.rs.
    let (obs_files, paths) = super::observe::split(&all_paths, &opts);
    // So do registration records (WHOIS, RDAP): registration.rs.
    let (reg_files, paths) = super::registration::split(&paths, &opts)?;
    for p in &paths {
        let input = if p.as_os_str() == "-" {
            Input {
                name: "<stdin>".into(),
                bytes: stdin_bytes.take().unwrap_or_default(),
                stream: None,
            }
        } else if p.is_dir() {
            // A folder is a rule collection (SigmaHQ's `rules/`): one input,
            // stored in one transaction like a file.
            Input {
                name: p.display().to_string(),
                bytes: cairn_intake::pack_sigma_dir(p)?,
                stream: None,
            }
        } else if opts.format == Format::List {
            Input {
                name: p.display().to_string(),
                bytes: Vec::new(),
                stream: Some((p.clone(), Format::List)),
            }
        } else {
            let (head, whole) = cairn_intake::read_head(p, STREAM_ABOVE)?;
            let format = match opts.format {
                Format::Auto => cairn_intake::detect_format(p, &head),
                f => f,
            };
            if whole || !matches!(format, Format::Stix | Format::Csv | Format::AsnTable) {
                Input {
                    name: p.display().to_string(),
                    bytes: cairn_intake::read(p)?,
                    stream: None,
                }
            } else {
                Input {
                    name: p.display().to_string(),
                    bytes: Vec::new(),
                    stream: Some((p.clone(), format)),
                }
            }
        };
        inputs.push((input, opts.clone()));
    }

    let mut db = Db::open(global)?;
    if let Db::Postgres(_) = db
        && (!obs_files.is_empty() || !reg_files.is_empty())
    {
        db.embedded("observation logs and registration records")?;
    }
    let benign = crate::benign::from_store(db.kb())?;
    for (_, o) in inputs.iter_mut() {
        o.benign = benign.clone();
    }
    if inputs
        .iter()
        .any(|(_, o)| cairn_engine::is_auto_actor(o.actor.as_deref()))
    {
        resolve_auto_actor(db.embedded("--actor auto")?, &mut inputs)?;
    }
    let postgres = matches!(db, Db::Postgres(_));
    let bar = crate::output::spinner(global, "parsing");
    let several = inputs.len() > 1;
    let mut parsed = Vec::new();
    for (input, o) in &inputs {
        bar.set_message(format!("parsing {}", input.name));
        let path = Path::new(&input.name);
        let fp = match &input.stream {
            Some((p, _)) => {
                let mut h = Sha256::new();
                cairn_intake::digest_list(p, |b| h.update(b))?;
                finish_fingerprint(h, o)
            }
            None => fingerprint(&input.bytes, o),
        };
        if let Some((source, format)) = db.kb().source_with_fingerprint(&fp)? {
            parsed.push((input.name.clone(), fp, Parsed::Unchanged(source, format)));
            continue;
        }
        let format = match (&input.stream, o.format) {
            (Some((_, f)), _) => *f,
            (None, Format::Auto) => cairn_intake::detect_format(path, &input.bytes),
            (None, f) => f,
        };
        let p = match format {
            Format::List => {
                // Lists are read while they are stored; with other files in
                // the command, a bad line must still stop it before any write.
                if several {
                    for line in list_lines(input)? {
                        line?;
                    }
                }
                Parsed::List
            }
            Format::Csv => {
                let list = csv_values(input, o)?;
                match list {
                    Some(values) => {
                        if several {
                            for v in values {
                                v?;
                            }
                        }
                        Parsed::CsvList
                    }
                    // PostgreSQL takes the file as one bundle.
                    None if input.stream.is_some() && postgres => {
                        Parsed::Bundle(cairn_intake::parse_path(path, o)?)
                    }
                    None if input.stream.is_some() => {
                        if several {
                            csv_rows(input, o, |_| Ok::<_, anyhow::Error>(()))?;
                        }
                        Parsed::CsvRows
                    }
                    None => Parsed::Bundle(cairn_intake::parse_bytes(path, &input.bytes, o)?),
                }
            }
            Format::AsnTable => {
                if several {
                    for row in asn_rows(input)? {
                        row?;
                    }
                }
                Parsed::AsnTable
            }
            Format::Stix if input.stream.is_some() && postgres => {
                Parsed::Bundle(cairn_intake::parse_path(path, o)?)
            }
            Format::Stix if input.stream.is_some() => {
                // The first pass checks every object: nothing is written
                // from a bad bundle, whether it is alone or not.
                match cairn_intake::open_stix(path, o)? {
                    Some(s) => Parsed::Stix(s),
                    None => Parsed::Bundle(cairn_intake::parse_path(path, o)?),
                }
            }
            _ => Parsed::Bundle(cairn_intake::parse_bytes(path, &input.bytes, o)?),
        };
        // A table's date is part of what is stored.
        let fp = match p {
            Parsed::AsnTable => format!("{fp}\0{:?}", args.as_of),
            _ => fp,
        };
        parsed.push((input.name.clone(), fp, p));
    }
    bar.set_message("parsing observations");
    let (observed, registered) = match &mut db {
        Db::Embedded(store) => (
            super::observe::parse(store, &obs_files, &opts)?,
            super::registration::parse(store, &reg_files, &opts)?,
        ),
        Db::Postgres(_) => Default::default(),
    };
    let mut rows = Vec::new();
    for ((name, fp, b), (input, o)) in parsed.into_iter().zip(&inputs) {
        let list_format = match &b {
            Parsed::List => Format::List,
            _ => Format::Csv,
        };
        let report = match b {
            Parsed::Unchanged(source, format) => serde_json::json!({
                "file": name, "format": format, "source": source, "status": "unchanged",
            }),
            Parsed::Bundle(bundle) => {
                bar.set_message(format!("storing {name}"));
                for w in &bundle.warnings {
                    bar.suspend(|| eprintln!("cairn: warning: {name}: {w}"));
                }
                let r = db
                    .kb()
                    .ingest(&bundle, Some(&name), Some(&fp))
                    .with_context(|| format!("{name}: storing failed; the store is unchanged"))?;
                let mut v = serde_json::to_value(&r)?;
                v["file"] = name.clone().into();
                v
            }
            Parsed::AsnTable => {
                bar.set_message(format!("storing {name}"));
                let info = cairn_intake::list_info(Path::new(&name), o);
                let head = cairn_kb::AsnHead {
                    source: info.source,
                    format: Format::AsnTable.as_str().to_string(),
                    as_of: args.as_of.clone(),
                    reference: info.prov.reference,
                    tlp: info.prov.tlp,
                };
                let rows = asn_rows(input)?.map(|r| r.map_err(anyhow::Error::from));
                let r = db
                    .embedded("AS tables")?
                    .ingest_asn_table::<anyhow::Error, _>(&head, rows, Some(&name), Some(&fp))
                    .with_context(|| format!("{name}: storing failed; the store is unchanged"))?;
                let mut v = serde_json::to_value(&r)?;
                v["file"] = name.clone().into();
                v
            }
            Parsed::List | Parsed::CsvList => {
                bar.set_message(format!("storing {name}"));
                let info = cairn_intake::list_info(Path::new(&name), o);
                let format = list_format;
                let head = cairn_kb::ListHead {
                    prov: info.prov,
                    source: info.source,
                    format: format.as_str().to_string(),
                    actor: info.actor,
                    labels: Vec::new(),
                };
                let values: Box<dyn Iterator<Item = _>> = if format == Format::List {
                    list_lines(input)?
                } else {
                    csv_values(input, o)?.context("the CSV's columns changed while it was read")?
                };
                // A bad line's error, with its place, becomes the store's.
                let mut values = values.map(|l| {
                    let l = l.map_err(|e| cairn_kb::errors::KbError::Invalid(format!("{e:#}")))?;
                    Ok(cairn_kb::ListValue::new(
                        l.observable.kind,
                        l.observable.value,
                        l.written,
                    ))
                });
                let r = db
                    .kb()
                    .ingest_list(&head, &mut values, Some(&name), Some(&fp))
                    .with_context(|| format!("{name}: storing failed; the store is unchanged"))?;
                let mut v = serde_json::to_value(&r)?;
                v["file"] = name.clone().into();
                v
            }
            Parsed::CsvRows => {
                bar.set_message(format!("storing {name}"));
                let source = cairn_intake::list_info(Path::new(&name), o).source;
                let r = db
                    .embedded("streamed files")?
                    .ingest_stream::<anyhow::Error>(
                        &source,
                        Format::Csv.as_str(),
                        Some(&name),
                        Some(&fp),
                        |w| csv_rows(input, o, |b| Ok(w.write(&b.objects, &b.relations)?)),
                    )
                    .with_context(|| format!("{name}: storing failed; the store is unchanged"))?;
                let mut v = serde_json::to_value(&r)?;
                v["file"] = name.clone().into();
                v
            }
            Parsed::Stix(stix) => {
                bar.set_message(format!("storing {name}"));
                let r = db
                    .embedded("streamed files")?
                    .ingest_stream::<anyhow::Error>(
                        stix.source(),
                        Format::Stix.as_str(),
                        Some(&name),
                        Some(&fp),
                        |w| stix.batches(BATCH, |b| Ok(w.write(&b.objects, &b.relations)?)),
                    )
                    .with_context(|| format!("{name}: storing failed; the store is unchanged"))?;
                let mut v = serde_json::to_value(&r)?;
                v["file"] = name.clone().into();
                v
            }
        };
        rows.push(report);
    }
    if let Db::Embedded(store) = &mut db {
        rows.extend(super::observe::store(store, observed, &opts)?);
        rows.extend(super::registration::store(store, registered, &opts)?);
    }
    bar.finish_and_clear();
    if args.json {
        for r in &rows {
            json_line(r)?;
        }
    } else {
        let cell = |v: &serde_json::Value, k: &str| match &v[k] {
            serde_json::Value::Null => "-".to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                [
                    "file",
                    "format",
                    "source",
                    "status",
                    "objects",
                    "relationships",
                    "indicators",
                    "added",
                    "changed",
                    "withdrawn",
                ]
                .iter()
                .map(|k| cell(r, k))
                .collect()
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "FILE",
                    "FORMAT",
                    "SOURCE",
                    "STATUS",
                    "OBJECTS",
                    "RELS",
                    "INDICATORS",
                    "ADDED",
                    "CHANGED",
                    "WITHDRAWN"
                ],
                &body
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The store an ingest writes to.
enum Db {
    Embedded(cairn_kb::Store),
    Postgres(cairn_pg::PgStore),
}

impl Db {
    fn open(global: &Global) -> anyhow::Result<Db> {
        Ok(match crate::postgres_url(global) {
            Some(url) => Db::Postgres(cairn_pg::PgStore::connect(&url)?),
            None => Db::Embedded(crate::open_store(global)?),
        })
    }

    fn kb(&mut self) -> &mut dyn cairn_kb::KnowledgeBase {
        match self {
            Db::Embedded(s) => s,
            Db::Postgres(s) => s,
        }
    }

    /// The embedded store, for what PostgreSQL does not store yet.
    fn embedded(&mut self, what: &str) -> anyhow::Result<&mut cairn_kb::Store> {
        match self {
            Db::Embedded(s) => Ok(s),
            Db::Postgres(s) => anyhow::bail!(
                "{}: {what} are not stored on PostgreSQL yet (there: {})",
                s.url(),
                crate::ON_POSTGRES
            ),
        }
    }
}

/// `--actor auto`: each report input gets the group it names, or the best
/// inferred candidate (its confidence becomes the statements' unless
/// `--confidence` was given). Models are built once, on first need.
fn resolve_auto_actor(
    store: &cairn_kb::Store,
    inputs: &mut [(Input, Options)],
) -> anyhow::Result<()> {
    let mut models = None;
    for (input, o) in inputs.iter_mut() {
        if !cairn_engine::is_auto_actor(o.actor.as_deref()) {
            continue;
        }
        let path = Path::new(&input.name);
        let format = match o.format {
            Format::Auto => cairn_intake::detect_format(path, &input.bytes),
            f => f,
        };
        if input.stream.is_some() || format != Format::Text {
            anyhow::bail!(
                "{}: --actor auto reads reports (text, Markdown, HTML, PDF); this file is {format:?}",
                input.name
            );
        }
        if models.is_none() {
            models = Some(cairn_engine::report_models(store)?);
        }
        let Some(m) = models.as_ref() else { continue };
        let doc = cairn_extract::Document::from_bytes(&input.name, &input.bytes)?;
        let extractor = cairn_extract::Extractor::new(cairn_extract::Options {
            benign: o.benign.clone(),
            ..cairn_extract::Options::default()
        });
        let Some(choice) = cairn_engine::actor_choice(m, &extractor, &doc) else {
            anyhow::bail!(
                "{}: --actor auto: the report names no known group and nothing in it points to one; give --actor NAME",
                input.name
            );
        };
        eprintln!(
            "cairn: {}: actor {} — {}",
            input.name, choice.name, choice.how
        );
        o.actor = Some(choice.name);
        if o.confidence.is_none() {
            o.confidence = Some(choice.confidence);
        }
    }
    Ok(())
}
