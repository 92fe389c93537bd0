//! The exporter's own listener: TLS and basic authentication, from a file written as
//! Prometheus' exporter-toolkit reads its `--web.config.file` (ipmi_exporter's, node_exporter's),
//! so one file serves them all:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: /etc/winrm-ipmi/exporter.crt
//!   key_file: /etc/winrm-ipmi/exporter.key
//! basic_auth_users:
//!   prometheus: $2y$10$...          # bcrypt (htpasswd -nBC 10 "" | tr -d ':\n')
//! ```
//!
//! Settings of exporter-toolkit's this exporter does not have (client certificates, cipher
//! lists, HTTP headers) are refused by name rather than ignored.
//!
//! bcrypt is slow on purpose (tens of milliseconds), and Prometheus sends the same credentials
//! with every scrape, so a verified user's SHA-256 of its password is kept in memory (as
//! exporter-toolkit caches them) and compared in constant time. A miss is verified off the
//! executor, two at a time at most (a flood of wrong passwords waits its turn rather than taking
//! every core), and an unknown user is verified against a configured hash too, so the time of
//! the answer does not tell which user names exist. The file is read once, at start.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebConfigFile {
    tls_server_config: Option<TlsServerConfig>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsServerConfig {
    cert_file: PathBuf,
    key_file: PathBuf,
}

/// TLS and basic-authentication settings for the listener (none: plain HTTP, open). Read
/// once at start: a new certificate or password takes a restart.
#[derive(Clone)]
pub struct WebConfig {
    pub(super) tls: Option<Arc<rustls::ServerConfig>>,
    users: Arc<BTreeMap<String, String>>,
    verified: Arc<Mutex<HashMap<String, [u8; 32]>>>,
    /// A configured hash, checked for unknown users.
    dummy: Option<Arc<str>>,
    bcrypt_slots: Arc<tokio::sync::Semaphore>,
}

/// bcrypt verifications running at once, at most.
const BCRYPT_AT_ONCE: usize = 2;

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            tls: None,
            users: Arc::default(),
            verified: Arc::default(),
            dummy: None,
            bcrypt_slots: Arc::new(tokio::sync::Semaphore::new(BCRYPT_AT_ONCE)),
        }
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What a request's credentials come to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// No users configured, or a user whose password verifies.
    Allowed,
    /// Missing or wrong credentials: 401 with a Basic challenge.
    Denied,
}

impl WebConfig {
    /// Reads and checks the file: the certificate and key load and go together, every user's
    /// hash is a bcrypt hash.
    pub fn load(path: &Path) -> Result<WebConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: WebConfigFile =
            serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        // Relative paths are the web config file's, as exporter-toolkit resolves them.
        let dir = path.parent().unwrap_or(Path::new(""));
        let tls = match file.tls_server_config {
            Some(t) => Some(
                crate::transport::tls::server_config_from_pem_files(
                    &dir.join(&t.cert_file),
                    &dir.join(&t.key_file),
                )
                .map_err(|e| format!("{}: {e}", path.display()))?,
            ),
            None => None,
        };
        let users = file.basic_auth_users.unwrap_or_default();
        let mut dummy = None;
        for (user, hash) in &users {
            // A hash bcrypt cannot verify against (a bad cost, a bad salt) would refuse every
            // request later; refused here instead.
            if hash.parse::<bcrypt::HashParts>().is_err() || bcrypt::verify("", hash).is_err() {
                return Err(format!(
                    "{}: the password of {user:?} is not a usable bcrypt hash",
                    path.display()
                ));
            }
            dummy.get_or_insert_with(|| hash.clone());
        }
        Ok(WebConfig {
            tls,
            users: Arc::new(users),
            verified: Arc::default(),
            dummy: dummy.map(Arc::from),
            bcrypt_slots: Arc::new(tokio::sync::Semaphore::new(BCRYPT_AT_ONCE)),
        })
    }

    /// Whether the listener speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Checks a request's `Authorization` header.
    pub(super) async fn check(&self, authorization: Option<&str>) -> Access {
        if self.users.is_empty() {
            return Access::Allowed;
        }
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return Access::Denied;
        };
        // An unknown user costs a bcrypt too (against a configured hash, so at the same cost):
        // the answer's time does not say which names exist.
        let (hash, known_user) = match self.users.get(&user) {
            Some(h) => (h.clone(), true),
            None => match &self.dummy {
                Some(d) => (d.to_string(), false),
                None => return Access::Denied,
            },
        };
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let known = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .copied();
        if let Some(known) = known {
            if bool::from(known.ct_eq(&digest)) {
                return Access::Allowed;
            }
        }
        // bcrypt runs a few at a time: a flood of wrong passwords (or of requests abandoned at
        // once) waits its turn instead of taking every core, and a request gone before its
        // turn costs nothing.
        let Ok(slot) = self.bcrypt_slots.clone().acquire_owned().await else {
            return Access::Denied;
        };
        let verified = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            bcrypt::verify(password.as_str(), &hash)
        })
        .await;
        let ok = match verified {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "exporter: a basic_auth_users hash cannot be verified");
                false
            }
            Err(_) => false,
        };
        if !ok || !known_user {
            return Access::Denied;
        }
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user, digest);
        Access::Allowed
    }
}

