//! Application (NetFn 06h): Get Device ID and Get Channel Info (the dispatch table answers the
//! one-line commands: self test, GUIDs).

use super::*;

impl SimBmc {
    pub(super) fn get_device_id(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        no_data(d)?;
        let id = &self.config.identity;
        let m = id.manufacturer_id.to_le_bytes();
        let p = id.product_id.to_le_bytes();
        let mut out = vec![
            id.device_id,
            id.device_revision & 0x0F,
            id.firmware_major & 0x7F,
            id.firmware_minor_bcd,
            0x02,
            0xBF,
            m[0],
            m[1],
            m[2] & 0x0F,
            p[0],
            p[1],
        ];
        out.extend_from_slice(&id.aux_firmware_revision);
        Ok(out)
    }

    pub(super) fn get_channel_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [channel] = exact::<1>(d)?;
        // 0Eh is the channel the request came on: in band, the system interface (0Fh).
        let channel = match channel & 0x0F {
            0x0E => 0x0F,
            c => c,
        };
        // Vendor IANA of IPMI-defined protocols: 7154 = 00 1B F2, least significant first.
        let vendor = [0xF2, 0x1B, 0x00];
        let (medium, protocol, session) = match channel {
            0 => (0x01, 0x01, 0x00),
            0x0F => (0x0C, 0x05, 0x00),
            c if self.lan_channel(c).is_some() => (0x04, 0x01, 0x80),
            _ => return Err(CompletionCode::InvalidDataField),
        };
        Ok(vec![
            channel, medium, protocol, session, vendor[0], vendor[1], vendor[2], 0x00, 0x00,
        ])
    }
}
