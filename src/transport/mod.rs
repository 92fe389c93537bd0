//! Moving envelopes: endpoints, one authenticated HTTP connection at a time, and the MS-WSMV
//! message encryption framing.
//!
//! A [`Connection`] is one TCP connection with its own NTLM context and sealing state; requests
//! on it are strictly serialised, because the RC4 streams and sequence numbers only stay in step
//! in order.

mod connection;
pub mod encryption;
mod endpoint;
pub mod tls;

pub use connection::{AuthMethod, Connection, ConnectionConfig, EncryptionMode, Reply};
pub use endpoint::{Endpoint, EndpointError, Scheme};

/// What went wrong moving a message.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// TCP connect failed.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// Where.
        endpoint: String,
        /// Why.
        source: std::io::Error,
    },
    /// Connect or request took too long.
    #[error("{what} to {endpoint} timed out after {secs:.1} s")]
    Timeout {
        /// Connect or request.
        what: &'static str,
        /// Where.
        endpoint: String,
        /// Limit.
        secs: f64,
    },
    /// The HTTP exchange failed (connection reset, closed, protocol error).
    #[error("HTTP exchange with {endpoint} failed: {message}")]
    Http {
        /// Where.
        endpoint: String,
        /// What hyper said.
        message: String,
    },
    /// The connection was closed before our request was written: nothing was sent, so the
    /// request may go out on a new connection.
    #[error("{endpoint} closed the connection before the request was sent")]
    Closed {
        /// Where.
        endpoint: String,
    },
    /// The TLS handshake failed (untrusted or mismatched certificate, pin mismatch, ...).
    #[error("TLS with {endpoint} failed: {message}")]
    Tls {
        /// Where.
        endpoint: String,
        /// What rustls said.
        message: String,
    },
    /// The server refused the credentials.
    #[error("{0}")]
    AuthFailed(String),
    /// The configuration does not allow what was asked (e.g. Basic over plain HTTP).
    #[error("{0}")]
    Config(String),
    /// NTLM failed (malformed token, downgrade, bad signature).
    #[error(transparent)]
    Ntlm(#[from] crate::auth::ntlm::NtlmError),
    /// The encrypted body is malformed or does not verify.
    #[error(transparent)]
    Framing(#[from] encryption::FramingError),
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
    /// Whether the connection may have delivered the request: a request that failed this way is
    /// not re-sent automatically (an IPMI Set may already have happened).
    pub fn maybe_delivered(&self) -> bool {
        matches!(
            self,
            TransportError::Http { .. }
                | TransportError::Timeout {
                    what: "request",
                    ..
                }
        )
    }
}
