//! Moving envelopes: endpoints, one authenticated HTTP connection at a time, the MS-WSMV message
//! encryption framing, and TLS.
//!
//! A [`Connection`] is one TCP (or TLS) connection with its own authentication context and
//! sealing state; requests on it are strictly serialised, because the RC4 streams and sequence
//! numbers only stay in step in order. The authentication exchange itself is the sans-IO
//! [`AuthExchange`](crate::auth::AuthExchange); this module only moves its bytes.
//!
//! ```
//! use winrm_ipmi::transport::{Endpoint, Scheme};
//!
//! let ep = Endpoint::parse("[fe80::1]:5986", Scheme::Https)?;
//! assert_eq!(ep.url(), "https://[fe80::1]:5986/wsman");
//! let ep = Endpoint::parse("server01", Scheme::Http)?;
//! assert_eq!((ep.port, ep.path.as_str()), (5985, "/wsman"));
//! # Ok::<(), winrm_ipmi::transport::EndpointError>(())
//! ```

mod config;
mod connection;
pub mod encryption;
mod endpoint;
mod error;
pub mod proxy;
pub mod tls;
mod tunnel;

pub use config::{ConnectionConfig, EncryptionMode};
pub use connection::{Connection, Reply};
pub use endpoint::{Endpoint, EndpointError, Scheme, redact_userinfo};
pub use error::{Phase, ProxyFailure, TransportError};
