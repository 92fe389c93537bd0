//! DCMI (Data Center Manageability Interface 1.5) commands: NetFn 2Ch, group extension DCh.

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};
use serde::Serialize;

/// The DCMI group extension identifier, first byte of every request and response.
pub const GROUP: u8 = 0xDC;

/// Get Power Reading (2Ch 02h), system power statistics (mode 01h).
#[derive(Clone, Copy, Debug, Default)]
pub struct GetPowerReading;

/// A power reading (DCMI 1.5 §6.6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PowerReading {
    /// Current power in watts.
    pub current_watts: u16,
    /// Minimum over the sampling period.
    pub minimum_watts: u16,
    /// Maximum over the sampling period.
    pub maximum_watts: u16,
    /// Average over the sampling period.
    pub average_watts: u16,
    /// The BMC's timestamp of the reading (seconds since 1970).
    pub timestamp: u32,
    /// Sampling period in milliseconds.
    pub period_ms: u32,
    /// Power measurement active.
    pub active: bool,
}

impl From<GetPowerReading> for Message {
    fn from(_: GetPowerReading) -> Message {
        Message::new_request(NetFn::Reserved(0x2C), 0x02, vec![GROUP, 0x01, 0x00, 0x00])
    }
}

impl IpmiCommand for GetPowerReading {
    type Output = PowerReading;
    type Error = String;

    fn parse_success_response(d: &[u8]) -> Result<PowerReading, String> {
        if d.len() < 18 {
            return Err(format!("expected 18 bytes, got {}", d.len()));
        }
        if d[0] != GROUP {
            return Err(format!("group extension {:#04x}, expected 0xdc", d[0]));
        }
        let word = |i: usize| u16::from_le_bytes([d[i], d[i + 1]]);
        let dword = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        Ok(PowerReading {
            current_watts: word(1),
            minimum_watts: word(3),
            maximum_watts: word(5),
            average_watts: word(7),
            timestamp: dword(9),
            period_ms: dword(13),
            active: d[17] & 0x40 != 0,
        })
    }
}
