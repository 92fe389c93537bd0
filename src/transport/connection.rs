//! One WinRM connection: a TCP connection driven by hyper's HTTP/1.1 client, owning its
//! authentication context and sealing state.
//!
//! NTLM authenticates the connection once: NEGOTIATE on an empty POST, the CHALLENGE in the 401,
//! then the AUTHENTICATE carried by the first real request, whose body is already sealed (as
//! Windows' own client does, MS-WSMV §4.5). Later requests carry no Authorization header and
//! are sealed with the same context. Nothing is sent in clear while sealing is on.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT, WWW_AUTHENTICATE,
};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

use super::{Endpoint, Scheme, TransportError, encryption, tls};
use crate::auth::Credentials;
use crate::auth::ntlm::{ChannelBindings, InitiatorOptions, NtlmInitiator, SessionSecurity};
use crate::wsman::MAX_REPLY_BYTES;

const SOAP_CONTENT_TYPE: &str = "application/soap+xml;charset=UTF-8";
const USER_AGENT_VALUE: &str = concat!("winrm-ipmi/", env!("CARGO_PKG_VERSION"));

/// How to authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// NTLMv2 inside `Negotiate` (or `NTLM` if that is all the server offers).
    Ntlm,
    /// Basic: over HTTPS, or over HTTP only with [`ConnectionConfig::allow_basic_over_http`].
    Basic,
}

/// Whether bodies are sealed (MS-WSMV message encryption).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionMode {
    /// Seal on HTTP, not on HTTPS.
    Auto,
    /// Always seal.
    Always,
    /// Never seal (the server must allow unencrypted traffic on HTTP).
    Never,
}

/// Everything a connection needs.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// Where.
    pub endpoint: Endpoint,
    /// Who.
    pub credentials: Credentials,
    /// How to authenticate.
    pub auth: AuthMethod,
    /// Whether to seal.
    pub encryption: EncryptionMode,
    /// TCP connect limit.
    pub connect_timeout: Duration,
    /// Limit for one request, from writing it to having its reply (OperationTimeout + margin).
    pub request_timeout: Duration,
    /// Sends the password in Basic over plain HTTP. Off by default, and loudly named: anyone
    /// on the path reads the password.
    pub allow_basic_over_http: bool,
    /// TLS configuration for HTTPS endpoints (built once: loading the OS store is not free).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl ConnectionConfig {
    fn seals(&self) -> bool {
        match self.encryption {
            EncryptionMode::Always => true,
            EncryptionMode::Never => false,
            EncryptionMode::Auto => self.endpoint.scheme == Scheme::Http,
        }
    }

    /// Checks the combination before any traffic.
    pub fn validate(&self) -> Result<(), TransportError> {
        if self.auth == AuthMethod::Basic {
            if self.seals() {
                return Err(TransportError::Config(
                    "message encryption needs NTLM; Basic cannot seal (use HTTPS, or --auth ntlm)"
                        .into(),
                ));
            }
            if self.endpoint.scheme == Scheme::Http && !self.allow_basic_over_http {
                return Err(TransportError::Config(
                    "Basic over plain HTTP would send the password in clear; use HTTPS or NTLM, or opt in explicitly".into(),
                ));
            }
        }
        if self.endpoint.scheme == Scheme::Https && self.tls.is_none() {
            return Err(TransportError::Config(
                "an HTTPS endpoint needs TLS settings".into(),
            ));
        }
        Ok(())
    }
}

/// A reply: HTTP status and the (unsealed) SOAP envelope. 200 carries a response, 500 a fault.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// The envelope, plaintext.
    pub body: Vec<u8>,
}

enum AuthState {
    /// NTLM, not yet authenticated.
    NtlmPending,
    /// NTLM done; `Some` when sealing (boxed: two RC4 states and two keyed HMACs).
    Ntlm(Option<Box<SessionSecurity>>),
    /// Basic, with the header value.
    Basic(String),
}

/// One authenticated TCP connection. Not shareable: one request at a time, in order.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    task: JoinHandle<()>,
    auth: AuthState,
    /// RFC 5929 channel binding data of the TLS connection, for NTLM.
    channel_binding: Option<Vec<u8>>,
    label: String,
    host_header: String,
    path: String,
    /// Set while a request is in flight; a request cancelled or failed mid-way leaves it set,
    /// and the connection is not used again.
    poisoned: bool,
    requests: u64,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A request built but not yet known to be written.
