//! Get Device ID (App 01h), IPMI 2.0 §20.1.

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};
use serde::Serialize;

/// Get Device ID.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetDeviceId;

impl From<GetDeviceId> for Message {
    fn from(_: GetDeviceId) -> Message {
        Message::new_request(NetFn::App, 0x01, Vec::new())
    }
}

impl IpmiCommand for GetDeviceId {
    type Output = DeviceId;
    type Error = String;

    fn parse_success_response(data: &[u8]) -> Result<DeviceId, String> {
        DeviceId::parse(data)
    }
}

/// The BMC's identity, as Get Device ID returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceId {
    /// Device ID.
    pub device_id: u8,
    /// Device revision (bits 3:0).
    pub device_revision: u8,
    /// The device provides device SDRs.
    pub provides_device_sdrs: bool,
    /// `false` while the device is in firmware update, SDR update or self-initialisation.
    pub device_available: bool,
    /// Firmware major revision.
    pub firmware_major: u8,
    /// Firmware minor revision, as the BCD byte the BMC sent.
    pub firmware_minor_bcd: u8,
    /// IPMI version major digit.
    pub ipmi_version_major: u8,
    /// IPMI version minor digit.
    pub ipmi_version_minor: u8,
    /// Additional device support flags.
    pub additional_support: AdditionalSupport,
    /// IANA enterprise number of the manufacturer (20 bits).
    pub manufacturer_id: u32,
    /// Product ID.
    pub product_id: u16,
    /// Auxiliary firmware revision, when the BMC sends it.
    pub aux_firmware_revision: Option<[u8; 4]>,
}

/// Byte 5 of Get Device ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AdditionalSupport {
    /// Sensor device.
    pub sensor_device: bool,
    /// SDR repository device.
    pub sdr_repository: bool,
    /// SEL device.
    pub sel_device: bool,
    /// FRU inventory device.
    pub fru_inventory: bool,
    /// IPMB event receiver.
    pub ipmb_event_receiver: bool,
    /// IPMB event generator.
    pub ipmb_event_generator: bool,
    /// Bridge.
    pub bridge: bool,
    /// Chassis device.
    pub chassis: bool,
}

impl AdditionalSupport {
    /// From the byte.
    pub const fn from_byte(b: u8) -> Self {
        AdditionalSupport {
            sensor_device: b & 0x01 != 0,
            sdr_repository: b & 0x02 != 0,
            sel_device: b & 0x04 != 0,
            fru_inventory: b & 0x08 != 0,
            ipmb_event_receiver: b & 0x10 != 0,
            ipmb_event_generator: b & 0x20 != 0,
            bridge: b & 0x40 != 0,
            chassis: b & 0x80 != 0,
        }
    }

    /// The names ipmitool prints under "Additional Device Support", in bit order.
    pub fn names(&self) -> Vec<&'static str> {
        let flags = [
            (self.sensor_device, "Sensor Device"),
            (self.sdr_repository, "SDR Repository Device"),
            (self.sel_device, "SEL Device"),
            (self.fru_inventory, "FRU Inventory Device"),
            (self.ipmb_event_receiver, "IPMB Event Receiver"),
            (self.ipmb_event_generator, "IPMB Event Generator"),
            (self.bridge, "Bridge"),
            (self.chassis, "Chassis Device"),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect()
    }
}

impl DeviceId {
    /// Parses the response data (after the completion code): 11 bytes, or 15 with the
    /// auxiliary firmware revision.
    pub fn parse(data: &[u8]) -> Result<Self, String> {
        if data.len() < 11 {
            return Err(format!("expected at least 11 bytes, got {}", data.len()));
        }
        Ok(DeviceId {
            device_id: data[0],
            device_revision: data[1] & 0x0F,
            provides_device_sdrs: data[1] & 0x80 != 0,
            device_available: data[2] & 0x80 == 0,
            firmware_major: data[2] & 0x7F,
            firmware_minor_bcd: data[3],
            ipmi_version_major: data[4] & 0x0F,
            ipmi_version_minor: data[4] >> 4,
            additional_support: AdditionalSupport::from_byte(data[5]),
            manufacturer_id: u32::from_le_bytes([data[6], data[7], data[8] & 0x0F, 0]),
            product_id: u16::from_le_bytes([data[9], data[10]]),
            aux_firmware_revision: data.get(11..15).map(|a| [a[0], a[1], a[2], a[3]]),
        })
    }

