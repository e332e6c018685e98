//! Who is calling: API tokens (`Authorization: Bearer`, or HTTP Basic with the
//! token as password for TAXII clients that only speak Basic), web sessions
//! signed in with a token, or an anonymous reader where the admin allowed it.
//! Rate limits apply per token, or per address without one.

use crate::errors::ApiError;
use crate::state::{App, Clearance, Session};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use cairn_kb::{Role, TokenGrant};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "cairn_session";
/// How long a web session lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a verified (or refused) token is remembered before the store is asked again.
const TOKEN_TTL: Duration = Duration::from_secs(5);

/// The caller of one request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The token, or none for an anonymous reader.
    pub(crate) grant: Option<TokenGrant>,
    /// For web sessions: the CSRF token their forms carry.
    pub(crate) csrf: Option<String>,
}

impl Caller {
    pub(crate) fn role(&self) -> Role {
        self.grant.as_ref().map_or(Role::Reader, |g| g.role)
    }
    /// Readers see TLP:AMBER and below; analysts and admins everything.
    pub(crate) fn clearance(&self) -> Clearance {
        if self.role() >= Role::Analyst {
            Clearance::Full
        } else {
            Clearance::Restricted
        }
    }
    pub(crate) fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role() >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(role.as_str()))
        }
    }
    /// Checks a form's CSRF field against the session's.
    pub(crate) fn check_csrf(&self, given: &str) -> Result<(), ApiError> {
        match &self.csrf {
            Some(expected) if constant_time_eq(expected.as_bytes(), given.as_bytes()) => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the form's CSRF token is missing or stale; reload the page",
            )),
        }
    }
    pub(crate) fn name(&self) -> &str {
        self.grant.as_ref().map_or("anonymous", |g| g.name.as_str())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes, hex.
pub(crate) fn random_hex() -> Result<String, ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(ApiError::internal)?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// The token in `Authorization: Bearer …` or `Authorization: Basic …` (password).
fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64_decode(rest.trim())?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

// Base64 for the one Basic-auth header; a crate for ten lines would be heavier than them.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len().saturating_sub(1);
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string())
}

fn client_key(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_string(), |ci| ci.0.ip().to_string())
}

impl App {
    /// The grant for a presented token, remembered for a few seconds.
    pub(crate) fn verify(&self, secret: &str) -> Result<Option<TokenGrant>, ApiError> {
        let now = Instant::now();
        if let Some((grant, at)) = self
            .inner
            .token_cache
            .lock()
            .map_err(ApiError::internal)?
            .get(secret)
            && now.duration_since(*at) < TOKEN_TTL
        {
            return Ok(grant.clone());
        }
        let grant = self.read_now(Clearance::Full, |s| Ok(s.verify_token(secret)?))?;
        let mut cache = self.inner.token_cache.lock().map_err(ApiError::internal)?;
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(secret.to_string(), (grant.clone(), now));
        Ok(grant)
    }

    /// Forgets remembered tokens (after a revocation).
    pub(crate) fn forget_tokens(&self) {
        if let Ok(mut c) = self.inner.token_cache.lock() {
            c.clear();
        }
        if let Ok(mut s) = self.inner.sessions.lock() {
            s.clear();
        }
    }

    fn limit(&self, key: String) -> Result<(), ApiError> {
        if let Some(l) = &self.inner.limiter
            && l.check_key(&key).is_err()
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit exceeded; slow down",
            ));
        }
        Ok(())
    }

    /// Counts a sign-in attempt from `parts`' address; refuses past the limit.
    pub(crate) fn limit_login(&self, who: &str) -> Result<(), ApiError> {
        if self
            .inner
            .login_limiter
            .check_key(&who.to_string())
            .is_err()
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many sign-in attempts; wait a minute",
            ));
        }
        Ok(())
    }

    fn session(&self, id: &str) -> Option<Session> {
        let mut sessions = self.inner.sessions.lock().ok()?;
        let s = sessions.get(id)?.clone();
        if s.expires < Instant::now() {
            sessions.remove(id);
            return None;
        }
        Some(s)
    }

    /// Starts a web session for `grant`; returns the session id.
    pub(crate) fn start_session(&self, grant: TokenGrant) -> Result<String, ApiError> {
        let id = random_hex()?;
        let session = Session {
            grant,
            csrf: random_hex()?,
            expires: Instant::now() + SESSION_TTL,
        };
        let mut sessions = self.inner.sessions.lock().map_err(ApiError::internal)?;
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(id.clone(), session);
        Ok(id)
    }

    pub(crate) fn end_session(&self, headers: &HeaderMap) {
        if let Some(id) = session_id(headers)
            && let Ok(mut s) = self.inner.sessions.lock()
        {
            s.remove(&id);
        }
    }
}

/// An API or TAXII caller: a token, or anonymous where allowed.
pub(crate) struct ApiCaller(pub(crate) Caller);

impl FromRequestParts<App> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = match presented_token(&parts.headers) {
            Some(secret) => {
                let grant = app.verify(&secret)?;
                match grant {
                    Some(g) => Caller {
                        grant: Some(g),
                        csrf: None,
                    },
                    None => {
                        // A wrong token is a 401 whatever the count (the
                        // scheme's answer to a bad credential); past the
                        // limit the message says to slow down.
                        let mut e = ApiError::unauthorized();
                        if app.limit_login(&client_key(parts)).is_err() {
                            e.message =
                                "too many invalid tokens from this address; wait a minute".into();
                        }
                        return Err(e);
                    }
                }
            }
            None if app.config().anonymous_read => Caller {
                grant: None,
                csrf: None,
            },
            None => return Err(ApiError::unauthorized()),
        };
        let key = match &caller.grant {
            Some(g) => format!("t{}", g.id),
            None => client_key(parts),
        };
        app.limit(key)?;
        Ok(ApiCaller(caller))
    }
}

/// A browser caller: a signed-in session, or anonymous where allowed;
/// otherwise the request is sent to the sign-in page.
pub(crate) struct WebCaller(pub(crate) Caller);

/// Sends an unauthenticated browser to the sign-in page.
pub(crate) enum WebReject {
    SignIn(String),
    Error(ApiError),
}

impl FromRequestParts<App> for WebCaller {
    type Rejection = WebReject;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = match session_id(&parts.headers).and_then(|id| app.session(&id)) {
            Some(s) => Caller {
                grant: Some(s.grant),
                csrf: Some(s.csrf),
            },
            None if app.config().anonymous_read => Caller {
                grant: None,
                csrf: None,
            },
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                return Err(WebReject::SignIn(next));
            }
        };
        let key = match &caller.grant {
            Some(g) => format!("t{}", g.id),
            None => client_key(parts),
        };
        app.limit(key).map_err(WebReject::Error)?;
        Ok(WebCaller(caller))
    }
}

/// The client's address, for sign-in rate limits.
pub(crate) struct ClientAddr(pub(crate) String);

impl FromRequestParts<App> for ClientAddr {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_key(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_password_is_the_token() {
        let mut h = HeaderMap::new();
        // "taxii:cairn_abc" in base64
        h.insert(
            header::AUTHORIZATION,
            "Basic dGF4aWk6Y2Fpcm5fYWJj".parse().unwrap(),
        );
        assert_eq!(presented_token(&h).as_deref(), Some("cairn_abc"));
        h.insert(header::AUTHORIZATION, "Bearer  cairn_xyz ".parse().unwrap());
        assert_eq!(presented_token(&h).as_deref(), Some("cairn_xyz"));
        h.insert(header::AUTHORIZATION, "Digest foo".parse().unwrap());
        assert_eq!(presented_token(&h), None);
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; cairn_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
