//! The NTLMv2 acceptor (server side), as the simulator's WinRM host uses it: CHALLENGE with the
//! target info a Windows server sends (including a timestamp, so clients send a MIC), then the
//! AUTHENTICATE verified (NTProofStr, MIC, channel bindings) and the session keys derived.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::crypto::{hmac_md5, ntowfv2, rc4_once, utf16le};
use super::messages::{self, MIC_OFFSET, av, flags, parse_authenticate};
use super::session::{Role, SessionSecurity};
use super::{ChannelBindings, NtlmError};

/// Looks up an account's password: `(domain, user)` → password (case-insensitive is the
/// caller's choice).
pub trait PasswordLookup: Send + Sync {
    /// The password of `domain\user`, if the account exists.
    fn password(&self, domain: &str, user: &str) -> Option<String>;
}

/// Names the acceptor announces in its target info.
#[derive(Clone, Debug)]
pub struct AcceptorIdentity {
    /// NetBIOS computer name (e.g. `SIM-HOST-001`).
    pub computer: String,
    /// NetBIOS domain name (for a workgroup server, the computer name).
    pub domain: String,
    /// DNS computer name.
    pub dns_computer: String,
}

enum State {
    AwaitNegotiate,
    AwaitAuthenticate {
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        server_challenge: [u8; 8],
    },
    Done,
}

/// An authenticated peer.
pub struct Accepted {
    /// Domain as the client sent it.
    pub domain: String,
    /// User as the client sent it.
    pub user: String,
    /// Session keys (acceptor side).
    pub session: SessionSecurity,
}

impl fmt::Debug for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Accepted({}\\{})", self.domain, self.user)
    }
}

/// One NTLM acceptor per TCP connection.
pub struct NtlmAcceptor {
    identity: AcceptorIdentity,
    channel_bindings: Option<ChannelBindings>,
    strict_bindings: bool,
    state: State,
}

