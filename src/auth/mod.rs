//! Authentication: credentials, the mechanisms (NTLMv2 with session security, Basic), and the
//! HTTP authentication exchange that drives them.
//!
//! Everything here is sans-IO. A [`Mechanism`] turns server tokens into client tokens; the
//! [`AuthExchange`] turns HTTP statuses and `WWW-Authenticate` headers into the next request's
//! `Authorization` header and says whether that request carries the envelope; a completed
//! connection-bound mechanism yields its [`MessageSecurity`] for MS-WSMV message encryption.
//! The transport only moves the bytes.
//!
//! ```
//! use winrm_ipmi::auth::{AuthExchange, Credentials, Flow, Next, Password, basic::Basic};
//!
//! // Basic carries the credentials on every request: no 401 round trip.
//! let basic = Basic::new(&Credentials::new("admin", Password::new("secret")));
//! let mut exchange = AuthExchange::new(Box::new(basic), Flow::EmptyPost);
//! let leg = exchange.start()?;
//! assert!(leg.carries_envelope);
//! assert_eq!(leg.authorization.as_deref(), Some("Basic YWRtaW46c2VjcmV0"));
//! assert!(matches!(exchange.receive(200, &[])?, Next::Reply));
//! # Ok::<(), winrm_ipmi::auth::AuthError>(())
//! ```

pub mod basic;
pub mod certificate;
mod credentials;
mod exchange;
pub mod kerberos;
pub mod ntlm;

pub use credentials::{Credentials, Password};
pub use exchange::{AuthExchange, Flow, Leg, Next};
pub(crate) use exchange::{BASIC_REFUSED_HINT, REFUSED_HINT};

/// How to authenticate to WinRM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// What Windows clients do: Kerberos when a ticket can be had for the target, else NTLM
    /// ([`kerberos::Negotiate`]). Without the `kerberos` feature, NTLM.
    Negotiate,
    /// Kerberos only (feature `kerberos`): from the ccache, a client keytab or a password.
    Kerberos,
    /// NTLMv2 inside `Negotiate` (or `NTLM` if that is all the server offers).
    Ntlm,
    /// Basic: over HTTPS, or over HTTP only when explicitly allowed.
    Basic,
    /// A TLS client certificate (HTTPS only), mapped to a local account by the service.
    Certificate,
}

/// One authentication mechanism as HTTP carries it: a token exchange.
///
/// Connection-bound mechanisms (NTLM; Kerberos later) authenticate one TCP connection through
/// `401` challenges and then give message security; per-request mechanisms (Basic) put the same
/// header on every request.
pub trait Mechanism: Send {
    /// A name for messages: `NTLM`, `Basic`.
    fn name(&self) -> &'static str;
    /// The HTTP authentication schemes it speaks, preferred first.
    fn schemes(&self) -> &'static [&'static str];
    /// Whether it authenticates the connection once (and may seal), or goes on every request.
    fn connection_bound(&self) -> bool;
    /// The next token: `challenge` is `None` to start (or start over), else the server's token
    /// from a `401`.
    fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError>;
    /// Whether our side is done: the last token was the final one.
    fn is_complete(&self) -> bool;
    /// The account, for messages (never the password).
    fn account(&self) -> String;
    /// Takes the message security of a completed exchange (`None`: the mechanism cannot seal).
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>>;
    /// Whether a step may block (ask a KDC): the transport then runs it off the async
    /// executor's threads.
    fn may_block(&self) -> bool {
        false
    }
    /// Whether the server's `200` to our first token completes the exchange with a token of
    /// its own (Kerberos' mutual authentication), rather than a `401` challenge.
    fn completes_on_success(&self) -> bool {
        false
    }
    /// What a refusal of these credentials most likely means, for the error.
    fn refusal_hint(&self) -> &'static str {
        REFUSED_HINT
    }
    /// The `Authorization` header value for `token` under `scheme`.
    fn header(&self, scheme: &str, token: &[u8]) -> String {
        use base64::Engine;
        format!(
            "{scheme} {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        )
    }
}