struct Outgoing {
    body: Vec<u8>,
    content_type: &'static str,
    authorization: Option<String>,
    identify: bool,
}

impl Connection {
    /// Opens a TCP connection and the HTTP/1.1 session on it. Authentication happens with the
    /// first request.
    pub async fn open(config: &ConnectionConfig) -> Result<Connection, TransportError> {
        config.validate()?;
        let ep = &config.endpoint;
        let label = ep.url();
        let connect = TcpStream::connect((ep.host.as_str(), ep.port));
        let stream = tokio::time::timeout(config.connect_timeout, connect)
            .await
            .map_err(|_| timeout("connect", &label, config.connect_timeout))?
            .map_err(|source| TransportError::Connect {
                endpoint: label.clone(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, task, channel_binding) = match (&config.tls, ep.scheme) {
            (Some(tls), Scheme::Https) => {
                let name =
                    ServerName::try_from(ep.host.clone()).map_err(|e| TransportError::Tls {
                        endpoint: label.clone(),
                        message: format!("{:?} is not a valid TLS server name: {e}", ep.host),
                    })?;
                let handshake = TlsConnector::from(tls.clone()).connect(name, stream);
                let tls_stream = tokio::time::timeout(config.connect_timeout, handshake)
                    .await
                    .map_err(|_| timeout("TLS handshake", &label, config.connect_timeout))?
                    .map_err(|e| TransportError::Tls {
                        endpoint: label.clone(),
                        message: e.to_string(),
                    })?;
                let binding = tls_stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| tls::tls_server_end_point(c.as_ref()));
                let (sender, task) = start_http(tls_stream, &label).await?;
                (sender, task, binding)
            }
            _ => {
                let (sender, task) = start_http(stream, &label).await?;
                (sender, task, None)
            }
        };
        let auth = match config.auth {
            AuthMethod::Ntlm => AuthState::NtlmPending,
            AuthMethod::Basic => {
                let c = &config.credentials;
                let raw =
                    zeroize::Zeroizing::new(format!("{}:{}", c.account(), c.password().expose()));
                AuthState::Basic(format!("Basic {}", B64.encode(raw.as_bytes())))
            }
        };
        Ok(Connection {
            sender,
            task,
            auth,
            channel_binding,
            host_header: ep.authority(),
            path: ep.path.clone(),
            label,
            poisoned: false,
            requests: 0,
        })
    }

    /// Whether this connection can take another request.
    pub fn is_usable(&self) -> bool {
        !self.poisoned && !self.sender.is_closed()
    }

    /// Requests completed on this connection.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Sends one envelope and returns the reply (200 or 500 with a SOAP body). Authenticates
    /// first if this is the connection's first request.
    pub async fn send(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
    ) -> Result<Reply, TransportError> {
        self.begin()?;
        let limit = config.request_timeout;
        match tokio::time::timeout(limit, self.exchange(config, envelope)).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(limit)),
        }
    }

    /// Sends an Identify (`WSMANIDENTIFY: unauthenticated`), in clear, without authenticating.
    pub async fn identify(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
    ) -> Result<Reply, TransportError> {
        self.begin()?;
        let limit = config.request_timeout;
        let exchange = async {
            let out = Outgoing {
                body: envelope.to_vec(),
                content_type: SOAP_CONTENT_TYPE,
                authorization: None,
                identify: true,
            };
            let (status, headers, body) = self.post(out).await?;
            let reply = self.reply(status, &headers, body, false)?;
            self.poisoned = false;
            Ok(reply)
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out(limit)),
        }
    }

    /// Marks a request in flight. If it does not complete cleanly (error, timeout, the future
    /// dropped), the mark stays and the connection is not used again.
    fn begin(&mut self) -> Result<(), TransportError> {
        if self.poisoned {
            return Err(TransportError::Http {
                endpoint: self.label.clone(),
                message: "the connection was left in an unknown state by an earlier request".into(),
            });
        }
        self.poisoned = true;
        Ok(())
    }

    fn timed_out(&self, limit: Duration) -> TransportError {
        timeout("request", &self.label, limit)
    }

    async fn exchange(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
    ) -> Result<Reply, TransportError> {
        let seal = config.seals();
        let reply = match &mut self.auth {
            AuthState::Basic(header) => {
                let out = Outgoing {
                    body: envelope.to_vec(),
                    content_type: SOAP_CONTENT_TYPE,
                    authorization: Some(header.clone()),
                    identify: false,
                };
                let (status, headers, body) = self.post(out).await?;
                if status == StatusCode::UNAUTHORIZED {
                    return Err(TransportError::AuthFailed(format!(
                        "{} refused Basic authentication for {}: wrong password, or Basic is disabled on the service",
                        self.label,
                        config.credentials.account()
                    )));
                }
                self.reply(status, &headers, body, false)?
            }
            AuthState::Ntlm(session) => {
                let out = match session.as_mut() {
                    Some(s) => sealed(s, envelope, None),
                    None => plain(envelope, None),
                };
                let (status, headers, body) = self.post(out).await?;
                if status == StatusCode::UNAUTHORIZED {
                    return Err(TransportError::AuthFailed(format!(
                        "{} dropped the authenticated session (HTTP 401 on an authenticated connection)",
                        self.label
                    )));
                }
                self.reply(status, &headers, body, seal)?
            }
            AuthState::NtlmPending => self.authenticate_ntlm(config, envelope, seal).await?,
        };
        self.poisoned = false;
        self.requests += 1;
        Ok(reply)
    }

    async fn authenticate_ntlm(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
        seal: bool,
    ) -> Result<Reply, TransportError> {
        let options = InitiatorOptions {
            target_spn: Some(format!("HTTP/{}", config.endpoint.host)),
            channel_bindings: self
                .channel_binding
                .clone()
                .map(ChannelBindings::from_application_data),
            ..Default::default()
        };
        let mut scheme = "Negotiate";
        let mut initiator;
        let challenge = loop {
            initiator = NtlmInitiator::new(config.credentials.clone(), options.clone());
            let negotiate = initiator.negotiate();
            let out = Outgoing {
                body: Vec::new(),
                content_type: SOAP_CONTENT_TYPE,
                authorization: Some(format!("{scheme} {}", B64.encode(&negotiate))),
                identify: false,
            };
            let (status, headers, _) = self.post(out).await?;
            if status != StatusCode::UNAUTHORIZED {
                return Err(TransportError::Status {
                    status: status.as_u16(),
                    endpoint: self.label.clone(),
                    meaning: "expected an NTLM challenge (401) to our NEGOTIATE".into(),
                });
            }
            let offered = offered_schemes(&headers);
            if let Some(token) = token_for(&headers, scheme) {
                break token;
            }
            if scheme == "Negotiate" && offered.iter().any(|s| s.eq_ignore_ascii_case("NTLM")) {
                scheme = "NTLM";
                continue;
            }
            return Err(TransportError::AuthFailed(format!(
                "{} offers no NTLM challenge (WWW-Authenticate: {}); is Negotiate/NTLM enabled on the WinRM service?",
                self.label,
                if offered.is_empty() {
                    "none".to_string()
                } else {
                    offered.join(", ")
                }
            )));
        };
        let (authenticate, mut session) = initiator.authenticate(&challenge)?;
        let authorization = Some(format!("{scheme} {}", B64.encode(&authenticate)));
        let out = if seal {
            sealed(&mut session, envelope, authorization)
        } else {
            plain(envelope, authorization)
        };
        let (status, headers, body) = self.post(out).await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(TransportError::AuthFailed(format!(
                "{} refused the credentials for {}: wrong password, unknown account, or the account may not log on through WinRM",
                self.label,
                config.credentials.account()
            )));
        }
        self.auth = AuthState::Ntlm(seal.then(|| Box::new(session)));
        self.reply(status, &headers, body, seal)
    }

    /// Writes one POST and reads the whole reply (bounded).
    async fn post(
        &mut self,
        out: Outgoing,
    ) -> Result<(StatusCode, HeaderMap, Bytes), TransportError> {
        let mut builder = Request::post(self.path.as_str())
            .header(HOST, self.host_header.as_str())
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(CONTENT_TYPE, out.content_type)
            .header(CONTENT_LENGTH, out.body.len())
            .header("Accept-Encoding", "identity");
        if let Some(a) = &out.authorization {
            builder = builder.header(AUTHORIZATION, a.as_str());
        }
        if out.identify {
            builder = builder.header("WSMANIDENTIFY", "unauthenticated");
        }
        let request = builder
            .body(Full::new(Bytes::from(out.body)))
            .map_err(|e| TransportError::Http {
                endpoint: self.label.clone(),
                message: e.to_string(),
            })?;
        if self.sender.ready().await.is_err() {
            return Err(TransportError::Closed {
                endpoint: self.label.clone(),
            });
        }
        let response = match self.sender.try_send_request(request).await {
            Ok(r) => r,
            Err(mut e) => {
                // The request comes back only if it was never written.
                let unsent = e.take_message().is_some();
                return Err(if unsent {
                    TransportError::Closed {
                        endpoint: self.label.clone(),
                    }
                } else {
                    TransportError::Http {
                        endpoint: self.label.clone(),
                        message: e.into_error().to_string(),
                    }
                });
            }
        };
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_REPLY_BYTES * 2)
            .collect()
            .await
            .map_err(|e| TransportError::Http {
                endpoint: self.label.clone(),
                message: format!("reading the reply: {e}"),
            })?
            .to_bytes();
        Ok((parts.status, parts.headers, body))
    }

    fn reply(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
        sealing: bool,
    ) -> Result<Reply, TransportError> {
        let encrypted = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(encryption::is_encrypted);
        let status_u16 = status.as_u16();
        if status != StatusCode::OK && status != StatusCode::INTERNAL_SERVER_ERROR {
            return Err(TransportError::Status {
                status: status_u16,
                endpoint: self.label.clone(),
                meaning: status_meaning(status_u16).into(),
            });
        }
        let body = if encrypted {
            let AuthState::Ntlm(Some(session)) = &mut self.auth else {
                return Err(TransportError::Status {
                    status: status_u16,
                    endpoint: self.label.clone(),
                    meaning: "the reply is sealed but this connection has no sealing context"
                        .into(),
                });
            };
            encryption::unseal(session, &body)?
        } else if sealing {
            return Err(TransportError::Status {
                status: status_u16,
                endpoint: self.label.clone(),
                meaning: "the reply is not encrypted although our request was; refusing it".into(),
            });
        } else {
            body.to_vec()
        };
        Ok(Reply {
            status: status_u16,
            body,
        })
    }
}