impl fmt::Debug for NtlmAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmAcceptor")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl NtlmAcceptor {
    /// A new acceptor; with `channel_bindings`, clients must send matching bindings.
    pub fn new(identity: AcceptorIdentity, channel_bindings: Option<ChannelBindings>) -> Self {
        NtlmAcceptor {
            identity,
            channel_bindings,
            strict_bindings: true,
            state: State::AwaitNegotiate,
        }
    }

    /// Windows' default `CbtHardeningLevel=Relaxed`: bindings a client sends must match, but a
    /// client that sends none (or all zeros) is accepted.
    pub fn with_relaxed_bindings(mut self) -> Self {
        self.strict_bindings = false;
        self
    }

    /// Answers a NEGOTIATE_MESSAGE with a CHALLENGE_MESSAGE.
    pub fn challenge(&mut self, negotiate: &[u8]) -> Result<Vec<u8>, NtlmError> {
        if negotiate.len() < 16
            || &negotiate[..8] != messages::SIGNATURE
            || negotiate[8..12] != 1u32.to_le_bytes()
        {
            return Err(NtlmError::Malformed("not a NEGOTIATE message"));
        }
        let client_flags = u32::from_le_bytes(negotiate[12..16].try_into().expect("4 bytes"));
        let offered = flags::CLIENT | flags::TARGET_INFO | 0x0002_0000; // TARGET_TYPE_SERVER
        let chosen =
            (client_flags & flags::CLIENT) | flags::TARGET_INFO | 0x0002_0000 | flags::UNICODE;
        let chosen = chosen & offered;
        let mut server_challenge = [0u8; 8];
        getrandom::fill(&mut server_challenge).map_err(|e| NtlmError::Random(e.to_string()))?;
        let now = super::initiator::now_filetime();
        let target_name = utf16le(&self.identity.domain);
        let info = messages::encode_av_pairs(&[
            (av::NB_DOMAIN_NAME, utf16le(&self.identity.domain)),
            (av::NB_COMPUTER_NAME, utf16le(&self.identity.computer)),
            (av::DNS_DOMAIN_NAME, utf16le(&self.identity.dns_computer)),
            (av::DNS_COMPUTER_NAME, utf16le(&self.identity.dns_computer)),
            (av::TIMESTAMP, now.to_le_bytes().to_vec()),
        ]);
        const HEADER: usize = 56;
        let mut m = Vec::with_capacity(HEADER + target_name.len() + info.len());
        m.extend_from_slice(messages::SIGNATURE);
        m.extend_from_slice(&2u32.to_le_bytes());
        let field = |m: &mut Vec<u8>, len: usize, off: usize| {
            m.extend_from_slice(&(len as u16).to_le_bytes());
            m.extend_from_slice(&(len as u16).to_le_bytes());
            m.extend_from_slice(&(off as u32).to_le_bytes());
        };
        field(&mut m, target_name.len(), HEADER);
        m.extend_from_slice(&chosen.to_le_bytes());
        m.extend_from_slice(&server_challenge);
        m.extend_from_slice(&[0; 8]);
        field(&mut m, info.len(), HEADER + target_name.len());
        m.extend_from_slice(&messages::VERSION);
        m.extend_from_slice(&target_name);
        m.extend_from_slice(&info);
        self.state = State::AwaitAuthenticate {
            negotiate: negotiate.to_vec(),
            challenge: m.clone(),
            server_challenge,
        };
        Ok(m)
    }

    /// Verifies an AUTHENTICATE_MESSAGE: the account and its NTLMv2 proof, the MIC when the
    /// client announces one, and the channel bindings when required.
    pub fn accept(
        &mut self,
        authenticate: &[u8],
        users: &dyn PasswordLookup,
    ) -> Result<Accepted, NtlmError> {
        let State::AwaitAuthenticate {
            negotiate,
            challenge,
            server_challenge,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return Err(NtlmError::State("AUTHENTICATE before NEGOTIATE"));
        };
        let a = parse_authenticate(authenticate)?;
        if a.nt_response.len() < 16 + 28 {
            return Err(NtlmError::LogonFailure(
                "not an NTLMv2 response (NTLMv1 and LM are refused)",
            ));
        }
        let password = users
            .password(&a.domain, &a.user)
            .ok_or(NtlmError::LogonFailure("unknown user or wrong password"))?;
        let key = ntowfv2(&Zeroizing::new(password), &a.user, &a.domain);
        let (proof, blob) = a.nt_response.split_at(16);
        let expected = hmac_md5(key.as_slice(), &[&server_challenge, blob]);
        if !bool::from(expected.ct_eq(proof)) {
            return Err(NtlmError::LogonFailure("unknown user or wrong password"));
        }
        // The blob: 0101, Z(6), time, client challenge, Z(4), then the client's target info.
        let pairs = messages::parse_av_pairs(&blob[28..])?;
        let get = |id| {
            pairs
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, v)| v.as_slice())
        };
        if let Some(required) = &self.channel_bindings {
            let sent = get(av::CHANNEL_BINDINGS).unwrap_or(&[0; 16]);
            let absent = sent.iter().all(|b| *b == 0);
            if (self.strict_bindings || !absent) && !bool::from(required.md5().ct_eq(sent)) {
                return Err(NtlmError::BadBindings);
            }
        }
        let session_base_key = Zeroizing::new(hmac_md5(key.as_slice(), &[proof]));
        // Key exchange is required, as our initiator requires it (Windows always does it).
        if a.flags & flags::KEY_EXCH == 0 || a.encrypted_random_session_key.len() != 16 {
            return Err(NtlmError::Downgrade("key exchange"));
        }
        let exported = {
            let mut k: [u8; 16] = a
                .encrypted_random_session_key
                .as_slice()
                .try_into()
                .expect("16 bytes");
            rc4_once(&session_base_key, &mut k);
            Zeroizing::new(k)
        };
        let mic_present = get(av::FLAGS)
            .and_then(|v| v.try_into().ok())
            .map(u32::from_le_bytes)
            .is_some_and(|f| f & 0x2 != 0);
        if mic_present {
            let mic = a.mic.ok_or(NtlmError::BadMic)?;
            let mut zeroed = authenticate.to_vec();
            zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
            let expected = hmac_md5(exported.as_slice(), &[&negotiate, &challenge, &zeroed]);
            if !bool::from(expected.ct_eq(&mic)) {
                return Err(NtlmError::BadMic);
            }
        }
        Ok(Accepted {
            domain: a.domain,
            user: a.user,
            session: SessionSecurity::new(&exported, Role::Acceptor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ntlm::{InitiatorOptions, NtlmInitiator};
    use crate::auth::{Credentials, Password};

    struct Users;
    impl PasswordLookup for Users {
        fn password(&self, domain: &str, user: &str) -> Option<String> {
            (domain.eq_ignore_ascii_case("SIM") && user.eq_ignore_ascii_case("admin"))
                .then(|| "Sim-Passw0rd".to_string())
        }
    }

    fn identity() -> AcceptorIdentity {
        AcceptorIdentity {
            computer: "SIM-HOST-001".into(),
            domain: "SIM".into(),
            dns_computer: "sim-host-001.sim.test".into(),
        }
    }

    fn run(
        password: &str,
        client_cb: Option<&[u8]>,
        server_cb: Option<&[u8]>,
        mangle: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(SessionSecurity, Accepted), NtlmError> {
        let mut init = NtlmInitiator::new(
            Credentials::new("SIM\\admin", Password::new(password)),
            InitiatorOptions {
                channel_bindings: client_cb
                    .map(|c| ChannelBindings::from_application_data(c.to_vec())),
                ..Default::default()
            },
        );
        let mut acc = NtlmAcceptor::new(
            identity(),
            server_cb.map(|c| ChannelBindings::from_application_data(c.to_vec())),
        );
        let challenge = acc.challenge(&init.negotiate())?;
        let c = messages::parse_challenge(&challenge).unwrap();
        assert!(c.timestamp().is_some());
        assert_eq!(c.target_name, "SIM");
        let (mut auth, session) = init.authenticate(&challenge)?;
        mangle(&mut auth);
        Ok((session, acc.accept(&auth, &Users)?))
    }

    #[test]
    fn our_initiator_and_acceptor_agree_on_keys() {
        let (mut client, mut accepted) = run(
            "Sim-Passw0rd",
            Some(b"tls-server-end-point:x"),
            Some(b"tls-server-end-point:x"),
            |_| {},
        )
        .unwrap();
        assert_eq!(
            (accepted.domain.as_str(), accepted.user.as_str()),
            ("SIM", "admin")
        );
        let mut m = b"<s:Envelope/>".to_vec();
        let sig = client.seal(&mut m);
        accepted.session.unseal(&mut m, &sig).unwrap();
        assert_eq!(m, b"<s:Envelope/>");
    }

    #[test]
    fn failures_are_typed() {
        assert!(matches!(
            run("wrong", None, None, |_| {}).unwrap_err(),
            NtlmError::LogonFailure(_)
        ));
        assert_eq!(
            run("Sim-Passw0rd", None, None, |a| a[MIC_OFFSET] ^= 1).unwrap_err(),
            NtlmError::BadMic
        );
        assert_eq!(
            run("Sim-Passw0rd", Some(b"a"), Some(b"b"), |_| {}).unwrap_err(),
            NtlmError::BadBindings
        );
        assert_eq!(
            run("Sim-Passw0rd", None, Some(b"b"), |_| {}).unwrap_err(),
            NtlmError::BadBindings
        );
    }

    #[test]
    fn relaxed_bindings_accept_absence_but_not_a_mismatch() {
        let relaxed = |client: Option<&[u8]>| {
            let mut init = NtlmInitiator::new(
                Credentials::new("SIM\\admin", Password::new("Sim-Passw0rd")),
                InitiatorOptions {
                    channel_bindings: client
                        .map(|c| ChannelBindings::from_application_data(c.to_vec())),
                    ..Default::default()
                },
            );
            let mut acc = NtlmAcceptor::new(
                identity(),
                Some(ChannelBindings::from_application_data(b"b".to_vec())),
            )
            .with_relaxed_bindings();
            let challenge = acc.challenge(&init.negotiate()).unwrap();
            let (auth, _) = init.authenticate(&challenge).unwrap();
            acc.accept(&auth, &Users).map(|_| ())
        };
        assert_eq!(relaxed(None), Ok(()));
        assert_eq!(relaxed(Some(b"b")), Ok(()));
        assert_eq!(relaxed(Some(b"a")), Err(NtlmError::BadBindings));
        let mut acc = NtlmAcceptor::new(identity(), None);
        assert!(matches!(
            acc.accept(b"NTLMSSP\0", &Users),
            Err(NtlmError::State(_))
        ));
        assert!(matches!(
            acc.challenge(b"junk"),
            Err(NtlmError::Malformed(_))
        ));
    }
}
