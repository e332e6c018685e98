//! The server's state: configuration, store connections per clearance, the
//! engines compiled from the store, sessions and caches.

use crate::errors::{ApiError, ServeError};
use cairn_attribute::Corpus;
use cairn_engine::{
    Contexts, HitContext, HuntIndex, IndexOptions, IndicatorSource, Intel, ReportModels,
};
use cairn_extract::Extractor;
use cairn_hunt::Index;
use cairn_kb::{KnowledgeBase, Store, TokenGrant};
use cairn_model::Tlp;
use cairn_pg::PgStore;
use cairn_prose::Reader;
use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// What the server serves and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The knowledge-base file, or a `postgres://` address: the store
    /// several servers share (see [`Config::postgres`]).
    pub db: PathBuf,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Let callers without a token read what a reader may (TLP:AMBER and below).
    pub anonymous_read: bool,
    /// Requests per second allowed per token (or per address without one);
    /// bursts up to twice that. 0 turns rate limiting off.
    pub rate_limit: u32,
    /// Largest request body accepted, in bytes (uploads included).
    pub max_body: usize,
    /// Largest file `POST /api/v1/scan` and the scan page take, in bytes
    /// (`max_body` still bounds every request).
    pub max_scan_body: usize,
    /// Largest report `POST /api/v1/extract`, `POST /api/v1/attribute/report`
    /// and the attribution page's report upload take, in bytes (`max_body`
    /// still bounds every request).
    pub max_report_body: usize,
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Mark session cookies `Secure` (serve behind TLS).
    pub secure_cookies: bool,
}

impl Config {
    /// The PostgreSQL store `db` names, if it names one rather than a file.
    pub fn postgres(&self) -> Option<&str> {
        self.db.to_str().filter(|d| cairn_pg::is_url(d))
    }

    /// Defaults: 127.0.0.1:8080, no anonymous access, 20 000 requests/s per
    /// token, 64 MiB uploads (32 MiB for a file to scan, 16 MiB for a
    /// report to read), 60 s per request.
    pub fn new(db: PathBuf) -> Config {
        Config {
            db,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            anonymous_read: false,
            rate_limit: 20_000,
            max_body: 64 << 20,
            max_scan_body: 32 << 20,
            max_report_body: 16 << 20,
            timeout: Duration::from_secs(60),
            secure_cookies: false,
        }
    }
}

/// A running server's shared state. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    full: Pool,
    restricted: Pool,
    engines: RwLock<Arc<Engines>>,
    rebuilding: Mutex<bool>,
    /// The last failed rebuild of the engines, until one succeeds: the
    /// previous engines keep serving meanwhile, and callers are told.
    rebuild_error: Mutex<Option<RebuildError>>,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) token_cache: Mutex<HashMap<String, (Option<TokenGrant>, Instant)>>,
    pub(crate) limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    pub(crate) login_limiter: governor::DefaultKeyedRateLimiter<String>,
    contexts: Mutex<ContextCache>,
    /// The store generation last seen (by a refresh): what cached answers are keyed by.
    store_generation: AtomicI64,
    answers: Mutex<Answers>,
    answer_hits: AtomicU64,
    answer_misses: AtomicU64,
    /// Actors' infrastructure models and the pivot's warninglists, keyed
    /// by store state and clearance (the engine's cache).
    pub(crate) infra: cairn_engine::InfraCache,
    /// What reading reports needs (the trained prose reader, the corpus),
    /// per clearance, for the store generation last read.
    reports: Mutex<ReportKits>,
    /// Prose readers built since the start: trained, or loaded from the
    /// engine's cache beside the store.
    report_trainings: AtomicU64,
    /// HTTP responses by class and duration, for `/metrics`.
    pub(crate) http: crate::http_metrics::HttpMetrics,
}

/// Most answers kept at once; past it the cache starts over (names asked
/// for are bounded by what callers send, not by the store).
const MAX_ANSWERS: usize = 4096;

