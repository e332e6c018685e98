//! HTTP for feeds: conditional GETs, bounded retries with exponential
//! backoff, a size limit enforced while the body streams in, gzip and zip
//! bodies unpacked (within the same limit), truncation detected.

use crate::errors::FeedError;
use std::io::Read;
use std::time::Duration;

/// How requests are made. The defaults suit real feeds; tests shrink the
/// backoff.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the response headers, and for any one read of the body.
    pub read_timeout: Duration,
    /// Retries after the first attempt, on connect errors, 429 and 5xx.
    pub retries: u32,
    /// First backoff; doubled at each retry.
    pub backoff: Duration,
    /// Longest wait between attempts, `Retry-After` included.
    pub max_backoff: Duration,
    /// Largest body accepted, after decompression.
    pub max_bytes: u64,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

/// Credentials, read from the environment at run time.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer …`.
    Bearer(String),
    /// HTTP Basic.
    Basic(String, String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(…)"),
            Auth::Basic(u, _) => write!(f, "Basic({u}, …)"),
        }
    }
}

/// One GET's extras.
#[derive(Debug, Default, Clone)]
pub struct Request<'a> {
    /// `Accept`.
    pub accept: Option<&'a str>,
    /// Credentials.
    pub auth: Option<&'a Auth>,
    /// `If-None-Match`.
    pub etag: Option<&'a str>,
    /// `If-Modified-Since`.
    pub last_modified: Option<&'a str>,
}

/// A response worth reading.
#[derive(Debug)]
pub enum Fetched {
    /// 304: the validators still hold; nothing was transferred.
    NotModified,
    /// 2xx with its body (decompressed) and headers of interest.
    Body(Body),
}

/// A 2xx body.
#[derive(Debug)]
pub struct Body {
    /// The bytes, gzip/zip unpacked.
    pub bytes: Vec<u8>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// Response headers, lower-case names.
    pub headers: Vec<(String, String)>,
}

impl Body {
    /// A header's value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A client: one connection pool, one set of options.
pub struct Client {
    agent: ureq::Agent,
    opts: HttpOptions,
}

/// What one attempt came to.
enum Attempt {
    Done(Fetched),
    /// Worth another try, after at least this long.
    Retry(FeedError, Option<Duration>),
    Fail(FeedError),
}

impl Client {
    /// A client with these options.
    pub fn new(opts: HttpOptions) -> Client {
        let tls = ureq::tls::TlsConfig::builder()
            .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_recv_response(Some(opts.read_timeout))
            // Per read, not for the whole body: a large feed on a slow link is fine, a stall is not.
            .timeout_per_read(Some(opts.read_timeout))
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Client { agent, opts }
    }

    /// The options in force.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// GETs `url`, retrying transient failures with exponential backoff.
    pub fn get(&self, url: &str, req: &Request) -> Result<Fetched, FeedError> {
        let mut wait = self.opts.backoff;
        let attempts = self.opts.retries + 1;
        for n in 1..=attempts {
            match self.attempt(url, req) {
                Attempt::Done(f) => return Ok(f),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, after) => {
                    if n == attempts {
                        return Err(annotate(e, attempts));
                    }
                    let pause = after.unwrap_or(wait).min(self.opts.max_backoff);
                    std::thread::sleep(pause);
                    wait = wait.saturating_mul(2);
                }
            }
        }
        Err(FeedError::Transport {
            url: url.into(),
            message: "no attempt was made".into(),
        })
    }

