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
    /// `CORP\alice` with a password: Kerberos if a ticket for her is at hand, decided at the
    /// first step (it reads the ccache: off the executor).
    Undecided,
    Kerberos,
    Ntlm,
}

/// Whether a ticket for an account is at hand (reads the ccache; no KDC).
type TicketAtHand = Box<dyn FnOnce(&str) -> bool + Send>;

/// Kerberos, else NTLM.
pub struct Negotiate {
    kerberos: Option<Box<dyn Mechanism>>,
    ntlm: Option<Ntlm>,
    stage: Stage,
    /// For [`Stage::Undecided`]: the account, and how to look for its ticket.
    undecided: Option<(String, TicketAtHand)>,
    /// Why Kerberos was left, for the log.
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
    /// with `kerberos` the Kerberos mechanism to try first (`None`: this build has none),
    /// `ticket_at_hand` to look for a ticket for a NetBIOS-domain account, and NTLM `options`
    /// for the fallback. Nothing here blocks: the choice that reads the ccache is made at the
    /// first step, which the transport runs off the executor.
    pub fn new(
        credentials: Option<&Credentials>,
        kerberos: Option<Box<dyn Mechanism>>,
        ticket_at_hand: impl FnOnce(&str) -> bool + Send + 'static,
        options: InitiatorOptions,
    ) -> Self {
        let ntlm = credentials
            .filter(|c| !c.password().expose().is_empty())
            .map(|c| Ntlm::new(c.clone(), options));
        let mut undecided = None;
        let stage = match (credentials, &kerberos, &ntlm) {
            (_, None, _) => Stage::Ntlm,
            (_, Some(_), None) => Stage::Kerberos,
            (None, Some(_), Some(_)) => Stage::Kerberos,
            (Some(c), Some(_), Some(_)) => {
                let account = c.account();
                if account.contains('\\') {
                    // A NetBIOS domain names no realm: Kerberos only with a ticket at hand.
                    undecided = Some((account, Box::new(ticket_at_hand) as TicketAtHand));
                    Stage::Undecided
                } else if c.user().contains('@') {
                    Stage::Kerberos
                } else {
                    // A local account: Windows has no Kerberos for it.
                    Stage::Ntlm
                }
            }
        };
        Negotiate {
            kerberos,
            ntlm,
            stage,
            undecided,
            left_kerberos: None,
        }
    }

    /// Makes the choice left for the first step.
    fn decide(&mut self) {
        if let Some((account, at_hand)) = self.undecided.take() {
            self.stage = if at_hand(&account) {
                Stage::Kerberos
            } else {
                Stage::Ntlm
            };
        }
    }

