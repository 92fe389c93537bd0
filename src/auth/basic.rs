//! HTTP Basic: the account and password on every request. Over HTTPS only, unless the user opts
//! in loudly: anyone on the path reads the password.

use std::fmt;

use zeroize::Zeroizing;

use super::{AuthError, Credentials, Mechanism, MessageSecurity};

/// The Basic mechanism.
pub struct Basic {
    account: String,
    user_pass: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Basic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Basic")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Basic {
    /// Basic for these credentials (`DOMAIN\user:password`).
    pub fn new(credentials: &Credentials) -> Self {
        let account = credentials.account();
        let user_pass =
            Zeroizing::new(format!("{account}:{}", credentials.password().expose()).into_bytes());
        Basic { account, user_pass }
    }
}

impl Mechanism for Basic {
    fn name(&self) -> &'static str {
        "Basic"
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["Basic"]
    }
    fn connection_bound(&self) -> bool {
        false
    }
    fn step(&mut self, _challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        Ok(self.user_pass.to_vec())
    }
    fn is_complete(&self) -> bool {
        true
    }
    fn account(&self) -> String {
        self.account.clone()
    }
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        None
    }
    fn refusal_hint(&self) -> &'static str {
        super::BASIC_REFUSED_HINT
    }
}
