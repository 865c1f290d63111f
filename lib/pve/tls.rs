//! How the client trusts the server, and the HTTP agent built on it.
//!
//! Proxmox VE serves a certificate signed by the cluster's own CA, so the
//! usual ways in are a pinned SHA-256 fingerprint (as the web UI shows it) or
//! that CA's file. ureq's TLS settings cover CA files and turning checks off;
//! pinning needs a certificate verifier of our own, which ureq takes only
//! through its connector chain, so every agent is built from that chain:
//! TCP, then TLS (ours when pinning, else ureq's), then a reader that keeps
//! the status line's reason phrase, which older servers use as the only
//! error message and which ureq does not expose.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    RustlsConnector, TcpConnector, Transport, TransportAdapter,
};

/// Which server certificates the client accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum Trust {
    /// Public CAs (Mozilla's list): for a certificate from a public CA.
    PublicCas,
    /// This CA file (PEM), e.g. a copy of /etc/pve/pve-root-ca.pem.
    CaFile(PathBuf),
    /// Exactly the certificates with these SHA-256 fingerprints (each node
    /// of a cluster has its own).
    Pinned(Vec<[u8; 32]>),
    /// No verification: an explicit opt-out, warned about.
    Insecure,
}

/// `AA:BB:…` as Proxmox shows it; colons and case do not matter.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32]> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    let bad = || {
        Error::invalid(format!(
            "bad proxmox fingerprint {s:?}: expected the certificate's SHA-256 fingerprint, 32 hex bytes as AA:BB:…"
        ))
        .with_hint("the web UI shows it under the node's System > Certificates; pvenode cert info prints it too")
    };
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// A fingerprint as Proxmox shows it: upper-case hex bytes joined by
/// colons, `AA:BB:…`.
pub fn format_fingerprint(fp: &[u8]) -> String {
    fp.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The SHA-256 of a certificate in DER: what pinning compares.
pub fn fingerprint_of(der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

/// One agent per process: connections are kept and reused between requests.
pub fn agent(trust: &Trust, timeout: Duration, out: &crate::output::Output) -> Result<ureq::Agent> {
    let tls = match trust {
        Trust::PublicCas | Trust::Pinned(_) => ureq::tls::TlsConfig::builder().build(),
        Trust::Insecure => ureq::tls::TlsConfig::builder()
            .disable_verification(true)
            .build(),
        Trust::CaFile(path) => ureq::tls::TlsConfig::builder()
            .root_certs(crate::os::tls::ca_roots(path, "proxmox.ca_file")?)
            .build(),
    };
    let config = ureq::config::Config::builder()
        .http_status_as_error(false)
        .https_only(true)
        .user_agent(concat!("guestkit/", env!("CARGO_PKG_VERSION")))
        // Connecting has its own bound; `timeout` is for the server's answer.
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_recv_response(Some(timeout))
        .timeout_recv_body(Some(timeout))
        .proxy(connect_proxy(out))
        .max_redirects(0)
        // --jobs N keeps N requests in flight: keep that many connections.
        .max_idle_connections_per_host(32)
        .max_idle_connections(64)
        .tls_config(tls)
        .build();
    let pin = match trust {
        Trust::Pinned(fps) => Some(pinned_config(fps.clone())),
        _ => None,
    };
    // As ureq's default chain: an HTTPS_PROXY (CONNECT) first, then TCP.
    let chain =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(PinnedTls { config: pin })
            .chain(RustlsConnector::default())
            .chain(ReasonReader);
    Ok(ureq::Agent::with_parts(
        config,
        chain,
        DefaultResolver::default(),
    ))
}

/// The proxy from the environment (HTTPS_PROXY and the others ureq reads,
/// with NO_PROXY), when it is a plain http:// CONNECT proxy. Others are not
/// supported here: pinning would check an https proxy's own certificate, and
/// SOCKS has no place in this connector chain. They are ignored, with a warning.
fn connect_proxy(out: &crate::output::Output) -> Option<ureq::Proxy> {
    let p = ureq::Proxy::try_from_env()?;
    if p.protocol() == ureq::ProxyProtocol::Http {
        return Some(p);
    }
    out.warn(&format!(
        "ignoring the {:?} proxy {}: only http:// CONNECT proxies are supported; connecting directly",
        p.protocol(),
        p.host()
    ));
    None
}

fn pinned_config(pins: Vec<[u8; 32]>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinVerifier {
        pins,
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Arc::new(config)
}

/// A server certificate whose fingerprint is not the pinned one.
#[derive(Debug)]
pub struct PinMismatch {
    /// The fingerprint of the certificate the server presented.
    pub got: [u8; 32],
    /// The certificate itself (DER), for guestkit-setup to show.
    pub der: Vec<u8>,
}

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server's certificate has fingerprint {}, which is not pinned",
            format_fingerprint(&self.got)
        )
    }
}

