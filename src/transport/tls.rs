//! TLS for WinRM over HTTPS (5986): rustls with the OS trust store, extra CA files, SHA-256
//! thumbprint pinning (WinRM listeners often use self-signed certificates), or an explicit
//! insecure mode; and the RFC 5929 `tls-server-end-point` channel binding.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::TransportError;

/// A TLS client certificate and its private key, for certificate authentication.
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .field(
                "thumbprint",
                &self.chain.first().map(|c| thumbprint(c.as_ref())),
            )
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// Reads a certificate (chain) and its key from PEM files. The key may be PKCS#8, RSA
    /// (PKCS#1) or EC (SEC1); an encrypted key, or a key that does not belong to the
    /// certificate, is refused here, before any traffic.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TransportError> {
        let (chain, key) = pem_pair(cert, key)?;
        Ok(ClientIdentity { chain, key })
    }
}

/// A certificate chain and its private key from PEM files, checked to go together. The key
/// may be PKCS#8, RSA (PKCS#1) or EC (SEC1); an encrypted key is refused with what to do.
fn pem_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TransportError> {
    let config = |m: String| TransportError::Config(m);
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| config(format!("cannot read certificate {}: {e}", cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config(format!("certificate {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(config(format!("{} holds no certificate", cert.display())));
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read(key)
            .map_err(|e| config(format!("cannot read key {}: {e}", key.display())))?,
    );
    if text.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED") {
        return Err(config(format!(
            "{} is an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN-KEY) and protect the file instead",
            key.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        config(format!(
            "{}: no PKCS#8, RSA or EC private key found ({e})",
            key.display()
        ))
    })?;
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(chain.clone(), key_der.clone_key(), &provider).map_err(
        |e| {
            config(format!(
                "the key {} does not go with the certificate {}: {e}",
                key.display(),
                cert.display()
            ))
        },
    )?;
    Ok((chain, key_der))
}

/// A TLS server configuration (TLS 1.2 and 1.3, no client certificates) from a certificate
/// chain and key in PEM files: the exporter's own listener.
pub fn server_config_from_pem_files(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TransportError> {
    let (chain, key) = pem_pair(cert, key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TransportError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

/// How the server's certificate is trusted, and our own certificate if we present one.
#[derive(Clone, Default)]
pub struct TlsSettings {
    /// Extra trust anchors (PEM CA files), besides the OS store.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Accept exactly the certificate whose DER has this SHA-256, and nothing else (the name
    /// and chain are not checked: the pin is the trust decision).
    pub thumbprint: Option<[u8; 32]>,
    /// Accept any certificate. The connection is encrypted but anyone on the path can read it.
    pub insecure: bool,
    /// The client certificate to present (certificate authentication).
    pub client_identity: Option<ClientIdentity>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("extra_roots", &self.extra_roots.len())
            .field("thumbprint", &self.thumbprint.map(hex))
            .field("insecure", &self.insecure)
            .field("client_identity", &self.client_identity)
            .finish()
    }
}

impl TlsSettings {
    /// Adds the certificates of a PEM file as trust anchors.
    pub fn add_ca_file(&mut self, path: &Path) -> Result<(), TransportError> {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| {
                TransportError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Config(format!("CA file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(TransportError::Config(format!(
                "CA file {} holds no certificate",
                path.display()
            )));
        }
        self.extra_roots.extend(certs);
        Ok(())
    }

    /// Parses a SHA-256 thumbprint: 64 hex digits, optionally separated by `:` or spaces.
    /// Anything else (a sign, a non-ASCII character) is refused, never sliced through.
    pub fn parse_thumbprint(s: &str) -> Result<[u8; 32], TransportError> {
        let refused =
            || TransportError::Config(format!("{s:?} is not a SHA-256 thumbprint (64 hex digits)"));
        let digits: Vec<u8> = s
            .chars()
            .filter(|c| !matches!(c, ':' | ' '))
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()
            .ok_or_else(refused)?;
        if digits.len() != 64 {
            return Err(refused());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = pair[0] << 4 | pair[1];
        }
        Ok(out)
    }

    /// The rustls configuration.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TransportError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Config(format!("TLS setup: {e}")))?;
        let builder = if self.insecure || self.thumbprint.is_some() {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedOrAny {
                    // A pin always holds: "insecure" beside it must not turn it off.
                    thumbprint: self.thumbprint,
                    provider,
                }))
        } else {
            let mut roots = RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
            for cert in &self.extra_roots {
                roots
                    .add(cert.clone())
                    .map_err(|e| TransportError::Config(format!("unusable CA certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(TransportError::Config(
                    "no trusted CA certificates: the OS store is empty and no CA file was given"
                        .into(),
                ));
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TransportError::Config(format!("TLS setup: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RootsOrListed {
                    webpki,
                    listed: self.extra_roots.clone(),
                }))
        };
        let config = match &self.client_identity {
            None => builder.with_no_client_auth(),
            Some(id) => builder
                .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                .map_err(|e| TransportError::Config(format!("client certificate: {e}")))?,
        };
        Ok(Arc::new(config))
    }
}

/// The usual chain verification against the roots, plus one case curl accepts and webpki does
/// not: the server presents the very certificate the user put in the CA file (byte for byte),
/// and that certificate says CA:TRUE (what `openssl req -x509` makes by default, so most
/// self-signed WinRM listener certificates). webpki refuses a CA as an end entity; the user
/// meant to trust exactly this certificate, so it is accepted with its name still checked.
/// webpki checks the validity period before the basic constraints, so an expired certificate is
/// still refused; its extended key usage is not checked (curl does not either), and the server
/// must still prove it holds the certificate's key in the handshake.
#[derive(Debug)]
struct RootsOrListed {
    webpki: Arc<WebPkiServerVerifier>,
    listed: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for RootsOrListed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(other)))
                if other.0.downcast_ref::<webpki::Error>()
                    == Some(&webpki::Error::CaUsedAsEndEntity)
                    && self
                        .listed
                        .iter()
                        .any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Accepts the pinned certificate (or, with no pin, any certificate), still verifying the
/// handshake signatures with the certificate's key.
#[derive(Debug)]
struct PinnedOrAny {
    thumbprint: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedOrAny {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.thumbprint {
            None => Ok(ServerCertVerified::assertion()),
            Some(pin) => {
                let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
                if got == pin {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "certificate thumbprint (SHA-256) is {}, not the pinned {}",
                        hex(got),
                        hex(pin)
                    )))
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn hex(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The SHA-256 thumbprint of a DER certificate, as `--thumbprint` takes it.
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex(Sha256::digest(cert_der).into())
}

/// RFC 5929 `tls-server-end-point` application data: the prefix and the certificate's hash,
/// with the hash of its signature algorithm (SHA-224/384/512; for RSA-PSS the parameters'
/// `hashAlgorithm`), or SHA-256 for MD5, SHA-1, SHA-256 and anything else (§4.1).
pub fn tls_server_end_point(cert_der: &[u8]) -> Vec<u8> {
    let mut out = b"tls-server-end-point:".to_vec();
    match signature_hash(cert_der) {
        SigHash::Sha224 => out.extend_from_slice(&sha2::Sha224::digest(cert_der)),
        SigHash::Sha384 => out.extend_from_slice(&Sha384::digest(cert_der)),
        SigHash::Sha512 => out.extend_from_slice(&Sha512::digest(cert_der)),
        SigHash::Sha256 => out.extend_from_slice(&Sha256::digest(cert_der)),
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum SigHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

// DER OIDs (contents only).
const SHA384_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C];
const SHA512_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D];
const RSA_PSS: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A];
const ECDSA_SHA384: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03];
const ECDSA_SHA512: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04];
const SHA224_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0E];
const ECDSA_SHA224: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x01];
const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const SHA224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04];

