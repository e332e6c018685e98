//! The server's state: configuration, store connections per clearance, the
//! engines compiled from the store, sessions and caches.

use crate::auth::Session;
use crate::errors::{ApiError, ServeError};
use cairn_attribute::Corpus;
use cairn_hunt::{Index, IndexBuilder};
use cairn_kb::{IndicatorContext, Store, TokenGrant};
use cairn_model::Tlp;
use cairn_warninglist::WarningLists;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// What the server serves and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The knowledge-base file.
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
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Mark session cookies `Secure` (serve behind TLS).
    pub secure_cookies: bool,
}

impl Config {
    /// Defaults: 127.0.0.1:8080, no anonymous access, 20 000 requests/s per
    /// token, 64 MiB uploads, 60 s per request.
    pub fn new(db: PathBuf) -> Config {
        Config {
            db,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            anonymous_read: false,
            rate_limit: 20_000,
            max_body: 64 << 20,
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
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) token_cache: Mutex<HashMap<String, (Option<TokenGrant>, Instant)>>,
    pub(crate) limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    pub(crate) login_limiter: governor::DefaultKeyedRateLimiter<String>,
    contexts: Mutex<ContextCache>,
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

/// Store connections for one clearance, reused across requests.
struct Pool {
    path: PathBuf,
    ceiling: Option<Tlp>,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    fn take(&self) -> Result<Store, ApiError> {
        if let Some(s) = self.idle.lock().map_err(ApiError::internal)?.pop() {
            return Ok(s);
        }
        let mut s = Store::open_existing(&self.path)?;
        if let Some(c) = self.ceiling {
            s.restrict(c)?;
        }
        Ok(s)
    }
    fn give(&self, s: Store) {
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

#[derive(Default)]
struct ContextCache {
    generation: i64,
    map: HashMap<(Clearance, u32), Option<Arc<IndicatorContext>>>,
}

/// The kinds attribution reads from the store.
const SNAPSHOT_KINDS: [&str; 8] = [
    "intrusion-set",
    "campaign",
    "attack-pattern",
    "malware",
    "tool",
    "indicator",
    "identity",
    "location",
];

impl App {
    /// Opens the store (creating it if needed) and compiles the hunt index.
    pub fn open(config: Config) -> Result<App, ServeError> {
        let store_err = |source| ServeError::Store {
            path: config.db.display().to_string(),
            source,
        };
        let store = Store::open(&config.db).map_err(store_err)?;
        let engines = build_engines(&store).map_err(store_err)?;
        let per_sec = std::num::NonZeroU32::new(config.rate_limit);
        let limiter = per_sec.map(|n| {
            let burst = n.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1));
            governor::RateLimiter::keyed(governor::Quota::per_second(n).allow_burst(burst))
        });
        // Sign-in attempts: 10 a minute per address, so a token cannot be guessed online.
        let login_quota = governor::Quota::per_minute(std::num::NonZeroU32::MIN.saturating_add(9));
        let inner = Inner {
            full: Pool {
                path: config.db.clone(),
                ceiling: None,
                idle: Mutex::new(vec![store]),
            },
            restricted: Pool {
                path: config.db.clone(),
                ceiling: Some(Clearance::READER_CEILING),
                idle: Mutex::new(Vec::new()),
            },
            engines: RwLock::new(Arc::new(engines)),
            rebuilding: Mutex::new(false),
            sessions: Mutex::new(HashMap::new()),
            token_cache: Mutex::new(HashMap::new()),
            limiter,
            login_limiter: governor::RateLimiter::keyed(login_quota),
            contexts: Mutex::new(ContextCache::default()),
            config,
        };
        // Connections opened up front, so a burst of requests finds them ready.
        for pool in [&inner.full, &inner.restricted] {
            let warm: Vec<Store> = (0..4).filter_map(|_| pool.take().ok()).collect();
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

    /// The HTTP routes: web app, REST API, TAXII 2.1.
    pub fn router(&self) -> axum::Router {
        crate::security::wrap(
            axum::Router::new()
                .merge(crate::web::routes())
                .merge(crate::api::routes())
                .merge(crate::taxii::routes()),
            self,
        )
        .with_state(self.clone())
    }

    /// Runs `f` on a store connection of the given clearance, off the async threads.
    pub(crate) async fn read<T, F>(&self, clearance: Clearance, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.read_now(clearance, f))
            .await
            .map_err(ApiError::internal)?
    }

    /// Runs `f` on a store connection on this thread (quick reads only).
    pub(crate) fn read_now<T>(
        &self,
        clearance: Clearance,
        f: impl FnOnce(&Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let pool = match clearance {
            Clearance::Full => &self.inner.full,
            Clearance::Restricted => &self.inner.restricted,
        };
        let store = pool.take()?;
        let out = f(&store);
        pool.give(store);
        out
    }

    /// Runs `f` with write access (analysts' and admins' actions), then
    /// refreshes the engines if the store changed.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = app.inner.full.take()?;
            let out = f(&mut store);
            app.inner.full.give(store);
            out
        })
        .await
        .map_err(ApiError::internal)?
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
    pub(crate) async fn refresh(&self) -> Result<(), ApiError> {
        let current = self.engines().generation;
        let app = self.clone();
        let generation = self.read(Clearance::Full, |s| Ok(s.generation()?)).await?;
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
            let built = app.read_now(Clearance::Full, |s| Ok(build_engines(s)?));
            if let Ok(e) = built
                && let Ok(mut slot) = app.inner.engines.write()
            {
                *slot = Arc::new(e);
            }
            if let Ok(mut busy) = app.inner.rebuilding.lock() {
                *busy = false;
            }
        })
        .await;
        res.map_err(ApiError::internal)
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
        let bundle = self
            .read(clearance, |s| Ok(s.snapshot(&SNAPSHOT_KINDS)?))
            .await?;
        let corpus = tokio::task::spawn_blocking(move || Arc::new(Corpus::from_bundle(&bundle)))
            .await
            .map_err(ApiError::internal)?;
        engines
            .corpora
            .lock()
            .map_err(ApiError::internal)?
            .insert(clearance, corpus.clone());
        Ok(corpus)
    }