    fn attempt(&self, url: &str, req: &Request) -> Attempt {
        let mut r = self.agent.get(url);
        if let Some(a) = req.accept {
            r = r.header("Accept", a);
        }
        if let Some(auth) = req.auth {
            r = r.header("Authorization", authorization(auth));
        }
        if let Some(e) = req.etag {
            r = r.header("If-None-Match", e);
        }
        if let Some(l) = req.last_modified {
            r = r.header("If-Modified-Since", l);
        }
        let res = match r.call() {
            Ok(res) => res,
            Err(e) => {
                let err = FeedError::Transport {
                    url: url.into(),
                    message: e.to_string(),
                };
                return match e {
                    ureq::Error::Io(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Timeout(_)
                    | ureq::Error::Protocol(_) => Attempt::Retry(err, None),
                    _ => Attempt::Fail(err),
                };
            }
        };
        let status = res.status().as_u16();
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_ascii_lowercase(), v.to_str().ok()?.into())))
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        if status == 304 {
            return Attempt::Done(Fetched::NotModified);
        }
        if status == 429 || status >= 500 {
            let after = get("retry-after").and_then(|v| retry_after(&v));
            return Attempt::Retry(
                FeedError::Status {
                    url: url.into(),
                    status,
                    detail: String::new(),
                },
                after,
            );
        }
        if !(200..300).contains(&status) {
            return Attempt::Fail(FeedError::Status {
                url: url.into(),
                status,
                detail: String::new(),
            });
        }
        let declared = get("content-length").and_then(|v| v.parse::<u64>().ok());
        let compressed = get("content-encoding").is_some();
        let limit = self.opts.max_bytes;
        let mut reader = res.into_body().into_reader().take(limit + 1);
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            // ureq holds a Content-Length body to its length: a short one is an error here.
            return Attempt::Retry(
                FeedError::Truncated {
                    url: url.into(),
                    message: format!("after {} bytes: {e}", bytes.len()),
                },
                None,
            );
        }
        if bytes.len() as u64 > limit {
            return Attempt::Fail(FeedError::TooLarge {
                url: url.into(),
                limit,
            });
        }
        if let Some(n) = declared.filter(|_| !compressed)
            && n != bytes.len() as u64
        {
            return Attempt::Retry(
                FeedError::Truncated {
                    url: url.into(),
                    message: format!("{} of {n} bytes", bytes.len()),
                },
                None,
            );
        }
        match unpack(url, bytes, limit) {
            Ok(bytes) => Attempt::Done(Fetched::Body(Body {
                bytes,
                etag: get("etag"),
                last_modified: get("last-modified"),
                headers,
            })),
            Err(e) => Attempt::Fail(e),
        }
    }
}

fn annotate(e: FeedError, attempts: u32) -> FeedError {
    let tail = format!(
        " (after {attempts} attempt{})",
        if attempts == 1 { "" } else { "s" }
    );
    match e {
        FeedError::Transport { url, message } => FeedError::Transport {
            url,
            message: message + &tail,
        },
        FeedError::Status { url, status, .. } => FeedError::Status {
            url,
            status,
            detail: tail,
        },
        FeedError::Truncated { url, message } => FeedError::Truncated {
            url,
            message: message + &tail,
        },
        other => other,
    }
}

fn authorization(a: &Auth) -> String {
    use base64::Engine;
    match a {
        Auth::Bearer(t) => format!("Bearer {t}"),
        Auth::Basic(u, p) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        ),
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(v: &str) -> Option<Duration> {
    if let Ok(s) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = httpdate::parse_http_date(v.trim()).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Gzip and zip bodies (by their magic bytes) unpacked, within `limit`.
pub fn unpack(url: &str, bytes: Vec<u8>, limit: u64) -> Result<Vec<u8>, FeedError> {
    let bounded = |r: &mut dyn Read, what: &str| -> Result<Vec<u8>, FeedError> {
        let mut out = Vec::new();
        r.take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| FeedError::Archive {
                url: url.into(),
                message: format!(
                    "{what} is corrupt or truncated after {} bytes: {e}",
                    out.len()
                ),
            })?;
        if out.len() as u64 > limit {
            return Err(FeedError::TooLarge {
                url: url.into(),
                limit,
            });
        }
        Ok(out)
    };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut d = flate2::read::MultiGzDecoder::new(&bytes[..]);
        return bounded(&mut d, "gzip stream");
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let archive_err = |e: zip::result::ZipError| FeedError::Archive {
            url: url.into(),
            message: format!("zip archive: {e}"),
        };
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).map_err(archive_err)?;
        let files: Vec<usize> = (0..z.len())
            .filter(|i| z.by_index(*i).is_ok_and(|f| f.is_file()))
            .collect();
        let [only] = files[..] else {
            return Err(FeedError::Archive {
                url: url.into(),
                message: format!(
                    "zip archive holds {} files; a feed must hold exactly one",
                    files.len()
                ),
            });
        };
        let mut f = z.by_index(only).map_err(archive_err)?;
        return bounded(&mut f, "zip member");
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_zip_bodies_are_unpacked_within_the_limit() {
        let plain = b"evil.example\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(unpack("u", gz.clone(), 1 << 20).unwrap(), plain);
        let small = unpack("u", gz.clone(), 100).unwrap_err();
        assert!(matches!(small, FeedError::TooLarge { .. }), "{small}");
        let cut = unpack("u", gz[..gz.len() / 2].to_vec(), 1 << 20).unwrap_err();
        assert!(cut.to_string().contains("truncated"), "{cut}");

        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            z.start_file("list.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&plain).unwrap();
            z.finish().unwrap();
        }
        assert_eq!(unpack("u", buf.into_inner(), 1 << 20).unwrap(), plain);
        assert_eq!(unpack("u", b"plain".to_vec(), 10).unwrap(), b"plain");
    }

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
