//! The NTLMv2 initiator (client) state machine.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use super::NtlmError;
use super::crypto::{
    hmac_md5, lmv2_response, md5, ntlmv2_response, ntlmv2_temp, ntowfv2, rc4_once, utf16le,
};
use super::messages::{self, AuthenticateFields, MIC_OFFSET, av, flags};
use super::session::{Role, SessionSecurity};
use crate::auth::Credentials;

/// Channel binding data (RFC 5929 `tls-server-end-point` for WinRM over HTTPS).
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelBindings {
    application_data: Vec<u8>,
}

impl ChannelBindings {
    /// Bindings with this application data (`tls-server-end-point:` followed by the hash).
    pub fn from_application_data(application_data: Vec<u8>) -> Self {
        ChannelBindings { application_data }
    }

    /// The application data (`tls-server-end-point:` and the hash).
    pub fn application_data(&self) -> &[u8] {
        &self.application_data
    }

    /// The MsvAvChannelBindings value: MD5 of the `gss_channel_bindings_struct` with no
    /// addresses (four zero words), then the length-prefixed application data.
    pub fn md5(&self) -> [u8; 16] {
        let len = (self.application_data.len() as u32).to_le_bytes();
        md5(&[&[0u8; 16], &len, &self.application_data])
    }
}

impl fmt::Debug for ChannelBindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelBindings({} bytes)", self.application_data.len())
    }
}

/// What the initiator sends besides the credentials, and (for tests) fixed values instead of
/// randomness and the clock. Its `Debug` does not show a fixed exported session key.
#[derive(Clone, Default)]
pub struct InitiatorOptions {
    /// Channel bindings (HTTPS); without them no MsvAvChannelBindings is sent.
    pub channel_bindings: Option<ChannelBindings>,
    /// The service principal name sent as MsvAvTargetName (e.g. `HTTP/server01.example.com`).
    pub target_spn: Option<String>,
    /// Workstation name sent in AUTHENTICATE (empty by default).
    pub workstation: String,
    /// Fixed client challenge (tests).
    pub client_challenge: Option<[u8; 8]>,
    /// Fixed exported session key (tests).
    pub exported_session_key: Option<[u8; 16]>,
    /// Fixed timestamp in FILETIME units, used when the server sends none (tests).
    pub timestamp: Option<u64>,
}

impl fmt::Debug for InitiatorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitiatorOptions")
            .field("channel_bindings", &self.channel_bindings)
            .field("target_spn", &self.target_spn)
            .field("workstation", &self.workstation)
            .field("client_challenge", &self.client_challenge)
            .field(
                "exported_session_key",
                &self.exported_session_key.map(|_| "<redacted>"),
            )
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// An NTLMv2 initiator: [`NtlmInitiator::negotiate`], then [`NtlmInitiator::authenticate`].
pub struct NtlmInitiator {
    credentials: Credentials,
    options: InitiatorOptions,
    negotiate: Option<Vec<u8>>,
}

