//! A simulated BMC with real state: it answers raw IPMI requests as a BMC behind Windows' IPMI
//! driver would, with the completion codes the specification gives for bad commands, lengths
//! and parameters.
//!
//! Implemented today: Get Device ID, Get Self Test Results, Get Device GUID, Get System GUID,
//! Get Channel Info, Get/Set System Info Parameters (with set-in-progress, commit and rollback),
//! Get LAN Configuration Parameters (IPv4, MAC, gateway, VLAN, IPv6) and Get Chassis Status.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use crate::ipmi::{Bmc, CompletionCode, IpmiError, NetFn, RawRequest, RawResponse};

/// Parameter revision returned by the LAN and System Info parameter commands.
const PARAMETER_REVISION: u8 = 0x11;
/// Sets a System Info string can have: set 0 (14 bytes) plus 16 more (16 bytes each) cover the
/// longest string the one-byte length allows.
const SYSINFO_MAX_SET: u8 = 16;
/// Bytes of storage behind those sets.
const SYSINFO_CAPACITY: usize = 14 + 16 * SYSINFO_MAX_SET as usize;

/// Fixed facts about the simulated BMC.
#[derive(Clone, Debug)]
pub struct BmcIdentity {
    /// Device ID (byte 0 of Get Device ID).
    pub device_id: u8,
    /// Device revision.
    pub device_revision: u8,
    /// Firmware major revision.
    pub firmware_major: u8,
    /// Firmware minor revision, BCD.
    pub firmware_minor_bcd: u8,
    /// IANA manufacturer ID.
    pub manufacturer_id: u32,
    /// Product ID.
    pub product_id: u16,
    /// Auxiliary firmware revision.
    pub aux_firmware_revision: [u8; 4],
    /// System GUID, as the 16 bytes the BMC returns.
    pub system_guid: [u8; 16],
    /// Chassis powered on.
    pub power_on: bool,
}

impl Default for BmcIdentity {
    fn default() -> Self {
        BmcIdentity {
            device_id: 0x20,
            device_revision: 1,
            firmware_major: 2,
            firmware_minor_bcd: 0x80,
            manufacturer_id: 674,
            product_id: 0x0100,
            aux_firmware_revision: [0x00, 0x02, 0x50, 0x00],
            system_guid: [
                0x44, 0x45, 0x4c, 0x4c, 0x30, 0x00, 0x10, 0x52, 0x80, 0x4b, 0xb4, 0xc0, 0x4f, 0x50,
                0x36, 0x32,
            ],
            power_on: true,
        }
    }
}

/// The configuration of one LAN channel.
#[derive(Clone, Debug)]
pub struct LanChannelConfig {
    /// Channel number (1–0Bh).
    pub channel: u8,
    /// IPv4 address.
    pub ip_address: Ipv4Addr,
    /// Address source byte (1 static, 2 DHCP).
    pub ip_source: u8,
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
            ip_source: 1,
            subnet_mask: Ipv4Addr::new(255, 255, 255, 0),
            mac_address,
            default_gateway: Ipv4Addr::new(o[0], o[1], o[2], 1),
            default_gateway_mac: [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01],
            vlan: None,
            ipv6: None,
        }
    }
}

/// What the simulated BMC is and how it behaves.
#[derive(Clone, Debug)]
pub struct BmcConfig {
    /// Identity.
    pub identity: BmcIdentity,
    /// LAN channels; channels 1–0Bh not listed do not exist.
    pub lan_channels: Vec<LanChannelConfig>,
    /// Initial System Info strings (parameters 1–7), ASCII.
    pub system_info: Vec<(u8, String)>,
    /// Whether System Info parameter 0 (set in progress) is implemented; BMCs without it answer
    /// 80h and apply each block at once.
    pub sysinfo_set_in_progress: bool,
}

impl Default for BmcConfig {
    fn default() -> Self {
        BmcConfig {
            identity: BmcIdentity::default(),
            lan_channels: vec![LanChannelConfig::new(
                1,
                Ipv4Addr::new(10, 0, 0, 120),
                [0x18, 0x66, 0xda, 0x00, 0x00, 0x01],
            )],
            system_info: vec![(1, "2.19.1".to_string())],
            sysinfo_set_in_progress: true,
        }
    }
}

#[derive(Clone, Debug)]
struct SysInfoString {
    encoding: u8,
    length: u8,
    bytes: [u8; SYSINFO_CAPACITY],
}

impl SysInfoString {
    fn new(text: &str) -> Self {
        let mut bytes = [0; SYSINFO_CAPACITY];
        let n = text.len().min(255);
        bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
        SysInfoString {
            encoding: 0,
            length: n as u8,
            bytes,
        }
    }
}

#[derive(Debug)]
struct State {
    /// Committed System Info strings, parameters 1–7 (index = parameter - 1).
    sysinfo: [SysInfoString; 7],
    /// Writes staged while "set in progress"; `None` when the state is "set complete".
    staged: Option<[SysInfoString; 7]>,
}

/// A simulated BMC. Cheap to share: state sits behind a mutex held only while one request is
/// handled.
#[derive(Debug)]
pub struct SimBmc {
    config: BmcConfig,
    state: Mutex<State>,
}

