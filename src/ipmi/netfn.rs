//! Network functions (IPMI 2.0 Table 5-1).

use std::fmt;

use serde::{Serialize, Serializer};

/// The network function of a request.
///
/// `Microsoft_IPMI.RequestResponse` takes the *request* NetFn (an even value, 00h–3Eh); the
/// response NetFn is implied. A NetFn is always given explicitly: it is never derived from the
/// command byte (the seed PowerShell module's bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetFn {
    /// 00h.
    Chassis,
    /// 02h.
    Bridge,
    /// 04h.
    SensorEvent,
    /// 06h.
    App,
    /// 08h.
    Firmware,
    /// 0Ah.
    Storage,
    /// 0Ch.
    Transport,
    /// 2Ch: the first request byte names the defining body (DCh = DCMI).
    GroupExtension,
    /// 2Eh: the first three request bytes are an IANA enterprise number.
    OemGroup,
    /// 30h–3Eh: controller-specific OEM.
    ControllerOem(u8),
    /// 0Eh–2Ah: reserved by the specification, still passed through.
    Reserved(u8),
}

impl NetFn {
    /// The NetFn for a request byte. Odd values (response NetFns) and values above 3Fh are not
    /// request NetFns and give `None`.
    pub const fn from_request_byte(b: u8) -> Option<Self> {
        if b % 2 == 1 || b > 0x3E {
            return None;
        }
        Some(match b {
            0x00 => NetFn::Chassis,
            0x02 => NetFn::Bridge,
            0x04 => NetFn::SensorEvent,
            0x06 => NetFn::App,
            0x08 => NetFn::Firmware,
            0x0A => NetFn::Storage,
            0x0C => NetFn::Transport,
            0x2C => NetFn::GroupExtension,
            0x2E => NetFn::OemGroup,
            0x30..=0x3E => NetFn::ControllerOem(b),
            _ => NetFn::Reserved(b),
        })
    }

    /// The request byte.
    pub const fn request_byte(self) -> u8 {
        match self {
            NetFn::Chassis => 0x00,
            NetFn::Bridge => 0x02,
            NetFn::SensorEvent => 0x04,
            NetFn::App => 0x06,
            NetFn::Firmware => 0x08,
            NetFn::Storage => 0x0A,
            NetFn::Transport => 0x0C,
            NetFn::GroupExtension => 0x2C,
            NetFn::OemGroup => 0x2E,
            NetFn::ControllerOem(b) | NetFn::Reserved(b) => b,
        }
    }

    /// A short name as ipmitool and the specification use it.
    pub const fn name(self) -> &'static str {
        match self {
            NetFn::Chassis => "Chassis",
            NetFn::Bridge => "Bridge",
            NetFn::SensorEvent => "Sensor/Event",
            NetFn::App => "Application",
            NetFn::Firmware => "Firmware",
            NetFn::Storage => "Storage",
            NetFn::Transport => "Transport",
            NetFn::GroupExtension => "Group Extension",
            NetFn::OemGroup => "OEM/Group",
            NetFn::ControllerOem(_) => "Controller-specific OEM",
            NetFn::Reserved(_) => "Reserved",
        }
    }
}

impl fmt::Display for NetFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02x})", self.name(), self.request_byte())
    }
}

impl Serialize for NetFn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.request_byte())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_round_trip_and_responses_are_refused() {
        for b in 0..=255u8 {
            match NetFn::from_request_byte(b) {
                Some(n) => {
                    assert_eq!(n.request_byte(), b);
                    assert!(b % 2 == 0 && b <= 0x3E);
                }
                None => assert!(b % 2 == 1 || b > 0x3E),
            }
        }
        assert_eq!(NetFn::from_request_byte(0x0C), Some(NetFn::Transport));
        assert_eq!(
            NetFn::from_request_byte(0x30),
            Some(NetFn::ControllerOem(0x30))
        );
        assert_eq!(NetFn::from_request_byte(0x07), None);
    }
}
