//! Errors of the WMI bindings.

use crate::ipmi::IpmiError;
use crate::wsman::WsmanError;

/// What went wrong reading a WMI class or method reply, beyond the envelope itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WmiError {
    /// The envelope is malformed, or a WS-Management fault.
    #[error(transparent)]
    Wsman(#[from] WsmanError),
    /// `RequestResponse` returned an empty `ResponseData`: not even the completion code came back.
    #[error("the IPMI driver returned no response data, not even a completion code")]
    MissingCompletionCode,
    /// `ResponseDataSize` disagrees with the number of `ResponseData` bytes.
    #[error("ResponseDataSize says {declared} bytes but ResponseData holds {actual}")]
    SizeMismatch {
        /// `ResponseDataSize`.
        declared: u32,
        /// Bytes in `ResponseData`.
        actual: usize,
    },
    /// The `CompletionCode` out-parameter disagrees with `ResponseData[0]`.
    #[error(
        "CompletionCode out-parameter 0x{parameter:02x} disagrees with ResponseData[0] 0x{in_data:02x}"
    )]
    CompletionCodeMismatch {
        /// The `CompletionCode` out-parameter.
        parameter: u8,
        /// `ResponseData[0]`.
        in_data: u8,
    },
    /// The IPMI request carried by a method call is invalid (service side).
    #[error(transparent)]
    Ipmi(#[from] IpmiError),
}

impl WmiError {
    /// The WS-Management fault, if the service sent one.
    pub fn fault(&self) -> Option<&crate::wsman::Fault> {
        match self {
            WmiError::Wsman(e) => e.fault(),
            _ => None,
        }
    }
}
