//! Raw IPMI requests and responses as `Microsoft_IPMI.RequestResponse` carries them.

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

    /// Splits the output of `Microsoft_IPMI.RequestResponse`.
    ///
    /// Windows returns the completion code as `ResponseData[0]` and counts it in
    /// `ResponseDataSize`; the `CompletionCode` out-parameter repeats it. Everything is
    /// cross-checked: an empty `ResponseData`, a size that disagrees with the bytes, or a
    /// `CompletionCode` that differs from `ResponseData[0]` is an error, never a guess.
    pub fn from_method_output(
        completion_code: Option<u8>,
        response_data_size: Option<u32>,
        response_data: &[u8],
    ) -> Result<Self, IpmiError> {
        if let Some(declared) = response_data_size
            && declared as usize != response_data.len()
        {
            return Err(IpmiError::SizeMismatch {
                declared,
                actual: response_data.len(),
            });
        }
        let (&cc, data) = response_data
            .split_first()
            .ok_or(IpmiError::MissingCompletionCode)?;
        if let Some(parameter) = completion_code
            && parameter != cc
        {
            return Err(IpmiError::CompletionCodeMismatch {
                parameter,
                in_data: cc,
            });
        }
        Ok(RawResponse {
            completion: CompletionCode::from_byte(cc),
            data: data.to_vec(),
        })
    }

    /// The bytes as `ResponseData` carries them: completion code first.
    pub fn to_method_data(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.data.len() + 1);
        v.push(self.completion.byte());
        v.extend_from_slice(&self.data);
        v
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

    // go-ipmi's parseWinIPMIResponse cases (bougou/go-ipmi pkg/open/wmi_ps_windows_test.go) and
    // ipmiutil's Get Device ID dump (ResponseDataSize 16 = cc + 15 bytes).
    #[test]
    fn method_output_is_split_at_the_completion_code() {
        let r = RawResponse::from_method_output(Some(0), Some(4), &[0, 17, 34, 51]).unwrap();
        assert_eq!(r.completion, CompletionCode::Normal);
        assert_eq!(r.data, vec![0x11, 0x22, 0x33]);

        let devid = [0u8, 0, 3, 9, 8, 2, 0x9f, 0x91, 0x12, 0, 2, 0x0f, 0, 0, 0, 0];
        let r = RawResponse::from_method_output(Some(0), Some(16), &devid).unwrap();
        assert_eq!(r.data.len(), 15);
        assert_eq!(r.to_method_data(), devid.to_vec());

        let r = RawResponse::from_method_output(Some(0xc1), Some(1), &[0xc1]).unwrap();
        assert_eq!(r.completion, CompletionCode::InvalidCommand);
        assert!(r.data.is_empty());
    }

    #[test]
    fn method_output_inconsistencies_are_errors() {
        assert_eq!(
            RawResponse::from_method_output(Some(0), Some(3), &[0, 1, 2, 3, 4]),
            Err(IpmiError::SizeMismatch {
                declared: 3,
                actual: 5
            })
        );
        assert_eq!(
            RawResponse::from_method_output(Some(0), Some(0), &[]),
            Err(IpmiError::MissingCompletionCode)
        );
        assert_eq!(
            RawResponse::from_method_output(None, None, &[]),
            Err(IpmiError::MissingCompletionCode)
        );
        assert_eq!(
            RawResponse::from_method_output(Some(0xc0), Some(1), &[0x00]),
            Err(IpmiError::CompletionCodeMismatch {
                parameter: 0xc0,
                in_data: 0
            })
        );
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
