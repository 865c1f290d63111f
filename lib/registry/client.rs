//! The registry protocol (the OCI distribution specification, which Docker
//! Hub, GHCR, Quay and docker-registry speak) over ureq: manifests and blobs
//! fetched with the token (Bearer) or basic authentication the registry
//! asks for, TLS verified, every blob checked against its digest.

use crate::error::{Error, Result};
use crate::output::Output;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// The media types of manifests guestkit reads, as the Accept header lists them.
const MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// How guestkit reaches one registry.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Plain HTTP (only for a registry marked insecure in the config).
    pub insecure: bool,
    /// A CA file (PEM) to verify its certificate with; else the public CAs.
    pub ca_file: Option<std::path::PathBuf>,
    /// A user and password, for basic authentication or a token.
    pub credentials: Option<(String, String)>,
    /// Seconds to wait for an answer.
    pub timeout: Duration,
}

/// A connection to one registry, for one repository.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    host: String,
    repository: String,
    access: Access,
    /// The token or basic credentials the registry accepted last.
    authorization: std::cell::RefCell<Option<String>>,
}

/// A manifest as fetched: its digest, media type and bytes.
pub struct Fetched {
    /// `sha256:…` of its bytes.
    pub digest: String,
    /// Its media type, from the answer's Content-Type.
    pub media_type: String,
    /// The manifest itself.
    pub bytes: Vec<u8>,
}

