//! A BMC backend that forwards each request to an external BMC over IPMI-over-LAN (RMCP+), so a
//! real BMC, or OpenIPMI's `ipmi_sim`, can stand behind a simulated Windows host.
//!
//! Uses the `ipmi-rs` crate's RMCP+ client (cipher suite 3: HMAC-SHA1, AES-CBC-128), which is
//! blocking: requests run on tokio's blocking pool, one at a time per BMC, as Windows' driver
//! serialises them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipmi_rs::connection::{IpmiConnection, LogicalUnit, Message, Request, RequestTargetAddress};
use ipmi_rs::rmcp::Rmcp;

use crate::auth::Password;
use crate::ipmi::{Bmc, CompletionCode, IpmiError, RawRequest, RawResponse};

/// Where the external BMC is and how to log in (administrator privilege).
#[derive(Clone, Debug)]
pub struct LanTarget {
    /// `host:port` of the BMC's RMCP port (UDP).
    pub address: String,
    /// BMC user.
    pub user: String,
    /// BMC password.
    pub password: Password,
}

/// Forwards requests to a [`LanTarget`].
#[derive(Clone, Debug)]
pub struct LanBmc {
    target: LanTarget,
    session: Arc<Mutex<Option<Rmcp>>>,
}

impl LanBmc {
    /// A backend for `target`; the RMCP+ session opens with the first request.
    pub fn new(target: LanTarget) -> Self {
        LanBmc {
            target,
            session: Arc::new(Mutex::new(None)),
        }
    }

    fn forward(
        target: &LanTarget,
        session: &Mutex<Option<Rmcp>>,
        request: &RawRequest,
    ) -> Result<RawResponse, String> {
        let mut guard = session
            .lock()
            .map_err(|_| "session lock poisoned".to_string())?;
        if guard.is_none() {
            let mut rmcp = Rmcp::new(target.address.as_str(), Duration::from_secs(2))
                .map_err(|e| format!("RMCP socket: {e}"))?;
            rmcp.activate(
                true,
                Some(&target.user),
                Some(target.password.expose().as_bytes()),
            )
            .map_err(|e| format!("RMCP+ session to {}: {e:?}", target.address))?;
            // A session starts at User privilege whatever RAKP negotiated; raise it to
            // Administrator (Set Session Privilege Level, App 3Bh), as ipmitool does and as the
            // in-band driver's privilege is.
            let mut raise = Request::new(
                Message::new_raw(0x06, 0x3B, vec![0x04]),
                RequestTargetAddress::Bmc(LogicalUnit::Zero),
            );
            let r = rmcp
                .send_recv(&mut raise)
                .map_err(|e| format!("Set Session Privilege Level: {e:?}"))?;
            if r.cc() != 0 {
                return Err(format!(
                    "Set Session Privilege Level (Administrator) refused: 0x{:02x}",
                    r.cc()
                ));
            }
            *guard = Some(rmcp);
        }
        let message = Message::new_raw(
            request.netfn().request_byte(),
            request.cmd(),
            request.data().to_vec(),
        );
        let mut raw = Request::new(
            message,
            RequestTargetAddress::Bmc(LogicalUnit::from_low_bits(request.lun())),
        );
        match guard.as_mut().expect("opened above").send_recv(&mut raw) {
            Ok(response) => Ok(RawResponse::new(
                CompletionCode::from_byte(response.cc()),
                response.data().to_vec(),
            )),
            Err(e) => {
                // Reopen the session next time.
                *guard = None;
                Err(format!("RMCP+ request to {}: {e:?}", target.address))
            }
        }
    }
}

impl Bmc for LanBmc {
    type Error = IpmiError;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, IpmiError> {
        let (target, session) = (self.target.clone(), self.session.clone());
        let result =
            tokio::task::spawn_blocking(move || Self::forward(&target, &session, &request))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
        match result {
            Ok(r) => Ok(r),
            Err(e) => {
                // The driver reports an unreachable BMC as a timeout.
                tracing::warn!(error = %e, "forwarding to the external BMC failed");
                Ok(RawResponse::new(CompletionCode::Timeout, Vec::new()))
            }
        }
    }
}