impl SimBmc {
    /// A BMC with this configuration.
    pub fn new(config: BmcConfig) -> Self {
        let mut sysinfo: [SysInfoString; 7] = std::array::from_fn(|_| SysInfoString::new(""));
        for (param, text) in &config.system_info {
            if (1..=7).contains(param) {
                sysinfo[*param as usize - 1] = SysInfoString::new(text);
            }
        }
        SimBmc {
            config,
            state: Mutex::new(State {
                sysinfo,
                staged: None,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BmcConfig {
        &self.config
    }

    /// Handles one request.
    pub fn handle(&self, request: &RawRequest) -> RawResponse {
        let d = request.data();
        let result = match (request.netfn(), request.cmd()) {
            (NetFn::App, 0x01) => self.get_device_id(d),
            (NetFn::App, 0x04) => no_data(d).map(|()| vec![0x55, 0x00]),
            (NetFn::App, 0x08 | 0x37) => {
                no_data(d).map(|()| self.config.identity.system_guid.to_vec())
            }
            (NetFn::App, 0x42) => self.get_channel_info(d),
            (NetFn::App, 0x58) => self.set_system_info(d),
            (NetFn::App, 0x59) => self.get_system_info(d),
            (NetFn::Transport, 0x02) => self.get_lan_config(d),
            (NetFn::Chassis, 0x01) => no_data(d).map(|()| {
                let on = u8::from(self.config.identity.power_on);
                vec![0x40 | on, 0x00, 0x40, 0x00]
            }),
            _ => Err(CompletionCode::InvalidCommand),
        };
        match result {
            Ok(data) => RawResponse::new(CompletionCode::Normal, data),
            Err(code) => RawResponse::new(code, Vec::new()),
        }
    }

    fn get_device_id(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
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

    fn lan_channel(&self, channel: u8) -> Option<&LanChannelConfig> {
        self.config
            .lan_channels
            .iter()
            .find(|c| c.channel == channel)
    }

    fn get_channel_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [channel] = exact::<1>(d)?;
        let channel = channel & 0x0F;
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

    fn get_lan_config(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
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
            4 => out.push(lan.ip_source),
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

    fn get_system_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [flags, param, set, _block] = exact::<4>(d)?;
        let mut out = vec![PARAMETER_REVISION];
        if flags & 0x80 != 0 {
            return Ok(out);
        }
        let state = self.state.lock().expect("BMC state lock");
        match param {
            0 if self.config.sysinfo_set_in_progress => {
                out.push(u8::from(state.staged.is_some()));
            }
            1..=7 => {
                if set > SYSINFO_MAX_SET {
                    return Err(CompletionCode::ParameterOutOfRange);
                }
                let s = &state.sysinfo[param as usize - 1];
                out.push(set);
                if set == 0 {
                    out.extend_from_slice(&[s.encoding, s.length]);
                    out.extend_from_slice(&s.bytes[..14]);
                } else {
                    let start = 14 + 16 * (set as usize - 1);
                    out.extend_from_slice(&s.bytes[start..start + 16]);
                }
            }
            _ => return Err(CompletionCode::CommandSpecific(0x80)),
        }
        Ok(out)
    }

    fn set_system_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let (&param, rest) = d
            .split_first()
            .ok_or(CompletionCode::RequestDataLengthInvalid)?;
        let mut state = self.state.lock().expect("BMC state lock");
        match param {
            0 => {
                if !self.config.sysinfo_set_in_progress {
                    return Err(CompletionCode::CommandSpecific(0x80));
                }
                let [value] = exact::<1>(rest)?;
                match value & 0x03 {
                    0 => state.staged = None,
                    1 => {
                        if state.staged.is_some() {
                            return Err(CompletionCode::CommandSpecific(0x81));
                        }
                        state.staged = Some(state.sysinfo.clone());
                    }
                    2 => {
                        if let Some(staged) = state.staged.clone() {
                            state.sysinfo = staged;
                        }
                    }
                    _ => return Err(CompletionCode::InvalidDataField),
                }
                Ok(Vec::new())
            }
            1..=7 => {
                let (&set, block) = rest
                    .split_first()
                    .ok_or(CompletionCode::RequestDataLengthInvalid)?;
                if block.is_empty() || block.len() > 16 {
                    return Err(CompletionCode::RequestDataLengthInvalid);
                }
                if set > SYSINFO_MAX_SET {
                    return Err(CompletionCode::ParameterOutOfRange);
                }
                let state = &mut *state;
                let target = match state.staged.as_mut() {
                    Some(staged) => &mut staged[param as usize - 1],
                    None => &mut state.sysinfo[param as usize - 1],
                };
                if set == 0 {
                    if block.len() < 2 {
                        return Err(CompletionCode::RequestDataLengthInvalid);
                    }
                    if block[0] & 0x0F > 2 {
                        return Err(CompletionCode::InvalidDataField);
                    }
                    target.encoding = block[0] & 0x0F;
                    target.length = block[1];
                    let bytes = &block[2..];
                    target.bytes[..bytes.len()].copy_from_slice(bytes);
                } else {
                    let start = 14 + 16 * (set as usize - 1);
                    target.bytes[start..start + block.len()].copy_from_slice(block);
                }
                Ok(Vec::new())
            }
            _ => Err(CompletionCode::CommandSpecific(0x80)),
        }
    }
}

impl Bmc for SimBmc {
    type Error = IpmiError;

    async fn request(&self, request: RawRequest) -> Result<RawResponse, IpmiError> {
        Ok(self.handle(&request))
    }
}

fn no_data(d: &[u8]) -> Result<(), CompletionCode> {
    if d.is_empty() {
        Ok(())
    } else {
        Err(CompletionCode::RequestDataLengthInvalid)
    }
}

fn exact<const N: usize>(d: &[u8]) -> Result<[u8; N], CompletionCode> {
    d.try_into()
        .map_err(|_| CompletionCode::RequestDataLengthInvalid)
}
