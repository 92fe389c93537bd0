//! Get System Info Parameters (App 59h), IPMI 2.0 §22.14b.

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};

use super::SystemInfoParameter;

/// Get System Info Parameters: one parameter, one set (block of a string).
#[derive(Clone, Copy, Debug)]
pub struct GetSystemInfoParameters {
    /// The parameter.
    pub parameter: SystemInfoParameter,
    /// Set selector (the 16-byte block of a string).
    pub set_selector: u8,
    /// Block selector (0 for every standard parameter).
    pub block_selector: u8,
}

impl GetSystemInfoParameters {
    /// Set `set_selector` of `parameter`.
    pub fn new(parameter: SystemInfoParameter, set_selector: u8) -> Self {
        GetSystemInfoParameters {
            parameter,
            set_selector,
            block_selector: 0,
        }
    }
}

impl From<GetSystemInfoParameters> for Message {
    fn from(c: GetSystemInfoParameters) -> Message {
        Message::new_request(
            NetFn::App,
            0x59,
            vec![
                0x00,
                c.parameter.selector(),
                c.set_selector,
                c.block_selector,
            ],
        )
    }
}

/// The response: parameter revision and the parameter's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInfoParameterData {
    /// Parameter revision (11h).
    pub revision: u8,
    /// Parameter data (for strings: set selector first).
    pub data: Vec<u8>,
}

impl IpmiCommand for GetSystemInfoParameters {
    type Output = SystemInfoParameterData;
    type Error = String;

    fn parse_success_response(data: &[u8]) -> Result<SystemInfoParameterData, String> {
        let (&revision, rest) = data
            .split_first()
            .ok_or_else(|| "empty response: no parameter revision".to_string())?;
        Ok(SystemInfoParameterData {
            revision,
            data: rest.to_vec(),
        })
    }
}