impl std::error::Error for PinMismatch {}

/// A TLS handshake that failed for another reason: nothing was sent.
#[derive(Debug)]
pub struct HandshakeFailed(pub std::io::Error);

impl std::fmt::Display for HandshakeFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TLS handshake failed: {}",
            crate::error::plain_io(&self.0)
        )
    }
}

impl std::error::Error for HandshakeFailed {}

/// Accepts exactly the pinned certificate, whatever its name or issuer (a
/// node is often reached by address), and still checks that the server
/// holds its key.
#[derive(Debug)]
struct PinVerifier {
    pins: Vec<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint_of(end_entity);
        if self.pins.contains(&got) {
            return Ok(ServerCertVerified::assertion());
        }
        let der = end_entity.to_vec();
        MISMATCH.with(|m| *m.borrow_mut() = Some(PinMismatch { got, der }));
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::ApplicationVerificationFailure,
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

thread_local! {
    /// ureq runs each request on the calling thread, so the transport can
    /// hand facts about the connection to the client through thread-locals.
    static MISMATCH: RefCell<Option<PinMismatch>> = const { RefCell::new(None) };
    static REASON: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The pin mismatch seen by this thread's last handshake, if any.
pub fn take_mismatch() -> Option<PinMismatch> {
    MISMATCH.with(|m| m.borrow_mut().take())
}

/// The reason phrase of the last response this thread received.
pub fn take_reason() -> Option<String> {
    REASON.with(|r| r.borrow_mut().take())
}

#[derive(Debug)]
struct PinnedTls {
    config: Option<Arc<ClientConfig>>,
}

impl<In: Transport> Connector<In> for PinnedTls {
    type Out = Either<In, PinnedTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        let Some(config) = &self.config else {
            return Ok(Some(Either::A(transport)));
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .authority()
            .map(|a| a.host().trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or("localhost");
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("the server's host is not a valid TLS name"))?;
        let mut conn = ClientConnection::new(config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(match take_mismatch() {
                Some(m) => ureq::Error::Other(Box::new(m)),
                None => ureq::Error::Other(Box::new(HandshakeFailed(e))),
            });
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(PinnedTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

struct PinnedTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for PinnedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinnedTransport")
    }
}

impl Transport for PinnedTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// Passes everything through, noting the reason phrase of each response's
/// status line as it arrives.
#[derive(Debug)]
struct ReasonReader;

impl<In: Transport> Connector<In> for ReasonReader {
    type Out = Reasoned<In>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(Reasoned))
    }
}

#[derive(Debug)]
struct Reasoned<T>(T);

impl<T: Transport> Transport for Reasoned<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let before = self.0.buffers().input().len();
        let more = self.0.await_input(timeout)?;
        // A response starts at the front of an empty buffer: the previous
        // one was consumed whole before the next request was sent.
        if before == 0
            && let Some(reason) = status_reason(self.0.buffers().input())
        {
            REASON.with(|r| *r.borrow_mut() = Some(reason));
        }
        Ok(more)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// `HTTP/1.1 500 VM is locked (backup)\r\n` → `VM is locked (backup)`.
fn status_reason(input: &[u8]) -> Option<String> {
    let line_end = input.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&input[..line_end]).ok()?;
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    let (_version, _code) = (parts.next()?, parts.next()?);
    Some(parts.next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_in_the_ui_form() {
        let fp = fingerprint_of(b"certificate");
        let text = format_fingerprint(&fp);
        assert_eq!(text.len(), 95);
        assert_eq!(parse_fingerprint(&text).unwrap(), fp);
        assert_eq!(
            parse_fingerprint(&text.to_lowercase().replace(':', "")).unwrap(),
            fp
        );
        assert!(parse_fingerprint("AA:BB").is_err());
        assert!(parse_fingerprint(&text.replace('A', "G")).is_err() || !text.contains('A'));
    }

    #[test]
    fn reason_phrases_are_read_from_status_lines() {
        assert_eq!(
            status_reason(b"HTTP/1.1 500 VM is locked (backup)\r\nServer: x\r\n").as_deref(),
            Some("VM is locked (backup)")
        );
        assert_eq!(status_reason(b"HTTP/1.1 200 OK\r\n").as_deref(), Some("OK"));
        assert_eq!(status_reason(b"HTTP/1.1 200 O"), None);
        assert_eq!(status_reason(b"garbage\r\n"), None);
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fingerprints_parse_or_are_refused(s in "([0-9A-Fa-f]{2}:?){0,34}|\\PC{0,40}") {
            if let Ok(fp) = super::parse_fingerprint(&s) {
                prop_assert_eq!(super::parse_fingerprint(&super::format_fingerprint(&fp)).unwrap(), fp);
            }
        }
    }
}

/// What a server's certificate says, for a person deciding to pin it.
#[derive(Clone, Debug)]
pub struct Presented {
    /// The leaf certificate's SHA-256 fingerprint, `AA:BB:…`.
    pub fingerprint: String,
    /// Its subject's distinguished name (`CN=pve1,…`), control characters
    /// escaped, at most 200 characters.
    pub subject: String,
    /// Its issuer's, likewise.
    pub issuer: String,
    /// Valid from and until, RFC 3339 UTC.
    pub not_before: String,
    /// The end of its validity, likewise.
    pub not_after: String,
    /// Whether now is outside those.
    pub expired: bool,
}

/// The certificate the server at `host_port` presents, read in a TLS
/// handshake that stops once the certificate has come: nothing is sent
/// but the handshake's own start, so no secret can leak to a server not
/// yet trusted.
pub fn presented(host_port: &str, timeout: Duration) -> Result<Presented> {
    use std::net::ToSocketAddrs;
    let unreachable = |why: String| {
        Error::unavailable(format!("cannot reach {host_port}: {why}"))
            .with_hint("check the URL: pveproxy listens on port 8006 of each node")
    };
    let addr = host_port
        .to_socket_addrs()
        .map_err(|e| unreachable(crate::error::plain_io(&e)))?
        .next()
        .ok_or_else(|| unreachable("the name has no address".into()))?;
    let mut tcp = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| unreachable(crate::error::plain_io(&e)))?;
    tcp.set_read_timeout(Some(timeout)).ok();
    tcp.set_write_timeout(Some(timeout)).ok();
    // Pinned to nothing: the certificate is refused, and kept as the
    // mismatch (on this thread).
    let config = pinned_config(Vec::new());
    let _ = take_mismatch();
    let host = host_port.rsplit_once(':').map_or(host_port, |(h, _)| h);
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|_| Error::invalid(format!("bad host name {host:?}")))?;
    let mut conn =
        ClientConnection::new(config, name).map_err(|e| Error::failed(format!("TLS: {e}")))?;
    // The handshake ends at the certificate, refused.
    let mut failed = None;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            failed = Some(e);
            break;
        }
    }
    match (take_mismatch(), failed) {
        (Some(m), _) => describe(&m.der),
        (None, Some(e)) => Err(unreachable(format!("TLS: {e}"))),
        (None, None) => Err(unreachable("the server presented no certificate".into())),
    }
}

