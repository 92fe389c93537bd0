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
    pub(super) fn lan_channel(&self, channel: u8) -> Option<&LanChannelConfig> {
        self.config
            .lan_channels
            .iter()
            .find(|c| c.channel == channel)
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
            0 => out.push(0x00),
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
