//! One WinRM connection: a TCP (or TLS) connection driven by hyper's HTTP/1.1 client, owning
//! its authentication context and sealing state.
//!
//! The authentication exchange is [`AuthExchange`]'s (sans-IO); this file only moves its legs:
//! it writes each POST, reads each reply (bounded), seals and unseals bodies with the context the
//! exchange hands over, and keeps track of whether a failed request may have been delivered.
//! Nothing is sent in clear while sealing is on.

use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT,
    WWW_AUTHENTICATE,
};
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

use super::{
    ConnectionConfig, Phase, ProxyFailure, Scheme, TransportError, encryption, tls, tunnel,
};
use crate::auth::{AuthError, AuthExchange, MessageSecurity, Next};
use crate::wsman::MAX_REPLY_BYTES;

const SOAP_CONTENT_TYPE: &str = "application/soap+xml;charset=UTF-8";
const USER_AGENT_VALUE: &str = concat!("winrm-ipmi/", env!("CARGO_PKG_VERSION"));

/// A reply: HTTP status and the (unsealed) SOAP envelope. 200 carries a response, 500 a fault.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// The envelope, plaintext.
    pub body: Vec<u8>,
}

enum AuthState {
    /// Not yet authenticated.
    Pending,
    /// Authenticated: the sealing context (when sealing); and for per-request mechanisms, the
    /// header every request carries and what a later 401 to it means.
    Ready {
        security: Option<Box<dyn MessageSecurity>>,
        header: Option<(String, AuthError)>,
    },
}

/// One authenticated TCP connection. Not shareable: one request at a time, in order.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    task: JoinHandle<()>,
    auth: AuthState,
    /// RFC 5929 channel binding data of the TLS connection.
    channel_binding: Option<Vec<u8>>,
    label: String,
    /// The `Host` header and the request target, checked once when the connection opens.
    host_header: HeaderValue,
    path: Uri,
    /// Set while a request is in flight; a request cancelled or failed mid-way leaves it set,
    /// and the connection is not used again.
    poisoned: bool,
    /// Where the request in flight is (for timeouts: may it have been delivered?).
    phase: Phase,
    /// POSTs answered on this connection (authentication legs included).
    posts: u64,
    /// When the last request finished (for the pool's idle limit).
    idle_since: std::time::Instant,
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

impl Outgoing {
    fn empty(authorization: Option<String>) -> Self {
        Outgoing {
            body: Vec::new(),
            content_type: SOAP_CONTENT_TYPE,
            authorization,
            identify: false,
        }
    }

    /// The envelope, sealed when a context is given.
    fn envelope(
        envelope: &[u8],
        security: Option<&mut (dyn MessageSecurity + 'static)>,
        authorization: Option<String>,
    ) -> Result<Self, crate::auth::SecurityError> {
        Ok(match security {
            Some(s) => Outgoing {
                body: encryption::seal(s, envelope)?,
                content_type: encryption::CONTENT_TYPE,
                authorization,
                identify: false,
            },
            None => Outgoing {
                body: envelope.to_vec(),
                content_type: SOAP_CONTENT_TYPE,
                authorization,
                identify: false,
            },
        })
    }
}

impl Connection {
    /// Opens a TCP connection (and TLS on it) and the HTTP/1.1 session. Authentication happens
    /// with the first request.
    pub async fn open(config: &ConnectionConfig) -> Result<Connection, TransportError> {
        config.validate()?;
        let ep = &config.endpoint;
        let label = ep.url();
        let (Ok(host_header), Ok(path)) = (
            HeaderValue::try_from(ep.authority()),
            Uri::try_from(ep.path.as_str()),
        ) else {
            return Err(TransportError::Exchange {
                endpoint: label,
                phase: Phase::Connect,
                message: "the endpoint's host or path cannot go in an HTTP request".into(),
            });
        };
        let stream = match &config.proxy {
            None => {
                let connect = TcpStream::connect((ep.host.as_str(), ep.port));
                tokio::time::timeout(config.connect_timeout, connect)
                    .await
                    .map_err(|_| timeout(Phase::Connect, &label, config.connect_timeout))?
                    .map_err(|source| TransportError::Connect {
                        endpoint: label.clone(),
                        source,
                    })?
            }
            Some(proxy) => {
                let target = ep.authority();
                let tunnel = tunnel::open(proxy, &target, &label);
                tokio::time::timeout(config.connect_timeout, tunnel)
                    .await
                    .map_err(|_| TransportError::Proxy {
                        proxy: proxy.to_string(),
                        endpoint: label.clone(),
                        failure: ProxyFailure::Timeout {
                            secs: config.connect_timeout.as_secs_f64(),
                        },
                    })??
            }
        };
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
                    .map_err(|_| timeout(Phase::TlsHandshake, &label, config.connect_timeout))?
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
        Ok(Connection {
            sender,
            task,
            auth: AuthState::Pending,
            channel_binding,
            host_header,
            path,
            label,
            poisoned: false,
            phase: Phase::Authenticate,
            posts: 0,
            idle_since: std::time::Instant::now(),
            requests: 0,
        })
    }

