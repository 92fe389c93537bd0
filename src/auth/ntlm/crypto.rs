//! NTLMv2 key derivation and responses (MS-NLMP §3.3.2, §3.4.5).

use hmac::{Hmac, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use zeroize::Zeroizing;

type HmacMd5 = Hmac<Md5>;

/// A 16-byte key that is wiped when dropped.
pub(crate) type Key16 = Zeroizing<[u8; 16]>;

pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub(crate) fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut m = <HmacMd5 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

pub(crate) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// NTOWFv2(password, user, domain) = HMAC_MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)).
pub(crate) fn ntowfv2(password: &str, user: &str, domain: &str) -> Key16 {
    let nt_hash = Zeroizing::new(<[u8; 16]>::from(Md4::digest(
        Zeroizing::new(utf16le(password)).as_slice(),
    )));
    let identity = utf16le(&format!("{}{}", user.to_uppercase(), domain));
    Zeroizing::new(hmac_md5(nt_hash.as_slice(), &[&identity]))
}

/// The NTLMv2 client blob ("temp"): 0101, Z(6), time, client challenge, Z(4), target info, Z(4).
pub(crate) fn ntlmv2_temp(
    timestamp: u64,
    client_challenge: &[u8; 8],
    target_info: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(32 + target_info.len());
    t.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    t.extend_from_slice(&timestamp.to_le_bytes());
    t.extend_from_slice(client_challenge);
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(target_info);
    t.extend_from_slice(&[0; 4]);
    t
}

/// NTProofStr, NtChallengeResponse and SessionBaseKey (MS-NLMP §3.3.2).
pub(crate) struct Ntlmv2Response {
    pub nt_challenge_response: Vec<u8>,
    pub session_base_key: Key16,
}

pub(crate) fn ntlmv2_response(
    response_key_nt: &[u8; 16],
    server_challenge: &[u8; 8],
    temp: &[u8],
) -> Ntlmv2Response {
    let nt_proof = hmac_md5(response_key_nt, &[server_challenge, temp]);
    let mut nt_challenge_response = Vec::with_capacity(16 + temp.len());
    nt_challenge_response.extend_from_slice(&nt_proof);
    nt_challenge_response.extend_from_slice(temp);
    Ntlmv2Response {
        nt_challenge_response,
        session_base_key: Zeroizing::new(hmac_md5(response_key_nt, &[&nt_proof])),
    }
}

/// LMv2 response: HMAC_MD5(ResponseKeyLM, server challenge || client challenge) || client challenge.
pub(crate) fn lmv2_response(
    response_key_lm: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&hmac_md5(
        response_key_lm,
        &[server_challenge, client_challenge],
    ));
    out[16..].copy_from_slice(client_challenge);
    out
}

/// RC4 with a 16-byte key, one shot.
pub(crate) fn rc4_once(key: &[u8; 16], data: &mut [u8]) {
    let mut c = Rc4::<U16>::new(key.into());
    c.apply_keystream(data);
}

pub(crate) const CLIENT_SIGN: &[u8] =
    b"session key to client-to-server signing key magic constant\0";
pub(crate) const CLIENT_SEAL: &[u8] =
    b"session key to client-to-server sealing key magic constant\0";
pub(crate) const SERVER_SIGN: &[u8] =
    b"session key to server-to-client signing key magic constant\0";
pub(crate) const SERVER_SEAL: &[u8] =
    b"session key to server-to-client sealing key magic constant\0";

/// SIGNKEY / SEALKEY with extended session security and 128-bit keys.
pub(crate) fn derive(exported_session_key: &[u8; 16], magic: &[u8]) -> Key16 {
    Zeroizing::new(md5(&[exported_session_key, magic]))
}