fn timeout(what: &'static str, endpoint: &str, limit: Duration) -> TransportError {
    TransportError::Timeout {
        what,
        endpoint: endpoint.to_string(),
        secs: limit.as_secs_f64(),
    }
}

/// The HTTP/1.1 session over a byte stream (TCP or TLS), and the task that drives it.
async fn start_http<S>(
    stream: S,
    label: &str,
) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| TransportError::Http {
            endpoint: label.to_string(),
            message: e.to_string(),
        })?;
    let task = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended");
        }
    });
    Ok((sender, task))
}

fn sealed(
    session: &mut SessionSecurity,
    envelope: &[u8],
    authorization: Option<String>,
) -> Outgoing {
    Outgoing {
        body: encryption::seal(session, envelope),
        content_type: encryption::CONTENT_TYPE,
        authorization,
        identify: false,
    }
}

fn plain(envelope: &[u8], authorization: Option<String>) -> Outgoing {
    Outgoing {
        body: envelope.to_vec(),
        content_type: SOAP_CONTENT_TYPE,
        authorization,
        identify: false,
    }
}

fn offered_schemes(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The token in `WWW-Authenticate: <scheme> <base64>`.
fn token_for(headers: &HeaderMap, scheme: &str) -> Option<Vec<u8>> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|v| {
            let mut it = v.split_whitespace();
            let s = it.next()?;
            let t = it.next()?;
            s.eq_ignore_ascii_case(scheme)
                .then(|| B64.decode(t).ok())
                .flatten()
        })
}

fn status_meaning(status: u16) -> &'static str {
    match status {
        400 => {
            "the service could not read the request (often a sealing mismatch: wrong keys or a domain-name case difference)"
        }
        401 => "not authenticated",
        403 => "forbidden",
        404 => "no WinRM listener at this path",
        413 => "the request envelope is larger than the service allows (MaxEnvelopeSizekb)",
        415 => {
            "the service refused the content type (message encryption required, or not supported)"
        }
        503 => "the service is unavailable",
        _ => "unexpected status for WinRM",
    }
}
