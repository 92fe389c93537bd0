//! What went wrong moving a message, always naming the endpoint, and (where it matters for
//! re-sending) the phase of the exchange.

use std::fmt;

use super::encryption::FramingError;
use crate::auth::AuthError;

/// The phase of one request's life on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The TCP connect.
    Connect,
    /// The TLS handshake.
    TlsHandshake,
    /// An authentication leg that carries no envelope.
    Authenticate,
    /// Writing a request that carries an envelope, or waiting for its reply: it may have been
    /// delivered.
    Request,
    /// Reading the reply body.
    Reply,
}

impl Phase {
    /// Whether a failure in this phase may follow the envelope's delivery.
    pub fn may_have_delivered(self) -> bool {
        matches!(self, Phase::Request | Phase::Reply)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::TlsHandshake => "TLS handshake",
            Phase::Authenticate => "authentication",
            Phase::Request => "request",
            Phase::Reply => "reading the reply",
        })
    }
}

/// How a proxy failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// The proxy itself cannot be reached.
    #[error("cannot connect to the proxy: {0}")]
    Unreachable(std::io::Error),
    /// The proxy wants credentials (407), or refused the ones given (407, or 401 as tinyproxy
    /// answers wrong ones).
    #[error("{} (HTTP {status})", if *credentials_given {
        "the proxy refused our credentials"
    } else {
        "the proxy requires authentication"
    })]
    AuthRequired {
        /// Whether credentials were sent.
        credentials_given: bool,
        /// 407 or 401.
        status: u16,
    },
    /// The proxy could not reach the target (502, 503, 504).
    #[error("the proxy could not reach the target (HTTP {status} {reason})")]
    TargetUnreachable {
        /// Status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The proxy refused the tunnel (403: the target port may not be allowed for CONNECT).
    #[error("the proxy refused to open a tunnel (HTTP {status} {reason})")]
    Refused {
        /// Status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The proxy did not open the tunnel in time.
    #[error("the proxy did not open the tunnel within {secs:.1} s")]
    Timeout {
        /// The limit.
        secs: f64,
    },
    /// The proxy's answer is not HTTP, too long, or it closed the connection.
    #[error("the proxy answered CONNECT with something unusable: {0}")]
    Malformed(String),
}

/// What went wrong moving a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// TCP connect failed.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// Where.
        endpoint: String,
        /// Why.
        source: std::io::Error,
    },
    /// A phase took too long.
    #[error("{phase} to {endpoint} timed out after {secs:.1} s")]
    Timeout {
        /// Which phase.
        phase: Phase,
        /// Where.
        endpoint: String,
        /// Limit.
        secs: f64,
    },
    /// The HTTP exchange failed after the connection was made (reset, closed mid-reply,
    /// protocol error, size limit).
    #[error("{endpoint}: {phase} failed: {message}")]
    Exchange {
        /// Where.
        endpoint: String,
        /// When.
        phase: Phase,
        /// What happened.
        message: String,
    },
    /// The connection was closed before our request was written: nothing was sent, so the
    /// request may go out on a new connection.
    #[error("{endpoint} closed the connection {}", if *during_authentication {
        "in the middle of the authentication handshake; NTLM needs the connection kept open between its legs (a proxy or load balancer in between is the usual cause)"
    } else {
        "before the request was sent"
    })]
    NotSent {
        /// Where.
        endpoint: String,
        /// Whether it happened between authentication legs (after the server's challenge).
        during_authentication: bool,
    },
    /// An earlier request left this connection in an unknown state (cancelled or failed
    /// mid-way); it is not used again, and nothing was sent on it.
    #[error(
        "the connection to {endpoint} was left in an unknown state by an earlier request; nothing was sent on it"
    )]
    Poisoned {
        /// Where.
        endpoint: String,
    },
    /// The proxy failed, or could not reach the target.
    #[error("{failure} (proxy {proxy}, target {endpoint})")]
    Proxy {
        /// The proxy's URL (never its credentials).
        proxy: String,
        /// The target.
        endpoint: String,
        /// What happened.
        failure: ProxyFailure,
    },
    /// The TLS handshake failed (untrusted or mismatched certificate, pin mismatch, ...).
    #[error("TLS with {endpoint} failed: {message}")]
    Tls {
        /// Where.
        endpoint: String,
        /// What rustls said.
        message: String,
    },
    /// Authentication failed: refused credentials, or a malformed or hostile exchange.
    #[error("authentication with {endpoint} failed: {source}")]
    Auth {
        /// Where.
        endpoint: String,
        /// The phase: [`Phase::Request`] when the failing leg carried the envelope.
        phase: Phase,
        /// Why.
        source: AuthError,
    },
    /// The configuration does not allow what was asked (e.g. Basic over plain HTTP).
    #[error("{0}")]
    Config(String),
    /// The encrypted body is malformed or does not verify.
    #[error("{endpoint}: {source}")]
    Framing {
        /// Where.
        endpoint: String,
        /// What.
        source: FramingError,
    },
    /// Sealed and plain messages do not match (a plaintext reply to a sealed request, ...).
    #[error("{endpoint}: {message}")]
    Sealing {
        /// Where.
        endpoint: String,
        /// What.
        message: &'static str,
    },
    /// Our security context could not seal the request (a Kerberos context past its ticket's
    /// lifetime): nothing was sent.
    #[error("{endpoint}: could not seal the request, nothing was sent: {source}")]
    SealFailed {
        /// Where.
        endpoint: String,
        /// Why.
        source: crate::auth::SecurityError,
    },
    /// The server answered with an HTTP status that carries no SOAP reply.
    #[error("HTTP {status} from {endpoint}: {meaning}")]
    Status {
        /// Status code.
        status: u16,
        /// Where.
        endpoint: String,
        /// What it means for WinRM.
        meaning: String,
    },
}

