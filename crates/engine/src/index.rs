//! The hunt index a store (or a list file) compiles to, and its on-disk
//! cache.
//!
//! A store's index is cached beside the store file and keyed by the
//! store's random id and its generation: generations restart at 0 in every
//! new store, and index keys are row ids, so a cache keyed by generation
//! alone let a store re-created at the same path reuse another store's
//! index — and name the wrong group for a hit. A cache whose key differs is
//! never used.

use crate::errors::EngineError;
use crate::warninglists::store_warninglists;
use cairn_hunt::{Index, IndexBuilder};
use cairn_kb::KnowledgeBase;
use cairn_model::{IndicatorKind, Observable};
use cairn_warninglist::WarningLists;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the indicators to hunt come from.
#[derive(Clone, Copy)]
pub enum IndicatorSource<'a> {
    /// The store's indicators (read with full clearance: what a caller may
    /// see is decided per hit, when its context is read).
    Store(&'a dyn KnowledgeBase),
    /// A list file: one value per line, `#` comments, defanged values accepted.
    List(&'a Path),
}

/// How to build an index.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Also hunt inactive indicators (revoked, withdrawn, past `valid_until`).
    pub include_inactive: bool,
    /// Leave out indicators on warninglists (built-in and the store's).
    pub warninglists: bool,
    /// Read and write the on-disk cache.
    pub cache: bool,
    /// Where a list's index is cached, and a database store's (a file
    /// store's sits beside the file).
    pub list_cache_dir: Option<PathBuf>,
}

impl Default for IndexOptions {
    fn default() -> IndexOptions {
        IndexOptions {
            include_inactive: false,
            warninglists: true,
            cache: true,
            list_cache_dir: None,
        }
    }
}

/// A compiled index and how it was had.
pub struct HuntIndex {
    /// The index.
    pub index: Index,
    /// Whether it came from the cache.
    pub cached: bool,
    /// Time to load or build it.
    pub elapsed: Duration,
    /// The store generation it was built from (`None` for a list).
    pub generation: Option<i64>,
    /// Things worth telling the user that did not stop the build (a
    /// warninglist that does not parse, a damaged cache rebuilt, a cache
    /// that could not be written).
    pub warnings: Vec<String>,
}

/// What an index's cache is keyed by, and where it lives.
struct CacheKey {
    tag: String,
    path: Option<PathBuf>,
}

fn cache_key(src: IndicatorSource<'_>, opts: &IndexOptions) -> Result<CacheKey, EngineError> {
    // The engine's version is part of the key: built-in warninglists and
    // normalisation rules change with releases.
    let version = env!("CARGO_PKG_VERSION");
    Ok(match src {
        IndicatorSource::Store(store) => {
            let id = store.store_id()?;
            let tag = format!(
                "cairn-engine {version};store={id};gen={};all={};wl={}",
                store.generation()?,
                opts.include_inactive,
                opts.warninglists
            );
            let suffix = format!(
                "{}{}",
                if opts.include_inactive { "-all" } else { "" },
                if opts.warninglists { "" } else { "-nowl" }
            );
            let path = match store.path() {
                Some(p) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "cairn.db".into());
                    Some(p.with_file_name(format!("{name}.hunt{suffix}.idx")))
                }
                // A database store (PostgreSQL): cached per store id in the
                // user's cache; the tag's generation keeps it current.
                None if store.persistent() => opts
                    .list_cache_dir
                    .as_ref()
                    .map(|d| d.join(format!("store-{id}.hunt{suffix}.idx"))),
                None => None,
            };
            CacheKey { tag, path }
        }
        IndicatorSource::List(path) => {
            let io = |source| EngineError::Io {
                path: path.to_path_buf(),
                source,
            };
            let meta = std::fs::metadata(path).map_err(io)?;
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let tag = format!(
                "cairn-engine {version};list;{};len={};mtime={mtime};wl={}",
                abs.display(),
                meta.len(),
                opts.warninglists
            );
            let mut h = std::hash::DefaultHasher::new();
            tag.hash(&mut h);
            let path = opts
                .list_cache_dir
                .as_ref()
                .map(|d| d.join(format!("ioc-{:016x}.idx", h.finish())));
            CacheKey { tag, path }
        }
    })
}