/// Message security after authentication: what MS-WSMV message encryption wraps each envelope
/// with. NTLM's header is its 16-byte signature.
pub trait MessageSecurity: Send {
    /// The header length in bytes.
    fn header_len(&self) -> usize;
    /// Encrypts `message` in place and writes its header (exactly [`header_len`] bytes).
    /// Fails only when the context can no longer seal (a Kerberos context past its ticket's
    /// lifetime).
    ///
    /// [`header_len`]: MessageSecurity::header_len
    fn wrap(&mut self, message: &mut [u8], header: &mut [u8]) -> Result<(), SecurityError>;
    /// Verifies `header` and decrypts `message` in place. After a failure the context is
    /// unusable.
    fn unwrap(&mut self, header: &[u8], message: &mut [u8]) -> Result<(), SecurityError>;
}

/// A wrapped message that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// The signature does not verify: tampered, or the keys differ.
    #[error("the sealed message's signature does not verify: tampered, or the keys differ")]
    BadSignature,
    /// The message arrived out of sequence.
    #[error("sealed message has sequence number {got}, expected {expected}")]
    BadSequence {
        /// Expected.
        expected: u32,
        /// Received.
        got: u32,
    },
    /// A message that was signed but not encrypted, where encryption is required.
    #[error("the sealed message was signed but not encrypted")]
    NotEncrypted,
    /// The security context refused (expired, or another mechanism failure).
    #[error("the security context failed: {0}")]
    Context(String),
}

/// Why an authentication exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server offers no scheme the mechanism speaks.
    #[error(
        "the server offers no {mechanism} challenge (WWW-Authenticate: {}); is {mechanism} enabled on the WinRM service?",
        if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
    )]
    NoScheme {
        /// The mechanism.
        mechanism: &'static str,
        /// The schemes the server offered.
        offered: Vec<String>,
    },
    /// A status the exchange does not expect at this step.
    #[error("HTTP {status} during authentication: expected {expected}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// What was expected.
        expected: &'static str,
    },
    /// The server refused the credentials.
    #[error("the server refused the credentials for {account}: {hint}")]
    Rejected {
        /// The account.
        account: String,
        /// The likely causes.
        hint: &'static str,
    },
    /// The server answered `401` to the AUTHENTICATE that carried the first envelope (a server
    /// that wants the captured flow: AUTHENTICATE on an empty POST). A 401 means nothing was
    /// processed; any other status to that leg is [`AuthError::UnexpectedStatus`], and may
    /// follow delivery.
    #[error("the server refused authentication carried on the first request (HTTP {status})")]
    PiggybackRefused {
        /// The status.
        status: u16,
    },
    /// A `401` on a connection that had authenticated.
    #[error("{}", if *plaintext {
        "the server refused an unencrypted request on the authenticated connection: it requires message encryption (AllowUnencrypted=false); use encryption auto or always"
    } else {
        "the server dropped the authenticated session (HTTP 401 on an authenticated connection)"
    })]
    SessionRefused {
        /// Whether the refused request was in clear.
        plaintext: bool,
    },
    /// The server's token is not a token.
    #[error("malformed authentication token: {0}")]
    MalformedToken(&'static str),
    /// The mechanism failed (malformed token, downgrade, ...).
    #[error(transparent)]
    Ntlm(#[from] ntlm::NtlmError),
    /// Kerberos failed: no ticket, clock skew, unknown SPN, ...
    #[error(transparent)]
    Kerberos(#[from] kerberos::KerberosError),
    /// The server's `200` carried no mutual-authentication token.
    #[error(
        "the server accepted the Kerberos ticket but sent no mutual-authentication token: it did not prove its identity"
    )]
    NoMutualToken,
    /// The exchange was used out of order.
    #[error("authentication exchange used out of order: {0}")]
    State(&'static str),
}

impl AuthError {
    /// Whether the server refused the credentials or offered no usable scheme (as opposed to
    /// a malformed or hostile exchange).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            AuthError::NoScheme { .. }
                | AuthError::Rejected { .. }
                | AuthError::SessionRefused { .. }
                | AuthError::PiggybackRefused { .. }
                | AuthError::Kerberos(_)
        )
    }
}
