//! NTLM as an HTTP [`Mechanism`]: `Negotiate` (or bare `NTLM`) with NEGOTIATE, CHALLENGE and
//! AUTHENTICATE, then NTLM session security as the connection's [`MessageSecurity`].

use std::fmt;

use super::{InitiatorOptions, NtlmInitiator, SIGNATURE_LEN, SessionSecurity};
use crate::auth::{AuthError, Credentials, Mechanism, MessageSecurity, SecurityError};

/// The NTLM mechanism for one connection.
pub struct Ntlm {
    credentials: Credentials,
    options: InitiatorOptions,
    initiator: Option<NtlmInitiator>,
    security: Option<SessionSecurity>,
    complete: bool,
}

impl fmt::Debug for Ntlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ntlm")
            .field("account", &self.credentials.account())
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

impl Ntlm {
    /// NTLM for these credentials, with the target SPN and channel bindings in `options`.
    pub fn new(credentials: Credentials, options: InitiatorOptions) -> Self {
        Ntlm {
            credentials,
            options,
            initiator: None,
            security: None,
            complete: false,
        }
    }
}

impl Mechanism for Ntlm {
    fn name(&self) -> &'static str {
        "NTLM"
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["Negotiate", "NTLM"]
    }
    fn connection_bound(&self) -> bool {
        true
    }
    fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        match challenge {
            None => {
                let mut initiator =
                    NtlmInitiator::new(self.credentials.clone(), self.options.clone());
                let negotiate = initiator.negotiate();
                self.initiator = Some(initiator);
                self.complete = false;
                self.security = None;
                Ok(negotiate)
            }
            Some(challenge) => {
                let mut initiator = self
                    .initiator
                    .take()
                    .ok_or(AuthError::State("NTLM challenge before negotiate"))?;
                let (authenticate, session) = initiator.authenticate(challenge)?;
                self.security = Some(session);
                self.complete = true;
                Ok(authenticate)
            }
        }
    }
    fn is_complete(&self) -> bool {
        self.complete
    }
    fn account(&self) -> String {
        self.credentials.account()
    }
    fn refusal_hint(&self) -> &'static str {
        // Over HTTPS a refused login may be the channel binding, not the password.
        if self.options.channel_bindings.is_some() {
            "wrong password, unknown account, the account may not log on through WinRM, or the service refused our channel binding (its CbtHardeningLevel; a TLS-intercepting proxy in between changes the certificate it binds to)"
        } else {
            crate::auth::REFUSED_HINT
        }
    }
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        self.security
            .take()
            .map(|s| Box::new(s) as Box<dyn MessageSecurity>)
    }
}

impl MessageSecurity for SessionSecurity {
    fn header_len(&self) -> usize {
        SIGNATURE_LEN
    }
    fn wrap(&mut self, message: &mut [u8], header: &mut [u8]) -> Result<(), SecurityError> {
        header.copy_from_slice(&self.seal(message));
        Ok(())
    }
    fn unwrap(&mut self, header: &[u8], message: &mut [u8]) -> Result<(), SecurityError> {
        self.unseal(message, header).map_err(|e| match e {
            super::NtlmError::BadSequence { expected, got } => {
                SecurityError::BadSequence { expected, got }
            }
            _ => SecurityError::BadSignature,
        })
    }
}
