//! Errors of the IPMI layer.

use super::{CompletionCode, NetFn};

/// What went wrong in building a request or reading a response, independent of how it travelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IpmiError {
    /// The NetFn byte is odd (a response NetFn) or above 3Fh.
    #[error("invalid request NetFn 0x{0:02x}: a request NetFn is even and at most 0x3e")]
    InvalidNetFn(u8),
    /// The LUN is above 3.
    #[error("invalid LUN {0}: a LUN is 0 to 3")]
    InvalidLun(u8),
    /// The request data is longer than any BMC interface accepts.
    #[error("request data is {len} bytes; at most {max} bytes fit in one IPMI request")]
    RequestTooLong {
        /// Bytes given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The BMC answered with a non-zero completion code.
    #[error("{netfn} command 0x{cmd:02x} failed with completion code 0x{:02x}: {}", code.byte(), code.describe_for(*netfn, *cmd))]
    Completion {
        /// Request NetFn.
        netfn: NetFn,
        /// Command.
        cmd: u8,
        /// The code.
        code: CompletionCode,
    },
    /// The BMC answered 00h, but the data is not what the command defines.
    #[error("{command}: malformed response: {detail}")]
    MalformedResponse {
        /// Command name.
        command: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A value given to a typed command is out of its range.
    #[error("{0}")]
    InvalidArgument(String),
    /// A value was written and read back, and the two differ.
    #[error("{what}: wrote {written:?} but read back {read:?}")]
    VerifyFailed {
        /// What was written.
        what: String,
        /// Written value.
        written: String,
        /// Value read back.
        read: String,
    },
}

impl IpmiError {
    /// The completion code, where this error carries one.
    pub fn completion_code(&self) -> Option<CompletionCode> {
        match self {
            IpmiError::Completion { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn malformed(command: &'static str, detail: impl Into<String>) -> Self {
        IpmiError::MalformedResponse {
            command,
            detail: detail.into(),
        }
    }
}
