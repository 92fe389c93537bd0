//! The one seam between the IPMI layer and whatever carries requests to a BMC.
//!
//! The IPMI layer never does I/O: it asks a [`Bmc`] to carry a [`RawRequest`] and gets a
//! [`RawResponse`] back. The WinRM client implements [`Bmc`]; so do the simulator's BMC and the
//! in-memory BMCs in tests, which is how every procedure here is tested without a socket.

use std::fmt;
use std::future::Future;

use ipmi_rs_core::connection::{CompletionErrorCode, IpmiCommand, Message};

use super::{CompletionCode, IpmiError, NetFn, RawRequest, RawResponse};

/// Something that carries one IPMI request to a BMC and brings back its response.
///
/// Implementations return the BMC's answer whatever its completion code; non-zero codes are
/// interpreted by the caller ([`execute`] and the procedures in this module).
pub trait Bmc: Sync {
    /// The carrier's error. IPMI-level failures (completion codes, malformed data) convert into it.
    type Error: From<IpmiError> + Send;

    /// Sends one request and waits for its response.
    fn request(
        &self,
        request: RawRequest,
    ) -> impl Future<Output = Result<RawResponse, Self::Error>> + Send;

    /// A failure of this BMC's answer (a completion code, a malformed response), as the
    /// carrier's error. By default the plain conversion; a carrier that knows its host names
    /// it (the client's does).
    fn error(&self, e: IpmiError) -> Self::Error {
        e.into()
    }
}

impl<B: Bmc + ?Sized> Bmc for &B {
    type Error = B::Error;

    fn request(
        &self,
        request: RawRequest,
    ) -> impl Future<Output = Result<RawResponse, Self::Error>> + Send {
        (**self).request(request)
    }

    fn error(&self, e: IpmiError) -> Self::Error {
        (**self).error(e)
    }
}

/// A BMC's refusal: the request and the non-zero completion code it got, with any data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Request NetFn.
    pub netfn: NetFn,
    /// Command.
    pub cmd: u8,
    /// The completion code.
    pub code: CompletionCode,
    /// Data after the completion code (usually none).
    pub data: Vec<u8>,
}

impl From<Refused> for IpmiError {
    fn from(r: Refused) -> IpmiError {
        IpmiError::Completion {
            netfn: r.netfn,
            cmd: r.cmd,
            code: r.code,
        }
    }
}

/// Runs a typed command (any `ipmi-rs-core` [`IpmiCommand`], ours included) on LUN 0.
pub async fn execute<B, C>(bmc: &B, command: C) -> Result<C::Output, B::Error>
where
    B: Bmc + ?Sized,
    C: IpmiCommand,
    C::Error: fmt::Debug,
{
    execute_at(bmc, command, 0).await
}

/// Runs a typed command on the given LUN (sensors can live on LUN 1–3).
pub async fn execute_at<B, C>(bmc: &B, command: C, lun: u8) -> Result<C::Output, B::Error>
where
    B: Bmc + ?Sized,
    C: IpmiCommand,
    C::Error: fmt::Debug,
{
    match try_execute_at(bmc, command, lun).await? {
        Ok(output) => Ok(output),
        Err(refused) => {
            if let Ok(code) = CompletionErrorCode::try_from(refused.code.byte())
                && let Some(e) = C::handle_completion_code(code, &refused.data)
            {
                return Err(bmc.error(IpmiError::malformed(command_name::<C>(), format!("{e:?}"))));
            }
            Err(bmc.error(IpmiError::from(refused)))
        }
    }
}

/// Runs a typed command on LUN 0 and hands a non-zero completion code back as a value, for
/// procedures that treat some codes as "absent" (e.g. 80h, parameter not supported).
pub async fn try_execute<B, C>(bmc: &B, command: C) -> Result<Result<C::Output, Refused>, B::Error>
where
    B: Bmc + ?Sized,
    C: IpmiCommand,
    C::Error: fmt::Debug,
{
    try_execute_at(bmc, command, 0).await
}

/// [`try_execute`] on the given LUN.
///
/// If the command names a target address ([`IpmiCommand::target`]) it becomes the responder
/// address; the target's channel is not used, as `Microsoft_IPMI` has no bridging parameter.
pub async fn try_execute_at<B, C>(
    bmc: &B,
    command: C,
    lun: u8,
) -> Result<Result<C::Output, Refused>, B::Error>
where
    B: Bmc + ?Sized,
    C: IpmiCommand,
    C::Error: fmt::Debug,
{
    let target = command.target();
    let message: Message = command.into();
    let mut request =
        RawRequest::from_bytes(message.netfn_raw(), message.cmd(), message.data().to_vec())?
            .with_lun(lun)?;
    if let Some((address, _channel)) = target {
        request = request.with_responder(address.0);
    }
    let (netfn, cmd) = (request.netfn(), request.cmd());
    let response = bmc.request(request).await?;
    if !response.completion.is_success() {
        return Ok(Err(Refused {
            netfn,
            cmd,
            code: response.completion,
            data: response.data,
        }));
    }
    C::parse_success_response(&response.data)
        .map(Ok)
        .map_err(|e| bmc.error(IpmiError::malformed(command_name::<C>(), format!("{e:?}"))))
}

fn command_name<C>() -> &'static str {
    let full = std::any::type_name::<C>();
    full.rsplit("::").next().unwrap_or(full)
}
