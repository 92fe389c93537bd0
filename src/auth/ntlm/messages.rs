//! NTLM message codec (MS-NLMP §2.2.1): NEGOTIATE, CHALLENGE (with AV pairs) and AUTHENTICATE.

use super::NtlmError;

pub(crate) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Negotiate flags (MS-NLMP §2.2.2.5) we use.
pub mod flags {
    /// NTLMSSP_NEGOTIATE_UNICODE.
    pub const UNICODE: u32 = 0x0000_0001;
    /// NTLMSSP_REQUEST_TARGET.
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// NTLMSSP_NEGOTIATE_SIGN.
    pub const SIGN: u32 = 0x0000_0010;
    /// NTLMSSP_NEGOTIATE_SEAL.
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLMSSP_NEGOTIATE_LM_KEY (never sent).
    pub const LM_KEY: u32 = 0x0000_0080;
    /// NTLMSSP_NEGOTIATE_NTLM.
    pub const NTLM: u32 = 0x0000_0200;
    /// NTLMSSP_NEGOTIATE_ALWAYS_SIGN.
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY.
    pub const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
    /// NTLMSSP_NEGOTIATE_TARGET_INFO.
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// NTLMSSP_NEGOTIATE_VERSION.
    pub const VERSION: u32 = 0x0200_0000;
    /// NTLMSSP_NEGOTIATE_128.
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    /// NTLMSSP_NEGOTIATE_KEY_EXCH.
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// NTLMSSP_NEGOTIATE_56.
    pub const NEGOTIATE_56: u32 = 0x8000_0000;

    /// What we ask for: Unicode, NTLMv2 with extended session security, 128-bit keys, key
    /// exchange, signing and sealing (0xE2088235, as Windows clients and pyspnego send).
    pub const CLIENT: u32 = UNICODE
        | REQUEST_TARGET
        | SIGN
        | SEAL
        | NTLM
        | ALWAYS_SIGN
        | EXTENDED_SESSION_SECURITY
        | VERSION
        | NEGOTIATE_128
        | KEY_EXCH
        | NEGOTIATE_56;
}

/// AV pair IDs (MS-NLMP §2.2.2.1).
pub mod av {
    /// MsvAvEOL.
    pub const EOL: u16 = 0;
    /// MsvAvNbComputerName.
    pub const NB_COMPUTER_NAME: u16 = 1;
    /// MsvAvNbDomainName.
    pub const NB_DOMAIN_NAME: u16 = 2;
    /// MsvAvDnsComputerName.
    pub const DNS_COMPUTER_NAME: u16 = 3;
    /// MsvAvDnsDomainName.
    pub const DNS_DOMAIN_NAME: u16 = 4;
    /// MsvAvFlags.
    pub const FLAGS: u16 = 6;
    /// MsvAvTimestamp.
    pub const TIMESTAMP: u16 = 7;
    /// MsvAvTargetName.
    pub const TARGET_NAME: u16 = 9;
    /// MsvAvChannelBindings.
    pub const CHANNEL_BINDINGS: u16 = 10;
}

/// The version structure we send: Windows 10.0 build 20348, NTLM revision 15.
pub(crate) const VERSION: [u8; 8] = [10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F];

/// NEGOTIATE_MESSAGE with no domain or workstation (40 bytes).
pub(crate) fn negotiate(flags: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m.extend_from_slice(&VERSION);
    m
}

/// A parsed CHALLENGE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Negotiate flags the server chose.
    pub flags: u32,
    /// Server challenge.
    pub server_challenge: [u8; 8],
    /// Target name (UTF-16LE decoded when Unicode).
    pub target_name: String,
    /// The target info AV pairs, in order, without the EOL.
    pub target_info: Vec<(u16, Vec<u8>)>,
}

impl Challenge {
    /// The first AV pair with `id`.
    pub fn av(&self, id: u16) -> Option<&[u8]> {
        self.target_info
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.as_slice())
    }

    /// MsvAvTimestamp, when present.
    pub fn timestamp(&self) -> Option<u64> {
        self.av(av::TIMESTAMP)
            .and_then(|v| v.try_into().ok())
            .map(u64::from_le_bytes)
    }
}

fn field(msg: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let hdr = msg
        .get(at..at + 8)
        .ok_or(NtlmError::Malformed("truncated field header"))?;
    let len = u16::from_le_bytes([hdr[0], hdr[1]]) as usize;
    let off = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
    if len == 0 {
        return Ok(&[]);
    }
    msg.get(
        off..off
            .checked_add(len)
            .ok_or(NtlmError::Malformed("field overflows"))?,
    )
    .ok_or(NtlmError::Malformed("field points outside the message"))
}

