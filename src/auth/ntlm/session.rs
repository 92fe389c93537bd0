//! NTLM session security: sealing and signing messages after authentication (MS-NLMP §3.4,
//! extended session security with key exchange), as WinRM message encryption uses it.

use std::fmt;

use hmac::{Hmac, Mac};
use md5::Md5;
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use subtle::ConstantTimeEq;

use super::NtlmError;
use super::crypto::{CLIENT_SEAL, CLIENT_SIGN, SERVER_SEAL, SERVER_SIGN, derive};

/// Length of an NTLM message signature.
pub const SIGNATURE_LEN: usize = 16;

/// One direction's keys and state: an RC4 stream that runs across messages (never re-keyed),
/// a keyed HMAC, and the sequence number.
struct Direction {
    rc4: Rc4<U16>,
    hmac: Hmac<Md5>,
    seq: u32,
}

impl Direction {
    fn new(exported_session_key: &[u8; 16], sign_magic: &[u8], seal_magic: &[u8]) -> Self {
        let sign = derive(exported_session_key, sign_magic);
        let seal = derive(exported_session_key, seal_magic);
        Direction {
            rc4: Rc4::new((&*seal).into()),
            hmac: <Hmac<Md5> as Mac>::new_from_slice(sign.as_slice()).expect("any key length"),
            seq: 0,
        }
    }

    /// The 8-byte checksum for `plaintext` at the current sequence number, RC4-encrypted with
    /// the running keystream (key exchange negotiated).
    fn checksum(&mut self, plaintext: &[u8]) -> [u8; 8] {
        let mut mac = self.hmac.clone();
        mac.update(&self.seq.to_le_bytes());
        mac.update(plaintext);
        let full = mac.finalize().into_bytes();
        let mut c = [0u8; 8];
        c.copy_from_slice(&full[..8]);
        self.rc4.apply_keystream(&mut c);
        c
    }
}

/// The keys of an authenticated NTLM context. One per TCP connection: the RC4 streams and
/// sequence numbers only stay in step if every message is sealed and unsealed in order.
pub struct SessionSecurity {
    outbound: Direction,
    inbound: Direction,
}

impl fmt::Debug for SessionSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSecurity")
            .field("outbound_seq", &self.outbound.seq)
            .field("inbound_seq", &self.inbound.seq)
            .finish_non_exhaustive()
    }
}

/// Which side of the context this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The client (initiator).
    Initiator,
    /// The server (acceptor).
    Acceptor,
}

impl SessionSecurity {
    /// Keys for `role` from the exported session key.
    pub fn new(exported_session_key: &[u8; 16], role: Role) -> Self {
        let client = || Direction::new(exported_session_key, CLIENT_SIGN, CLIENT_SEAL);
        let server = || Direction::new(exported_session_key, SERVER_SIGN, SERVER_SEAL);
        match role {
            Role::Initiator => SessionSecurity {
                outbound: client(),
                inbound: server(),
            },
            Role::Acceptor => SessionSecurity {
                outbound: server(),
                inbound: client(),
            },
        }
    }

    /// Seals `message` in place and returns its signature (MS-NLMP §3.4.3): the message is
    /// encrypted first, then the checksum, with the same RC4 stream.
    pub fn seal(&mut self, message: &mut [u8]) -> [u8; SIGNATURE_LEN] {
        let d = &mut self.outbound;
        let mut mac = d.hmac.clone();
        mac.update(&d.seq.to_le_bytes());
        mac.update(message);
        let full = mac.finalize().into_bytes();
        d.rc4.apply_keystream(message);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&full[..8]);
        d.rc4.apply_keystream(&mut checksum);
        let sig = signature(checksum, d.seq);
        d.seq = d.seq.wrapping_add(1);
        sig
    }

    /// Unseals `message` in place and verifies `signature` (checksum compared in constant time,
    /// sequence number checked). On failure the context is unusable: the RC4 stream has moved.
    pub fn unseal(&mut self, message: &mut [u8], signature: &[u8]) -> Result<(), NtlmError> {
        let d = &mut self.inbound;
        let sig: &[u8; SIGNATURE_LEN] =
            signature.try_into().map_err(|_| NtlmError::BadSignature)?;
        d.rc4.apply_keystream(message);
        let expected = d.checksum(message);
        let seq = u32::from_le_bytes(sig[12..16].try_into().expect("4 bytes"));
        let version_ok = sig[..4] == [1, 0, 0, 0];
        let checksum_ok: bool = expected.ct_eq(&sig[4..12]).into();
        if !(version_ok && checksum_ok) {
            return Err(NtlmError::BadSignature);
        }
        if seq != d.seq {
            return Err(NtlmError::BadSequence {
                expected: d.seq,
                got: seq,
            });
        }
        d.seq = d.seq.wrapping_add(1);
        Ok(())
    }

    /// Signs without sealing (MS-NLMP §3.4.4): used for the MIC-less integrity case.
    pub fn sign(&mut self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let d = &mut self.outbound;
        let checksum = d.checksum(message);
        let sig = signature(checksum, d.seq);
        d.seq = d.seq.wrapping_add(1);
        sig
    }

    /// The next outbound sequence number.
    pub fn outbound_seq(&self) -> u32 {
        self.outbound.seq
    }
}

fn signature(checksum: [u8; 8], seq: u32) -> [u8; SIGNATURE_LEN] {
    let mut s = [0u8; SIGNATURE_LEN];
    s[..4].copy_from_slice(&[1, 0, 0, 0]);
    s[4..12].copy_from_slice(&checksum);
    s[12..].copy_from_slice(&seq.to_le_bytes());
    s
}
