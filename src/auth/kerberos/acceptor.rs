//! The simulator's Kerberos acceptor (`winrm-ipmi sim --keytab FILE`): the service side of
//! SPNEGO/Kerberos with the keys of a keytab, and the context's message security.

use std::sync::Arc;

use super::gssapi::{Context, Cred};
use super::mechanism::GssSecurity;
use crate::auth::MessageSecurity;

/// Acceptor credentials: every service principal in one keytab.
#[derive(Clone)]
pub(crate) struct KerberosAcceptor {
    cred: Arc<Cred>,
}

/// One connection's acceptor state.
#[derive(Default)]
pub(crate) struct AcceptorContext {
    context: Context,
}

/// What an accepted token gives.
pub(crate) enum Accepted {
    /// Established: the client's principal, the token for the `200` (mutual authentication)
    /// and the message security.
    Complete {
        principal: String,
        token: Vec<u8>,
        security: Box<dyn MessageSecurity>,
    },
    /// Another leg: this token goes out on a `401`.
    Continue(Vec<u8>),
}

impl KerberosAcceptor {
    /// Reads the keytab (`Err`: why not, for the operator).
    pub(crate) fn new(keytab: &std::path::Path) -> Result<Self, String> {
        let path = keytab
            .to_str()
            .ok_or_else(|| format!("{}: not a UTF-8 path", keytab.display()))?;
        let cred = Cred::acceptor(path).map_err(|e| format!("keytab {path}: {e}"))?;
        Ok(KerberosAcceptor {
            cred: Arc::new(cred),
        })
    }

    /// One token from the client (`context` is the connection's, fresh for a new exchange).
    pub(crate) fn accept(
        &self,
        context: &mut AcceptorContext,
        channel_binding: Option<&[u8]>,
        token: &[u8],
    ) -> Result<Accepted, String> {
        let (step, principal) = context
            .context
            .accept(&self.cred, channel_binding, token)
            .map_err(|e| e.to_string())?;
        if !step.complete {
            return Ok(Accepted::Continue(step.token));
        }
        let established = std::mem::take(&mut context.context);
        Ok(Accepted::Complete {
            principal: principal.unwrap_or_default(),
            token: step.token,
            security: Box::new(GssSecurity::new(established)),
        })
    }
}
