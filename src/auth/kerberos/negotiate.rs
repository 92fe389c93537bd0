//! `Negotiate` as Windows clients do it: Kerberos when a ticket can be had for the target,
//! else NTLM.
//!
//! The choice costs no network round trip where Kerberos cannot apply: a local account
//! (`admin`, no domain) goes straight to NTLM; `CORP\alice` uses Kerberos only when a ticket
//! for her is already in the ccache; `alice@CORP.EXAMPLE` with a password asks the KDC. When
//! Kerberos turns out impossible for this target (no ticket, no realm, no KDC, an SPN the KDC
//! does not know, or the service refusing the Kerberos token outright) the exchange starts
//! over with NTLM, if there is a password for it. Refusals that NTLM would not cure (wrong
//! password, clock skew) are reported, not hidden behind a fallback.

use super::KerberosError;
use crate::auth::ntlm::{InitiatorOptions, Ntlm};
use crate::auth::{AuthError, Credentials, Mechanism, MessageSecurity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Kerberos,
    Ntlm,
}

/// Kerberos, else NTLM.
pub struct Negotiate {
    kerberos: Option<Box<dyn Mechanism>>,
    ntlm: Option<Ntlm>,
    stage: Stage,
    /// Why Kerberos was left, for the log and for an error when NTLM fails too.
    left_kerberos: Option<String>,
}

impl std::fmt::Debug for Negotiate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiate")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl Negotiate {
    /// Negotiate for `credentials` (`None`: Kerberos from the ccache or client keytab only),
    /// with `kerberos` the Kerberos mechanism to try first (`None`: this build has none) and
    /// NTLM `options` for the fallback.
    pub fn new(
        credentials: Option<&Credentials>,
        kerberos: Option<Box<dyn Mechanism>>,
        kerberos_ticket_at_hand: impl FnOnce(&str) -> bool,
        options: InitiatorOptions,
    ) -> Self {
        let ntlm = credentials
            .filter(|c| !c.password().expose().is_empty())
            .map(|c| Ntlm::new(c.clone(), options));
        let try_kerberos = match credentials {
            None => true,
            Some(c) => {
                let account = c.account();
                let has_password = !c.password().expose().is_empty();
                if account.contains('\\') {
                    // A NetBIOS domain names no realm: Kerberos only with a ticket at hand.
                    !has_password || kerberos_ticket_at_hand(&account)
                } else if account.contains('@') {
                    true
                } else {
                    // A local account: Windows has no Kerberos for it.
                    !has_password
                }
            }
        };
        let kerberos = kerberos.filter(|_| try_kerberos || ntlm.is_none());
        let stage = if kerberos.is_some() {
            Stage::Kerberos
        } else {
            Stage::Ntlm
        };
        Negotiate {
            kerberos,
            ntlm,
            stage,
            left_kerberos: None,
        }
    }

    fn current(&self) -> &dyn Mechanism {
        match (self.stage, &self.kerberos, &self.ntlm) {
            (Stage::Kerberos, Some(k), _) => k.as_ref(),
            (_, _, Some(n)) => n,
            (_, Some(k), None) => k.as_ref(),
            (_, None, None) => unreachable!("Negotiate has a mechanism"),
        }
    }

    fn current_mut(&mut self) -> Result<&mut dyn Mechanism, AuthError> {
        match (self.stage, &mut self.kerberos, &mut self.ntlm) {
            (Stage::Kerberos, Some(k), _) => Ok(k.as_mut()),
            (Stage::Ntlm, _, Some(n)) => Ok(n),
            _ => Err(AuthError::Kerberos(KerberosError::Unavailable(
                "this build has no Kerberos, and there is no password for NTLM".into(),
            ))),
        }
    }

    /// Leaves Kerberos for NTLM, if there is a password for it.
    fn leave_kerberos(&mut self, why: String) -> bool {
        if self.stage == Stage::Kerberos && self.ntlm.is_some() {
            tracing::debug!(reason = %why, "Negotiate: Kerberos impossible here, using NTLM");
            self.left_kerberos = Some(why);
            self.stage = Stage::Ntlm;
            return true;
        }
        false
    }

    /// Whether NTLM is in use (after the choice).
    pub fn uses_ntlm(&self) -> bool {
        self.stage == Stage::Ntlm
    }
}

impl Mechanism for Negotiate {
    fn name(&self) -> &'static str {
        self.current().name()
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["Negotiate", "NTLM"]
    }
    fn connection_bound(&self) -> bool {
        true
    }
    fn may_block(&self) -> bool {
        self.stage == Stage::Kerberos
    }
    fn completes_on_success(&self) -> bool {
        self.stage == Stage::Kerberos
    }
    fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        let result = self.current_mut()?.step(challenge);
        match result {
            Err(AuthError::Kerberos(e)) if challenge.is_none() && e.is_unavailable() => {
                if self.leave_kerberos(e.to_string()) {
                    self.current_mut()?.step(None)
                } else {
                    Err(AuthError::Kerberos(e))
                }
            }
            other => other,
        }
    }
    fn fall_back(&mut self) -> bool {
        self.leave_kerberos("the service refused the Kerberos token".into())
    }
    fn is_complete(&self) -> bool {
        self.current().is_complete()
    }
    fn account(&self) -> String {
        self.current().account()
    }
    fn refusal_hint(&self) -> &'static str {
        self.current().refusal_hint()
    }
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        self.current_mut().ok()?.take_security()
    }
}
