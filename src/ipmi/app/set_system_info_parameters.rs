//! Set System Info Parameters (App 58h), IPMI 2.0 §22.14a.

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};

use super::SystemInfoParameter;

/// Set System Info Parameters: the parameter selector, then its data.
#[derive(Clone, Debug)]
pub struct SetSystemInfoParameters {
    /// The parameter.
    pub parameter: SystemInfoParameter,
    /// The data after the selector (for strings: set selector, then the block).
    pub data: Vec<u8>,
}

impl From<SetSystemInfoParameters> for Message {
    fn from(c: SetSystemInfoParameters) -> Message {
        let mut data = Vec::with_capacity(c.data.len() + 1);
        data.push(c.parameter.selector());
        data.extend_from_slice(&c.data);
        Message::new_request(NetFn::App, 0x58, data)
    }
}

impl IpmiCommand for SetSystemInfoParameters {
    type Output = ();
    type Error = String;

    fn parse_success_response(_data: &[u8]) -> Result<(), String> {
        Ok(())
    }
}
