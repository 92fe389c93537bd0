//! MS-WSMV message encryption framing (§2.2.9.1.1): the `multipart/encrypted` body that
//! carries a sealed SOAP envelope over HTTP.
//!
//! Built exactly as Windows emits it (verified against a real Windows reply, see
//! `fixtures/PROVENANCE.md`): tab-prefixed part headers, `Length=` the plaintext length, a
//! 4-byte little-endian signature length, the 16-byte signature, the ciphertext, and the closing
//! boundary with no CRLF before it. Parsed by lengths, never by searching for the boundary inside
//! ciphertext; the variants other stacks send (no tabs, `-- Encrypted Boundary`, no final `--`,
//! any header case) are accepted.

use crate::auth::{MessageSecurity, SecurityError};

/// The `Content-Type` of a sealed SPNEGO/NTLM message.
pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";

const PROTOCOL: &str = "application/HTTP-SPNEGO-session-encrypted";
const BOUNDARY: &str = "Encrypted Boundary";

/// A framing or sealing error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The body is not in the MS-WSMV encrypted form.
    #[error("malformed encrypted body: {0}")]
    Malformed(String),
    /// The sealed content did not verify.
    #[error(transparent)]
    Security(#[from] SecurityError),
}

fn malformed(s: impl Into<String>) -> FramingError {
    FramingError::Malformed(s.into())
}

/// Seals `plaintext` (a UTF-8 SOAP envelope) and frames it; returns the body to send with
/// [`CONTENT_TYPE`].
pub fn seal(session: &mut dyn MessageSecurity, plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
    use std::io::Write;
    let header_len = session.header_len();
    // The part headers are 210 bytes before `Length`'s digits, the closing boundary 24.
    let mut out = Vec::with_capacity(280 + header_len + plaintext.len());
    let _ = write!(
        out,
        "--{BOUNDARY}\r\n\tContent-Type: {PROTOCOL}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={}\r\n--{BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n",
        plaintext.len()
    );
    out.extend_from_slice(&(header_len as u32).to_le_bytes());
    let sig_at = out.len();
    out.resize(sig_at + header_len, 0);
    out.extend_from_slice(plaintext);
    let (head, body) = out[sig_at..].split_at_mut(header_len);
    session.wrap(body, head)?;
    let _ = write!(out, "--{BOUNDARY}--\r\n");
    Ok(out)
}

/// Whether a `Content-Type` header value announces an SPNEGO-sealed body.
pub fn is_encrypted(content_type: &str) -> bool {
    let ct = content_type.as_bytes();
    // A first-byte check before each comparison keeps this one pass in practice.
    let ascii_ci_contains = |needle: &[u8]| {
        ct.windows(needle.len())
            .any(|w| w[0].eq_ignore_ascii_case(&needle[0]) && w.eq_ignore_ascii_case(needle))
    };
    ct.get(..19)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"multipart/encrypted"))
        && ascii_ci_contains(PROTOCOL.as_bytes())
}

/// The parts of a framed body, before unsealing.
#[derive(Debug, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The plaintext's declared length (`OriginalContent: ...;Length=N`).
    pub length: usize,
    /// The declared charset (`UTF-8` unless stated).
    pub charset: String,
    /// The signature.
    pub signature: &'a [u8],
    /// The ciphertext, exactly `length` bytes.
    pub ciphertext: &'a [u8],
}