impl Client {
    /// A client of `repository` on `host`.
    /// `name` is the registry as the user names it (`docker.io`), `host`
    /// where its API answers (`registry-1.docker.io`).
    pub fn new(name: &str, host: &str, repository: &str, access: Access) -> Result<Client> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = &access.ca_file {
            let key = format!("the CA file (registries.\"{name}\".ca_file)");
            tls = tls.root_certs(crate::os::tls::ca_roots(path, &key)?);
        }
        let config = ureq::config::Config::builder()
            .http_status_as_error(false)
            .https_only(!access.insecure)
            .user_agent(concat!("guestkit/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_recv_response(Some(access.timeout))
            // A blob's body gets a bound of its size's own (`blob`).
            .timeout_recv_body(Some(access.timeout))
            // Blobs are often served from elsewhere (a CDN): followed, and
            // ureq sends no Authorization header to another host.
            .max_redirects(5)
            .tls_config(tls.build())
            .build();
        let scheme = if access.insecure { "http" } else { "https" };
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            base: format!("{scheme}://{host}/v2/{repository}"),
            host: name.to_string(),
            repository: repository.to_string(),
            access,
            authorization: Default::default(),
        })
    }

    /// GET `url`, authenticating as the registry asks (once per client).
    fn get(
        &self,
        url: &str,
        accept: &str,
        body_timeout: Option<Duration>,
        out: &Output,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let send = |auth: Option<&str>| {
            out.trace(&format!("GET {url}"));
            let mut req = self.agent.get(url).header("Accept", accept);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            match body_timeout {
                Some(t) => req.config().timeout_recv_body(Some(t)).build().call(),
                None => req.call(),
            }
            .map_err(|e| self.unreachable(e))
        };
        let auth = self.authorization.borrow().clone();
        let resp = send(auth.as_deref())?;
        // A token expires (Docker Hub's after five minutes): one more is
        // asked for; basic credentials refused once are refused.
        let expired = auth.as_deref().is_some_and(|a| a.starts_with("Bearer "));
        if resp.status() != 401 || (auth.is_some() && !expired) {
            return self.checked(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let auth = self.authorize(&challenge, out)?;
        *self.authorization.borrow_mut() = Some(auth.clone());
        self.checked(send(Some(&auth))?)
    }

    /// The Authorization header a 401's challenge asks for: basic
    /// credentials, or a token from the realm it names.
    fn authorize(&self, challenge: &str, out: &Output) -> Result<String> {
        use base64::Engine as _;
        let basic = self.access.credentials.as_ref().map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.ok_or_else(|| {
                Error::denied(format!("registry {} asks for a user and password", self.host))
                    .with_hint(format!(
                        "give them in the config ([registries.\"{}\"] username and password) or log in with podman login or docker login",
                        self.host
                    ))
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::failed(format!(
                "registry {} asks for authentication guestkit does not know: {challenge:?}",
                self.host
            )));
        }
        let param = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        let realm = param("realm").ok_or_else(|| {
            Error::failed(format!(
                "registry {} asked for a token without saying where to get it",
                self.host
            ))
        })?;
        let scope =
            param("scope").unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut url = realm.clone();
        url.push(if realm.contains('?') { '&' } else { '?' });
        url.push_str(&format!("scope={}", query_escape(&scope)));
        if let Some(s) = param("service") {
            url.push_str(&format!("&service={}", query_escape(&s)));
        }
        out.trace(&format!("GET {url}"));
        let mut req = self.agent.get(&url);
        if let Some(b) = &basic {
            req = req.header("Authorization", b);
        }
        let mut resp = req.call().map_err(|e| self.unreachable(e))?;
        if resp.status() == 401 || resp.status() == 403 {
            return Err(self.refused());
        }
        let status = resp.status();
        let body: serde_json::Value = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| {
                Error::failed(format!(
                    "registry {}'s token service answered {status}: {e}",
                    self.host
                ))
            })?;
        let token = body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .ok_or_else(|| {
                Error::failed(format!(
                    "registry {}'s token service gave no token",
                    self.host
                ))
            })?;
        Ok(format!("Bearer {token}"))
    }

    fn refused(&self) -> Error {
        match self.access.credentials {
            Some(_) => Error::denied(format!(
                "registry {} refused the user and password given for it",
                self.host
            ))
            .with_hint("check them in the config ([registries]) or the login file"),
            None => Error::denied(format!(
                "registry {} refused to give {} without logging in{}",
                self.host,
                self.repository,
                if self.host == "docker.io" {
                    " (Docker Hub answers so for a repository that does not exist, too)"
                } else {
                    ""
                }
            ))
            .with_hint(format!(
                "give a user and password for it in the config ([registries.\"{}\"]), or log in with podman login or docker login",
                self.host
            )),
        }
    }

    /// A transport failure: the registry does not answer, or its
    /// certificate is not trusted.
    fn unreachable(&self, e: ureq::Error) -> Error {
        let text = e.to_string();
        let text = text.strip_prefix("io: ").unwrap_or(&text);
        if text.contains("certificate") || text.contains("Certificate") {
            return Error::unavailable(format!(
                "registry {} presented a certificate that is not trusted here: {text}",
                self.host
            ))
            .with_hint(format!(
                "give its CA in the config ([registries.\"{}\"] ca_file)",
                self.host
            ));
        }
        Error::unavailable(format!("registry {} does not answer: {text}", self.host))
            .with_hint("check the registry's address and that it is up")
    }

    /// A response, or the error its status says.
    fn checked(
        &self,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_string()
            .unwrap_or_default();
        let codes: Vec<String> = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["errors"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| {
                e["message"]
                    .as_str()
                    .or(e["code"].as_str())
                    .map(str::to_string)
            })
            .collect();
        let said = match codes.is_empty() {
            true => format!("HTTP {status}"),
            false => codes.join("; "),
        };
        Err(match status {
            401 | 403 => self.refused(),
            404 => Error::not_found(format!(
                "registry {} has no {} ({said})",
                self.host, self.repository
            )),
            _ => Error::failed(format!("registry {} answered {said}", self.host)),
        })
    }

    /// The manifest (or index) `reference` names: a tag or a digest.
    pub fn manifest(&self, reference: &str, out: &Output) -> Result<Fetched> {
        let url = format!("{}/manifests/{reference}", self.base);
        let mut resp = self
            .get(&url, MANIFESTS, None, out)
            .map_err(|e| match e.kind {
                crate::error::Kind::NotFound => Error::not_found(format!(
                    "registry {} has no {}:{reference}",
                    self.host, self.repository
                ))
                .with_hint("check the repository and tag"),
                _ => e,
            })?;
        let media_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(4 << 20)
            .read_to_vec()
            .map_err(|e| Error::failed(format!("registry {}: {e}", self.host)))?;
        let digest = sha256(&bytes);
        if reference.starts_with("sha256:") && reference != digest {
            return Err(Error::invalid(format!(
                "registry {} sent a manifest whose digest is {digest}, not {reference}",
                self.host
            )));
        }
        Ok(Fetched {
            digest,
            media_type,
            bytes,
        })
    }

    /// Downloads blob `digest` of `size` bytes into `file`, checking both;
    /// `progress` is told the bytes received so far.
    pub fn blob(
        &self,
        digest: &str,
        size: u64,
        file: &Path,
        progress: &dyn Fn(u64),
        out: &Output,
    ) -> Result<()> {
        let url = format!("{}/blobs/{digest}", self.base);
        // The whole body in the usual timeout, and a second for each
        // 64 KiB: a large layer on a slow link is not cut off.
        let bound = self.access.timeout + Duration::from_secs(size / (64 << 10));
        let resp = self.get(&url, "*/*", Some(bound), out)?;
        let mut reader = resp.into_body().into_with_config().limit(size + 1).reader();
        let mut f = std::fs::File::create(file).map_err(|e| Error::io("cannot create", file, e))?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) if got >= size => {
                    return Err(Error::invalid(format!(
                        "registry {} sent more than the {size} bytes of blob {digest}: nothing of it was kept",
                        self.host
                    )));
                }
                Err(e) => {
                    return Err(Error::unavailable(format!(
                        "registry {}: the download of {digest} broke off after {got} bytes: {e}",
                        self.host
                    )));
                }
            };
            ctx.update(&buf[..n]);
            f.write_all(&buf[..n])
                .map_err(|e| Error::io("cannot write", file, e))?;
            got += n as u64;
            progress(got);
            if crate::os::signals::interrupted() {
                return Err(Error::failed("interrupted").with_exit(130));
            }
        }
        let found = format!("sha256:{}", hex(ctx.finish().as_ref()));
        if got != size || found != digest {
            return Err(Error::invalid(format!(
                "registry {} sent {got} bytes whose digest is {found} for blob {digest} of {size} bytes: nothing of it was kept",
                self.host
            )));
        }
        f.sync_all().map_err(|e| Error::io("cannot write", file, e))
    }
}

