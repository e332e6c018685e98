//! Cairn's server: the analysts' web app, a REST API and a TAXII 2.1 feed
//! over one knowledge base, with API tokens, roles and TLP enforced on every
//! surface.
//!
//! Data flows in one direction: a [`Config`] names the store and the limits;
//! [`App::open`] opens it and compiles the engines (the hunt index, the
//! attribution corpus), rebuilding them when the store changes; [`App::router`]
//! is the axum [`Router`](axum::Router) that answers requests, and [`serve`]
//! binds it to an address.
//!
//! Every request is made by a caller: a token's holder (`Authorization:
//! Bearer`, or a web session signed in with a token) or, where the admin
//! opened it, an anonymous reader. Readers read through a store connection
//! restricted to TLP:AMBER and below ([`cairn_kb::Store::restrict`]), so a
//! TLP:RED or TLP:AMBER+STRICT statement cannot reach a reader by any route.
//!
//! ```
//! use cairn_serve::{App, Config};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let config = Config::new(dir.path().join("cairn.db"));
//! let app = App::open(config).unwrap();
//! let router = app.router();
//! let req = axum::http::Request::get("/api/v1/stats").body(axum::body::Body::empty()).unwrap();
//! let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
//! assert_eq!(res.status(), 401); // every API call needs a token
//! # });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod auth;
mod engine;
pub mod errors;
mod export_api;
mod http_metrics;
mod infra_api;
mod metrics;
mod openapi;
mod report_api;
mod scan_api;
mod security;
mod state;
mod taxii;
mod web;

pub use state::{App, Config};

use errors::ServeError;

impl App {
    /// The HTTP routes: web app, REST API, TAXII 2.1.
    pub fn router(&self) -> axum::Router {
        crate::security::wrap(
            axum::Router::new()
                .merge(crate::web::routes())
                .merge(crate::api::routes())
                .merge(crate::export_api::routes())
                .merge(crate::infra_api::routes())
                .merge(crate::scan_api::routes(self.config().max_scan_body))
                .merge(crate::web::scan::routes(self.config().max_scan_body))
                .merge(crate::report_api::routes(self.config().max_report_body))
                .merge(crate::web::report_routes(self.config().max_report_body))
                .merge(crate::taxii::routes())
                .merge(crate::metrics::routes()),
            self,
        )
        .layer(axum::middleware::from_fn_with_state(
            self.clone(),
            crate::metrics::count,
        ))
        .with_state(self.clone())
    }
}

/// Serves `app` on its configured address until Ctrl-C.
pub async fn serve(app: App) -> Result<(), ServeError> {
    let addr = app.config().addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let router = app.router();
    // Ingests from the CLI while serving change the store behind the server's back.
    let watcher = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = watcher.refresh().await {
                tracing::warn!("refreshing the engines: {e}");
            }
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
