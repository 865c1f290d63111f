//! The Proxmox VE REST API client: one agent per process, several API URLs
//! tried in order, token or ticket authentication, errors decoded as the
//! server sends them and mapped to guestkit's kinds.
//!
//! Retries: a request that never reached a server (connection refused, TLS
//! failure) goes to the next URL, whatever its method. A GET is idempotent,
//! so it is also retried with backoff after a lost connection, a proxy
//! timeout (596) or an overloaded server. A write is never repeated blindly:
//! when its fate is unknown, the caller gets `Fail::uncertain` and re-reads
//! the guest's state.

use super::tls::{self, Trust};
use crate::config::ProxmoxConfig;
use crate::config::secret::{self, Secret};
use crate::error::{Error, Kind, Result};
use crate::output::Output;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Tickets live two hours; renew well before.
const TICKET_RENEW_AFTER: Duration = Duration::from_secs(90 * 60);
/// Pauses between the attempts of an idempotent request.
const GET_BACKOFF_MS: &[u64] = &[100, 300, 900];

/// A connection to the cluster, owning what it was made from, so that a
/// backend can keep one for the whole run.
pub struct Client {
    agent: ureq::Agent,
    /// `https://host:8006/api2/json`, in the order given.
    urls: Vec<String>,
    /// The URL that answered last: requests go there first.
    preferred: AtomicUsize,
    auth: Auth,
    /// Where warnings, progress and `--verbose` traces go.
    pub out: Output,
    /// The settings it was made from (the default node and storage among them).
    pub cfg: ProxmoxConfig,
    /// How long operations keep retrying a locked guest.
    pub lock_wait: Duration,
    /// A dry run: every read a real run makes, and no write. The operations
    /// stop before their write and say what it would do; `write` refuses,
    /// so that a write a dry run reaches is a bug found, not a change made.
    pub dry_run: bool,
}

enum Auth {
    /// The whole `Authorization` header value.
    Token(Secret),
    Ticket {
        user: String,
        password: Secret,
        session: RwLock<Option<Session>>,
    },
}

#[derive(Clone)]
struct Session {
    ticket: Secret,
    csrf: Secret,
    since: Instant,
}

/// An HTTP method of the API: GET reads; the others write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A read: retried with backoff when that is safe.
    Get,
    /// Creates or acts (start, stop, snapshot…); many answer with a UPID.
    Post,
    /// Changes (a config, a disk's size).
    Put,
    /// Removes (a VM, a snapshot).
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A failed request. `uncertain`: a write whose request may have been
/// carried out (lost connection, 596): re-read state before doing anything.
#[derive(Debug)]
pub struct Fail {
    /// What went wrong, with its kind.
    pub error: Error,
    /// The write may have been carried out.
    pub uncertain: bool,
    /// The HTTP status of an error answer; `None` when none came.
    pub status: Option<u16>,
    /// The connection broke after the request was sent.
    pub lost: bool,
}

impl From<Fail> for Error {
    fn from(f: Fail) -> Error {
        f.error
    }
}

