//! What a connection needs, checked before any traffic: endpoint, credentials, mechanism,
//! flow, sealing, timeouts and TLS.

use std::sync::Arc;
use std::time::Duration;

use super::proxy::Proxy;
use super::{Endpoint, Scheme, TransportError};
use crate::auth::basic::Basic;
use crate::auth::certificate::Certificate;
use crate::auth::ntlm::{ChannelBindings, InitiatorOptions, Ntlm};
use crate::auth::{AuthMethod, Credentials, Flow, Mechanism};

/// Whether bodies are sealed (MS-WSMV message encryption).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Who (not needed for certificate authentication: the certificate says who).
    pub credentials: Option<Credentials>,
    /// How to authenticate.
    pub auth: AuthMethod,
    /// Where the final authentication token goes (connection-bound mechanisms).
    pub flow: Flow,
    /// Whether to seal.
    pub encryption: EncryptionMode,
    /// TCP connect (and TLS handshake) limit.
    pub connect_timeout: Duration,
    /// Limit for one request, from writing it to having its reply (OperationTimeout + margin).
    pub request_timeout: Duration,
    /// Sends the password in Basic over plain HTTP. Off by default, and loudly named: anyone
    /// on the path reads the password.
    pub allow_basic_over_http: bool,
    /// TLS configuration for HTTPS endpoints (built once: loading the OS store is not free).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The HTTP proxy to tunnel through (`CONNECT`), if any.
    pub proxy: Option<Proxy>,
}

impl ConnectionConfig {
    /// Whether bodies are sealed on this connection.
    pub fn seals(&self) -> bool {
        match self.encryption {
            EncryptionMode::Always => true,
            EncryptionMode::Never => false,
            EncryptionMode::Auto => self.endpoint.scheme == Scheme::Http,
        }
    }

    /// Checks the combination before any traffic.
    pub fn validate(&self) -> Result<(), TransportError> {
        if self.auth == AuthMethod::Certificate {
            if self.endpoint.scheme != Scheme::Https {
                return Err(TransportError::Config(
                    "certificate authentication needs HTTPS (--transport https)".into(),
                ));
            }
            if self.seals() {
                return Err(TransportError::Config(
                    "message encryption needs NTLM; over HTTPS with a certificate TLS protects the traffic".into(),
                ));
            }
        } else if self.credentials.is_none() {
            return Err(TransportError::Config(
                "no credentials: set a user and a password".into(),
            ));
        }
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

    /// The mechanism for a new connection (`channel_binding`: the TLS connection's RFC 5929
    /// `tls-server-end-point` data).
    pub(super) fn mechanism(
        &self,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<Box<dyn Mechanism>, TransportError> {
        let credentials = || {
            self.credentials
                .clone()
                .ok_or_else(|| TransportError::Config("no credentials".into()))
        };
        Ok(match self.auth {
            AuthMethod::Certificate => Box::new(Certificate),
            AuthMethod::Ntlm => Box::new(Ntlm::new(
                credentials()?,
                InitiatorOptions {
                    target_spn: Some(format!("HTTP/{}", self.endpoint.host)),
                    channel_bindings: channel_binding.map(ChannelBindings::from_application_data),
                    ..Default::default()
                },
            )),
            AuthMethod::Basic => Box::new(Basic::new(&credentials()?)),
        })
    }
}