/// Parses AV pairs up to MsvAvEOL.
pub(crate) fn parse_av_pairs(mut b: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, NtlmError> {
    let mut out = Vec::new();
    loop {
        if b.len() < 4 {
            return Err(NtlmError::Malformed("target info without MsvAvEOL"));
        }
        let id = u16::from_le_bytes([b[0], b[1]]);
        let len = u16::from_le_bytes([b[2], b[3]]) as usize;
        let value = b
            .get(4..4 + len)
            .ok_or(NtlmError::Malformed("AV pair overflows target info"))?;
        if id == av::EOL {
            return Ok(out);
        }
        out.push((id, value.to_vec()));
        b = &b[4 + len..];
    }
}

pub(crate) fn encode_av_pairs(pairs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, v) in pairs {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v);
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// Parses a CHALLENGE_MESSAGE.
pub fn parse_challenge(msg: &[u8]) -> Result<Challenge, NtlmError> {
    if msg.len() < 32 || &msg[..8] != SIGNATURE {
        return Err(NtlmError::Malformed("not an NTLMSSP message"));
    }
    if msg[8..12] != 2u32.to_le_bytes() {
        return Err(NtlmError::Malformed("not a CHALLENGE message"));
    }
    let flags = u32::from_le_bytes(msg[20..24].try_into().expect("4 bytes"));
    let server_challenge: [u8; 8] = msg[24..32].try_into().expect("8 bytes");
    let target_name = field(msg, 12)?;
    let target_name = if flags & flags::UNICODE != 0 {
        let units: Vec<u16> = target_name
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(target_name).into_owned()
    };
    let target_info = if msg.len() >= 48 && flags & flags::TARGET_INFO != 0 {
        parse_av_pairs(field(msg, 40)?)?
    } else {
        Vec::new()
    };
    Ok(Challenge {
        flags,
        server_challenge,
        target_name,
        target_info,
    })
}

/// The fields of an AUTHENTICATE_MESSAGE.
pub(crate) struct AuthenticateFields<'a> {
    pub lm_response: &'a [u8],
    pub nt_response: &'a [u8],
    pub domain: &'a [u8],
    pub user: &'a [u8],
    pub workstation: &'a [u8],
    pub encrypted_random_session_key: &'a [u8],
    pub flags: u32,
}

/// Offset of the MIC in an AUTHENTICATE_MESSAGE with a Version field.
pub(crate) const MIC_OFFSET: usize = 72;
const AUTH_HEADER: usize = 88;

/// Builds an AUTHENTICATE_MESSAGE with Version and a zeroed MIC (to be filled in).
pub(crate) fn authenticate(f: &AuthenticateFields<'_>) -> Vec<u8> {
    let payload = [
        f.domain,
        f.user,
        f.workstation,
        f.lm_response,
        f.nt_response,
        f.encrypted_random_session_key,
    ];
    let total: usize = AUTH_HEADER + payload.iter().map(|p| p.len()).sum::<usize>();
    let mut m = Vec::with_capacity(total);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&3u32.to_le_bytes());
    // Offsets in payload order: domain, user, workstation, lm, nt, key.
    let mut offsets = [0usize; 6];
    let mut at = AUTH_HEADER;
    for (i, p) in payload.iter().enumerate() {
        offsets[i] = at;
        at += p.len();
    }
    let fieldhdr = |m: &mut Vec<u8>, i: usize| {
        let len = payload[i].len() as u16;
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&(offsets[i] as u32).to_le_bytes());
    };
    // Header order: LM, NT, domain, user, workstation, encrypted random session key.
    for i in [3, 4, 0, 1, 2, 5] {
        fieldhdr(&mut m, i);
    }
    m.extend_from_slice(&f.flags.to_le_bytes());
    m.extend_from_slice(&VERSION);
    m.extend_from_slice(&[0; 16]);
    debug_assert_eq!(m.len(), AUTH_HEADER);
    for p in payload {
        m.extend_from_slice(p);
    }
    m
}

/// A parsed AUTHENTICATE_MESSAGE (the acceptor side). Its `Debug` shows the names, the flags
/// and the fields' lengths only: the NTLMv2 response can be cracked offline, and the encrypted
/// session key and the MIC are key material.
#[derive(Clone, PartialEq, Eq)]
pub struct Authenticate {
    /// LmChallengeResponse.
    pub lm_response: Vec<u8>,
    /// NtChallengeResponse.
    pub nt_response: Vec<u8>,
    /// Domain (UTF-16LE decoded).
    pub domain: String,
    /// User (UTF-16LE decoded).
    pub user: String,
    /// Workstation.
    pub workstation: String,
    /// EncryptedRandomSessionKey.
    pub encrypted_random_session_key: Vec<u8>,
    /// Negotiate flags.
    pub flags: u32,
    /// The MIC, when the message has room for one (payload starts at or after 88).
    pub mic: Option<[u8; 16]>,
}

impl std::fmt::Debug for Authenticate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticate")
            .field("domain", &self.domain)
            .field("user", &self.user)
            .field("workstation", &self.workstation)
            .field("flags", &format_args!("{:#010x}", self.flags))
            .field("lm_response_len", &self.lm_response.len())
            .field("nt_response_len", &self.nt_response.len())
            .field(
                "encrypted_random_session_key_len",
                &self.encrypted_random_session_key.len(),
            )
            .field("mic", &self.mic.map(|_| "<16 bytes>"))
            .finish()
    }
}

/// Parses an AUTHENTICATE_MESSAGE.
pub fn parse_authenticate(msg: &[u8]) -> Result<Authenticate, NtlmError> {
    if msg.len() < 64 || &msg[..8] != SIGNATURE || msg[8..12] != 3u32.to_le_bytes() {
        return Err(NtlmError::Malformed("not an AUTHENTICATE message"));
    }
    let text = |b: &[u8]| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    let fields = [12, 20, 28, 36, 44, 52];
    let first_payload = fields
        .iter()
        .filter_map(|&at| {
            let h = msg.get(at..at + 8)?;
            let len = u16::from_le_bytes([h[0], h[1]]);
            (len > 0).then(|| u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize)
        })
        .min()
        .unwrap_or(msg.len());
    let mic = (first_payload >= AUTH_HEADER && msg.len() >= AUTH_HEADER).then(|| {
        msg[MIC_OFFSET..MIC_OFFSET + 16]
            .try_into()
            .expect("16 bytes")
    });
    Ok(Authenticate {
        lm_response: field(msg, 12)?.to_vec(),
        nt_response: field(msg, 20)?.to_vec(),
        domain: text(field(msg, 28)?),
        user: text(field(msg, 36)?),
        workstation: text(field(msg, 44)?),
        encrypted_random_session_key: field(msg, 52)?.to_vec(),
        flags: u32::from_le_bytes(msg[60..64].try_into().expect("4 bytes")),
        mic,
    })
}
