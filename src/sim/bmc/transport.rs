//! Transport (NetFn 0Ch): LAN channels and Get LAN Configuration Parameters.

use super::*;
use crate::ipmi::lan::IpAddressSource;

/// The configuration of one LAN channel.
#[derive(Clone, Debug)]
pub struct LanChannelConfig {
    /// Channel number (1–0Bh).
    pub channel: u8,
    /// IPv4 address.
    pub ip_address: Ipv4Addr,
    /// Address source.
    pub ip_source: IpAddressSource,
    /// Subnet mask.
    pub subnet_mask: Ipv4Addr,
    /// MAC address.
    pub mac_address: [u8; 6],
    /// Default gateway.
    pub default_gateway: Ipv4Addr,
    /// Default gateway MAC.
    pub default_gateway_mac: [u8; 6],
    /// VLAN ID; `None` = disabled.
    pub vlan: Option<u16>,
    /// IPv6 static address with prefix length; `None` = the BMC has no IPv6 support.
    pub ipv6: Option<(Ipv6Addr, u8)>,
}

impl LanChannelConfig {
    /// A channel with the given address and MAC, the rest plausible defaults.
    pub fn new(channel: u8, ip_address: Ipv4Addr, mac_address: [u8; 6]) -> Self {
        let o = ip_address.octets();
        LanChannelConfig {
            channel,
            ip_address,
            ip_source: IpAddressSource::Static,
            subnet_mask: Ipv4Addr::new(255, 255, 255, 0),
            mac_address,
            default_gateway: Ipv4Addr::new(o[0], o[1], o[2], 1),
            default_gateway_mac: [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01],
            vlan: None,
            ipv6: None,
        }
    }
}

impl SimBmc {
    /// The channel's current configuration (as set, or as configured).
    pub(super) fn lan_channel(&self, channel: u8) -> Option<LanChannelConfig> {
        self.state()
            .lan
            .iter()
            .find(|c| c.channel == channel)
            .cloned()
    }

    /// Set LAN Configuration Parameters: set in progress (0), IP address (3), source (4),
    /// subnet mask (6), default gateway (12), VLAN ID (20).
    pub(super) fn set_lan_config(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let (&[ch, param], value) = d
            .split_first_chunk::<2>()
            .ok_or(CompletionCode::RequestDataLengthInvalid)?;
        let mut s = self.state();
        let ch = ch & 0x0F;
        if !s.lan.iter().any(|c| c.channel == ch) {
            return Err(CompletionCode::InvalidDataField);
        }
        if param == 0 {
            // Set in progress is each channel's own (§23.2, parameter 0).
            let [v] = exact::<1>(value)?;
            let held = &mut s.lan_in_progress[usize::from(ch)];
            if v & 3 == 1 && *held {
                return Err(CompletionCode::CommandSpecific(0x81));
            }
            *held = v & 3 == 1;
            return Ok(Vec::new());
        }
        let lan = s
            .lan
            .iter_mut()
            .find(|c| c.channel == ch)
            .ok_or(CompletionCode::InvalidDataField)?;
        let ip = |v: &[u8]| exact::<4>(v).map(Ipv4Addr::from);
        match param {
            3 => lan.ip_address = ip(value)?,
            4 => lan.ip_source = IpAddressSource::from_byte(exact::<1>(value)?[0]),
            6 => lan.subnet_mask = ip(value)?,
            12 => lan.default_gateway = ip(value)?,
            20 => {
                let [lo, hi] = exact::<2>(value)?;
                let id = u16::from_le_bytes([lo, hi & 0x0F]);
                lan.vlan = (hi & 0x80 != 0).then_some(id);
            }
            5 => return Err(CompletionCode::CommandSpecific(0x82)), // MAC: read-only here
            _ => return Err(CompletionCode::CommandSpecific(0x80)),
        }
        Ok(Vec::new())
    }

    pub(super) fn get_lan_config(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [ch, param, set, _block] = exact::<4>(d)?;
        let lan = self
            .lan_channel(ch & 0x0F)
            .ok_or(CompletionCode::InvalidDataField)?;
        let mut out = vec![PARAMETER_REVISION];
        if ch & 0x80 != 0 {
            return Ok(out);
        }
        let not_supported = CompletionCode::CommandSpecific(0x80);
        match param {
            0 => out.push(u8::from(
                self.state().lan_in_progress[usize::from(ch & 0x0F)],
            )),
            // Authentication types: MD5 and straight password supported, MD5 enabled at
            // every privilege level (no NONE, no straight password).
            1 => out.push(0x14),
            2 => out.extend_from_slice(&[0x04, 0x04, 0x04, 0x04, 0x00]),
            3 => out.extend_from_slice(&lan.ip_address.octets()),
            4 => out.push(lan.ip_source.byte()),
            5 => out.extend_from_slice(&lan.mac_address),
            6 => out.extend_from_slice(&lan.subnet_mask.octets()),
            12 => out.extend_from_slice(&lan.default_gateway.octets()),
            13 => out.extend_from_slice(&lan.default_gateway_mac),
            20 => {
                let v = lan.vlan.unwrap_or(0).to_le_bytes();
                let enable = if lan.vlan.is_some() { 0x80 } else { 0 };
                out.extend_from_slice(&[v[0], (v[1] & 0x0F) | enable]);
            }
            50..=59 => {
                let Some((addr, prefix)) = lan.ipv6 else {
                    return Err(not_supported);
                };
                match param {
                    50 => out.push(0x02),
                    51 => out.push(0x02),
                    55 => out.extend_from_slice(&[1, 0, 0]),
                    56 => {
                        if set != 0 {
                            return Err(CompletionCode::ParameterOutOfRange);
                        }
                        out.extend_from_slice(&[0, 0x80]);
                        out.extend_from_slice(&addr.octets());
                        out.extend_from_slice(&[prefix, 0]);
                    }
                    _ => return Err(not_supported),
                }
            }
            _ => return Err(not_supported),
        }
        Ok(out)
    }
}