    fn current(&self) -> &dyn Mechanism {
        match (self.stage, &self.kerberos, &self.ntlm) {
            (Stage::Kerberos | Stage::Undecided, Some(k), _) => k.as_ref(),
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
        self.stage != Stage::Ntlm
    }
    fn completes_on_success(&self) -> bool {
        self.stage == Stage::Kerberos
    }
    fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        self.decide();
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

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;

    use super::*;
    use crate::auth::{AuthExchange, Flow, Next, Password};

    /// A Kerberos-shaped mechanism without a KDC: an AP-REQ out, an AP-REP on the `200`.
    struct FakeKerberos {
        fail_start: Option<KerberosError>,
        complete: bool,
    }

    fn fake(fail_start: Option<KerberosError>) -> Option<Box<dyn Mechanism>> {
        Some(Box::new(FakeKerberos {
            fail_start,
            complete: false,
        }))
    }

    impl Mechanism for FakeKerberos {
        fn name(&self) -> &'static str {
            "Kerberos"
        }
        fn schemes(&self) -> &'static [&'static str] {
            &["Negotiate"]
        }
        fn connection_bound(&self) -> bool {
            true
        }
        fn may_block(&self) -> bool {
            true
        }
        fn completes_on_success(&self) -> bool {
            true
        }
        fn step(&mut self, challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
            match challenge {
                None => match self.fail_start.take() {
                    Some(e) => Err(AuthError::Kerberos(e)),
                    None => Ok(b"AP-REQ".to_vec()),
                },
                Some(b"AP-REP") => {
                    self.complete = true;
                    Ok(Vec::new())
                }
                Some(b"KRB-ERROR skew") => Err(AuthError::Kerberos(KerberosError::ClockSkew {
                    detail: "Clock skew too great".into(),
                })),
                Some(_) => Err(AuthError::Kerberos(KerberosError::Mutual(
                    "the server's token does not verify".into(),
                ))),
            }
        }
        fn is_complete(&self) -> bool {
            self.complete
        }
        fn account(&self) -> String {
            "alice@CORP.EXAMPLE".into()
        }
        fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
            None
        }
    }

    fn negotiate(
        account: Option<(&str, &str)>,
        kerberos: Option<Box<dyn Mechanism>>,
        ticket: bool,
    ) -> AuthExchange {
        let credentials = account.map(|(a, p)| Credentials::new(a, Password::new(p)));
        let mechanism = Negotiate::new(
            credentials.as_ref(),
            kerberos,
            move |_| ticket,
            InitiatorOptions::default(),
        );
        AuthExchange::new(Box::new(mechanism), Flow::EmptyPost)
    }

    fn token(leg: &crate::auth::Leg) -> Vec<u8> {
        let value = leg.authorization.as_deref().unwrap();
        let (scheme, token) = value.split_once(' ').unwrap();
        assert_eq!(scheme, "Negotiate");
        B64.decode(token).unwrap()
    }

    fn is_ntlm_negotiate(t: &[u8]) -> bool {
        t.starts_with(b"NTLMSSP\0\x01\0\0\0")
    }

    #[test]
    fn kerberos_completes_on_the_200_with_the_servers_token() {
        let mut ex = negotiate(Some(("alice@corp.example", "pw")), fake(None), false);
        assert!(ex.may_block(), "Kerberos runs off the executor");
        let leg = ex.start().unwrap();
        assert!(!leg.carries_envelope, "the ticket goes on an empty POST");
        assert_eq!(token(&leg), b"AP-REQ");
        let rep = format!("Negotiate {}", B64.encode(b"AP-REP"));
        assert_eq!(ex.receive(200, &[&rep]).unwrap(), Next::Authenticated);
    }

    #[test]
    fn a_200_without_the_mutual_token_or_with_a_bad_one_is_refused() {
        let mut ex = negotiate(None, fake(None), false);
        ex.start().unwrap();
        assert_eq!(ex.receive(200, &[]).unwrap_err(), AuthError::NoMutualToken);
        let mut ex = negotiate(None, fake(None), false);
        ex.start().unwrap();
        let bad = format!("Negotiate {}", B64.encode(b"forged"));
        assert!(matches!(
            ex.receive(200, &[&bad]),
            Err(AuthError::Kerberos(KerberosError::Mutual(_)))
        ));
    }

    #[test]
    fn a_local_account_goes_straight_to_ntlm() {
        let mut ex = negotiate(Some(("admin", "pw")), fake(None), true);
        assert!(
            !ex.may_block(),
            "no GSSAPI call, no KDC, for a local account"
        );
        assert!(is_ntlm_negotiate(&token(&ex.start().unwrap())));
    }

    #[test]
    fn a_netbios_domain_uses_kerberos_only_with_a_ticket_at_hand() {
        let mut ex = negotiate(Some(("CORP\\alice", "pw")), fake(None), false);
        assert!(is_ntlm_negotiate(&token(&ex.start().unwrap())));
        let mut ex = negotiate(Some(("CORP\\alice", "pw")), fake(None), true);
        assert!(
            ex.may_block(),
            "the ccache is read at the first step, off the executor"
        );
        assert_eq!(token(&ex.start().unwrap()), b"AP-REQ");
    }

    #[test]
    fn kerberos_impossible_falls_back_at_once() {
        for e in [
            KerberosError::UnknownSpn {
                spn: "HTTP/10.0.0.5".into(),
                detail: String::new(),
            },
            KerberosError::KdcUnreachable {
                detail: String::new(),
            },
            KerberosError::NoRealm {
                detail: String::new(),
            },
            KerberosError::Unavailable("no libgssapi".into()),
        ] {
            let mut ex = negotiate(Some(("alice@corp.example", "pw")), fake(Some(e)), false);
            assert!(is_ntlm_negotiate(&token(&ex.start().unwrap())));
        }
        // Without a password there is nothing to fall back to: the reason is the error.
        let mut ex = negotiate(
            None,
            fake(Some(KerberosError::NoTicket {
                who: "x".into(),
                detail: String::new(),
            })),
            false,
        );
        assert!(matches!(
            ex.start(),
            Err(AuthError::Kerberos(KerberosError::NoTicket { .. }))
        ));
    }

    #[test]
    fn refusals_ntlm_would_not_cure_are_reported() {
        let mut ex = negotiate(
            Some(("alice@corp.example", "pw")),
            fake(Some(KerberosError::WrongPassword {
                who: "alice".into(),
                detail: String::new(),
            })),
            false,
        );
        assert!(matches!(
            ex.start(),
            Err(AuthError::Kerberos(KerberosError::WrongPassword { .. }))
        ));
        let mut ex = negotiate(Some(("alice@corp.example", "pw")), fake(None), false);
        ex.start().unwrap();
        let skew = format!("Negotiate {}", B64.encode(b"KRB-ERROR skew"));
        assert!(matches!(
            ex.receive(401, &[&skew]),
            Err(AuthError::Kerberos(KerberosError::ClockSkew { .. }))
        ));
    }

    #[test]
    fn a_refused_ticket_is_a_refusal_never_ntlm() {
        // A bare 401 after the ticket went out (a service without a key for the SPN, or anyone
        // on the path): an error, not a password logon by NTLM, as Windows clients do.
        let mut ex = negotiate(Some(("alice@corp.example", "pw")), fake(None), false);
        ex.start().unwrap();
        assert!(matches!(
            ex.receive(401, &["Negotiate"]),
            Err(AuthError::Rejected { .. })
        ));
        // A token that does not verify is an error, not a fallback: anyone on the path could
        // otherwise force NTLM.
        let mut ex = negotiate(Some(("alice@corp.example", "pw")), fake(None), false);
        ex.start().unwrap();
        let forged = format!("Negotiate {}", B64.encode(b"KRB-ERROR modified"));
        assert!(matches!(
            ex.receive(401, &[&forged]),
            Err(AuthError::Kerberos(KerberosError::Mutual(_)))
        ));
        // Kerberos alone has nothing to fall back to: a refusal.
        let mut ex = AuthExchange::new(fake(None).unwrap(), Flow::EmptyPost);
        ex.start().unwrap();
        assert!(matches!(
            ex.receive(401, &["Negotiate"]),
            Err(AuthError::Rejected { .. })
        ));
    }
}
