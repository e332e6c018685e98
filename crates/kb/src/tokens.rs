//! API tokens: who may call the server, with which role. Only a SHA-256 of
//! each token is stored ([`crate::backend::token_digest`]); the token itself
//! is shown once, at creation.

use crate::errors::KbError;
use crate::shared::{new_token_secret, revoked_token_name, token_digest, token_name};
use crate::{Store, now};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What a token may do. Ordered: each role can do what the ones below can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads what its TLP clearance allows (nothing above TLP:AMBER).
    Reader,
    /// Reads everything; ingests, hunts, records sightings.
    Analyst,
    /// Also manages tokens.
    Admin,
}

impl Role {
    /// `reader`, `analyst` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reader" => Ok(Role::Reader),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            _ => Err(format!(
                "unknown role `{s}` (expected reader, analyst or admin)"
            )),
        }
    }
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    /// Row id.
    pub id: i64,
    /// Who or what it is for.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    /// Row id.
    pub id: i64,
    /// Token name.
    pub name: String,
    /// Role.
    pub role: Role,
}

impl Store {
    /// Creates a token and returns its secret (shown once) with its listing.
    pub fn create_token(&mut self, name: &str, role: Role) -> Result<(String, Token), KbError> {
        let name = token_name(name)?;
        let secret = new_token_secret()?;
        let created = now();
        let n = self.conn.execute(
            "INSERT INTO tokens(name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(name) DO NOTHING",
            params![name, role.as_str(), token_digest(&secret), created],
        )?;
        if n == 0 {
            return Err(KbError::Invalid(format!(
                "a token named `{name}` exists; revoke it first or pick another name"
            )));
        }
        let id = self.conn.last_insert_rowid();
        Ok((
            secret,
            Token {
                id,
                name: name.to_string(),
                role,
                created_at: created,
                revoked_at: None,
            },
        ))
    }

    /// The grant for `secret`, if it is a live token.
    pub fn verify_token(&self, secret: &str) -> Result<Option<TokenGrant>, KbError> {
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row(
                "SELECT id, name, role FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
                [token_digest(secret)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.and_then(|(id, name, role)| {
            Some(TokenGrant {
                id,
                name,
                role: role.parse().ok()?,
            })
        }))
    }

    /// Every token, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<Token>, KbError> {
        let mut q = self
            .conn
            .prepare("SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY id")?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role, created_at, revoked_at) = row?;
            let role = role
                .parse()
                .map_err(|e: String| KbError::Invalid(format!("token {name}: {e}")))?;
            out.push(Token {
                id,
                name,
                role,
                created_at,
                revoked_at,
            });
        }
        Ok(out)
    }

    /// Revokes the live token called `name`; false when there is none.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool, KbError> {
        let (name, at) = (name.trim(), now());
        let n = self.conn.execute(
            "UPDATE tokens SET revoked_at = ?2, name = ?3 WHERE name = ?1 AND revoked_at IS NULL",
            params![name, at, revoked_token_name(name, &at)],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_revocable() {
        let mut s = Store::open_in_memory().unwrap();
        let (secret, tok) = s.create_token("siem", Role::Reader).unwrap();
        assert!(secret.starts_with("cairn_") && secret.len() == 70);
        let stored: String = s
            .conn
            .query_row("SELECT hash FROM tokens WHERE id = ?1", [tok.id], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(!stored.contains(&secret[6..]));
        let grant = s.verify_token(&secret).unwrap().unwrap();
        assert_eq!((grant.name.as_str(), grant.role), ("siem", Role::Reader));
        assert!(s.verify_token("cairn_nope").unwrap().is_none());
        assert!(s.create_token("siem", Role::Admin).is_err());
        assert!(s.revoke_token("siem").unwrap());
        assert!(s.verify_token(&secret).unwrap().is_none());
        // The name is free again once revoked.
        assert!(s.create_token("siem", Role::Analyst).is_ok());
        assert_eq!(s.tokens().unwrap().len(), 2);
        assert!(Role::Admin > Role::Analyst && Role::Analyst > Role::Reader);
    }
}
