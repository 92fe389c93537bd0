//! Raw IPMI requests and responses: NetFn, command, LUN, responder address, data, and the
//! completion code.

use serde::Serialize;

use super::{CompletionCode, IpmiError, NetFn};

/// The IPMB slave address of a BMC, used when nothing else is known (IPMI 2.0 §5.5).
pub const DEFAULT_BMC_ADDRESS: u8 = 0x20;

/// The most request data bytes we send in one request. The KCS/SSIF system interfaces behind
/// Windows' IPMI driver carry at most a few hundred bytes; no standard command needs more than
/// 255, and an oversize request is refused here rather than by the driver.
pub const MAX_REQUEST_DATA: usize = 255;

/// One IPMI request: NetFn, command, LUN, responder address and data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RawRequest {
    netfn: NetFn,
    cmd: u8,
    lun: u8,
    responder: Option<u8>,
    data: Vec<u8>,
}

impl RawRequest {
    /// A request to LUN 0 of the BMC, at the responder address the `Microsoft_IPMI` instance
    /// reports (`BMCAddress`, usually 20h).
    pub fn new(netfn: NetFn, cmd: u8, data: impl Into<Vec<u8>>) -> Result<Self, IpmiError> {
        let data = data.into();
        if data.len() > MAX_REQUEST_DATA {
            return Err(IpmiError::RequestTooLong {
                len: data.len(),
                max: MAX_REQUEST_DATA,
            });
        }
        Ok(RawRequest {
            netfn,
            cmd,
            lun: 0,
            responder: None,
            data,
        })
    }

    /// A request from raw bytes, as a user types them (`raw 0x06 0x01`): the NetFn byte must be
    /// a request NetFn.
    pub fn from_bytes(netfn: u8, cmd: u8, data: impl Into<Vec<u8>>) -> Result<Self, IpmiError> {
        let netfn = NetFn::from_request_byte(netfn).ok_or(IpmiError::InvalidNetFn(netfn))?;
        Self::new(netfn, cmd, data)
    }

    /// Sets the LUN (0–3).
    pub fn with_lun(mut self, lun: u8) -> Result<Self, IpmiError> {
        if lun > 3 {
            return Err(IpmiError::InvalidLun(lun));
        }
        self.lun = lun;
        Ok(self)
    }

    /// Sets the responder (IPMB slave) address instead of the instance's `BMCAddress`.
    pub fn with_responder(mut self, address: u8) -> Self {
        self.responder = Some(address);
        self
    }

    /// NetFn.
    pub fn netfn(&self) -> NetFn {
        self.netfn
    }
    /// Command.
    pub fn cmd(&self) -> u8 {
        self.cmd
    }
    /// LUN.
    pub fn lun(&self) -> u8 {
        self.lun
    }
    /// The responder address set on this request, if any.
    pub fn responder(&self) -> Option<u8> {
        self.responder
    }
    /// The responder address to use, given the BMC address the instance reports.
    pub fn responder_or(&self, bmc_address: u8) -> u8 {
        self.responder.unwrap_or(bmc_address)
    }
    /// Request data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// One IPMI response: the completion code and the data after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RawResponse {
    /// Completion code.
    pub completion: CompletionCode,
    /// Response data, without the completion code.
    pub data: Vec<u8>,
}

impl RawResponse {
    /// A response.
    pub fn new(completion: CompletionCode, data: impl Into<Vec<u8>>) -> Self {
        RawResponse {
            completion,
            data: data.into(),
        }
    }

    /// The data if the completion code is 00h, else the completion as an error naming the
    /// request it answers.
    pub fn into_success(self, netfn: NetFn, cmd: u8) -> Result<Vec<u8>, IpmiError> {
        if self.completion.is_success() {
            Ok(self.data)
        } else {
            Err(IpmiError::Completion {
                netfn,
                cmd,
                code: self.completion,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_validation() {
        assert_eq!(
            RawRequest::from_bytes(0x07, 1, vec![]),
            Err(IpmiError::InvalidNetFn(7))
        );
        assert_eq!(
            RawRequest::from_bytes(0x40, 1, vec![]),
            Err(IpmiError::InvalidNetFn(0x40))
        );
        assert_eq!(
            RawRequest::from_bytes(6, 1, vec![]).unwrap().with_lun(4),
            Err(IpmiError::InvalidLun(4))
        );
        assert_eq!(
            RawRequest::from_bytes(6, 1, vec![0; 256]),
            Err(IpmiError::RequestTooLong { len: 256, max: 255 })
        );
        let r = RawRequest::from_bytes(0x0c, 2, vec![1, 3, 0, 0])
            .unwrap()
            .with_lun(3)
            .unwrap();
        assert_eq!(r.netfn(), NetFn::Transport);
        assert_eq!(r.lun(), 3);
        assert_eq!(r.responder_or(0x20), 0x20);
        assert_eq!(r.with_responder(0x22).responder_or(0x20), 0x22);
    }

    #[test]
    fn into_success_names_the_request() {
        let e = RawResponse::new(CompletionCode::from_byte(0x80), vec![])
            .into_success(NetFn::Transport, 0x02)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Transport (0x0c) command 0x02 failed with completion code 0x80: Parameter not supported"
        );
    }
}
