//! Certificate authentication over HTTPS (WinRM's https/mutual security profile): the TLS
//! client certificate proves who we are, Windows maps it to a local account
//! (`winrm create winrm/config/service/certmapping ...`), and every request names the profile in
//! its `Authorization` header.

use super::{AuthError, Mechanism, MessageSecurity};

/// The `Authorization` value of WS-Management's HTTPS mutual-authentication profile (DSP0226
/// §C.3.5), which WinRM expects with a client certificate.
pub const MUTUAL_PROFILE: &str =
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual";

/// The certificate mechanism: nothing to exchange, the TLS handshake did the work.
#[derive(Debug, Default)]
pub struct Certificate;

impl Mechanism for Certificate {
    fn name(&self) -> &'static str {
        "certificate"
    }
    fn schemes(&self) -> &'static [&'static str] {
        &[MUTUAL_PROFILE]
    }
    fn connection_bound(&self) -> bool {
        false
    }
    fn step(&mut self, _challenge: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        Ok(Vec::new())
    }
    fn is_complete(&self) -> bool {
        true
    }
    fn account(&self) -> String {
        "the client certificate".into()
    }
    fn take_security(&mut self) -> Option<Box<dyn MessageSecurity>> {
        None
    }
    fn header(&self, _scheme: &str, _token: &[u8]) -> String {
        MUTUAL_PROFILE.into()
    }
    fn refusal_hint(&self) -> &'static str {
        "no local account is mapped to it (winrm create winrm/config/service/certmapping), or certificate authentication is disabled on the service"
    }
}