impl TransportError {
    /// Whether the request may have been delivered: a request that failed this way is never
    /// re-sent automatically (an IPMI Set may already have happened).
    pub fn maybe_delivered(&self) -> bool {
        if self.no_reply_after_sending() {
            return true;
        }
        match self {
            // A status other than 401 to a leg that carried the envelope.
            TransportError::Auth {
                phase,
                source: AuthError::UnexpectedStatus { .. },
                ..
            } => phase.may_have_delivered(),
            // A reply came: the request was delivered, whatever is wrong with the reply.
            TransportError::Framing { .. }
            | TransportError::Sealing { .. }
            | TransportError::Status { .. } => true,
            _ => false,
        }
    }

    /// Whether the connection failed with no reply after the envelope may have gone out (it
    /// broke or timed out while sending or waiting): the host may have taken the request and
    /// then gone down, as an in-band power-off does. A reply of any kind (a status, a
    /// fault, an unreadable body) is not this.
    pub fn no_reply_after_sending(&self) -> bool {
        match self {
            TransportError::Exchange { phase, .. } | TransportError::Timeout { phase, .. } => {
                phase.may_have_delivered()
            }
            _ => false,
        }
    }

    /// The endpoint, where the error names one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            TransportError::Connect { endpoint, .. }
            | TransportError::Timeout { endpoint, .. }
            | TransportError::Exchange { endpoint, .. }
            | TransportError::NotSent { endpoint, .. }
            | TransportError::Poisoned { endpoint }
            | TransportError::Tls { endpoint, .. }
            | TransportError::Proxy { endpoint, .. }
            | TransportError::Auth { endpoint, .. }
            | TransportError::Framing { endpoint, .. }
            | TransportError::Sealing { endpoint, .. }
            | TransportError::SealFailed { endpoint, .. }
            | TransportError::Status { endpoint, .. } => Some(endpoint),
            TransportError::Config(_) => None,
        }
    }
}
