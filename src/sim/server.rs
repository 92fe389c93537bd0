//! The simulated hosts' WinRM listeners: HTTP on loopback, with 5985 semantics.
//!
//! Each TCP connection has its own NTLM acceptor and sealing state. With `AllowUnencrypted=false`
//! (the default) every body on HTTP must be sealed, and replies are sealed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::auth::MessageSecurity;
use crate::auth::ntlm::{AcceptorIdentity, ChannelBindings, NtlmAcceptor};
use crate::transport::{encryption, tls};
use crate::wsman::MAX_REPLY_BYTES;
use crate::wsman::server::{identify_reply, parse_request};

use super::host::{Account, Host, HostConfig};
use crate::auth::certificate::MUTUAL_PROFILE;

/// Builds a set of simulated hosts.
#[derive(Debug, Default)]
pub struct SimulatorBuilder {
    hosts: Vec<HostConfig>,
    base_port: Option<u16>,
    https: bool,
    ipv6: bool,
    client_ca: Vec<rustls_pki_types::CertificateDer<'static>>,
    #[cfg(feature = "kerberos")]
    keytab: Option<std::path::PathBuf>,
}

/// The Kerberos acceptor every host shares (`None`: NTLM only, Windows' workgroup default).
#[cfg(feature = "kerberos")]
type Kerberos = Option<crate::auth::kerberos::acceptor::KerberosAcceptor>;
#[cfg(not(feature = "kerberos"))]
#[derive(Clone, Default)]
struct Kerberos;

impl SimulatorBuilder {
    /// Accepts Kerberos (SPNEGO) too, with the service keys in this keytab (`HTTP/<name>`),
    /// as a domain-joined Windows host does; NTLM stays accepted.
    #[cfg(feature = "kerberos")]
    pub fn keytab(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.keytab = Some(path.into());
        self
    }

    /// Accepts client certificates issued by (or equal to) these certificates, for certificate
    /// authentication over HTTPS: a certificate's UPN (`otherName`) names the account, as
    /// Windows' certmapping does. A client without a certificate may still use NTLM or Basic.
    pub fn client_ca(mut self, certs: Vec<rustls_pki_types::CertificateDer<'static>>) -> Self {
        self.client_ca = certs;
        self
    }

    /// Adds a host.
    pub fn host(mut self, config: HostConfig) -> Self {
        self.hosts.push(config);
        self
    }

    /// Adds `n` numbered hosts (`SIM-HOST-001`...), each with its own BMC IP, MAC and GUID.
    pub fn hosts(mut self, n: u32) -> Self {
        let start = self.hosts.len() as u32;
        self.hosts
            .extend((start..start + n).map(HostConfig::numbered));
        self
    }

    /// Listen on consecutive ports from `port` (default: free ports chosen by the OS).
    pub fn base_port(mut self, port: u16) -> Self {
        self.base_port = Some(port);
        self
    }

    /// Binds every host on 127.0.0.1 and starts serving.
    pub async fn start(self) -> std::io::Result<Simulator> {
        let tls = if self.https {
            Some(Arc::new(TlsIdentity::generate(&self.client_ca)?))
        } else {
            None
        };
        #[cfg(feature = "kerberos")]
        let kerberos: Kerberos = match &self.keytab {
            // Reading the keytab is file I/O: off the executor.
            Some(k) => {
                let k = k.clone();
                Some(
                    tokio::task::spawn_blocking(move || {
                        crate::auth::kerberos::acceptor::KerberosAcceptor::new(&k)
                    })
                    .await
                    .map_err(std::io::Error::other)?
                    .map_err(std::io::Error::other)?,
                )
            }
            None => None,
        };
        #[cfg(not(feature = "kerberos"))]
        let kerberos = Kerberos;
        let mut tasks = JoinSet::new();
        let mut hosts = Vec::new();
        for (i, config) in self.hosts.into_iter().enumerate() {
            let port = match self.base_port {
                Some(p) => p
                    .checked_add(i as u16)
                    .ok_or_else(|| std::io::Error::other("port range overflows 65535"))?,
                None => 0,
            };
            let (socket, addr) = if self.ipv6 {
                (
                    TcpSocket::new_v6()?,
                    SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
                )
            } else {
                (
                    TcpSocket::new_v4()?,
                    SocketAddr::from(([127, 0, 0, 1], port)),
                )
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            // A large backlog: a fleet run opens hundreds of connections at once.
            let listener = socket.listen(1024)?;
            let addr = listener.local_addr()?;
            let host = Arc::new(Host::new(config));
            tasks.spawn(serve(listener, host.clone(), tls.clone(), kerberos.clone()));
            hosts.push((addr, host));
        }
        Ok(Simulator { hosts, tasks, tls })
    }

    /// Listen on the IPv6 loopback `[::1]` instead of 127.0.0.1.
    pub fn ipv6(mut self, on: bool) -> Self {
        self.ipv6 = on;
        self
    }

    /// Serve HTTPS (5986 semantics) with a self-signed certificate made at start (for
    /// `127.0.0.1` and `localhost`); its thumbprint is [`Simulator::thumbprint`]. Bodies are then
    /// not sealed, and NTLM channel bindings are checked as Windows' default (Relaxed) does.
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }
}