/// A request's parameters, as name and value; a name may repeat.
pub type Params<'p> = &'p [(&'p str, String)];

impl Client {
    /// A client for the configured URLs, trust and credentials, its secrets
    /// resolved (a `*_command` run). Nothing is sent yet: a ticket login waits
    /// for the first request. Fails on a bad URL, fingerprint or CA file, or
    /// when no credentials are configured.
    pub fn connect(cfg: &ProxmoxConfig, out: &Output) -> Result<Client> {
        let urls = cfg
            .url
            .iter()
            .map(|u| api_base(u))
            .collect::<Result<Vec<_>>>()?;
        if urls.is_empty() {
            return Err(Error::unavailable("no Proxmox VE API URL is configured").with_hint(
                "set GUESTKIT_PVE_URL=https://pve1:8006 (several, comma-separated, for failover) or proxmox.url in the config file",
            ));
        }
        let trust = if let Some(f) = &cfg.fingerprint {
            Trust::Pinned(
                f.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(tls::parse_fingerprint)
                    .collect::<Result<_>>()?,
            )
        } else if let Some(ca) = &cfg.ca_file {
            Trust::CaFile(ca.clone())
        } else if cfg.insecure {
            out.warn("TLS certificate verification is off (proxmox.insecure): anyone on the path to the server can read the credentials; pin its fingerprint instead");
            Trust::Insecure
        } else {
            Trust::PublicCas
        };
        let timeout = Duration::from_secs_f64(cfg.timeout.unwrap_or(30.0).max(0.1));
        let agent = tls::agent(&trust, timeout, out)?;
        let token = secret::resolve(
            "token",
            cfg.token.as_ref().map(Secret::expose),
            cfg.token_file.as_deref(),
            cfg.token_command.as_deref(),
            timeout,
        )?;
        let auth = match (token, &cfg.user) {
            (Some(t), _) => Auth::Token(token_header(&t)?),
            (None, Some(user)) => {
                let password = secret::resolve(
                    "password",
                    cfg.password.as_ref().map(Secret::expose),
                    cfg.password_file.as_deref(),
                    cfg.password_command.as_deref(),
                    timeout,
                )?
                .ok_or_else(|| {
                    Error::denied(format!("no password for Proxmox VE user {user}")).with_hint(
                        "set GUESTKIT_PVE_PASSWORD, or proxmox.password, password_file or password_command",
                    )
                })?;
                Auth::Ticket {
                    user: user.clone(),
                    password,
                    session: RwLock::new(None),
                }
            }
            (None, None) => {
                return Err(Error::denied("no Proxmox VE credentials are configured").with_hint(
                    "set GUESTKIT_PVE_TOKEN=USER@REALM!TOKENID=SECRET, or proxmox.token (token_file, token_command), or proxmox.user with a password",
                ));
            }
        };
        Ok(Client {
            agent,
            urls,
            preferred: AtomicUsize::new(0),
            auth,
            out: out.clone(),
            cfg: cfg.clone(),
            lock_wait: Duration::from_secs_f64(cfg.lock_wait.unwrap_or(10.0).max(0.0)),
            dry_run: false,
        })
    }

    /// A GET's `data`, retried with backoff when that is safe.
    pub fn get(&self, path: &str, query: Params) -> Result<Value> {
        self.get_as(path, query)
    }

    /// A GET's `data` read straight into `T`: much faster than a `Value`
    /// for big answers (a cluster's resources).
    pub fn get_as<T: DeserializeOwned>(&self, path: &str, query: Params) -> Result<T> {
        data_of(path, &self.get_body(path, query)?).map_err(|f| f.error)
    }

    /// A page of a list that also has a `total` (a task log).
    pub fn get_page(&self, path: &str, query: Params) -> Result<(Value, Option<u64>)> {
        #[derive(serde::Deserialize)]
        struct Page {
            data: Value,
            // A number or a numeric string, as anything the server sends.
            #[serde(default)]
            total: super::lenient::Field<u64>,
        }
        let body = self.get_body(path, query)?;
        let p: Page = serde_json::from_str(&body)
            .map_err(|e| Error::failed(format!("unexpected answer from {path}: {e}")))?;
        Ok((p.data, p.total.get()))
    }

    /// A GET's whole body, retried with backoff when that is safe.
    fn get_body(&self, path: &str, query: Params) -> Result<String> {
        let mut attempt = 0;
        loop {
            match self.call(Method::Get, path, query) {
                Ok(body) => return Ok(body),
                Err(f) if retryable_read(&f) && attempt < GET_BACKOFF_MS.len() => {
                    self.out.trace(&format!(
                        "GET {path}: {}; retrying in {} ms",
                        f.error.message, GET_BACKOFF_MS[attempt]
                    ));
                    std::thread::sleep(Duration::from_millis(GET_BACKOFF_MS[attempt]));
                    attempt += 1;
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    /// A write: sent once (to the next URL only when it never arrived).
    pub fn write(&self, method: Method, path: &str, params: Params) -> Result<Value, Fail> {
        if self.dry_run {
            let e = Error::failed(format!(
                "internal error: a dry run came to send {} {path}",
                method.as_str()
            ))
            .with_hint("this is a bug in guestkit; nothing was sent");
            return Err(Fail {
                error: e,
                uncertain: false,
                status: None,
                lost: false,
            });
        }
        data_of(path, &self.call(method, path, params)?)
    }

    /// One request, with failover between URLs and one new login when a
    /// ticket has expired.
    /// The body of a successful answer.
    fn call(&self, method: Method, path: &str, params: Params) -> Result<String, Fail> {
        let mut relogged = false;
        loop {
            let headers = self.auth_headers(method)?;
            let cookie = headers
                .iter()
                .find(|(k, _)| *k == "Cookie")
                .map(|(_, v)| v.clone());
            match self.send(method, path, params, &headers) {
                Err(f)
                    if f.status == Some(401)
                        && !relogged
                        && matches!(self.auth, Auth::Ticket { .. }) =>
                {
                    // A 401 was not carried out, so sending again is safe.
                    self.out
                        .trace("the ticket was refused (expired?); logging in again");
                    self.drop_session(cookie.as_deref());
                    relogged = true;
                }
                other => return other,
            }
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        params: Params,
        headers: &[(&'static str, String)],
    ) -> Result<String, Fail> {
        let n = self.urls.len();
        let first = self.preferred.load(Ordering::Relaxed);
        let mut unreachable = Vec::new();
        let mut tls_failure: Option<Error> = None;
        for i in 0..n {
            let idx = (first + i) % n;
            let base = &self.urls[idx];
            let started = Instant::now();
            let result = self.request(method, base, path, params, headers);
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(resp) => {
                    self.preferred.store(idx, Ordering::Relaxed);
                    let status = resp.status().as_u16();
                    self.out.trace(&format!(
                        "{} {}{path} -> {status} in {ms:.1} ms",
                        method.as_str(),
                        host_of(base)
                    ));
                    return decode(method, path, resp);
                }
                Err(e) => {
                    let host = host_of(base);
                    self.out.trace(&format!(
                        "{} {host}{path} failed after {ms:.1} ms: {e}",
                        method.as_str()
                    ));
                    match transport_failure(&e) {
                        Transport::NotSent(why) => unreachable.push(format!("{host} ({why})")),
                        Transport::Tls(err) => {
                            unreachable.push(format!("{host} (TLS: {})", err.message));
                            tls_failure.get_or_insert(err);
                        }
                        Transport::Lost(err) => {
                            return Err(Fail {
                                error: err,
                                uncertain: method != Method::Get,
                                status: None,
                                lost: true,
                            });
                        }
                    }
                }
            }
        }
        let error = match tls_failure {
            Some(e) if unreachable.len() == 1 => e,
            Some(e) => Error::new(
                e.kind,
                format!("no Proxmox VE API URL answered: {}", unreachable.join(", ")),
            )
            .with_hint(e.hint.unwrap_or_default()),
            None => Error::unavailable(format!(
                "cannot reach the Proxmox VE API: {}",
                unreachable.join(", ")
            ))
            .with_hint("check that the nodes are up and that GUESTKIT_PVE_URL (proxmox.url) lists them, port 8006"),
        };
        Err(Fail {
            error,
            uncertain: false,
            status: None,
            lost: false,
        })
    }

    fn request(
        &self,
        method: Method,
        base: &str,
        path: &str,
        params: Params,
        headers: &[(&'static str, String)],
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let encoded = form_encode(params);
        let with_query = |p: &str| {
            if encoded.is_empty() {
                format!("{base}{p}")
            } else {
                format!("{base}{p}?{encoded}")
            }
        };
        macro_rules! headed {
            ($req:expr) => {{
                let mut r = $req;
                for (k, v) in headers {
                    r = r.header(*k, v.as_str());
                }
                r
            }};
        }
        match method {
            Method::Get => headed!(self.agent.get(with_query(path))).call(),
            Method::Delete => headed!(self.agent.delete(with_query(path))).call(),
            Method::Post | Method::Put => {
                let url = format!("{base}{path}");
                let req = if method == Method::Post {
                    self.agent.post(url)
                } else {
                    self.agent.put(url)
                };
                headed!(req)
                    .content_type("application/x-www-form-urlencoded")
                    .send(encoded.as_bytes())
            }
        }
    }

    fn auth_headers(&self, method: Method) -> Result<Vec<(&'static str, String)>, Fail> {
        match &self.auth {
            Auth::Token(h) => Ok(vec![("Authorization", h.expose().to_string())]),
            Auth::Ticket { .. } => {
                let s = self.session()?;
                let mut h = vec![("Cookie", format!("PVEAuthCookie={}", s.ticket.expose()))];
                if method != Method::Get {
                    h.push(("CSRFPreventionToken", s.csrf.expose().to_string()));
                }
                Ok(h)
            }
        }
    }

    /// The current ticket, logging in (or renewing) first when needed.
    fn session(&self) -> Result<Session, Fail> {
        let Auth::Ticket {
            user,
            password,
            session,
        } = &self.auth
        else {
            unreachable!("session() is only called with ticket authentication");
        };
        if let Some(s) = session.read().unwrap().as_ref()
            && s.since.elapsed() < TICKET_RENEW_AFTER
        {
            return Ok(s.clone());
        }
        let mut guard = session.write().unwrap();
        if let Some(s) = guard.as_ref()
            && s.since.elapsed() < TICKET_RENEW_AFTER
        {
            return Ok(s.clone());
        }
        // Renew by presenting the current ticket as the password; log in
        // with the password when there is none or it is refused.
        let mut secrets: Vec<Secret> = guard.take().map(|s| s.ticket).into_iter().collect();
        secrets.push(password.clone());
        let mut refused = None;
        for secret in secrets {
            let params = [
                ("username", user.clone()),
                ("password", secret.expose().to_string()),
            ];
            self.out
                .trace(&format!("logging in to Proxmox VE as {user}"));
            match self
                .send(Method::Post, "/access/ticket", &params, &[])
                .and_then(|body| data_of::<Value>("/access/ticket", &body))
            {
                Ok(data) => {
                    let new = login_session(&data)?;
                    *guard = Some(new.clone());
                    return Ok(new);
                }
                Err(f) if f.status == Some(401) => refused = Some(f),
                // A login changes nothing: the write it was for was not sent.
                Err(f) => {
                    return Err(Fail {
                        uncertain: false,
                        ..f
                    });
                }
            }
        }
        let mut f = refused.expect("at least the password was tried");
        f.error = Error::denied(format!(
            "Proxmox VE refused the login of {user}: {}",
            f.error
                .message
                .trim_start_matches("Proxmox VE refused the credentials: ")
        ))
        .with_hint("check the user (with its realm, e.g. root@pam) and the password");
        Err(f)
    }

    /// Forgets the session whose cookie was refused, unless another thread
    /// has replaced it already (with --jobs, many may see the same 401).
    fn drop_session(&self, refused_cookie: Option<&str>) {
        if let Auth::Ticket { session, .. } = &self.auth {
            let mut s = session.write().unwrap();
            let current = s
                .as_ref()
                .map(|s| format!("PVEAuthCookie={}", s.ticket.expose()));
            if current.as_deref() == refused_cookie {
                *s = None;
            }
        }
    }
}

fn login_session(data: &Value) -> Result<Session, Fail> {
    let field = |k: &str| data.get(k).and_then(Value::as_str).map(Secret::new);
    match (field("ticket"), field("CSRFPreventionToken")) {
        (Some(ticket), Some(csrf)) => Ok(Session {
            ticket,
            csrf,
            since: Instant::now(),
        }),
        _ => Err(Fail {
            error: Error::failed("the login answer has no ticket"),
            uncertain: false,
            status: None,
            lost: false,
        }),
    }
}

/// `USER@REALM!TOKENID=SECRET` → the Authorization header value.
fn token_header(t: &Secret) -> Result<Secret> {
    let v = t.expose().trim();
    let v = v.strip_prefix("PVEAPIToken=").unwrap_or(v);
    let ok = match v.rsplit_once('=') {
        Some((id, secret)) => id.contains('@') && id.contains('!') && !secret.is_empty(),
        None => false,
    };
    if !ok {
        // Never echo the value: it may be the secret alone.
        return Err(Error::invalid(
            "bad Proxmox VE API token: expected USER@REALM!TOKENID=SECRET",
        )
        .with_hint("the web UI shows the secret once, when the token is made under Datacenter > Permissions > API Tokens"));
    }
    Ok(Secret::new(format!("PVEAPIToken={v}")))
}

/// `https://pve1:8006` (or `pve1`, `pve1:8006`, with or without
/// `/api2/json`) → `https://pve1:8006/api2/json`.
pub fn api_base(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    let u = u.strip_suffix("/api2/json").unwrap_or(u);
    if u.starts_with("http://") {
        return Err(Error::invalid(format!(
            "Proxmox VE URL {u} is plain http: credentials would cross the network in clear"
        ))
        .with_hint("use https:// (pveproxy serves HTTPS on port 8006)"));
    }
    let rest = u.strip_prefix("https://").unwrap_or(u);
    if rest.is_empty() || rest.contains(['/', ' ', '?', '#', '@']) {
        return Err(Error::invalid(format!(
            "bad Proxmox VE URL {url:?}: expected https://HOST[:PORT]"
        )));
    }
    let host_port = if rest.starts_with('[') {
        if rest.contains("]:") {
            rest.to_string()
        } else {
            format!("{rest}:8006")
        }
    } else if rest.contains(':') {
        rest.to_string()
    } else {
        format!("{rest}:8006")
    };
    Ok(format!("https://{host_port}/api2/json"))
}

fn host_of(base: &str) -> &str {
    base.trim_start_matches("https://")
        .trim_end_matches("/api2/json")
}

/// Percent-encodes everything but unreserved characters: PVE splits pairs
/// on `;` as well as `&`, and reads `+` as a space.
pub fn form_encode(params: Params) -> String {
    let enc = |s: &str| {
        let mut o = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                o.push(b as char);
            } else {
                o.push_str(&format!("%{b:02X}"));
            }
        }
        o
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

enum Transport {
    /// The request never reached a server: try the next URL.
    NotSent(String),
    /// The TLS handshake failed: the server is not the one we trust.
    Tls(Error),
    /// The connection broke after the request may have been sent.
    Lost(Error),
}

fn transport_failure(e: &ureq::Error) -> Transport {
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::Other(inner) => {
            if let Some(m) = inner.downcast_ref::<tls::PinMismatch>() {
                return Transport::Tls(Error::denied(m.to_string()).with_hint(
                    "if the certificate was renewed on purpose, pin the new fingerprint (GUESTKIT_PVE_FINGERPRINT or proxmox.fingerprint); otherwise something is in the way",
                ));
            }
            if let Some(h) = inner.downcast_ref::<tls::HandshakeFailed>() {
                return Transport::NotSent(h.to_string());
            }
            Transport::Lost(Error::unavailable(format!("connection failed: {inner}")))
        }
        ureq::Error::Rustls(r) => Transport::Tls(tls_error(&r.to_string())),
        ureq::Error::Tls(m) => Transport::Tls(tls_error(m)),
        ureq::Error::HostNotFound => Transport::NotSent("host not found".into()),
        ureq::Error::ConnectProxyFailed(why) => {
            Transport::NotSent(format!("the proxy refused: {why}"))
        }
        ureq::Error::ConnectionFailed => Transport::NotSent("connection failed".into()),
        ureq::Error::Timeout(t) => match t {
            ureq::Timeout::Resolve | ureq::Timeout::Connect => {
                Transport::NotSent("connect timed out".into())
            }
            _ => Transport::Lost(
                Error::timeout("the Proxmox VE API did not answer in time")
                    .with_hint("raise proxmox.timeout (seconds) if the cluster is slow"),
            ),
        },
        ureq::Error::Io(io) => match io.kind() {
            K::ConnectionRefused
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::AddrNotAvailable => Transport::NotSent(crate::error::plain_io(io)),
            K::InvalidData if io.to_string().contains("certificate") => {
                Transport::Tls(tls_error(&io.to_string()))
            }
            K::UnexpectedEof => Transport::Lost(Error::unavailable(
                "the server closed the connection without answering",
            )),
            K::TimedOut => {
                Transport::Lost(Error::timeout("the Proxmox VE API did not answer in time"))
            }
            _ => Transport::Lost(Error::unavailable(format!(
                "the connection to the Proxmox VE API broke: {}",
                crate::error::plain_io(io)
            ))),
        },
        other => Transport::Lost(Error::unavailable(format!(
            "the connection to the Proxmox VE API broke: {other}"
        ))),
    }
}

fn tls_error(detail: &str) -> Error {
    Error::denied(format!("the server's certificate is not trusted: {detail}")).with_hint(
        "pin the certificate's SHA-256 fingerprint (GUESTKIT_PVE_FINGERPRINT, as the web UI shows it) or give the cluster CA (GUESTKIT_PVE_CA=pve-root-ca.pem)",
    )
}

fn retryable_read(f: &Fail) -> bool {
    match f.status {
        Some(s) => matches!(s, 502..=504 | 595 | 596),
        None => f.lost,
    }
}

#[derive(serde::Deserialize)]
struct Envelope<T> {
    data: T,
}

/// The `data` of a successful answer's body.
fn data_of<T: DeserializeOwned>(path: &str, body: &str) -> Result<T, Fail> {
    serde_json::from_str::<Envelope<T>>(body)
        .map(|e| e.data)
        .map_err(|e| Fail {
            error: Error::failed(format!("unexpected answer from {path}: {e}")),
            uncertain: false,
            status: None,
            lost: false,
        })
}

/// The body of a success, or the server's error as an `Error`.
fn decode(
    method: Method,
    path: &str,
    resp: ureq::http::Response<ureq::Body>,
) -> Result<String, Fail> {
    let status = resp.status().as_u16();
    let reason = tls::take_reason();
    let mut body = resp.into_body();
    let text = match body.with_config().limit(64 * 1024 * 1024).read_to_string() {
        Ok(t) => t,
        // The answer broke off: as with a lost connection, the request may
        // have been carried out.
        Err(e) => {
            return Err(Fail {
                error: Error::unavailable(format!(
                    "the answer from the Proxmox VE API broke off: {e}"
                )),
                uncertain: method != Method::Get,
                status: Some(status).filter(|s| !(200..300).contains(s)),
                lost: true,
            });
        }
    };
    if (200..300).contains(&status) {
        return Ok(text);
    }
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let message = json
        .get("message")
        .and_then(Value::as_str)
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .or(reason.filter(|r| !r.is_empty()))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let errors: Vec<String> = json
        .get("errors")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("").trim()))
                .collect()
        })
        .unwrap_or_default();
    let mut error = match status {
        401 => Error::denied(format!("Proxmox VE refused the credentials: {message}")).with_hint(
            "check the API token (GUESTKIT_PVE_TOKEN or proxmox.token): its user, token id and secret, and that it has not expired",
        ),
        403 => Error::denied(message).with_hint(
            "the user or token lacks this privilege; with privilege separation a token needs its own ACL entry (pveum acl modify PATH --tokens ID --roles ROLE)",
        ),
        400 if !errors.is_empty() => Error::invalid(format!(
            "{}: {}",
            message.trim_end_matches('.'),
            errors.join("; ")
        )),
        501 => Error::failed(format!("{message} (this Proxmox VE server does not offer {} {path})", method.as_str())),
        595 => Error::unavailable(format!("{message}: the node could not be reached")).with_hint(
            "the node is down or unreachable from the node that was asked; check it with vm-list or pvecm status",
        ),
        596 => Error::timeout(format!("{message}: the node did not answer in time")),
        502..=504 => Error::unavailable(message),
        _ => Error::new(classify(&message), message),
    };
    if error.kind == Kind::Failed && status == 400 {
        error.kind = Kind::InvalidInput;
    }
    Err(Fail {
        error,
        uncertain: status == 596 && method != Method::Get,
        status: Some(status),
        lost: false,
    })
}

/// The kind of a Proxmox VE error text, whether a request's or a task's.
pub fn classify(message: &str) -> Kind {
    let m = message.to_ascii_lowercase();
    // Only a missing guest or task is "not found": a missing storage or
    // volume is a failure of the operation, not a missing target.
    if (m.contains("configuration file") && m.contains("does not exist"))
        || (m.starts_with("snapshot '") && m.contains("does not exist"))
        || m.contains("no such task")
        || m.contains("no such vm")
    {
        Kind::NotFound
    } else if m.contains("is locked")
        || m.contains("can't lock file")
        || m.contains("already exists")
        || m.contains("already running")
        || m.contains("not running")
        || m.contains("is running")
        || m.contains("checksum mismatch")
        || m.contains("already used")
        || m.contains("is a template")
    {
        Kind::Conflict
    } else if m.contains("timeout") || m.contains("timed out") {
        Kind::Timeout
    } else if m.contains("permission") {
        Kind::Denied
    } else {
        Kind::Failed
    }
}

/// Whether an error is a guest lock that may clear soon.
pub fn is_lock(e: &Error) -> bool {
    let m = e.message.to_ascii_lowercase();
    m.contains("is locked") || m.contains("can't lock file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_api_bases() {
        for (given, want) in [
            ("https://pve1:8006", "https://pve1:8006/api2/json"),
            ("pve1", "https://pve1:8006/api2/json"),
            (
                "https://10.0.0.1:8006/api2/json/",
                "https://10.0.0.1:8006/api2/json",
            ),
            ("[::1]", "https://[::1]:8006/api2/json"),
        ] {
            assert_eq!(api_base(given).unwrap(), want);
        }
        assert!(api_base("http://pve1:8006").is_err());
        assert!(api_base("https://user@pve1").is_err());
    }

    #[test]
    fn forms_encode_what_pve_would_split() {
        let p = [
            ("tags", "a;b".to_string()),
            ("name", "x y+z,=&".to_string()),
        ];
        assert_eq!(form_encode(&p), "tags=a%3Bb&name=x%20y%2Bz%2C%3D%26");
    }

    #[test]
    fn tokens_are_checked_without_being_echoed() {
        let h = token_header(&Secret::new("ops@pve!ci=s3cr=t")).unwrap();
        assert_eq!(h.expose(), "PVEAPIToken=ops@pve!ci=s3cr=t");
        let e = token_header(&Secret::new("justasecret")).unwrap_err();
        assert!(!e.message.contains("justasecret"));
    }

    #[test]
    fn error_texts_map_to_kinds() {
        for (m, k) in [
            (
                "Configuration file 'nodes/pve/qemu-server/123.conf' does not exist",
                Kind::NotFound,
            ),
            ("VM is locked (backup)", Kind::Conflict),
            (
                "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout",
                Kind::Conflict,
            ),
            (
                "unable to create VM 100 - VM 100 already exists on node 'pve'",
                Kind::Conflict,
            ),
            ("VM 100 already running", Kind::Conflict),
            ("VM quit/powerdown failed - got timeout", Kind::Timeout),
            ("no such task", Kind::NotFound),
            ("storage 'x' does not exist", Kind::Failed),
            ("something else", Kind::Failed),
        ] {
            assert_eq!(classify(m), k, "{m}");
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn urls_become_https_bases_or_are_refused(u in "(https?://)?[a-z0-9.:\\[\\]@/?#-]{0,30}") {
            if let Ok(base) = api_base(&u) {
                prop_assert!(base.starts_with("https://") && base.ends_with("/api2/json"));
            }
        }

        #[test]
        fn messages_have_a_kind(m in "\\PC{0,60}") {
            let _ = classify(&m);
            let _ = is_lock(&Error::failed(m));
        }

        #[test]
        fn forms_encode_to_safe_text(k in "\\PC{0,10}", v in "\\PC{0,20}") {
            let e = form_encode(&[(k.as_str(), v)]);
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%=".contains(&b)));
        }

        #[test]
        fn answers_decode_or_fail(body in "\\PC{0,80}") {
            let _ = data_of::<serde_json::Value>("/x", &body);
        }
    }
}