    /// Whether this connection can take another request.
    pub fn is_usable(&self) -> bool {
        !self.poisoned && !self.sender.is_closed()
    }

    /// How long the connection has been idle.
    pub fn idle_for(&self) -> Duration {
        self.idle_since.elapsed()
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
            Err(_) => Err(timeout(self.phase, &self.label, limit)),
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
            self.phase = Phase::Request;
            let out = Outgoing {
                identify: true,
                body: envelope.to_vec(),
                ..Outgoing::empty(None)
            };
            let (status, headers, body) = self.post(out).await?;
            let reply = self.reply(status, &headers, body, false)?;
            self.poisoned = false;
            Ok(reply)
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => Err(timeout(self.phase, &self.label, limit)),
        }
    }

    /// Marks a request in flight. If it does not complete cleanly (error, timeout, the future
    /// dropped), the mark stays and the connection is not used again.
    fn begin(&mut self) -> Result<(), TransportError> {
        if self.poisoned {
            return Err(TransportError::Poisoned {
                endpoint: self.label.clone(),
            });
        }
        self.poisoned = true;
        Ok(())
    }

    async fn exchange(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
    ) -> Result<Reply, TransportError> {
        let seal = config.seals();
        if let AuthState::Pending = self.auth
            && let Some(reply) = self.authenticate(config, envelope, seal).await?
        {
            self.poisoned = false;
            self.requests += 1;
            return Ok(reply);
        }
        let AuthState::Ready { security, header } = &mut self.auth else {
            unreachable!("authenticate leaves the connection ready or fails");
        };
        self.phase = Phase::Request;
        let refused = header.as_ref().map(|(_, refused)| refused.clone());
        let out = Outgoing::envelope(
            envelope,
            security.as_deref_mut(),
            header.as_ref().map(|(h, _)| h.clone()),
        )
        .map_err(|source| TransportError::SealFailed {
            endpoint: self.label.clone(),
            source,
        })?;
        let (status, headers, body) = self.post(out).await?;
        if status == StatusCode::UNAUTHORIZED {
            // Per-request credentials refused; NTLM in clear over HTTP: encryption required.
            let refusal = if let Some(refused) = refused {
                refused
            } else {
                AuthError::SessionRefused {
                    plaintext: !seal && config.endpoint.scheme == Scheme::Http,
                }
            };
            return Err(self.auth_error(refusal));
        }
        let reply = self.reply(status, &headers, body, seal)?;
        self.poisoned = false;
        self.requests += 1;
        Ok(reply)
    }

    /// Runs the authentication exchange's legs. Returns the reply when the last leg carried the
    /// envelope (Basic; NTLM with [`Flow::Piggyback`]).
    async fn authenticate(
        &mut self,
        config: &ConnectionConfig,
        envelope: &[u8],
        seal: bool,
    ) -> Result<Option<Reply>, TransportError> {
        let exchange =
            AuthExchange::new(config.mechanism(self.channel_binding.clone())?, config.flow);
        let (mut exchange, leg) = self.step(exchange, AuthExchange::start).await?;
        let mut leg = leg.map_err(|e| self.auth_error(e))?;
        loop {
            let out = if leg.carries_envelope {
                self.phase = Phase::Request;
                let security = if seal {
                    Some(exchange.security().ok_or_else(|| {
                        self.auth_error(AuthError::State(
                            "the authentication gave no sealing context",
                        ))
                    })?)
                } else {
                    None
                };
                Outgoing::envelope(envelope, security, leg.authorization.take()).map_err(
                    |source| TransportError::SealFailed {
                        endpoint: self.label.clone(),
                        source,
                    },
                )?
            } else {
                self.phase = Phase::Authenticate;
                Outgoing::empty(leg.authorization.take())
            };
            let (status, headers, body) = self.post(out).await?;
            let challenges: Vec<String> = headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            let code = status.as_u16();
            let (returned, next) = self
                .step(exchange, move |ex| {
                    let challenges: Vec<&str> = challenges.iter().map(String::as_str).collect();
                    ex.receive(code, &challenges)
                })
                .await?;
            exchange = returned;
            let next = next.map_err(|e| self.auth_error(e))?;
            match next {
                Next::Send(l) => leg = l,
                Next::Authenticated | Next::Reply => {
                    let header = exchange
                        .per_request_header()
                        .map_err(|e| self.auth_error(e))?
                        .map(|h| (h, exchange.rejection()));
                    let security = if seal { exchange.take_security() } else { None };
                    if seal && security.is_none() {
                        // Never a clear body where sealing was asked for.
                        return Err(self.auth_error(AuthError::State(
                            "the authentication gave no sealing context",
                        )));
                    }
                    self.auth = AuthState::Ready { security, header };
                    if next == Next::Authenticated {
                        return Ok(None);
                    }
                    return self.reply(status, &headers, body, seal).map(Some);
                }
            }
        }
    }