    /// What the store says about hunt-index key `key`, as the clearance sees
    /// it; `None` when the indicator is hidden from it.
    pub(crate) fn context(
        &self,
        clearance: Clearance,
        generation: i64,
        key: u32,
    ) -> Result<Option<Arc<IndicatorContext>>, ApiError> {
        {
            let mut cache = self.inner.contexts.lock().map_err(ApiError::internal)?;
            if cache.generation != generation {
                cache.generation = generation;
                cache.map.clear();
            }
            if let Some(c) = cache.map.get(&(clearance, key)) {
                return Ok(c.clone());
            }
        }
        let ctx = self.read_now(clearance, |s| match s.indicator_context(i64::from(key)) {
            Ok(c) => Ok(Some(Arc::new(c))),
            Err(cairn_kb::errors::KbError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })?;
        let mut cache = self.inner.contexts.lock().map_err(ApiError::internal)?;
        if cache.map.len() > 200_000 {
            cache.map.clear();
        }
        cache.map.insert((clearance, key), ctx.clone());
        Ok(ctx)
    }
}

/// Compiles the hunt index from the store's active indicators, leaving out
/// those on warninglists (built-in and ingested).
fn build_engines(store: &Store) -> Result<Engines, cairn_kb::errors::KbError> {
    let generation = store.generation()?;
    let mut wl = WarningLists::builtin();
    for (name, json) in store.warninglist_documents()? {
        if let Err(e) = wl.add_json(&name, &json) {
            tracing::warn!("warninglist {name}: {e}; not applied");
        }
    }
    let mut builder = IndexBuilder::new()
        .suppress_with(&wl)
        .tag(format!("serve;gen={generation}"));
    for hi in store.hunt_indicators(false)? {
        if let Ok(key) = u32::try_from(hi.key) {
            builder.add(&hi.observable, key);
        }
    }
    Ok(Engines {
        generation,
        index: builder.build(),
        built: jiff::Timestamp::now(),
        corpora: Mutex::new(HashMap::new()),
    })
}