/// Running simulated hosts; they stop when this is dropped.
#[derive(Debug)]
pub struct Simulator {
    hosts: Vec<(SocketAddr, Arc<Host>)>,
    tasks: JoinSet<()>,
    tls: Option<Arc<TlsIdentity>>,
}

/// The simulator's TLS certificate and what clients need to trust it.
struct TlsIdentity {
    acceptor: tokio_rustls::TlsAcceptor,
    cert_pem: String,
    thumbprint: String,
    bindings: ChannelBindings,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    fn generate(client_ca: &[rustls_pki_types::CertificateDer<'static>]) -> std::io::Result<Self> {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let certified = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        let der = certified.cert.der().clone();
        let key =
            rustls_pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?;
        let builder = if client_ca.is_empty() {
            builder.with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for c in client_ca {
                roots.add(c.clone()).map_err(std::io::Error::other)?;
            }
            // An untrusted certificate fails the handshake; none at all is allowed (NTLM).
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()
            .map_err(std::io::Error::other)?;
            builder.with_client_cert_verifier(verifier)
        };
        let config = builder
            .with_single_cert(vec![der.clone()], key)
            .map_err(std::io::Error::other)?;
        Ok(TlsIdentity {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            cert_pem: certified.cert.pem(),
            thumbprint: tls::thumbprint(der.as_ref()),
            bindings: ChannelBindings::from_application_data(tls::tls_server_end_point(
                der.as_ref(),
            )),
        })
    }
}

impl Simulator {
    /// Starts building.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// Each host's endpoint (`127.0.0.1:port`).
    pub fn endpoints(&self) -> Vec<String> {
        self.hosts.iter().map(|(a, _)| a.to_string()).collect()
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The SHA-256 thumbprint of the HTTPS certificate (for `--thumbprint`).
    pub fn thumbprint(&self) -> Option<&str> {
        self.tls.as_deref().map(|t| t.thumbprint.as_str())
    }

    /// The HTTPS certificate in PEM (to use as a CA file).
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_deref().map(|t| t.cert_pem.as_str())
    }

    /// Host `i`.
    pub fn host(&self, i: usize) -> &Arc<Host> {
        &self.hosts[i].1
    }

