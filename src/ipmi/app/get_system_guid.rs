//! Get System GUID (App 37h), IPMI 2.0 §22.14.

use std::fmt;

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};
use serde::{Serialize, Serializer};

/// Get System GUID.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetSystemGuid;

impl From<GetSystemGuid> for Message {
    fn from(_: GetSystemGuid) -> Message {
        Message::new_request(NetFn::App, 0x37, Vec::new())
    }
}

impl IpmiCommand for GetSystemGuid {
    type Output = SystemGuid;
    type Error = String;

    fn parse_success_response(data: &[u8]) -> Result<SystemGuid, String> {
        let bytes: [u8; 16] = data
            .get(..16)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("expected 16 bytes, got {}", data.len()))?;
        Ok(SystemGuid(bytes))
    }
}

/// A system GUID as the 16 bytes the BMC sent.
///
/// IPMI stores a GUID least-significant byte first (IPMI 2.0 §20.8): the canonical form is the
/// bytes reversed. Vendors disagree, so the other two usual readings are offered too.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemGuid(pub [u8; 16]);

impl SystemGuid {
    /// The GUID read as IPMI specifies (all 16 bytes least-significant first).
    pub fn ipmi_string(&self) -> String {
        let mut b = self.0;
        b.reverse();
        format_uuid(&b)
    }

    /// The GUID read as RFC 4122 bytes in order (some BMCs send it so).
    pub fn rfc4122_string(&self) -> String {
        format_uuid(&self.0)
    }

    /// The GUID read as SMBIOS encodes it (first three fields little-endian), which is how
    /// Windows shows `Win32_ComputerSystemProduct.UUID`.
    pub fn smbios_string(&self) -> String {
        let b = &self.0;
        let mut o = *b;
        o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
        o[4..6].copy_from_slice(&[b[5], b[4]]);
        o[6..8].copy_from_slice(&[b[7], b[6]]);
        format_uuid(&o)
    }
}

/// How a BMC's System GUID was found to match the host's SMBIOS UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuidOrder {
    /// The bytes in SMBIOS order (first three fields little-endian): what most BMCs send.
    Smbios,
    /// All 16 bytes least-significant first, as IPMI 2.0 §20.8 specifies.
    Ipmi,
    /// RFC 4122 byte order.
    Rfc4122,
}

impl SystemGuid {
    /// Which reading of this GUID is the host's SMBIOS UUID (as `Win32_ComputerSystemProduct`
    /// shows it), if any. The BMC and the host read one value; vendors disagree on the byte
    /// order (ipmitool #25, #239), so each of the three readings is tried, SMBIOS first. A GUID
    /// of all zeros or all FFh (unset) matches nothing.
    pub fn matches_smbios_uuid(&self, uuid: &str) -> Option<GuidOrder> {
        if self.0.iter().all(|&b| b == 0) || self.0.iter().all(|&b| b == 0xFF) {
            return None;
        }
        let uuid = uuid.trim().trim_start_matches('{').trim_end_matches('}');
        [
            (GuidOrder::Smbios, self.smbios_string()),
            (GuidOrder::Ipmi, self.ipmi_string()),
            (GuidOrder::Rfc4122, self.rfc4122_string()),
        ]
        .into_iter()
        .find(|(_, s)| s.eq_ignore_ascii_case(uuid))
        .map(|(o, _)| o)
    }
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h = |r: std::ops::Range<usize>| b[r].iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

impl fmt::Display for SystemGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ipmi_string())
    }
}

impl fmt::Debug for SystemGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SystemGuid({})", self.ipmi_string())
    }
}

impl Serialize for SystemGuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.ipmi_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_readings_of_one_guid() {
        let raw: Vec<u8> = (0x00..0x10).collect();
        let g = GetSystemGuid::parse_success_response(&raw).unwrap();
        assert_eq!(g.ipmi_string(), "0f0e0d0c-0b0a-0908-0706-050403020100");
        assert_eq!(g.rfc4122_string(), "00010203-0405-0607-0809-0a0b0c0d0e0f");
        assert_eq!(g.smbios_string(), "03020100-0504-0706-0809-0a0b0c0d0e0f");
        assert!(GetSystemGuid::parse_success_response(&raw[..15]).is_err());
        // Windows' upper-case SMBIOS UUID matches the SMBIOS reading; the other orders too.
        let host = "03020100-0504-0706-0809-0A0B0C0D0E0F";
        assert_eq!(g.matches_smbios_uuid(host), Some(GuidOrder::Smbios));
        assert_eq!(
            g.matches_smbios_uuid("{0f0e0d0c-0b0a-0908-0706-050403020100}"),
            Some(GuidOrder::Ipmi)
        );
        assert_eq!(
            g.matches_smbios_uuid("00010203-0405-0607-0809-0a0b0c0d0e0f"),
            Some(GuidOrder::Rfc4122)
        );
        assert_eq!(
            g.matches_smbios_uuid("03020100-0504-0706-0809-0a0b0c0d0e10"),
            None
        );
        assert_eq!(
            SystemGuid([0; 16]).matches_smbios_uuid(&"0".repeat(32)),
            None
        );
    }
}
