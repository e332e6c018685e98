//! API tokens in the shared database, so every server behind a load
//! balancer accepts the same tokens and a revocation reaches all of them.
//! Secrets, digests and names follow the rules of `cairn_kb::backend`, as
//! the embedded store's do.

use crate::PgStore;
use crate::errors::PgError;
use cairn_kb::backend::{new_token_secret, revoked_token_name, token_digest, token_name};
use cairn_kb::{Role, Token, TokenGrant};

impl PgStore {
    /// Creates a token and returns its secret (shown once) with its listing.
    pub fn create_token(&mut self, name: &str, role: Role) -> Result<(String, Token), PgError> {
        self.writable()?;
        let name = token_name(name).map_err(PgError::Input)?.to_string();
        let secret = new_token_secret().map_err(PgError::Input)?;
        let created = cairn_model::time::now_ms();
        let hash = token_digest(&secret);
        let id: Option<i64> = self.run(async |c| {
            Ok(sqlx::query_scalar(
                "INSERT INTO tokens(name, role, hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO NOTHING RETURNING id",
            )
            .bind(&name)
            .bind(role.as_str())
            .bind(&hash)
            .bind(&created)
            .fetch_optional(&mut *c)
            .await?)
        })?;
        let Some(id) = id else {
            return Err(PgError::Invalid(format!(
                "a token named `{name}` exists; revoke it first or pick another name"
            )));
        };
        Ok((
            secret,
            Token {
                id,
                name,
                role,
                created_at: created,
                revoked_at: None,
            },
        ))
    }

    /// The grant for `secret`, if it is a live token.
    pub fn verify_token(&self, secret: &str) -> Result<Option<TokenGrant>, PgError> {
        let hash = token_digest(secret);
        let row: Option<(i64, String, String)> = self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT id, name, role FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
            )
            .bind(&hash)
            .fetch_optional(&mut *c)
            .await?)
        })?;
        Ok(row.and_then(|(id, name, role)| {
            Some(TokenGrant {
                id,
                name,
                role: role.parse().ok()?,
            })
        }))
    }

    /// Every token, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<Token>, PgError> {
        let rows: Vec<(i64, String, String, String, Option<String>)> = self.run(async |c| {
            Ok(sqlx::query_as(
                "SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY id",
            )
            .fetch_all(&mut *c)
            .await?)
        })?;
        rows.into_iter()
            .map(|(id, name, role, created_at, revoked_at)| {
                let role = role
                    .parse()
                    .map_err(|e: String| PgError::Invalid(format!("token {name}: {e}")))?;
                Ok(Token {
                    id,
                    name,
                    role,
                    created_at,
                    revoked_at,
                })
            })
            .collect()
    }

    /// Revokes the live token called `name`; false when there is none.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool, PgError> {
        self.writable()?;
        let (name, at) = (name.trim().to_string(), cairn_model::time::now_ms());
        let renamed = revoked_token_name(&name, &at);
        let done = self.run(async |c| {
            Ok(sqlx::query(
                "UPDATE tokens SET revoked_at = $2, name = $3 \
                 WHERE name = $1 AND revoked_at IS NULL",
            )
            .bind(&name)
            .bind(&at)
            .bind(&renamed)
            .execute(&mut *c)
            .await?
            .rows_affected())
        })?;
        Ok(done > 0)
    }
}
