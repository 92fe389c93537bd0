//! NTLMv2 (MS-NLMP): the message codec, the initiator, and session security (sign and seal).
//!
//! Sans-IO: the initiator turns a CHALLENGE into an AUTHENTICATE and a [`SessionSecurity`];
//! whoever moves the bytes decides how. NTLMv1 and LM are never used. Randomness and the clock
//! can be fixed ([`InitiatorOptions`]) so the MS-NLMP §4.2.4 vectors run as tests.

#[cfg(feature = "sim")]
mod acceptor;
mod crypto;
mod initiator;
mod mechanism;
pub mod messages;
mod session;

#[cfg(feature = "sim")]
pub use acceptor::{Accepted, AcceptorIdentity, NtlmAcceptor, PasswordLookup};
pub use initiator::{ChannelBindings, InitiatorOptions, NtlmInitiator};
pub use mechanism::Ntlm;
pub use session::{Role, SIGNATURE_LEN, SessionSecurity};

/// What can go wrong in NTLM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmError {
    /// A token is not a well-formed NTLM message.
    #[error("malformed NTLM message: {0}")]
    Malformed(&'static str),
    /// The server does not offer what we require (NTLMv2 session security, 128-bit keys,
    /// signing and sealing).
    #[error("the server does not offer {0}; refusing to downgrade")]
    Downgrade(&'static str),
    /// A sealed message's signature does not verify (tampered, or wrong keys).
    #[error("the sealed message's signature does not verify: tampered, or the keys differ")]
    BadSignature,
    /// A sealed message arrived out of sequence.
    #[error("sealed message has sequence number {got}, expected {expected}")]
    BadSequence {
        /// Expected.
        expected: u32,
        /// Received.
        got: u32,
    },
    /// The account is unknown or the password wrong (acceptor side).
    #[error("logon failure: {0}")]
    LogonFailure(&'static str),
    /// The MIC does not verify (acceptor side).
    #[error("the AUTHENTICATE message's MIC does not verify")]
    BadMic,
    /// The channel bindings are missing or differ (acceptor side).
    #[error("channel bindings missing or different from this TLS connection's")]
    BadBindings,
    /// The initiator was used out of order.
    #[error("NTLM context used out of order: {0}")]
    State(&'static str),
    /// No system randomness.
    #[error("no system randomness: {0}")]
    Random(String),
}