impl fmt::Debug for NtlmInitiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmInitiator")
            .field("account", &self.credentials.account())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl NtlmInitiator {
    /// A new context.
    pub fn new(credentials: Credentials, options: InitiatorOptions) -> Self {
        NtlmInitiator {
            credentials,
            options,
            negotiate: None,
        }
    }

    /// The NEGOTIATE_MESSAGE (kept for the MIC).
    pub fn negotiate(&mut self) -> Vec<u8> {
        let m = messages::negotiate(flags::CLIENT);
        self.negotiate = Some(m.clone());
        m
    }

    /// Answers the server's CHALLENGE_MESSAGE: the AUTHENTICATE_MESSAGE to send, and the
    /// session keys for sealing.
    pub fn authenticate(
        &mut self,
        challenge_msg: &[u8],
    ) -> Result<(Vec<u8>, SessionSecurity), NtlmError> {
        let negotiate = self
            .negotiate
            .take()
            .ok_or(NtlmError::State("authenticate before negotiate"))?;
        let challenge = messages::parse_challenge(challenge_msg)?;
        for (flag, what) in [
            (
                flags::EXTENDED_SESSION_SECURITY,
                "NTLMv2 extended session security",
            ),
            (flags::NEGOTIATE_128, "128-bit session keys"),
            (flags::SIGN, "message signing"),
            (flags::SEAL, "message sealing"),
            (flags::UNICODE, "Unicode"),
            // Windows always offers it; without it the session key is the base key and the
            // signature's checksum is not RC4-sealed (MS-NLMP 3.4.4.2), which we do not do.
            (flags::KEY_EXCH, "key exchange"),
        ] {
            if challenge.flags & flag == 0 {
                return Err(NtlmError::Downgrade(what));
            }
        }
        let negotiated = challenge.flags & flags::CLIENT;
        let key_exchange = negotiated & flags::KEY_EXCH != 0;

        // Target info: the server's pairs, MsvAvFlags marking the MIC (when the server sent a
        // timestamp), channel bindings, the target SPN, EOL.
        let server_timestamp = challenge.timestamp();
        let mut pairs: Vec<(u16, Vec<u8>)> = challenge
            .target_info
            .iter()
            .filter(|(id, _)| !matches!(*id, av::FLAGS | av::CHANNEL_BINDINGS | av::TARGET_NAME))
            .cloned()
            .collect();
        if server_timestamp.is_some() {
            let server_flags = challenge
                .av(av::FLAGS)
                .and_then(|v| v.try_into().ok())
                .map(u32::from_le_bytes)
                .unwrap_or(0);
            pairs.push((
                av::FLAGS,
                (server_flags | 0x0000_0002).to_le_bytes().to_vec(),
            ));
        } else if let Some(f) = challenge
            .av(av::FLAGS)
            .and_then(|v| v.try_into().ok())
            .map(u32::from_le_bytes)
        {
            // No MIC is computed without a timestamp: never claim one (flag 0x2).
            pairs.push((av::FLAGS, (f & !0x0000_0002).to_le_bytes().to_vec()));
        }
        if let Some(cb) = &self.options.channel_bindings {
            pairs.push((av::CHANNEL_BINDINGS, cb.md5().to_vec()));
        }
        if let Some(spn) = &self.options.target_spn {
            pairs.push((av::TARGET_NAME, utf16le(spn)));
        }
        let target_info = messages::encode_av_pairs(&pairs);

        let timestamp = server_timestamp
            .or(self.options.timestamp)
            .unwrap_or_else(now_filetime);
        let client_challenge = match self.options.client_challenge {
            Some(c) => c,
            None => random::<8>()?,
        };
        let key = ntowfv2(
            self.credentials.password().expose(),
            self.credentials.user(),
            self.credentials.domain(),
        );
        let temp = ntlmv2_temp(timestamp, &client_challenge, &target_info);
        let response = ntlmv2_response(&key, &challenge.server_challenge, &temp);
        // With a server timestamp the LM response is Z(24) (MS-NLMP §3.1.5.2.1).
        let lm = if server_timestamp.is_some() {
            [0u8; 24]
        } else {
            lmv2_response(&key, &challenge.server_challenge, &client_challenge)
        };

        let (exported, encrypted_key) = if key_exchange {
            let exported = Zeroizing::new(match self.options.exported_session_key {
                Some(k) => k,
                None => random::<16>()?,
            });
            let mut enc = *exported;
            rc4_once(&response.session_base_key, &mut enc);
            (exported, enc.to_vec())
        } else {
            (response.session_base_key.clone(), Vec::new())
        };

        let domain = utf16le(self.credentials.domain());
        let user = utf16le(self.credentials.user());
        let workstation = utf16le(&self.options.workstation);
        // Each field's length is 16 bits: a server's target information near that limit would
        // make an NT response whose declared length wraps around.
        let fields = [
            &lm[..],
            &response.nt_challenge_response,
            &domain,
            &user,
            &workstation,
            &encrypted_key,
        ];
        if fields.iter().any(|f| f.len() > usize::from(u16::MAX)) {
            return Err(NtlmError::Malformed(
                "the server's target information makes an AUTHENTICATE field over 65,535 bytes",
            ));
        }
        let mut auth = messages::authenticate(&AuthenticateFields {
            lm_response: &lm,
            nt_response: &response.nt_challenge_response,
            domain: &domain,
            user: &user,
            workstation: &workstation,
            encrypted_random_session_key: &encrypted_key,
            flags: negotiated,
        });
        if server_timestamp.is_some() {
            let mic = hmac_md5(exported.as_slice(), &[&negotiate, challenge_msg, &auth]);
            auth[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&mic);
        }
        Ok((auth, SessionSecurity::new(&exported, Role::Initiator)))
    }
}