/// Splits a framed body by its lengths; the header (signature) must be `header_len` bytes.
pub fn parse(body: &[u8], header_len: usize) -> Result<Framed<'_>, FramingError> {
    let mut rest = body;
    boundary_line(&mut rest, false)?;
    let mut length = None;
    let mut charset = "UTF-8".to_string();
    let mut protocol_ok = false;
    // First part: headers until the next boundary line.
    loop {
        let line = take_line(&mut rest)?;
        let l = trim_header(line);
        if is_boundary(l) {
            break;
        }
        let (name, value) = split_header(l)?;
        if name.eq_ignore_ascii_case("Content-Type") {
            protocol_ok = value.trim().eq_ignore_ascii_case(PROTOCOL);
        } else if name.eq_ignore_ascii_case("OriginalContent") {
            for param in value.split(';') {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "length" => {
                        length = Some(
                            v.trim()
                                .parse::<usize>()
                                .map_err(|_| malformed(format!("bad Length {v:?}")))?,
                        )
                    }
                    "charset" => charset = v.trim().to_string(),
                    _ => {}
                }
            }
        }
    }
    if !protocol_ok {
        return Err(malformed(
            "first part is not application/HTTP-SPNEGO-session-encrypted",
        ));
    }
    let length = length.ok_or_else(|| malformed("no OriginalContent Length"))?;
    // Second part: one header line (application/octet-stream), then binary.
    let line = take_line(&mut rest)?;
    let (name, value) = split_header(trim_header(line))?;
    if !name.eq_ignore_ascii_case("Content-Type")
        || !value
            .trim()
            .eq_ignore_ascii_case("application/octet-stream")
    {
        return Err(malformed("second part is not application/octet-stream"));
    }
    let sig_len = rest
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| malformed("no signature length"))?;
    if sig_len != header_len {
        return Err(malformed(format!(
            "signature length {sig_len}, expected {header_len}"
        )));
    }
    // Peer-supplied lengths: checked arithmetic, never a wrap.
    let needed = (4 + sig_len)
        .checked_add(length)
        .ok_or_else(|| malformed(format!("Length {length} is absurd")))?;
    if rest.len() < needed {
        return Err(malformed(format!(
            "body ends after {} bytes of a {needed}-byte sealed part",
            rest.len()
        )));
    }
    let signature = &rest[4..4 + sig_len];
    let ciphertext = &rest[4 + sig_len..needed];
    rest = &rest[needed..];
    // Windows puts the closing boundary right after the ciphertext; others add CRLF first.
    if let Some(r) = rest.strip_prefix(b"\r\n") {
        rest = r;
    }
    boundary_line(&mut rest, true)?;
    Ok(Framed {
        length,
        charset,
        signature,
        ciphertext,
    })
}

/// Parses and unseals a framed body; returns the plaintext envelope.
pub fn unseal(session: &mut dyn MessageSecurity, body: &[u8]) -> Result<Vec<u8>, FramingError> {
    let framed = parse(body, session.header_len())?;
    let mut plaintext = framed.ciphertext.to_vec();
    session.unwrap(framed.signature, &mut plaintext)?;
    Ok(plaintext)
}

fn take_line<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], FramingError> {
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| malformed("header line without CRLF"))?;
    let line = &rest[..end];
    *rest = &rest[end + 2..];
    Ok(line)
}

fn trim_header(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !matches!(b, b'\t' | b' '))
        .unwrap_or(line.len());
    &line[start..]
}

fn split_header(line: &[u8]) -> Result<(&str, &str), FramingError> {
    let s = std::str::from_utf8(line).map_err(|_| malformed("header is not text"))?;
    s.split_once(':')
        .ok_or_else(|| malformed(format!("not a header: {s:?}")))
}

/// `--Encrypted Boundary` (optionally `-- Encrypted Boundary`, any case).
fn is_boundary(line: &[u8]) -> bool {
    boundary_rest(line).is_some_and(|r| r.is_empty())
}

fn boundary_rest(line: &[u8]) -> Option<&[u8]> {
    let l = line.strip_prefix(b"--")?;
    let l = trim_header(l);
    let b = BOUNDARY.as_bytes();
    (l.len() >= b.len() && l[..b.len()].eq_ignore_ascii_case(b)).then(|| &l[b.len()..])
}

