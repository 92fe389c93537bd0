//! What a connection needs, checked before any traffic: endpoint, credentials, mechanism,
//! flow, sealing, timeouts and TLS.

use std::sync::Arc;
use std::time::Duration;

use super::proxy::Proxy;
use super::{Endpoint, Scheme, TransportError};
use crate::auth::basic::Basic;
use crate::auth::certificate::Certificate;
use crate::auth::kerberos::Negotiate;
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
    /// The Kerberos service principal (`HTTP/host[@REALM]`); `None`: `HTTP/<host as given>`.
    pub spn: Option<String>,
    /// Kerberos credentials shared by every connection made with this configuration (and
    /// its clones): one ticket-granting ticket per run.
    #[cfg(feature = "kerberos")]
    pub tickets: crate::auth::kerberos::TicketCache,
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
        if let Some(spn) = &self.spn {
            crate::auth::kerberos::check_spn(spn).map_err(TransportError::Config)?;
        }
        if self.auth == AuthMethod::Certificate {
            if self.endpoint.scheme != Scheme::Https {
                return Err(TransportError::Config(
                    "certificate authentication needs HTTPS (--transport https)".into(),
                ));
            }
            if self.seals() {
                return Err(TransportError::Config(
                    "message encryption needs NTLM or Kerberos; over HTTPS with a certificate TLS protects the traffic".into(),
                ));
            }
        } else if self.auth == AuthMethod::Kerberos {
            #[cfg(not(feature = "kerberos"))]
            return Err(TransportError::Config(
                "this build has no Kerberos (cargo feature `kerberos`)".into(),
            ));
        } else if self.auth == AuthMethod::Negotiate && !cfg!(feature = "kerberos") {
            if self.credentials.is_none() {
                return Err(TransportError::Config(
                    "no credentials: set a user and a password (this build has no Kerberos)".into(),
                ));
            }
        } else if self.auth != AuthMethod::Negotiate && self.credentials.is_none() {
            return Err(TransportError::Config(
                "no credentials: set a user and a password".into(),
            ));
        }
        if self.auth == AuthMethod::Basic {
            if self.seals() {
                return Err(TransportError::Config(
                    "message encryption needs NTLM or Kerberos; Basic cannot seal (use HTTPS, or --auth negotiate)"
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
        let ntlm_options = || InitiatorOptions {
            target_spn: Some(format!("HTTP/{}", self.endpoint.host)),
            channel_bindings: channel_binding
                .clone()
                .map(ChannelBindings::from_application_data),
            ..Default::default()
        };
        Ok(match self.auth {
            AuthMethod::Certificate => Box::new(Certificate),
            AuthMethod::Ntlm => Box::new(Ntlm::new(credentials()?, ntlm_options())),
            AuthMethod::Basic => Box::new(Basic::new(&credentials()?)),
            AuthMethod::Kerberos => self.kerberos(channel_binding.clone())?,
            AuthMethod::Negotiate => {
                #[cfg(feature = "kerberos")]
                let (kerberos, at_hand) = (
                    Some(self.kerberos(channel_binding.clone())?),
                    |account: &str| {
                        crate::auth::kerberos::default_credentials_available(Some(account))
                    },
                );
                #[cfg(not(feature = "kerberos"))]
                let (kerberos, at_hand) = (None, |_: &str| false);
                Box::new(Negotiate::new(
                    self.credentials.as_ref(),
                    kerberos,
                    at_hand,
                    ntlm_options(),
                ))
            }
        })
    }

    /// The Kerberos service principal for this endpoint.
    pub fn service_principal(&self) -> String {
        crate::auth::kerberos::service_principal(self.spn.as_deref(), &self.endpoint.host)
    }

    #[cfg(feature = "kerberos")]
    fn kerberos(
        &self,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<Box<dyn Mechanism>, TransportError> {
        Ok(Box::new(crate::auth::kerberos::Kerberos::new(
            self.credentials.as_ref(),
            self.service_principal(),
            channel_binding,
            self.tickets.clone(),
        )))
    }

    #[cfg(not(feature = "kerberos"))]
    fn kerberos(
        &self,
        _channel_binding: Option<Vec<u8>>,
    ) -> Result<Box<dyn Mechanism>, TransportError> {
        Err(TransportError::Config(
            "this build has no Kerberos (cargo feature `kerberos`)".into(),
        ))
    }
}