/// A certificate's fingerprint, names and validity.
pub fn describe(der: &[u8]) -> Result<Presented> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| Error::invalid(format!("the server's certificate cannot be read: {e}")))?;
    let v = cert.validity();
    let time =
        |t: &x509_parser::time::ASN1Time| crate::guest::units::rfc3339(t.timestamp().max(0) as u64);
    Ok(Presented {
        fingerprint: format_fingerprint(&fingerprint_of(der)),
        subject: shown(&cert.subject().to_string()),
        issuer: shown(&cert.issuer().to_string()),
        not_before: time(&v.not_before),
        not_after: time(&v.not_after),
        expired: !v.is_valid(),
    })
}

/// A name from a certificate not yet trusted, fit for a terminal: control
/// characters (a line break, an escape sequence that could draw a false
/// fingerprint over the true one) shown as `\u{..}`, and at most 200
/// characters.
fn shown(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(200)
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect();
    if name.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod presented_tests {
    #[test]
    fn names_from_a_certificate_cannot_draw_on_the_terminal() {
        let evil = "CN=pve1\n  SHA-256  AA:BB\u{1b}[8m\u{9b}";
        let s = super::shown(evil);
        assert!(!s.chars().any(char::is_control), "{s}");
        assert!(s.starts_with("CN=pve1\\u{a}"), "{s}");
        assert_eq!(super::shown(&"x".repeat(300)).chars().count(), 201);
    }
}