/// `Basic base64(user:password)` → (user, password).
fn basic_credentials(header: &str) -> Option<(String, zeroize::Zeroizing<String>)> {
    let (scheme, token) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = zeroize::Zeroizing::new(String::from_utf8(raw).ok()?);
    let (user, password) = text.split_once(':')?;
    Some((
        user.to_string(),
        zeroize::Zeroizing::new(password.to_string()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    }

    #[tokio::test]
    async fn users_are_checked_against_their_bcrypt_hashes() {
        // Removed when dropped, a failed assertion included.
        let scratch = tempfile::Builder::new()
            .prefix("winrm-ipmi-web-")
            .tempdir()
            .unwrap();
        let dir = scratch.path().to_path_buf();
        let path = dir.join("web.yml");
        // The hash of "s3cret", cost 4, made by libxcrypt (an independent implementation:
        // perl -e 'print crypt("s3cret", "\$2b\$04\$abcdefghijklmnopqrstuu")').
        std::fs::write(
            &path,
            "basic_auth_users:\n  prometheus: $2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG\n",
        )
        .unwrap();
        let web = WebConfig::load(&path).unwrap();
        assert!(web.tls.is_none());
        assert_eq!(web.check(None).await, Access::Denied);
        assert_eq!(
            web.check(Some(&basic("prometheus", "wrong"))).await,
            Access::Denied
        );
        assert_eq!(
            web.check(Some(&basic("other", "s3cret"))).await,
            Access::Denied
        );
        assert_eq!(web.check(Some("Bearer x")).await, Access::Denied);
        assert_eq!(web.check(Some("Basic !!!")).await, Access::Denied);
        // Twice: the second from the verified cache; a wrong password after it still fails.
        for _ in 0..2 {
            assert_eq!(
                web.check(Some(&basic("prometheus", "s3cret"))).await,
                Access::Allowed
            );
        }
        assert_eq!(
            web.check(Some(&basic("prometheus", "s3cret2"))).await,
            Access::Denied
        );
        assert!(!format!("{web:?}").contains("$2b$"));
        // Mistakes stop the start: not a bcrypt hash, an unknown setting, a missing key file.
        for (yaml, says) in [
            (
                "basic_auth_users:\n  p: plain\n",
                "not a usable bcrypt hash",
            ),
            (
                "basic_auth_users:\n  p: $2b$03$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG\n",
                "not a usable bcrypt hash",
            ),
            (
                "basic_auth_users:\n  p: $2b$04$!!!!!!!!!!!!!!!!!!!!!!LZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG\n",
                "not a usable bcrypt hash",
            ),
            (
                "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
                "client_auth_type",
            ),
            (
                "tls_server_config:\n  cert_file: /nonexistent/c\n  key_file: /nonexistent/k\n",
                "/nonexistent/c",
            ),
        ] {
            std::fs::write(&path, yaml).unwrap();
            let e = WebConfig::load(&path).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        // Relative paths are the web config file's directory's, not the working directory's.
        std::fs::write(
            &path,
            "tls_server_config:\n  cert_file: exporter.crt\n  key_file: exporter.key\n",
        )
        .unwrap();
        let e = WebConfig::load(&path).unwrap_err();
        let expected = dir.join("exporter.crt");
        assert!(e.contains(&expected.display().to_string()), "{e}");
        assert!(WebConfig::default().check(None).await == Access::Allowed);
    }
}
