//! The crate's error: what failed, structured for programs (`kind()`), worded for people.

use serde::Serialize;

use crate::ipmi::IpmiError;
use crate::transport::TransportError;
use crate::wsman::{FaultKind, WsmanError};

/// Every failure the client reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Moving the message failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The reply is malformed, or a WS-Management fault.
    #[error(transparent)]
    Wsman(#[from] WsmanError),
    /// The BMC refused the request or answered something malformed.
    #[error(transparent)]
    Ipmi(#[from] IpmiError),
    /// The host has no usable `Microsoft_IPMI` instance.
    #[error("no BMC on {host}: {detail}")]
    NoBmc {
        /// The host.
        host: String,
        /// What was found.
        detail: String,
    },
    /// Invalid settings, caught before any traffic.
    #[error("{0}")]
    Config(String),
}

/// The kind of an [`Error`], for programs and for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad settings or arguments.
    Config,
    /// The host cannot be reached.
    Connect,
    /// A connect, request or WS-Management operation timed out.
    Timeout,
    /// The TLS handshake failed (certificate not trusted, name or pin mismatch).
    Tls,
    /// The credentials were refused.
    Auth,
    /// Authenticated, but not allowed (e.g. not a local administrator).
    AccessDenied,
    /// No IPMI driver / BMC on the host.
    NoBmc,
    /// Another WS-Management fault.
    Fault,
    /// A malformed or unexpected reply, or a sealing failure.
    Protocol,
    /// The BMC answered with an error completion code.
    Ipmi,
}

impl Error {
    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::NoBmc { .. } => ErrorKind::NoBmc,
            Error::Ipmi(IpmiError::Completion { .. }) => ErrorKind::Ipmi,
            Error::Ipmi(
                IpmiError::InvalidArgument(_)
                | IpmiError::InvalidNetFn(_)
                | IpmiError::InvalidLun(_)
                | IpmiError::RequestTooLong { .. },
            ) => ErrorKind::Config,
            Error::Ipmi(_) => ErrorKind::Protocol,
            Error::Wsman(WsmanError::Fault(f)) => match f.kind() {
                FaultKind::AccessDenied => ErrorKind::AccessDenied,
                FaultKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Fault,
            },
            Error::Wsman(WsmanError::Ipmi(_)) | Error::Wsman(_) => ErrorKind::Protocol,
            Error::Transport(t) => match t {
                TransportError::Connect { .. }
                | TransportError::Closed { .. }
                | TransportError::Http { .. } => ErrorKind::Connect,
                TransportError::Timeout { .. } => ErrorKind::Timeout,
                TransportError::AuthFailed(_) => ErrorKind::Auth,
                TransportError::Tls { .. } => ErrorKind::Tls,
                TransportError::Config(_) => ErrorKind::Config,
                TransportError::Ntlm(_)
                | TransportError::Framing(_)
                | TransportError::Status { .. } => ErrorKind::Protocol,
            },
        }
    }
}