/// Now as a Windows FILETIME (100 ns since 1601-01-01).
pub(crate) fn now_filetime() -> u64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    116_444_736_000_000_000 + (since_unix.as_nanos() / 100) as u64
}

fn random<const N: usize>() -> Result<[u8; N], NtlmError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| NtlmError::Random(e.to_string()))?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    //! MS-NLMP §4.2.4 (NTLMv2 authentication) known-answer vectors.

    use super::super::crypto::{CLIENT_SEAL, CLIENT_SIGN, derive};
    use super::super::messages::parse_authenticate;
    use super::*;
    use crate::auth::Password;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
    const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];

    // §4.2.4.3 CHALLENGE_MESSAGE.
    fn spec_challenge() -> Vec<u8> {
        hex(
            "4e 54 4c 4d 53 53 50 00 02 00 00 00 03 00 0c 00 38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef \
             00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00 06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00 \
             65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00 \
             65 00 72 00 00 00 00 00",
        )
    }

    #[test]
    fn ntowfv2_session_base_key_and_responses() {
        let key = ntowfv2("Password", "User", "Domain");
        assert_eq!(
            key.to_vec(),
            hex("0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f")
        );
        let c = messages::parse_challenge(&spec_challenge()).unwrap();
        let temp = ntlmv2_temp(
            0,
            &CLIENT_CHALLENGE,
            &messages::encode_av_pairs(&c.target_info),
        );
        assert_eq!(
            temp,
            hex(
                "01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00 02 00 0c 00 \
                 44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00 \
                 00 00 00 00"
            )
        );
        let r = ntlmv2_response(&key, &SERVER_CHALLENGE, &temp);
        assert_eq!(
            r.nt_challenge_response[..16],
            hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c")
        );
        assert_eq!(
            r.session_base_key.to_vec(),
            hex("8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3")
        );
        assert_eq!(
            lmv2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE).to_vec(),
            hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa")
        );
        let mut enc = RANDOM_SESSION_KEY;
        rc4_once(&r.session_base_key, &mut enc);
        assert_eq!(
            enc.to_vec(),
            hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e")
        );
    }

    #[test]
    fn challenge_message_parses() {
        let c = messages::parse_challenge(&spec_challenge()).unwrap();
        assert_eq!(c.flags, 0xe28a8233);
        assert_eq!(c.server_challenge, SERVER_CHALLENGE);
        // The spec's example declares TargetNameLen 3 (`03 00 0c 00`, MaxLen 12): a parser that
        // honours the length reads one UTF-16 unit, "S".
        assert_eq!(c.target_name, "S");
        assert_eq!(c.av(av::NB_DOMAIN_NAME), Some(utf16le("Domain").as_slice()));
        assert_eq!(
            c.av(av::NB_COMPUTER_NAME),
            Some(utf16le("Server").as_slice())
        );
        assert_eq!(c.timestamp(), None);
    }

    #[test]
    fn sealing_keys_and_gss_wrap() {
        assert_eq!(
            derive(&RANDOM_SESSION_KEY, CLIENT_SEAL).to_vec(),
            hex("59 f6 00 97 3c c4 96 0a 25 48 0a 7c 19 6e 4c 58")
        );
        assert_eq!(
            derive(&RANDOM_SESSION_KEY, CLIENT_SIGN).to_vec(),
            hex("47 88 dc 86 1b 47 82 f3 5d 43 fd 98 fe 1a 2d 39")
        );
        let mut s = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Initiator);
        let mut msg = utf16le("Plaintext");
        let sig = s.seal(&mut msg);
        assert_eq!(
            msg,
            hex("54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f")
        );
        assert_eq!(
            sig.to_vec(),
            hex("01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00")
        );
        // The acceptor side of the same keys opens it.
        let mut acceptor = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Acceptor);
        acceptor.unseal(&mut msg, &sig).unwrap();
        assert_eq!(msg, utf16le("Plaintext"));
    }

    #[test]
    fn authenticate_carries_the_spec_responses() {
        let mut i = NtlmInitiator::new(
            Credentials::new("Domain\\User", Password::new("Password")),
            InitiatorOptions {
                workstation: "COMPUTER".into(),
                client_challenge: Some(CLIENT_CHALLENGE),
                exported_session_key: Some(RANDOM_SESSION_KEY),
                timestamp: Some(0),
                ..Default::default()
            },
        );
        let neg = i.negotiate();
        assert_eq!(neg.len(), 40);
        let (auth, mut session) = i.authenticate(&spec_challenge()).unwrap();
        let a = parse_authenticate(&auth).unwrap();
        // §4.2.4.3 AUTHENTICATE_MESSAGE fields.
        assert_eq!(
            a.lm_response,
            hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa")
        );
        assert_eq!(
            a.nt_response[..16],
            hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c")
        );
        assert_eq!(
            a.encrypted_random_session_key,
            hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e")
        );
        assert_eq!(
            (a.domain.as_str(), a.user.as_str(), a.workstation.as_str()),
            ("Domain", "User", "COMPUTER")
        );
        assert_eq!(a.flags, 0xe28a8233 & flags::CLIENT);
        // No server timestamp: no MIC computed.
        assert_eq!(a.mic, Some([0; 16]));
        let mut msg = utf16le("Plaintext");
        session.seal(&mut msg);
        assert_eq!(
            msg,
            hex("54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f")
        );
    }

    #[test]
    fn debug_output_shows_no_response_and_no_key() {
        let mut i = NtlmInitiator::new(
            Credentials::new("Domain\\User", Password::new("Password")),
            InitiatorOptions {
                client_challenge: Some(CLIENT_CHALLENGE),
                exported_session_key: Some(RANDOM_SESSION_KEY),
                timestamp: Some(0),
                ..Default::default()
            },
        );
        i.negotiate();
        // As Debug writes bytes: the key's first byte (0x55), the response's (0x68), in decimal.
        let key = format!("{:?}", &RANDOM_SESSION_KEY[..4]);
        let shown = format!("{i:?}");
        assert!(!shown.contains(&key[1..key.len() - 1]), "{shown}");
        assert!(!shown.contains("Password"), "{shown}");
        let (auth, _) = i.authenticate(&spec_challenge()).unwrap();
        let a = parse_authenticate(&auth).unwrap();
        let shown = format!("{a:?}");
        for secret in [
            &a.nt_response[..4],
            &a.lm_response[..4],
            &a.encrypted_random_session_key[..4],
        ] {
            let bytes = format!("{secret:?}");
            assert!(!shown.contains(&bytes[1..bytes.len() - 1]), "{shown}");
        }
        assert!(
            shown.contains("\"User\"") && shown.contains("nt_response_len"),
            "{shown}"
        );
    }

    #[test]
    fn downgrades_and_misuse_are_refused() {
        let creds = || Credentials::new("Domain\\User", Password::new("Password"));
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        assert_eq!(
            i.authenticate(&spec_challenge()).unwrap_err(),
            NtlmError::State("authenticate before negotiate")
        );
        let mut weak = spec_challenge();
        weak[22] &= !0x08; // clear EXTENDED_SESSIONSECURITY (0x00080000)
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        i.negotiate();
        assert_eq!(
            i.authenticate(&weak).unwrap_err(),
            NtlmError::Downgrade("NTLMv2 extended session security")
        );
        let mut no_key_exchange = spec_challenge();
        no_key_exchange[23] &= !0x40; // clear KEY_EXCH (0x40000000)
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        i.negotiate();
        assert_eq!(
            i.authenticate(&no_key_exchange).unwrap_err(),
            NtlmError::Downgrade("key exchange")
        );
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        i.negotiate();
        assert!(matches!(
            i.authenticate(&spec_challenge()[..30]),
            Err(NtlmError::Malformed(_))
        ));
    }

    /// The spec's challenge with this target information instead of its own.
    fn challenge_with(pairs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let info = messages::encode_av_pairs(pairs);
        let mut m = spec_challenge()[..0x44].to_vec();
        let len = (info.len() as u16).to_le_bytes();
        m[40..44].copy_from_slice(&[len[0], len[1], len[0], len[1]]);
        m.extend_from_slice(&info);
        m
    }

    #[test]
    fn no_mic_is_claimed_without_one_and_no_length_wraps() {
        let creds = || Credentials::new("Domain\\User", Password::new("Password"));
        // A server's MsvAvFlags with the MIC bit, but no timestamp: no MIC is computed, so the
        // bit must not be echoed.
        let flags_with_mic = challenge_with(&[
            (av::NB_DOMAIN_NAME, utf16le("Domain")),
            (av::FLAGS, 0x0000_0003u32.to_le_bytes().to_vec()),
        ]);
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        i.negotiate();
        let (auth, _) = i.authenticate(&flags_with_mic).unwrap();
        let a = parse_authenticate(&auth).unwrap();
        let pairs = messages::parse_av_pairs(&a.nt_response[16 + 28..]).unwrap();
        let sent = pairs.iter().find(|(id, _)| *id == av::FLAGS).unwrap();
        assert_eq!(sent.1, 0x0000_0001u32.to_le_bytes());
        // Target information near the 16-bit limit: refused, not sent with a wrapped length.
        let huge = challenge_with(&[(av::NB_DOMAIN_NAME, vec![0x41; 65_527])]);
        let mut i = NtlmInitiator::new(creds(), InitiatorOptions::default());
        i.negotiate();
        assert!(matches!(
            i.authenticate(&huge),
            Err(NtlmError::Malformed(_))
        ));
    }

    #[test]
    fn tampering_and_replay_are_detected() {
        let mut tx = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Acceptor);
        let mut rx = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Initiator);
        let mut m = b"<s:Envelope/>".to_vec();
        let sig = tx.seal(&mut m);
        let mut bad = m.clone();
        bad[3] ^= 1;
        assert_eq!(rx.unseal(&mut bad, &sig), Err(NtlmError::BadSignature));
        // A fresh receiver, a sealed message out of order.
        let mut rx = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Initiator);
        let mut second = b"two".to_vec();
        let mut tx = SessionSecurity::new(&RANDOM_SESSION_KEY, Role::Acceptor);
        let _ = tx.seal(&mut m.clone());
        let sig2 = tx.seal(&mut second);
        assert!(rx.unseal(&mut second, &sig2).is_err());
    }

    #[test]
    fn channel_bindings_hash() {
        // MD5 over 16 zero bytes, le32(len), application data.
        let cb = ChannelBindings::from_application_data(b"tls-server-end-point:abc".to_vec());
        let mut manual = vec![0u8; 16];
        manual.extend_from_slice(&24u32.to_le_bytes());
        manual.extend_from_slice(b"tls-server-end-point:abc");
        assert_eq!(cb.md5(), md5(&[&manual]));
        assert_eq!(format!("{cb:?}"), "ChannelBindings(24 bytes)");
    }
}