/// A WWW-Authenticate header's scheme and parameters:
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`.
/// Values may be quoted, and quoted ones may hold commas.
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let (value, next) = match after.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            },
            None => match after.find(',') {
                Some(end) => (after[..end].trim().to_string(), &after[end..]),
                None => (after.trim().to_string(), ""),
            },
        };
        params.push((key.trim().to_string(), value));
        rest = next;
    }
    (scheme.to_string(), params)
}

/// A query string value, percent-encoded but for what URLs keep as it is.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `sha256:HEX` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{parse_challenge, query_escape};

    #[test]
    fn challenges_as_registries_send_them() {
        // Docker Hub's, for a pull of library/alpine.
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            [
                (
                    "realm".to_string(),
                    "https://auth.docker.io/token".to_string()
                ),
                ("service".to_string(), "registry.docker.io".to_string()),
                (
                    "scope".to_string(),
                    "repository:library/alpine:pull".to_string()
                ),
            ]
        );
        // A quoted value with a comma, and docker-registry's htpasswd one.
        let (_, params) =
            parse_challenge(r#"Bearer realm="https://r/t",scope="repository:a/b:pull,push""#);
        assert_eq!(params[1].1, "repository:a/b:pull,push");
        let (scheme, params) = parse_challenge(r#"Basic realm="gk""#);
        assert_eq!((scheme.as_str(), params[0].1.as_str()), ("Basic", "gk"));
        assert_eq!(
            query_escape("repository:a/b:pull,push"),
            "repository:a/b:pull%2Cpush"
        );
    }
}