    /// Stops serving.
    pub fn shutdown(mut self) {
        self.tasks.abort_all();
    }
}

async fn serve(
    listener: TcpListener,
    host: Arc<Host>,
    tls: Option<Arc<TlsIdentity>>,
    kerberos: Kerberos,
) {
    // The connections are this task's: when it is aborted (Simulator::shutdown, or the
    // Simulator dropped), the set goes with it and so do they.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors (or another transient failure): wait for some to
                // be freed instead of spinning on accept.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (host, tls, kerberos) = (host.clone(), tls.clone(), kerberos.clone());
        connections.spawn(async move {
            let conn = Arc::new(Mutex::new(ConnState {
                bindings: tls.as_ref().map(|t| t.bindings.clone()),
                kerberos,
                ..ConnState::default()
            }));
            let state = conn.clone();
            let service = service_fn(move |req| {
                let (conn, host) = (conn.clone(), host.clone());
                async move {
                    if host.is_down() {
                        return Err(std::io::Error::other("the simulated host is down"));
                    }
                    let response = handle(req, &conn, &host).await;
                    if conn.lock().await.host_went_down {
                        // The host powered off under the request: no reply, the connection goes.
                        return Err(std::io::Error::other("the simulated host went down"));
                    }
                    Ok(response)
                }
            });
            // A client that opens a connection and never finishes its request headers is
            // dropped after 30 s, as HTTP.sys drops one (slowloris).
            let mut builder = http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30));
            match tls {
                Some(t) => {
                    // The handshake has its own limit: the header limit starts after it.
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(30), t.acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        state.lock().await.client_upn = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|c| upn(c.as_ref()));
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

#[derive(Default)]
struct ConnState {
    /// The TLS connection's channel bindings (HTTPS only).
    bindings: Option<ChannelBindings>,
    acceptor: Option<NtlmAcceptor>,
    session: Option<Box<dyn MessageSecurity>>,
    /// The Kerberos acceptor (with `--keytab`), and this connection's context in progress.
    #[cfg_attr(not(feature = "kerberos"), allow(dead_code))]
    kerberos: Kerberos,
    #[cfg(feature = "kerberos")]
    kerberos_context: crate::auth::kerberos::acceptor::AcceptorContext,
    account: Option<Account>,
    replies: u32,
    /// The UPN of the TLS client certificate, if one was presented.
    client_upn: Option<String>,
    /// A power-off took the host down while it handled a request (`Faults::power_off_drops`).
    host_went_down: bool,
}

/// The UPN (`otherName` 1.3.6.1.4.1.311.20.2.3 in the subject alternative names) of a DER
/// certificate.
fn upn(der: &[u8]) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        GeneralName::OtherName(oid, value) if oid.to_id_string() == "1.3.6.1.4.1.311.20.2.3" => {
            // [0] EXPLICIT UTF8String: skip the context tag and the string's own header.
            let (_, any) = x509_parser::der_parser::der::parse_der(value).ok()?;
            let inner = any.as_slice().ok()?;
            let (_, s) = x509_parser::der_parser::der::parse_der_utf8string(inner).ok()?;
            s.as_str().ok().map(str::to_string)
        }
        _ => None,
    })
}

fn response(
    status: StatusCode,
    headers: &[(&str, String)],
    body: Vec<u8>,
    close: bool,
) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(status)
        .header("Server", "Microsoft-HTTPAPI/2.0");
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    if close {
        b = b.header(CONNECTION, "close");
    }
    b.body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn unauthorized(host: &Host) -> Response<Full<Bytes>> {
    let mut h = vec![(WWW_AUTHENTICATE.as_str(), "Negotiate".to_string())];
    if host.config.basic {
        h.push((
            WWW_AUTHENTICATE.as_str(),
            "Basic realm=\"WSMAN\"".to_string(),
        ));
    }
    response(StatusCode::UNAUTHORIZED, &h, Vec::new(), false)
}

/// A Kerberos (SPNEGO) token: accepted with the keytab's keys when the host has them, as a
/// domain member does; the `200` to an empty POST carries the mutual-authentication token.
#[cfg(feature = "kerberos")]
async fn kerberos(
    c: &mut ConnState,
    host: &Host,
    scheme: &str,
    token: &[u8],
    empty: bool,
) -> Response<Full<Bytes>> {
    use crate::auth::kerberos::acceptor::Accepted;
    let Some(acceptor) = c.kerberos.clone() else {
        return unauthorized(host);
    };
    let binding = c.bindings.as_ref().map(|b| b.application_data().to_vec());
    // The acceptor reads the keytab and writes the replay cache: off the executor.
    let mut context = std::mem::take(&mut c.kerberos_context);
    let token = token.to_vec();
    let accepted = tokio::task::spawn_blocking(move || {
        let r = acceptor.accept(&mut context, binding.as_deref(), &token);
        (context, r)
    })
    .await;
    let Ok((context, accepted)) = accepted else {
        return response(StatusCode::INTERNAL_SERVER_ERROR, &[], Vec::new(), true);
    };
    c.kerberos_context = context;
    match accepted {
        Ok(Accepted::Continue(out)) => {
            let h = [(
                WWW_AUTHENTICATE.as_str(),
                format!("{scheme} {}", B64.encode(out)),
            )];
            response(StatusCode::UNAUTHORIZED, &h, Vec::new(), false)
        }
        Ok(Accepted::Complete {
            principal,
            token,
            security,
        }) => {
            // alice@REALM is the host's account alice (a domain account in the sim's
            // single-account world).
            let user = principal.split('@').next().unwrap_or_default();
            let Some(account) = host.account("", user).cloned() else {
                tracing::debug!(%principal, "simulated host: no account for the Kerberos principal");
                return unauthorized(host);
            };
            c.account = Some(account);
            c.session = Some(security);
            c.acceptor = None;
            if !empty {
                // Kerberos with the envelope on the first leg cannot have sealed it.
                return response(StatusCode::BAD_REQUEST, &[], Vec::new(), false);
            }
            let h = [(
                WWW_AUTHENTICATE.as_str(),
                format!("{scheme} {}", B64.encode(token)),
            )];
            response(StatusCode::OK, &h, Vec::new(), false)
        }
        Err(e) => {
            tracing::debug!(error = %e, "simulated host refused Kerberos");
            c.kerberos_context = Default::default();
            unauthorized(host)
        }
    }
}