    /// Runs one step of the exchange; a mechanism that may block (Kerberos asks its KDC inside
    /// the GSSAPI call) runs on tokio's blocking pool, never on the executor's threads.
    async fn step<T: Send + 'static>(
        &mut self,
        mut exchange: AuthExchange,
        f: impl FnOnce(&mut AuthExchange) -> T + Send + 'static,
    ) -> Result<(AuthExchange, T), TransportError> {
        if !exchange.may_block() {
            let out = f(&mut exchange);
            return Ok((exchange, out));
        }
        tokio::task::spawn_blocking(move || {
            let out = f(&mut exchange);
            (exchange, out)
        })
        .await
        .map_err(|e| self.exchange_error(format!("the authentication step failed: {e}")))
    }

    fn auth_error(&self, source: AuthError) -> TransportError {
        TransportError::Auth {
            endpoint: self.label.clone(),
            phase: self.phase,
            source,
        }
    }

    fn exchange_error(&self, message: String) -> TransportError {
        TransportError::Exchange {
            endpoint: self.label.clone(),
            phase: self.phase,
            message,
        }
    }

    /// Writes one POST and reads the whole reply (bounded).
    async fn post(
        &mut self,
        out: Outgoing,
    ) -> Result<(StatusCode, HeaderMap, Bytes), TransportError> {
        let mut builder = Request::post(self.path.clone())
            .header(HOST, self.host_header.clone())
            .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
            .header(CONTENT_TYPE, HeaderValue::from_static(out.content_type))
            .header(CONTENT_LENGTH, out.body.len())
            .header(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        if let Some(a) = &out.authorization {
            builder = builder.header(AUTHORIZATION, a.as_str());
        }
        if out.identify {
            builder = builder.header("WSMANIDENTIFY", "unauthenticated");
        }
        let request = builder
            .body(Full::new(Bytes::from(out.body)))
            .map_err(|e| self.exchange_error(format!("building the request: {e}")))?;
        if self.sender.ready().await.is_err() {
            return Err(TransportError::NotSent {
                endpoint: self.label.clone(),
                during_authentication: self.phase == Phase::Authenticate && self.posts > 0,
            });
        }
        let response = match self.sender.try_send_request(request).await {
            Ok(r) => r,
            Err(mut e) => {
                // The request comes back only if it was never written.
                let unsent = e.take_message().is_some();
                return Err(if unsent {
                    TransportError::NotSent {
                        endpoint: self.label.clone(),
                        during_authentication: self.phase == Phase::Authenticate && self.posts > 0,
                    }
                } else {
                    self.exchange_error(describe(&e.into_error()))
                });
            }
        };
        let (parts, body) = response.into_parts();
        if self.phase == Phase::Request {
            self.phase = Phase::Reply;
        }
        let body = Limited::new(body, MAX_REPLY_BYTES * 2)
            .collect()
            .await
            .map_err(|e| self.exchange_error(format!("reading the body: {}", describe(&*e))))?
            .to_bytes();
        self.posts += 1;
        self.idle_since = std::time::Instant::now();
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
            let AuthState::Ready {
                security: Some(security),
                ..
            } = &mut self.auth
            else {
                return Err(TransportError::Sealing {
                    endpoint: self.label.clone(),
                    message: "the reply is sealed but this connection has no sealing context",
                });
            };
            encryption::unseal(security.as_mut(), &body).map_err(|source| {
                TransportError::Framing {
                    endpoint: self.label.clone(),
                    source,
                }
            })?
        } else if sealing {
            return Err(TransportError::Sealing {
                endpoint: self.label.clone(),
                message: "the reply is not encrypted although our request was; refusing it",
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

/// An error with its causes, as a person needs them (hyper's top-level message alone says
/// "error reading a body from connection"; the cause says what was wrong with it).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn timeout(phase: Phase, endpoint: &str, limit: Duration) -> TransportError {
    TransportError::Timeout {
        phase,
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
        .map_err(|e| TransportError::Exchange {
            endpoint: label.to_string(),
            phase: Phase::Connect,
            message: e.to_string(),
        })?;
    let task = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended");
        }
    });
    Ok((sender, task))
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
