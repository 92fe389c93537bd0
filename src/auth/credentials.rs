//! Credentials, kept out of logs and `Debug` output and wiped from memory when dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A password: never printed, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(p: impl Into<String>) -> Self {
        Password(p.into())
    }

    /// The secret, for the code that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A Windows account: `DOMAIN\user`, `user@domain` (UPN) or a local `user`.
#[derive(Clone)]
pub struct Credentials {
    user: String,
    domain: String,
    password: Password,
}

impl Credentials {
    /// Parses `DOMAIN\user`, `user@domain.tld` or `user`. For a UPN the whole name is the user
    /// and the domain is empty, as MS-NLMP asks; a plain `user` is a local account (the target
    /// resolves an empty domain to itself).
    pub fn new(account: &str, password: Password) -> Self {
        let (domain, user) = match account.split_once('\\') {
            Some((d, u)) => (d.to_string(), u.to_string()),
            None => (String::new(), account.to_string()),
        };
        Credentials {
            user,
            domain,
            password,
        }
    }

    /// The user name as sent.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The domain as sent (empty for UPNs and local accounts).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The password.
    pub fn password(&self) -> &Password {
        &self.password
    }

    /// `DOMAIN\user` or `user`, for messages.
    pub fn account(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("password", &self.password)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_forms_and_redaction() {
        let c = Credentials::new("CONTOSO\\alice", Password::new("s3cret!"));
        assert_eq!((c.domain(), c.user()), ("CONTOSO", "alice"));
        let c = Credentials::new("bob@contoso.com", Password::new("s3cret!"));
        assert_eq!((c.domain(), c.user()), ("", "bob@contoso.com"));
        let c = Credentials::new("Administrator", Password::new("s3cret!"));
        assert_eq!(c.account(), "Administrator");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }
}