/// Loads the cached index for `src` when its key matches, else builds it
/// (and caches it when `opts.cache`).
pub fn load_or_build(
    src: IndicatorSource<'_>,
    opts: &IndexOptions,
) -> Result<HuntIndex, EngineError> {
    let t0 = Instant::now();
    let key = cache_key(src, opts)?;
    let mut warnings = Vec::new();
    let generation = match src {
        IndicatorSource::Store(store) => Some(store.generation()?),
        IndicatorSource::List(_) => None,
    };
    if opts.cache
        && let Some(p) = &key.path
        && p.exists()
    {
        match Index::load(p) {
            Ok(ix) if ix.tag() == key.tag => {
                return Ok(HuntIndex {
                    index: ix,
                    cached: true,
                    elapsed: t0.elapsed(),
                    generation,
                    warnings,
                });
            }
            // Another store's, another generation's, or other options': rebuilt.
            Ok(_) => {}
            Err(e) => warnings.push(format!("{e}; rebuilding")),
        }
    }
    let mut wl = if opts.warninglists {
        WarningLists::builtin()
    } else {
        WarningLists::new()
    };
    let index = match src {
        IndicatorSource::Store(store) => {
            if opts.warninglists {
                warnings.extend(store_warninglists(store, &mut wl)?);
            }
            let mut b = IndexBuilder::new().suppress_with(&wl).tag(key.tag);
            // Streamed: a store of millions of list values is never held twice.
            let mut out_of_range = None;
            store.for_each_hunt_indicator(opts.include_inactive, &mut |hi| match u32::try_from(
                hi.key,
            ) {
                Ok(k) => {
                    b.add(&hi.observable, k);
                }
                Err(_) => {
                    out_of_range.get_or_insert(hi.key);
                }
            })?;
            if let Some(key) = out_of_range {
                return Err(EngineError::KeyRange(key));
            }
            b.build()
        }
        IndicatorSource::List(path) => {
            let mut b = IndexBuilder::new().suppress_with(&wl).tag(key.tag);
            for (i, o) in read_ioc_list(path)?.iter().enumerate() {
                let k = u32::try_from(i).map_err(|_| EngineError::KeyRange(i as i64))?;
                b.add(o, k);
            }
            b.build()
        }
    };
    if opts.cache
        && let Some(p) = &key.path
        && let Err(e) = index.save(p)
    {
        warnings.push(e.to_string());
    }
    Ok(HuntIndex {
        index,
        cached: false,
        elapsed: t0.elapsed(),
        generation,
        warnings,
    })
}

/// One value per line; `#` comments; defanged values refanged; the kind
/// detected from the value. Hand-written rather than the intake's list
/// reader: a hunt wants only the values, and building statements for a
/// million-value list cost more than hunting a gigabyte.
pub fn read_ioc_list(path: &Path) -> Result<Vec<Observable>, EngineError> {
    let bytes = std::fs::read(path).map_err(|source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for line in text.lines() {
        let v = line.trim().trim_start_matches('\u{feff}');
        if v.is_empty() || v.starts_with('#') {
            continue;
        }
        let v = v
            .replace("[.]", ".")
            .replace("(.)", ".")
            .replace("[:]", ":")
            .replace("[@]", "@");
        let v = match v.strip_prefix("hxxp") {
            Some(rest) => format!("http{rest}"),
            None => v,
        };
        if let Some(kind) = IndicatorKind::detect(&v) {
            out.push(Observable::new(kind, &v));
        }
    }
    Ok(out)
}