/// Ready response bodies (actor profiles, the actor page's content), per
/// clearance, for one store generation: a reader's answers are never an
/// analyst's.
#[derive(Default)]
struct Answers {
    generation: i64,
    map: HashMap<(Clearance, &'static str, String), Arc<dyn Any + Send + Sync>>,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) grant: TokenGrant,
    /// Synchronizer token every state-changing form must carry.
    pub(crate) csrf: String,
    pub(crate) expires: Instant,
}

/// Who sees what: readers see TLP:AMBER and below; analysts and admins all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Clearance {
    Restricted,
    Full,
}

impl Clearance {
    pub(crate) const READER_CEILING: Tlp = Tlp::Amber;
}

/// Where the store lives.
#[derive(Debug, Clone)]
enum Location {
    /// The embedded store: one file, one machine.
    File(PathBuf),
    /// A PostgreSQL database several servers share.
    Postgres(String),
}

impl Location {
    fn of(config: &Config) -> Location {
        match config.postgres() {
            Some(url) => Location::Postgres(url.to_string()),
            None => Location::File(config.db.clone()),
        }
    }
}

/// One connection to the store, on either backend. What every backend
/// answers goes through [`Conn::kb`]; the rest of the store's API is the
/// embedded store's alone so far ([`Conn::embedded`]).
pub(crate) enum Conn {
    Embedded(Store),
    Shared(PgStore),
}

/// What a request needing the embedded store's API is told on PostgreSQL.
pub(crate) const NOT_ON_POSTGRES: &str = "not available yet on a PostgreSQL store: this server \
     answers stats, search, actor profiles, pages, indicator lists and Navigator layers, \
     sensor exports, indicator lookup and sightings, feeds, hunt, ingest, tokens and metrics there; \
     STIX bundles, TAXII, infrastructure, scans and reports need the embedded store";

impl Conn {
    fn open(location: &Location) -> Result<Conn, cairn_kb::errors::KbError> {
        Ok(match location {
            Location::File(path) => Conn::Embedded(Store::open_existing(path)?),
            Location::Postgres(url) => Conn::Shared(PgStore::connect(url)?),
        })
    }
    pub(crate) fn kb(&self) -> &dyn KnowledgeBase {
        match self {
            Conn::Embedded(s) => s,
            Conn::Shared(s) => s,
        }
    }
    pub(crate) fn kb_mut(&mut self) -> &mut dyn KnowledgeBase {
        match self {
            Conn::Embedded(s) => s,
            Conn::Shared(s) => s,
        }
    }
    fn embedded(&mut self) -> Result<&mut Store, ApiError> {
        match self {
            Conn::Embedded(s) => Ok(s),
            Conn::Shared(_) => Err(ApiError::new(
                axum::http::StatusCode::NOT_IMPLEMENTED,
                NOT_ON_POSTGRES,
            )),
        }
    }
}

/// Store connections for one clearance, reused across requests.
struct Pool {
    location: Location,
    ceiling: Option<Tlp>,
    idle: Mutex<Vec<Conn>>,
}

impl Pool {
    fn take(&self) -> Result<Conn, ApiError> {
        if let Some(s) = self.idle.lock().map_err(ApiError::internal)?.pop() {
            return Ok(s);
        }
        let mut s = Conn::open(&self.location)?;
        if let Some(c) = self.ceiling {
            s.kb_mut().restrict(c)?;
        }
        Ok(s)
    }
    fn give(&self, s: Conn) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < 16
        {
            idle.push(s);
        }
    }
}

/// What is compiled from the store, for one store generation.
pub(crate) struct Engines {
    pub(crate) generation: i64,
    pub(crate) index: Index,
    pub(crate) built: jiff::Timestamp,
    corpora: Mutex<HashMap<Clearance, Arc<Corpus>>>,
}

/// What reading reports takes, compiled from the store as one clearance
/// sees it at one generation; each part is made on first need, once
/// however many requests wait for it (training a reader takes seconds).
#[derive(Default)]
pub(crate) struct ReportKit {
    /// The extractor, with the store's warninglists as its benign filter.
    extractor: tokio::sync::OnceCell<Arc<Extractor>>,
    /// The reader `cairn extract` trains (`cairn_engine::prose_reader`),
    /// shared with `models`.
    reader: tokio::sync::OnceCell<Arc<Reader>>,
    /// The reader and corpus `cairn attribute --report` and `--actor auto`
    /// build, as `cairn_engine::report_models` does (its reader is `reader`).
    models: tokio::sync::OnceCell<Arc<ReportModels>>,
}