    /// The firmware revision as ipmitool prints it: major, then the BCD minor as two digits
    /// (`9.08`, `2.80`).
    pub fn firmware_revision(&self) -> String {
        format!("{}.{:02x}", self.firmware_major, self.firmware_minor_bcd)
    }

    /// The IPMI version (`2.0`).
    pub fn ipmi_version(&self) -> String {
        format!("{}.{}", self.ipmi_version_major, self.ipmi_version_minor)
    }

    /// The manufacturer's name, for the vendors whose BMCs one meets in server fleets.
    pub fn manufacturer_name(&self) -> Option<&'static str> {
        manufacturer_name(self.manufacturer_id)
    }
}

/// Names of IANA enterprise numbers common among BMC vendors, as the IANA registry (and so
/// ipmitool) spells them.
pub fn manufacturer_name(id: u32) -> Option<&'static str> {
    Some(match id {
        2 => "IBM",
        11 => "Hewlett-Packard",
        42 => "Sun Microsystems",
        94 => "Nokia",
        111 => "Oracle",
        157 => "Intel",
        343 => "Intel Corporation",
        674 => "Dell Inc.",
        2011 => "Huawei",
        4753 => "MontaVista Software, Inc.",
        5771 => "Cisco Systems",
        7154 => "IPMI Forum",
        7244 => "Quanta",
        10368 => "Fujitsu Siemens",
        10876 => "Supermicro",
        15370 => "Giga-Byte Technology",
        19046 => "Lenovo",
        20301 => "IBM",
        47196 => "Hewlett Packard Enterprise",
        49622 => "Ampere Computing",
        51974 => "Raptor Computing Systems",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // ipmitool 1.8.19 `raw 0x06 0x01` against OpenIPMI's ipmi_sim (config in
    // shared/reference/dependencies-and-test-peers.md §5c): "Firmware 9.08, IPMI 2.0,
    // Manufacturer 4753, Product 0x0f02".
    #[test]
    fn ipmi_sim_device_id() {
        let d = DeviceId::parse(&[
            0x00, 0x03, 0x09, 0x08, 0x02, 0x9f, 0x91, 0x12, 0x00, 0x02, 0x0f,
        ])
        .unwrap();
        assert_eq!(d.device_id, 0);
        assert_eq!(d.device_revision, 3);
        assert_eq!(d.firmware_revision(), "9.08");
        assert_eq!(d.ipmi_version(), "2.0");
        assert_eq!(d.manufacturer_id, 4753);
        assert_eq!(d.manufacturer_name(), Some("MontaVista Software, Inc."));
        assert_eq!(d.product_id, 0x0f02);
        assert!(d.device_available);
        assert!(!d.provides_device_sdrs);
        assert_eq!(
            d.additional_support.names(),
            [
                "Sensor Device",
                "SDR Repository Device",
                "SEL Device",
                "FRU Inventory Device",
                "IPMB Event Receiver",
                "Chassis Device"
            ]
        );
        assert_eq!(d.aux_firmware_revision, None);
    }

    #[test]
    fn aux_revision_update_mode_and_short_data() {
        let d = DeviceId::parse(&[
            0x20, 0x81, 0x82, 0x45, 0x51, 0x00, 0xa2, 0x02, 0x00, 0x00, 0x01, 1, 2, 3, 4,
        ])
        .unwrap();
        assert!(d.provides_device_sdrs);
        assert!(!d.device_available);
        assert_eq!(d.firmware_revision(), "2.45");
        assert_eq!(d.ipmi_version(), "1.5");
        assert_eq!(d.manufacturer_name(), Some("Dell Inc."));
        assert_eq!(d.aux_firmware_revision, Some([1, 2, 3, 4]));
        assert!(DeviceId::parse(&[0; 10]).is_err());
    }
}
