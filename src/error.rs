//! The crate's error: what failed, structured for programs (`kind()`), worded for people.

use serde::Serialize;

use crate::ipmi::IpmiError;
use crate::transport::{ProxyFailure, TransportError};
use crate::wmi::WmiError;
use crate::wsman::{FaultKind, WsmanError};

/// Every failure the client reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Moving the message failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A WS-Management fault from `endpoint` (malformed replies are [`Error::Reply`]).
    #[error("{endpoint}: {source}")]
    Wsman {
        /// Where it came from.
        endpoint: String,
        /// The fault (or a reply without the property an operation needs).
        source: WsmanError,
    },
    /// The BMC refused the request or answered something malformed, or an IPMI request could
    /// not be made (a bad argument). `endpoint` names the host whose BMC answered, where the
    /// failure came from one.
    #[error("{}{source}", at(.endpoint))]
    Ipmi {
        /// The host whose BMC it was; `None` for a request refused before it was sent.
        endpoint: Option<String>,
        /// What failed.
        source: IpmiError,
    },
    /// The reply is malformed (not SOAP, wrong `RelatesTo`, bad values) or, in strict mode, a
    /// WMI method's output is inconsistent.
    #[error("malformed reply from {endpoint}: {source}")]
    Reply {
        /// Where it came from.
        endpoint: String,
        /// What is wrong.
        source: WmiError,
    },
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
    /// A bug: the work for this host ended unexpectedly (a panic in its task). Reported for
    /// that host alone; other hosts carry on.
    #[error("internal error while working on {host}: {detail}")]
    Internal {
        /// The host.
        host: String,
        /// What is known.
        detail: String,
    },
}

fn at(endpoint: &Option<String>) -> String {
    endpoint
        .as_deref()
        .map(|e| format!("{e}: "))
        .unwrap_or_default()
}

/// An IPMI failure not tied to a host (a request refused before it was sent, or a procedure's
/// own check); carriers that know their host name it ([`crate::ipmi::Bmc::error`]).
impl From<IpmiError> for Error {
    fn from(source: IpmiError) -> Self {
        Error::Ipmi {
            endpoint: None,
            source,
        }
    }
}

impl Error {
    /// A reply-parsing failure from `endpoint`: faults become [`Error::Wsman`], an IPMI
    /// failure [`Error::Ipmi`], everything else [`Error::Reply`]; each names the endpoint.
    pub(crate) fn reply(endpoint: &str, e: impl Into<WmiError>) -> Self {
        match e.into() {
            WmiError::Wsman(WsmanError::Fault(f)) => Error::Wsman {
                endpoint: endpoint.to_string(),
                source: WsmanError::Fault(f),
            },
            WmiError::Ipmi(source) => Error::Ipmi {
                endpoint: Some(endpoint.to_string()),
                source,
            },
            source => Error::Reply {
                endpoint: endpoint.to_string(),
                source,
            },
        }
    }
}

/// The kind of an [`Error`], for programs and for summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// A bug in this program (reported per host, never ending a fleet run).
    Internal,
}

impl ErrorKind {
    /// The kind's name, as JSON output and summaries spell it (`access_denied`, `no_bmc`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Auth => "auth",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::NoBmc => "no_bmc",
            ErrorKind::Fault => "fault",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Ipmi => "ipmi",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// Whether the request may have been delivered (and so was not re-sent).
    pub fn maybe_delivered(&self) -> bool {
        match self {
            Error::Transport(t) => t.maybe_delivered(),
            // A reply came back (a fault, an unreadable reply, a BMC's answer): delivered.
            Error::Wsman { .. }
            | Error::Reply { .. }
            | Error::Ipmi {
                source: IpmiError::Completion { .. },
                ..
            } => true,
            _ => false,
        }
    }

    /// Whether the connection failed with no reply after the request may have gone out
    /// ([`TransportError::no_reply_after_sending`]). Unlike [`Error::maybe_delivered`], a
    /// fault or a completion code is not this: it is an answer, and one that refuses the
    /// request says it was not carried out.
    pub fn no_reply_after_sending(&self) -> bool {
        matches!(self, Error::Transport(t) if t.no_reply_after_sending())
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Internal { .. } => ErrorKind::Internal,
            Error::NoBmc { .. } => ErrorKind::NoBmc,
            Error::Ipmi { source, .. } => match source {
                IpmiError::Completion { .. } => ErrorKind::Ipmi,
                IpmiError::InvalidArgument(_)
                | IpmiError::InvalidNetFn(_)
                | IpmiError::InvalidLun(_)
                | IpmiError::RequestTooLong { .. } => ErrorKind::Config,
                _ => ErrorKind::Protocol,
            },
            Error::Wsman {
                source: WsmanError::Fault(f),
                ..
            } => match f.kind() {
                FaultKind::AccessDenied => ErrorKind::AccessDenied,
                FaultKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Fault,
            },
            Error::Wsman { .. } | Error::Reply { .. } => ErrorKind::Protocol,
            Error::Transport(t) => match t {
                TransportError::Connect { .. }
                | TransportError::NotSent { .. }
                | TransportError::Poisoned { .. }
                | TransportError::Exchange { .. } => ErrorKind::Connect,
                TransportError::Timeout { .. } => ErrorKind::Timeout,
                TransportError::Auth { source, .. } if source.is_refusal() => ErrorKind::Auth,
                TransportError::Tls { .. } => ErrorKind::Tls,
                TransportError::Proxy {
                    failure: ProxyFailure::AuthRequired { .. },
                    ..
                } => ErrorKind::Auth,
                TransportError::Proxy {
                    failure: ProxyFailure::Timeout { .. },
                    ..
                } => ErrorKind::Timeout,
                TransportError::Proxy { .. } => ErrorKind::Connect,
                TransportError::Config(_) => ErrorKind::Config,
                _ => ErrorKind::Protocol,
            },
        }
    }
}