/// Consumes a boundary line; `closing` accepts `--...--` and a missing final `--` or CRLF.
fn boundary_line(rest: &mut &[u8], closing: bool) -> Result<(), FramingError> {
    let end = rest.windows(2).position(|w| w == b"\r\n");
    let line = &rest[..end.unwrap_or(rest.len())];
    match boundary_rest(line) {
        Some(tail) if tail.is_empty() || (closing && tail == b"--") => {
            *rest = &rest[end.map_or(rest.len(), |e| e + 2)..];
            if closing && !rest.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(malformed("data after the closing boundary"));
            }
            Ok(())
        }
        _ => Err(malformed(if closing {
            "no closing boundary"
        } else {
            "does not start with --Encrypted Boundary"
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ntlm::{Role, SessionSecurity};

    fn pair() -> (SessionSecurity, SessionSecurity) {
        let k = [7u8; 16];
        (
            SessionSecurity::new(&k, Role::Initiator),
            SessionSecurity::new(&k, Role::Acceptor),
        )
    }

    fn capture() -> Vec<u8> {
        let hex = include_str!("../../fixtures/encryption/ironposh_real_encrypted_soap.hex");
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn real_windows_reply_is_parsed_by_lengths() {
        let body = capture();
        assert_eq!(body.len(), 2420);
        let f = parse(&body, 16).unwrap();
        assert_eq!(f.length, 2162);
        assert_eq!(f.charset, "UTF-8");
        assert_eq!(f.ciphertext.len(), 2162);
        assert_eq!(
            f.signature,
            [
                0x01, 0, 0, 0, 0xff, 0xdd, 0x75, 0x9d, 0x0a, 0x5a, 0x82, 0x6c, 0, 0, 0, 0
            ]
        );
        // Byte offsets of the capture (landscape doc §b.3): ciphertext at 234..2396.
        assert_eq!(f.ciphertext, &body[234..2396]);
    }

    #[test]
    fn our_frame_matches_windows_layout_and_round_trips() {
        let (mut client, mut server) = pair();
        let plain = b"<s:Envelope>hello</s:Envelope>";
        let body = seal(&mut client, plain).unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(
            "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=30\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n\x10\0\0\0"
        ));
        assert!(body.ends_with(b"--Encrypted Boundary--\r\n"));
        // The capture's headers take 214 bytes with a 4-digit Length; ours has 2 digits.
        assert_eq!(body.len(), 212 + 4 + 16 + plain.len() + 24);
        assert_eq!(unseal(&mut server, &body).unwrap(), plain);
        assert!(is_encrypted(CONTENT_TYPE));
        assert!(!is_encrypted("application/soap+xml;charset=UTF-8"));
        // Any case; the protocol must be SPNEGO's (CredSSP's is another).
        assert!(is_encrypted(&CONTENT_TYPE.to_ascii_uppercase()));
        assert!(!is_encrypted(
            "multipart/encrypted;protocol=\"application/HTTP-CredSSP-session-encrypted\""
        ));
        assert!(!is_encrypted("multipart/encrypte"));
    }

    #[test]
    fn tolerated_variants() {
        let (mut client, mut server) = pair();
        let plain = b"<x/>".to_vec();
        let body = seal(&mut client, &plain).unwrap();
        let text = body.clone();
        // No tabs, space after --, CRLF before the closing boundary, no final --, header case.
        let variant = String::from_utf8_lossy(&text[..text.len() - 24 - 4 - 16 - 4])
            .replace('\t', "")
            .replace("--Encrypted Boundary", "-- Encrypted Boundary")
            .replace("Content-Type", "content-type");
        let mut v = variant.into_bytes();
        v.extend_from_slice(&text[text.len() - 24 - 4 - 16 - 4..text.len() - 24]);
        v.extend_from_slice(b"\r\n--Encrypted Boundary\r\n");
        assert_eq!(unseal(&mut server, &v).unwrap(), plain);
    }

    #[test]
    fn a_boundary_inside_ciphertext_does_not_confuse_the_parser() {
        // A plaintext whose ciphertext we force to contain the boundary: build the frame by
        // hand with a known "ciphertext".
        let ct = b"--Encrypted Boundary--\r\n\r\n--Encrypted Boundary\r\n";
        let mut body = format!(
            "--Encrypted Boundary\r\n\tContent-Type: {PROTOCOL}\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={}\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n",
            ct.len()
        )
        .into_bytes();
        body.extend_from_slice(&16u32.to_le_bytes());
        body.extend_from_slice(&[9; 16]);
        body.extend_from_slice(ct);
        body.extend_from_slice(b"--Encrypted Boundary--\r\n");
        let f = parse(&body, 16).unwrap();
        assert_eq!(f.ciphertext, ct);
    }

    #[test]
    fn malformed_and_tampered_bodies_are_errors() {
        let (mut client, mut server) = pair();
        let body = seal(&mut client, b"<x>data</x>").unwrap();
        assert!(matches!(
            parse(&body[..body.len() - 30], 16),
            Err(FramingError::Malformed(_))
        ));
        assert!(matches!(
            parse(b"<s:Envelope/>", 16),
            Err(FramingError::Malformed(_))
        ));
        let mut long = body.clone();
        long.extend_from_slice(b"trailing");
        assert!(matches!(parse(&long, 16), Err(FramingError::Malformed(_))));
        let wrong_len = String::from_utf8_lossy(&body)
            .replace("Length=11", "Length=12")
            .into_bytes();
        assert!(parse(&wrong_len, 16).is_err());
        let mut tampered = body.clone();
        let n = tampered.len();
        tampered[n - 25] ^= 1;
        assert_eq!(
            unseal(&mut server, &tampered),
            Err(FramingError::Security(SecurityError::BadSignature))
        );
        // A Length near the integer maximum is refused, not wrapped into a slice panic.
        for huge in ["18446744073709551615", "18446744073709551600", "4294967295"] {
            let absurd = String::from_utf8_lossy(&body)
                .replace("Length=11", &format!("Length={huge}"))
                .into_bytes();
            assert!(matches!(
                unseal(&mut server, &absurd),
                Err(FramingError::Malformed(_))
            ));
        }
        for cut in 0..body.len() {
            let _ = parse(&body[..cut], 16);
        }
    }
}