/// Report kits per clearance, for one store generation.
#[derive(Default)]
struct ReportKits {
    generation: i64,
    map: HashMap<Clearance, Arc<ReportKit>>,
}

/// Why the engines could not be rebuilt, and since when.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RebuildError {
    pub(crate) message: String,
    pub(crate) since: String,
    /// The store generation the serving engines lag behind.
    pub(crate) generation: i64,
}

/// Indicator contexts per clearance, for the engines' generation.
#[derive(Default)]
struct ContextCache {
    generation: i64,
    map: HashMap<Clearance, Contexts>,
}

impl App {
    /// Opens the store (creating it if needed) and compiles the hunt index.
    pub fn open(config: Config) -> Result<App, ServeError> {
        let location = Location::of(&config);
        let shown = match &location {
            Location::File(path) => path.display().to_string(),
            Location::Postgres(url) => cairn_pg::redact(url),
        };
        let store_err = |source| ServeError::Store {
            path: shown.clone(),
            source,
        };
        let store = match &location {
            Location::File(path) => Conn::Embedded(Store::open(path).map_err(store_err)?),
            Location::Postgres(_) => Conn::open(&location).map_err(store_err)?,
        };
        let engines = build_engines(store.kb()).map_err(|source| ServeError::Engine {
            path: shown.clone(),
            source,
        })?;
        let generation = engines.generation;
        let per_sec = std::num::NonZeroU32::new(config.rate_limit);
        let limiter = per_sec.map(|n| {
            let burst = n.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1));
            governor::RateLimiter::keyed(governor::Quota::per_second(n).allow_burst(burst))
        });
        // Sign-in attempts: 10 a minute per address, so a token cannot be guessed online.
        let login_quota = governor::Quota::per_minute(std::num::NonZeroU32::MIN.saturating_add(9));
        let inner = Inner {
            full: Pool {
                location: location.clone(),
                ceiling: None,
                idle: Mutex::new(vec![store]),
            },
            restricted: Pool {
                location,
                ceiling: Some(Clearance::READER_CEILING),
                idle: Mutex::new(Vec::new()),
            },
            engines: RwLock::new(Arc::new(engines)),
            rebuilding: Mutex::new(false),
            rebuild_error: Mutex::new(None),
            sessions: Mutex::new(HashMap::new()),
            token_cache: Mutex::new(HashMap::new()),
            limiter,
            login_limiter: governor::RateLimiter::keyed(login_quota),
            contexts: Mutex::new(ContextCache::default()),
            store_generation: AtomicI64::new(generation),
            answers: Mutex::new(Answers::default()),
            answer_hits: AtomicU64::new(0),
            answer_misses: AtomicU64::new(0),
            infra: cairn_engine::InfraCache::default(),
            reports: Mutex::new(ReportKits::default()),
            report_trainings: AtomicU64::new(0),
            http: crate::http_metrics::HttpMetrics::default(),
            config,
        };
        // Connections opened up front, so a burst of requests finds them ready.
        for pool in [&inner.full, &inner.restricted] {
            let warm: Vec<Conn> = (0..4).filter_map(|_| pool.take().ok()).collect();
            for s in warm {
                pool.give(s);
            }
        }
        Ok(App {
            inner: Arc::new(inner),
        })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Runs `f` on the embedded store's API, on a connection of the given
    /// clearance, off the async threads. On PostgreSQL: 501, with what the
    /// server answers there ([`App::read_kb`] and [`App::write`] run on both).
    pub(crate) async fn read<T, F>(&self, clearance: Clearance, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        self.on_conn(clearance, move |c| f(c.embedded()?)).await
    }

    /// Runs `f` on a connection of the given clearance, whichever the
    /// backend, off the async threads.
    pub(crate) async fn read_kb<T, F>(&self, clearance: Clearance, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn KnowledgeBase) -> Result<T, ApiError> + Send + 'static,
    {
        self.on_conn(clearance, move |c| f(c.kb())).await
    }

    /// A connection of its own with full access, never pooled: for work
    /// that restricts it to a ceiling of its choosing (exports).
    pub(crate) fn own_connection(&self) -> Result<Conn, ApiError> {
        Ok(Conn::open(&self.inner.full.location)?)
    }

    /// Runs `f` on a connection of the given clearance, off the async threads.
    async fn on_conn<T, F>(&self, clearance: Clearance, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.with_conn(clearance, f))
            .await
            .map_err(ApiError::internal)?
    }

    /// Runs `f` on a connection of the given clearance on this thread
    /// (quick reads only).
    pub(crate) fn read_now<T>(
        &self,
        clearance: Clearance,
        f: impl FnOnce(&dyn KnowledgeBase) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.with_conn(clearance, |c| f(c.kb()))
    }

    /// Runs `f` on a connection of the given clearance on this thread,
    /// lent mutably (the engine layer's hunts share it between scanning
    /// threads behind a lock, which needs it `&mut`).
    pub(crate) fn with_store<T>(
        &self,
        clearance: Clearance,
        f: impl FnOnce(&mut dyn KnowledgeBase) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.with_conn(clearance, |c| f(c.kb_mut()))
    }

    fn with_conn<T>(
        &self,
        clearance: Clearance,
        f: impl FnOnce(&mut Conn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let pool = match clearance {
            Clearance::Full => &self.inner.full,
            Clearance::Restricted => &self.inner.restricted,
        };
        let mut conn = pool.take()?;
        let out = f(&mut conn);
        pool.give(conn);
        out
    }

    /// Runs `f` with write access (analysts' and admins' actions), on
    /// either backend; callers refresh the engines after.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn KnowledgeBase) -> Result<T, ApiError> + Send + 'static,
    {
        self.on_conn(Clearance::Full, move |c| f(c.kb_mut())).await
    }

    /// The engines for the store as it is now; rebuilt in the background when
    /// the store has changed (requests keep the previous ones meanwhile).
    pub(crate) fn engines(&self) -> Arc<Engines> {
        match self.inner.engines.read() {
            Ok(e) => e.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Checks the store generation and rebuilds the engines when it moved.
    /// A failed rebuild is logged and kept (see [`App::rebuild_error`]); the
    /// previous engines serve until a rebuild succeeds.
    pub(crate) async fn refresh(&self) -> Result<(), ApiError> {
        let current = self.engines().generation;
        let app = self.clone();
        let generation = self
            .read_kb(Clearance::Full, |s| Ok(s.generation()?))
            .await?;
        // Cached answers follow the store at once; the engines once rebuilt.
        self.inner
            .store_generation
            .store(generation, Ordering::Release);
        if generation == current {
            return Ok(());
        }
        {
            let mut busy = self.inner.rebuilding.lock().map_err(ApiError::internal)?;
            if *busy {
                return Ok(());
            }
            *busy = true;
        }
        let res = tokio::task::spawn_blocking(move || {
            // The engine's own error, not its API form: the log and the
            // stats say what failed.
            let built = app.read_now(Clearance::Full, |s| Ok(build_engines(s)));
            let outcome = match built {
                Ok(Ok(e)) => match app.inner.engines.write() {
                    Ok(mut slot) => {
                        *slot = Arc::new(e);
                        Ok(())
                    }
                    Err(_) => Err("engine slot lock poisoned".to_string()),
                },
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.message),
            };
            if let Ok(mut last) = app.inner.rebuild_error.lock() {
                *last = match outcome {
                    Ok(()) => None,
                    Err(message) => {
                        tracing::error!(
                            generation,
                            "rebuilding the hunt index failed: {message}; the index of generation {current} keeps serving"
                        );
                        Some(RebuildError {
                            message,
                            since: jiff::Timestamp::now().to_string(),
                            generation,
                        })
                    }
                };
            }
            if let Ok(mut busy) = app.inner.rebuilding.lock() {
                *busy = false;
            }
        })
        .await;
        res.map_err(ApiError::internal)
    }

    /// The answer `kind` for `key` as `clearance` sees the store: from
    /// memory while the store generation has not moved, else made by `make`
    /// and kept. Errors are not kept.
    pub(crate) async fn answer<T, F, Fut>(
        &self,
        clearance: Clearance,
        kind: &'static str,
        key: &str,
        make: F,
    ) -> Result<Arc<T>, ApiError>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let generation = self.inner.store_generation.load(Ordering::Acquire);
        let slot = (clearance, kind, key.to_string());
        {
            let mut cache = self.inner.answers.lock().map_err(ApiError::internal)?;
            if cache.generation != generation {
                cache.generation = generation;
                cache.map.clear();
            }
            if let Some(b) = cache
                .map
                .get(&slot)
                .and_then(|b| b.clone().downcast::<T>().ok())
            {
                self.inner.answer_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(b);
            }
        }
        self.inner.answer_misses.fetch_add(1, Ordering::Relaxed);
        let made = Arc::new(make().await?);
        let mut cache = self.inner.answers.lock().map_err(ApiError::internal)?;
        // Made from a store at least as new as `generation`; if it moved
        // meanwhile, the next request makes the answer again.
        if cache.generation == generation {
            if cache.map.len() >= MAX_ANSWERS {
                cache.map.clear();
            }
            cache
                .map
                .insert(slot, made.clone() as Arc<dyn Any + Send + Sync>);
        }
        Ok(made)
    }

    /// Answers served from memory and answers made, since the server started.
    pub(crate) fn answer_stats(&self) -> serde_json::Value {
        serde_json::json!({
            "hits": self.inner.answer_hits.load(Ordering::Relaxed),
            "made": self.inner.answer_misses.load(Ordering::Relaxed),
        })
    }

    /// The last failed rebuild of the engines, while no rebuild has succeeded
    /// since. Readers are told that it failed, not why (the cause can name
    /// server paths).
    pub(crate) fn rebuild_error(&self, clearance: Clearance) -> Option<RebuildError> {
        let mut e = self.inner.rebuild_error.lock().ok()?.clone()?;
        if clearance == Clearance::Restricted {
            e.message = "the cause is in the server's log".into();
        }
        Some(e)
    }

    /// The attribution corpus as the clearance sees the store (built on first use).
    pub(crate) async fn corpus(&self, clearance: Clearance) -> Result<Arc<Corpus>, ApiError> {
        let engines = self.engines();
        if let Some(c) = engines
            .corpora
            .lock()
            .map_err(ApiError::internal)?
            .get(&clearance)
        {
            return Ok(c.clone());
        }
        let corpus = Arc::new(
            self.read(clearance, |s| Ok(cairn_engine::corpus(s)?))
                .await?,
        );
        engines
            .corpora
            .lock()
            .map_err(ApiError::internal)?
            .insert(clearance, corpus.clone());
        Ok(corpus)
    }

    /// The report kit for the store as the clearance sees it now: kept
    /// while the store generation stays, made anew when it moves (an
    /// ingest's knowledge is in the next request's reader). Each part is
    /// built after the generation was read, so it is never older than its key.
    pub(crate) async fn report_kit(
        &self,
        clearance: Clearance,
    ) -> Result<Arc<ReportKit>, ApiError> {
        let generation = self.read_kb(clearance, |s| Ok(s.generation()?)).await?;
        let mut kits = self.inner.reports.lock().map_err(ApiError::internal)?;
        if generation < kits.generation {
            // Read before a write another request has already seen: not kept.
            return Ok(Arc::new(ReportKit::default()));
        }
        if generation > kits.generation {
            kits.generation = generation;
            kits.map.clear();
        }
        Ok(kits.map.entry(clearance).or_default().clone())
    }

    /// The kit's extractor: the store's warninglists extend the built-in
    /// benign list, as for `cairn extract`.
    pub(crate) async fn report_extractor(
        &self,
        clearance: Clearance,
        kit: &ReportKit,
    ) -> Result<Arc<Extractor>, ApiError> {
        let made = kit.extractor.get_or_try_init(|| {
            self.read_kb(clearance, |s| {
                let (benign, warnings) = cairn_engine::benign_filter(s)?;
                for w in warnings {
                    tracing::warn!("warninglists: {w}");
                }
                Ok(Arc::new(Extractor::new(cairn_extract::Options {
                    benign,
                    ..cairn_extract::Options::default()
                })))
            })
        });
        Ok(made.await?.clone())
    }

    /// The kit's prose reader, trained as `cairn extract` trains it.
    pub(crate) async fn report_reader(
        &self,
        clearance: Clearance,
        kit: &ReportKit,
    ) -> Result<Arc<Reader>, ApiError> {
        let made = kit.reader.get_or_try_init(|| async {
            let r = self
                .read(clearance, |s| Ok(Arc::new(cairn_engine::prose_reader(s)?)))
                .await?;
            self.inner.report_trainings.fetch_add(1, Ordering::Relaxed);
            Ok::<_, ApiError>(r)
        });
        Ok(made.await?.clone())
    }

    /// The kit's reader and corpus, as `cairn attribute --report` builds
    /// them; the reader is the one extraction uses (one per kit, not two).
    pub(crate) async fn report_models(
        &self,
        clearance: Clearance,
        kit: &ReportKit,
    ) -> Result<Arc<ReportModels>, ApiError> {
        let made = kit.models.get_or_try_init(|| async {
            let reader = self.report_reader(clearance, kit).await?;
            let corpus = self
                .read(clearance, |s| Ok(cairn_engine::corpus(s)?))
                .await?;
            Ok::<_, ApiError>(Arc::new(ReportModels::new(reader, corpus)))
        });
        Ok(made.await?.clone())
    }

    /// Readers trained and the generation the kits are for.
    pub(crate) fn report_stats(&self) -> serde_json::Value {
        let generation = self.inner.reports.lock().map(|k| k.generation).ok();
        serde_json::json!({
            "trained": self.inner.report_trainings.load(Ordering::Relaxed),
            "generation": generation,
        })
    }

    /// The contexts of hunt-index keys, as the clearance sees the store
    /// (`None` for an indicator hidden from it), cached per generation.
    pub(crate) fn contexts(
        &self,
        clearance: Clearance,
        generation: i64,
        keys: &[u32],
    ) -> Result<Vec<Option<Arc<HitContext>>>, ApiError> {
        let mut cache = self.inner.contexts.lock().map_err(ApiError::internal)?;
        if cache.generation != generation
            || cache.map.get(&clearance).is_some_and(|c| c.len() > 200_000)
        {
            cache.generation = generation;
            cache.map.clear();
        }
        let contexts = cache.map.entry(clearance).or_default();
        let mut out = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            match contexts.peek(*k) {
                Some(c) => out.push(c.cloned()),
                None => {
                    out.push(None);
                    missing.push(i);
                }
            }
        }
        if !missing.is_empty() {
            self.with_store(clearance, |s| {
                let intel = Intel::Store(s);
                for i in missing {
                    out[i] = contexts.key(&intel, keys[i])?.cloned();
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// Compiles the hunt index from the store's active indicators, leaving out
/// those on warninglists (built-in and ingested). The index is cached
/// beside the store, keyed by the store's id and generation: the same file
/// `cairn hunt` uses.
fn build_engines(store: &dyn KnowledgeBase) -> Result<Engines, cairn_engine::EngineError> {
    let HuntIndex {
        index,
        generation,
        warnings,
        ..
    } = cairn_engine::load_or_build(IndicatorSource::Store(store), &IndexOptions::default())?;
    for w in warnings {
        tracing::warn!("hunt index: {w}");
    }
    Ok(Engines {
        generation: generation.unwrap_or_default(),
        index,
        built: jiff::Timestamp::now(),
        corpora: Mutex::new(HashMap::new()),
    })
}