#[cfg(not(feature = "kerberos"))]
async fn kerberos(
    _: &mut ConnState,
    host: &Host,
    _: &str,
    _: &[u8],
    _: bool,
) -> Response<Full<Bytes>> {
    unauthorized(host)
}

/// How long a request's body may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

async fn handle(
    req: Request<Incoming>,
    conn: &Mutex<ConnState>,
    host: &Host,
) -> Response<Full<Bytes>> {
    if req.method() != Method::POST || !req.uri().path().eq_ignore_ascii_case("/wsman") {
        return response(StatusCode::NOT_FOUND, &[], Vec::new(), false);
    }
    let headers: HeaderMap = req.headers().clone();
    // No credentials and no authenticated connection: a 401 before any body is read, so a
    // client that never logs on cannot make the host hold its bodies (the connection closes,
    // as the body is left unread).
    if !headers.contains_key(AUTHORIZATION)
        && !headers.contains_key("WSMANIDENTIFY")
        && conn.lock().await.session.is_none()
    {
        let mut r = unauthorized(host);
        r.headers_mut()
            .insert(CONNECTION, http::HeaderValue::from_static("close"));
        return r;
    }
    // A body that stops coming is given up, as HTTP.sys gives one up (its EntityBody timer).
    let read = Limited::new(req.into_body(), MAX_REPLY_BYTES).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return response(StatusCode::PAYLOAD_TOO_LARGE, &[], Vec::new(), false),
        Err(_) => return response(StatusCode::REQUEST_TIMEOUT, &[], Vec::new(), true),
    };
    let mut c = conn.lock().await;
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };

    if header("WSMANIDENTIFY") == Some("unauthenticated")
        && header(AUTHORIZATION.as_str()).is_none()
    {
        let ct = (
            "Content-Type",
            "application/soap+xml;charset=UTF-8".to_string(),
        );
        return response(StatusCode::OK, &[ct], identify_reply().into_bytes(), false);
    }

    let mut basic: Option<Account> = None;
    if header(AUTHORIZATION.as_str()) == Some(MUTUAL_PROFILE) {
        // Certificate authentication: the TLS client certificate's UPN names the account.
        let user = c
            .client_upn
            .as_deref()
            .map(|u| u.split('@').next().unwrap_or(u));
        match user.and_then(|u| host.account("", u)) {
            Some(a) => basic = Some(a.clone()),
            None => return unauthorized(host),
        }
    } else if let Some(auth) = header(AUTHORIZATION.as_str()) {
        let (scheme, token) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("Negotiate") || scheme.eq_ignore_ascii_case("NTLM") {
            let Ok(token) = B64.decode(token.trim()) else {
                return response(StatusCode::BAD_REQUEST, &[], Vec::new(), false);
            };
            if !token.starts_with(b"NTLMSSP\0") {
                return kerberos(&mut c, host, scheme, &token, body.is_empty()).await;
            }
            match token.get(8..12) {
                Some([1, 0, 0, 0]) => {
                    let mut acceptor = match &c.bindings {
                        Some(b) => NtlmAcceptor::new(identity(host), Some(b.clone()))
                            .with_relaxed_bindings(),
                        None => NtlmAcceptor::new(identity(host), None),
                    };
                    let Ok(challenge) = acceptor.challenge(&token) else {
                        return unauthorized(host);
                    };
                    c.acceptor = Some(acceptor);
                    c.session = None;
                    c.account = None;
                    let sent = host
                        .challenges_sent
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let close = sent < host.config.faults.close_after_challenge;
                    let h = [(
                        WWW_AUTHENTICATE.as_str(),
                        format!("{scheme} {}", B64.encode(challenge)),
                    )];
                    return response(StatusCode::UNAUTHORIZED, &h, Vec::new(), close);
                }
                Some([3, 0, 0, 0]) => {
                    let Some(mut acceptor) = c.acceptor.take() else {
                        return unauthorized(host);
                    };
                    match acceptor.accept(&token, host) {
                        Ok(accepted) => {
                            c.account = host.account(&accepted.domain, &accepted.user).cloned();
                            c.session = Some(Box::new(accepted.session));
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "simulated host refused NTLM");
                            return unauthorized(host);
                        }
                    }
                }
                _ => return unauthorized(host),
            }
        } else if scheme.eq_ignore_ascii_case("Basic") && host.config.basic {
            let decoded = B64
                .decode(token.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let (user, password) = decoded.split_once(':').unwrap_or(("", ""));
            let (domain, user) = user.split_once('\\').unwrap_or(("", user));
            match host.account(domain, user) {
                Some(a) if a.password == password => basic = Some(a.clone()),
                _ => return unauthorized(host),
            }
        } else {
            return unauthorized(host);
        }
    }
    let Some(account) = basic.clone().or_else(|| c.account.clone()) else {
        return unauthorized(host);
    };
    if body.is_empty() {
        // An authentication-only POST (pywinrm, pypsrp).
        return response(StatusCode::OK, &[], Vec::new(), false);
    }
    let sealed = header(CONTENT_TYPE.as_str()).is_some_and(encryption::is_encrypted);
    let xml = if sealed {
        let Some(session) = c.session.as_mut() else {
            return response(StatusCode::BAD_REQUEST, &[], Vec::new(), false);
        };
        match encryption::unseal(session.as_mut(), &body) {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "simulated host could not unseal");
                return response(StatusCode::BAD_REQUEST, &[], Vec::new(), true);
            }
        }
    } else if c.bindings.is_none() && !host.config.allow_unencrypted {
        // AllowUnencrypted=false: Windows refuses a clear body on HTTP, an NTLM session's or
        // Basic's (MS-WSMV 3.1.4.1.29.1).
        return unauthorized(host);
    } else {
        body.to_vec()
    };
    let incoming = match parse_request(&xml) {
        Ok(r) => r,
        Err(_) => return response(StatusCode::BAD_REQUEST, &[], Vec::new(), false),
    };
    if !host.config.faults.latency.is_zero() {
        tokio::time::sleep(host.config.faults.latency).await;
    }
    let (status, reply) = host.dispatch(&incoming, &account).await;
    if status == 0 {
        c.host_went_down = true;
        return response(StatusCode::OK, &[], Vec::new(), true);
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    c.replies += 1;
    let every = host.config.faults.close_every;
    let close = every > 0 && c.replies % every == 0;
    if sealed {
        let session = c.session.as_mut().expect("sealed requests have a session");
        let Ok(body) = encryption::seal(session.as_mut(), reply.as_bytes()) else {
            return response(StatusCode::INTERNAL_SERVER_ERROR, &[], Vec::new(), true);
        };
        response(
            status,
            &[("Content-Type", encryption::CONTENT_TYPE.to_string())],
            body,
            close,
        )
    } else {
        response(
            status,
            &[(
                "Content-Type",
                "application/soap+xml;charset=UTF-8".to_string(),
            )],
            reply.into_bytes(),
            close,
        )
    }
}

fn identity(host: &Host) -> AcceptorIdentity {
    AcceptorIdentity {
        computer: host.config.host_name.clone(),
        domain: host.config.host_name.clone(),
        dns_computer: format!(
            "{}.{}",
            host.config.host_name.to_ascii_lowercase(),
            host.config.dns_domain
        ),
    }
}
