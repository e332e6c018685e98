//! Creating and dropping whole databases: what an operator (or a test)
//! does before and after a store lives in one.

use crate::errors::PgError;
use sqlx::{Connection, PgConnection};

/// `server` (`postgres://user@host:port`, no database) with `db` appended.
pub fn database_url(server: &str, db: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

fn quoted(db: &str) -> Result<String, PgError> {
    if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(PgError::Invalid(format!(
            "database name `{db}`: use letters, digits and underscores"
        )));
    }
    Ok(format!("\"{db}\""))
}

async fn on_server<T>(
    server: &str,
    f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, PgError>,
) -> Result<T, PgError> {
    let url = database_url(server, "postgres");
    let mut conn = PgConnection::connect(&url)
        .await
        .map_err(|source| PgError::Connect {
            url: crate::redact(&url),
            source,
        })?;
    let out = f(&mut conn).await;
    let _ = conn.close().await;
    out
}

fn runtime() -> Result<tokio::runtime::Runtime, PgError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PgError::Runtime)
}

/// Creates the empty database `db` on `server`; its address.
pub fn create_database(server: &str, db: &str) -> Result<String, PgError> {
    let name = quoted(db)?;
    runtime()?.block_on(on_server(server, async |c| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut *c)
            .await?;
        Ok(())
    }))?;
    Ok(database_url(server, db))
}

/// Drops the database `db` on `server`, closing its sessions.
pub fn drop_database(server: &str, db: &str) -> Result<(), PgError> {
    let name = quoted(db)?;
    runtime()?.block_on(on_server(server, async |c| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut *c)
        .await?;
        Ok(())
    }))
}

/// A throw-away database (tests, benchmarks): created empty on `server`,
/// dropped with the value.
pub struct Scratch {
    server: String,
    name: String,
    url: String,
}

impl Scratch {
    /// Creates `cairn_<prefix>_<random>` on `server`.
    pub fn new(server: &str, prefix: &str) -> Result<Scratch, PgError> {
        let name = format!("cairn_{prefix}_{}", uuid::Uuid::new_v4().simple());
        let url = create_database(server, &name)?;
        Ok(Scratch {
            server: server.to_string(),
            name,
            url,
        })
    }

    /// The database's address.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing to report to: a leftover database is named for cleanup.
        let _ = drop_database(&self.server, &self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_joins_the_server_address() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u@h/old?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
        assert!(quoted("x; DROP").is_err());
    }
}