/// Reads `Certificate.signatureAlgorithm` (SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }).
fn signature_hash(cert: &[u8]) -> SigHash {
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let first = *b.get(1)? as usize;
        let (len, hdr) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7F;
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *b.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let body = b.get(hdr..hdr.checked_add(len)?)?;
        Some((tag, body, &b[hdr + len..]))
    }
    let parse = || -> Option<SigHash> {
        let (_, cert, _) = tlv(cert)?;
        let (_, _tbs, rest) = tlv(cert)?;
        let (_, alg, _) = tlv(rest)?;
        let (tag, oid, params) = tlv(alg)?;
        if tag != 0x06 {
            return None;
        }
        // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT
        // sha1, maskGenAlgorithm [1] ..., ... } (RFC 4055): only [0] names the hash; the mask
        // function's own hash does not count.
        let pss_hash = || -> Option<&[u8]> {
            let (_, seq, _) = tlv(params)?;
            let (tag, hash_alg, _) = tlv(seq)?;
            if tag != 0xA0 {
                return None; // the default, SHA-1
            }
            let (_, alg_id, _) = tlv(hash_alg)?;
            let (tag, oid, _) = tlv(alg_id)?;
            (tag == 0x06).then_some(oid)
        };
        Some(match oid {
            SHA224_RSA | ECDSA_SHA224 => SigHash::Sha224,
            SHA384_RSA | ECDSA_SHA384 => SigHash::Sha384,
            SHA512_RSA | ECDSA_SHA512 => SigHash::Sha512,
            RSA_PSS => match pss_hash() {
                Some(SHA224) => SigHash::Sha224,
                Some(SHA384) => SigHash::Sha384,
                Some(SHA512) => SigHash::Sha512,
                _ => SigHash::Sha256,
            },
            _ => SigHash::Sha256,
        })
    };
    parse().unwrap_or(SigHash::Sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 0x80 {
            v.push(body.len() as u8);
        } else {
            v.extend_from_slice(&[0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend_from_slice(body);
        v
    }

    fn fake_cert(oid: &[u8]) -> Vec<u8> {
        fake_cert_with(oid, &[0x05, 0x00])
    }

    fn fake_cert_with(oid: &[u8], params: &[u8]) -> Vec<u8> {
        let tbs = der(0x30, &[0u8; 200]);
        let alg = der(0x30, &[der(0x06, oid), params.to_vec()].concat());
        let sig = der(0x03, &[0, 1, 2, 3]);
        der(0x30, &[tbs, alg, sig].concat())
    }

    #[test]
    fn rfc5929_hash_follows_the_signature_algorithm() {
        let sha256_rsa = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
        assert_eq!(signature_hash(&fake_cert(&sha256_rsa)), SigHash::Sha256);
        assert_eq!(signature_hash(&fake_cert(SHA384_RSA)), SigHash::Sha384);
        assert_eq!(signature_hash(&fake_cert(ECDSA_SHA512)), SigHash::Sha512);
        // SHA-1 and MD5 map to SHA-256 (RFC 5929 §4.1).
        assert_eq!(
            signature_hash(&fake_cert(&[
                0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05
            ])),
            SigHash::Sha256
        );
        assert_eq!(signature_hash(b"garbage"), SigHash::Sha256);
        assert_eq!(signature_hash(&fake_cert(SHA224_RSA)), SigHash::Sha224);
        assert_eq!(signature_hash(&fake_cert(ECDSA_SHA224)), SigHash::Sha224);
        // RSA-PSS: the hash is [0] hashAlgorithm's; the mask function's hash does not count.
        let alg_id = |oid: &[u8]| der(0x30, &[der(0x06, oid), vec![0x05, 0x00]].concat());
        let mgf1 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x08];
        let pss = |hash: Option<&[u8]>, mask_hash: &[u8]| {
            let mut body = Vec::new();
            if let Some(h) = hash {
                body.extend(der(0xA0, &alg_id(h)));
            }
            let mask = der(0x30, &[der(0x06, &mgf1), alg_id(mask_hash)].concat());
            body.extend(der(0xA1, &mask));
            fake_cert_with(RSA_PSS, &der(0x30, &body))
        };
        let sha256 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
        assert_eq!(signature_hash(&pss(Some(&sha256), SHA384)), SigHash::Sha256);
        assert_eq!(signature_hash(&pss(Some(SHA512), SHA512)), SigHash::Sha512);
        assert_eq!(signature_hash(&pss(Some(SHA384), &sha256)), SigHash::Sha384);
        assert_eq!(signature_hash(&pss(None, SHA512)), SigHash::Sha256); // SHA-1 by default
        let c = fake_cert(SHA224_RSA);
        assert_eq!(
            &tls_server_end_point(&c)[21..],
            sha2::Sha224::digest(&c).as_slice()
        );
        let c = fake_cert(SHA384_RSA);
        let cb = tls_server_end_point(&c);
        assert_eq!(&cb[..21], b"tls-server-end-point:");
        assert_eq!(&cb[21..], Sha384::digest(&c).as_slice());
    }

    #[test]
    fn thumbprints() {
        let t = "AB:".repeat(31) + "AB";
        assert_eq!(TlsSettings::parse_thumbprint(&t).unwrap(), [0xAB; 32]);
        assert_eq!(
            TlsSettings::parse_thumbprint(&"cd".repeat(32)).unwrap(),
            [0xCD; 32]
        );
        assert!(TlsSettings::parse_thumbprint("abc").is_err());
        assert!(TlsSettings::parse_thumbprint(&"zz".repeat(32)).is_err());
        // Refused, never sliced through or read with a sign.
        assert!(TlsSettings::parse_thumbprint(&("a".repeat(61) + "éb")).is_err());
        assert!(TlsSettings::parse_thumbprint(&"+f".repeat(32)).is_err());
    }
}
