//! A simulated BMC with real state: it answers raw IPMI requests as a BMC behind Windows' IPMI
//! driver would, with the completion codes the specification gives for bad commands, lengths
//! and parameters.
//!
//! Implemented: Get Device ID, Get Self Test Results, Get Device GUID, Get System GUID,
//! Get Channel Info, Get/Set System Info Parameters (with set-in-progress, commit and rollback),
//! Get LAN Configuration Parameters (IPv4, MAC, gateway, VLAN, IPv6), Get Chassis Status; the
//! SEL (info, reserve, entries, clear, time); the SDR repository (info, reserve, Get SDR) built
//! from a real Dell R630's records, with Get Sensor Reading; and FRU 0 (area info, read) with
//! chassis, board and product areas.

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
    /// FRU chassis serial number.
    pub chassis_serial: String,
    /// FRU board manufacturer.
    pub board_manufacturer: String,
    /// FRU board product name.
    pub board_product: String,
    /// FRU board serial number.
    pub board_serial: String,
    /// FRU board part number.
    pub board_part_number: String,
    /// FRU product name.
    pub product_name: String,
    /// FRU product serial number (the service tag).
    pub product_serial: String,
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
            chassis_serial: "SIMCH0001".into(),
            board_manufacturer: "Dell Inc.".into(),
            board_product: "PowerEdge R650".into(),
            board_serial: "CNSIM0000000001".into(),
            board_part_number: "0A1B2CA00".into(),
            product_name: "PowerEdge R650".into(),
            product_serial: "SIM0001".into(),
        }
    }
}

/// Two full sensor records of a real Dell R630 (Get SDR data without the next-record ID,
/// `datdenkikniet/ipmi-rs` `dell_r630.rs`, quoted in shared/reference §4.11): "Fan2A" (sensor
/// 32h, RPM, M=120) and "Inlet Temp" (sensor 04h, °C, M=1, B=-128).
const SDR_RECORDS: [&[u8]; 2] = [
    &[
        0x0D, 0x00, 0x51, 0x01, 0x30, 0x20, 0x00, 0x32, 0x07, 0x01, 0x7F, 0xD4, 0x04, 0x01, 0x05,
        0x30, 0x05, 0x00, 0x03, 0x00, 0x00, 0x12, 0x00, 0x00, 0x78, 0x02, 0x00, 0x02, 0x30, 0x00,
        0x07, 0x54, 0xC5, 0x8B, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x05, 0x07, 0x01, 0x01, 0x00,
        0x00, 0x00, 0xC5, 0x46, 0x61, 0x6E, 0x32, 0x41,
    ],
    &[
        0x12, 0x00, 0x51, 0x01, 0x35, 0x20, 0x00, 0x04, 0x07, 0x01, 0x7F, 0x68, 0x01, 0x01, 0x85,
        0x32, 0x85, 0x32, 0x1B, 0x09, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x80, 0xC2, 0x30, 0x00,
        0x07, 0x97, 0xC5, 0x8B, 0xFF, 0x00, 0xFF, 0xAF, 0xAA, 0x00, 0x79, 0x83, 0x01, 0x01, 0x00,
        0x00, 0x00, 0xCA, 0x49, 0x6E, 0x6C, 0x65, 0x74, 0x20, 0x54, 0x65, 0x6D, 0x70,
    ],
];

/// The same R630's readings for those sensors (Get Sensor Reading data): 44 → 5280 RPM, and
/// 153 → 25 °C.
const SENSOR_READINGS: [(u8, [u8; 3]); 2] =
    [(0x32, [0x2C, 0xC0, 0xC0]), (0x04, [0x99, 0xC0, 0xC0])];

/// Builds a FRU image (IPMI Platform Management FRU Information Storage Definition 1.0): common
/// header, chassis, board and product areas, 8-bit ASCII fields, zero checksums.
fn fru_image(id: &BmcIdentity) -> Vec<u8> {
    fn area(mut body: Vec<u8>, fields: &[&str]) -> Vec<u8> {
        for f in fields {
            let b = &f.as_bytes()[..f.len().min(63)];
            body.push(0xC0 | b.len() as u8);
            body.extend_from_slice(b);
        }
        body.push(0xC1);
        // Version, length (8-byte units), body, padding, checksum.
        let mut a = vec![0x01, 0x00];
        a.extend_from_slice(&body);
        while (a.len() + 1) % 8 != 0 {
            a.push(0);
        }
        a[1] = ((a.len() + 1) / 8) as u8;
        let sum = a.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        a.push(0u8.wrapping_sub(sum));
        a
    }
    // Chassis: type 17h (rack mount), part number, serial.
    let chassis = area(vec![0x17], &["", &id.chassis_serial]);
    // Board: language 0 (English), manufacturing date 0 (unspecified).
    let board = area(
        vec![0x00, 0x00, 0x00, 0x00],
        &[
            &id.board_manufacturer,
            &id.board_product,
            &id.board_serial,
            &id.board_part_number,
            "",
        ],
    );
    let product = area(
        vec![0x00],
        &[
            "Dell Inc.",
            &id.product_name,
            "",
            "",
            &id.product_serial,
            "",
            "",
        ],
    );
    let chassis_at = 1u8;
    let board_at = chassis_at + (chassis.len() / 8) as u8;
    let product_at = board_at + (board.len() / 8) as u8;
    let mut header = vec![0x01, 0x00, chassis_at, board_at, product_at, 0x00, 0x00];
    let sum = header.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    header.push(0u8.wrapping_sub(sum));
    [header, chassis, board, product].concat()
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
    /// SEL records (16 bytes each, record ID in bytes 0–1).
    sel: Vec<[u8; 16]>,
    next_sel_id: u16,
    /// The current SEL reservation (0: none).
    sel_reservation: u16,
    /// The current SDR repository reservation (0: none).
    sdr_reservation: u16,
    reservations: u16,
    last_sel_add: u32,
    last_sel_erase: u32,
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
    fru: Vec<u8>,
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
        // A few system events, as a freshly installed server logs them.
        let events: [(u8, u8, u8, [u8; 3]); 3] = [
            (0x10, 0x72, 0x6F, [0x02, 0xFF, 0xFF]), // Event logging: log area reset/cleared
            (0x08, 0x63, 0x6F, [0x03, 0xFF, 0xFF]), // Power supply: AC lost
            (0x08, 0x63, 0xEF, [0x03, 0xFF, 0xFF]), // Power supply: AC lost, deasserted
        ];
        let sel = events
            .iter()
            .enumerate()
            .map(|(i, (sensor_type, number, dir_type, data))| {
                let id = (i as u16 + 1).to_le_bytes();
                let ts = (0x6560_0000u32 + 60 * i as u32).to_le_bytes();
                [
                    id[0],
                    id[1],
                    0x02,
                    ts[0],
                    ts[1],
                    ts[2],
                    ts[3],
                    0x20,
                    0x00,
                    0x04,
                    *sensor_type,
                    *number,
                    *dir_type,
                    data[0],
                    data[1],
                    data[2],
                ]
            })
            .collect::<Vec<_>>();
        SimBmc {
            fru: fru_image(&config.identity),
            config,
            state: Mutex::new(State {
                next_sel_id: sel.len() as u16 + 1,
                sel,
                sel_reservation: 0,
                sdr_reservation: 0,
                reservations: 0,
                last_sel_add: 0x6560_0078,
                last_sel_erase: 0x6560_0000,
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
            (NetFn::Storage, 0x40) => no_data(d).map(|()| self.sel_info()),
            (NetFn::Storage, 0x42) => no_data(d).map(|()| self.reserve(true)),
            (NetFn::Storage, 0x43) => self.get_sel_entry(d),
            (NetFn::Storage, 0x47) => self.clear_sel(d),
            (NetFn::Storage, 0x48) => no_data(d).map(|()| {
                self.state()
                    .last_sel_add
                    .wrapping_add(3600)
                    .to_le_bytes()
                    .to_vec()
            }),
            (NetFn::Storage, 0x20) => no_data(d).map(|()| {
                let n = (SDR_RECORDS.len() as u16).to_le_bytes();
                vec![0x51, n[0], n[1], 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]
            }),
            (NetFn::Storage, 0x22) => no_data(d).map(|()| self.reserve(false)),
            (NetFn::Storage, 0x23) => self.get_sdr(d),
            (NetFn::SensorEvent, 0x2D) => self.sensor_reading(d),
            (NetFn::Storage, 0x10) => self.fru_area_info(d),
            (NetFn::Storage, 0x11) => self.read_fru(d),
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

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("BMC state lock")
    }

    /// Adds a SEL record (as the BMC's event receiver would); cancels the SEL reservation, as
    /// the specification says an add does.
    pub fn add_sel_event(
        &self,
        sensor_type: u8,
        sensor_number: u8,
        event_dir_type: u8,
        data: [u8; 3],
    ) -> u16 {
        let mut s = self.state();
        let id = s.next_sel_id;
        s.next_sel_id = s.next_sel_id.wrapping_add(1).max(1);
        s.last_sel_add = s.last_sel_add.wrapping_add(60);
        let (i, t) = (id.to_le_bytes(), s.last_sel_add.to_le_bytes());
        s.sel.push([
            i[0],
            i[1],
            0x02,
            t[0],
            t[1],
            t[2],
            t[3],
            0x20,
            0x00,
            0x04,
            sensor_type,
            sensor_number,
            event_dir_type,
            data[0],
            data[1],
            data[2],
        ]);
        s.sel_reservation = 0;
        id
    }

    fn sel_info(&self) -> Vec<u8> {
        let s = self.state();
        let n = (s.sel.len() as u16).to_le_bytes();
        let free = ((512 - s.sel.len().min(512)) as u16 * 16).to_le_bytes();
        let (a, e) = (s.last_sel_add.to_le_bytes(), s.last_sel_erase.to_le_bytes());
        // Operations: reserve supported (bit 1).
        vec![
            0x51, n[0], n[1], free[0], free[1], a[0], a[1], a[2], a[3], e[0], e[1], e[2], e[3],
            0x02,
        ]
    }

    /// Reserve SEL / Reserve SDR Repository: a new ID cancels the previous one.
    fn reserve(&self, sel: bool) -> Vec<u8> {
        let mut s = self.state();
        s.reservations = s.reservations.wrapping_add(1).max(1);
        let id = s.reservations;
        if sel {
            s.sel_reservation = id;
        } else {
            s.sdr_reservation = id;
        }
        id.to_le_bytes().to_vec()
    }

    fn get_sel_entry(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, i0, i1, offset, count] = exact::<6>(d)?;
        let s = self.state();
        check_reservation(u16::from_le_bytes([r0, r1]), offset, s.sel_reservation)?;
        read_record(
            s.sel
                .iter()
                .map(|r| (u16::from_le_bytes([r[0], r[1]]), r.as_slice())),
            u16::from_le_bytes([i0, i1]),
            offset,
            count,
        )
    }

    fn clear_sel(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, c, l, r, action] = exact::<6>(d)?;
        if [c, l, r] != *b"CLR" {
            return Err(CompletionCode::InvalidDataField);
        }
        let mut s = self.state();
        if u16::from_le_bytes([r0, r1]) != s.sel_reservation || s.sel_reservation == 0 {
            return Err(CompletionCode::ReservationCanceled);
        }
        match action {
            0xAA => {
                s.sel.clear();
                s.last_sel_erase = s.last_sel_add.wrapping_add(1);
                Ok(vec![0x01])
            }
            0x00 => Ok(vec![0x01]),
            _ => Err(CompletionCode::InvalidDataField),
        }
    }

    fn get_sdr(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [r0, r1, i0, i1, offset, count] = exact::<6>(d)?;
        let s = self.state();
        check_reservation(u16::from_le_bytes([r0, r1]), offset, s.sdr_reservation)?;
        read_record(
            SDR_RECORDS
                .iter()
                .map(|r| (u16::from_le_bytes([r[0], r[1]]), *r)),
            u16::from_le_bytes([i0, i1]),
            offset,
            count,
        )
    }

    fn sensor_reading(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [number] = exact::<1>(d)?;
        SENSOR_READINGS
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, r)| r.to_vec())
            .ok_or(CompletionCode::NotPresent)
    }

    fn fru_area_info(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [fru] = exact::<1>(d)?;
        if fru != 0 {
            return Err(CompletionCode::NotPresent);
        }
        let n = (self.fru.len() as u16).to_le_bytes();
        Ok(vec![n[0], n[1], 0x00])
    }

    fn read_fru(&self, d: &[u8]) -> Result<Vec<u8>, CompletionCode> {
        let [fru, o0, o1, count] = exact::<4>(d)?;
        if fru != 0 {
            return Err(CompletionCode::NotPresent);
        }
        // Like many BMCs behind KCS: no more than 64 bytes per read.
        if count > 64 {
            return Err(CompletionCode::CannotReturnRequestedBytes);
        }
        let offset = u16::from_le_bytes([o0, o1]) as usize;
        if offset >= self.fru.len() {
            return Err(CompletionCode::ParameterOutOfRange);
        }
        let end = (offset + count as usize).min(self.fru.len());
        let mut out = vec![(end - offset) as u8];
        out.extend_from_slice(&self.fru[offset..end]);
        Ok(out)
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

/// A partial read (offset ≠ 0) needs the current reservation; a whole-record read may pass
/// 0000h, but any other ID must be the current one.
fn check_reservation(given: u16, offset: u8, current: u16) -> Result<(), CompletionCode> {
    let needed = offset != 0 || given != 0;
    if needed && (given == 0 || given != current) {
        Err(CompletionCode::ReservationCanceled)
    } else {
        Ok(())
    }
}

/// Get SEL Entry / Get SDR: record `id` (0000h first, FFFFh last) from `records`, the next ID
/// (FFFFh at the end), then `count` bytes from `offset` (FFh: the whole record).
fn read_record<'a>(
    records: impl Iterator<Item = (u16, &'a [u8])>,
    id: u16,
    offset: u8,
    count: u8,
) -> Result<Vec<u8>, CompletionCode> {
    let records: Vec<(u16, &[u8])> = records.collect();
    let at = match id {
        0x0000 if !records.is_empty() => 0,
        0xFFFF if !records.is_empty() => records.len() - 1,
        id => records
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(CompletionCode::NotPresent)?,
    };
    let next = records
        .get(at + 1)
        .map_or(0xFFFF, |(i, _)| *i)
        .to_le_bytes();
    let record = records[at].1;
    let start = (offset as usize).min(record.len());
    let end = if count == 0xFF {
        record.len()
    } else {
        (start + count as usize).min(record.len())
    };
    if count != 0xFF && start + count as usize > record.len() {
        return Err(CompletionCode::ParameterOutOfRange);
    }
    let mut out = vec![next[0], next[1]];
    out.extend_from_slice(&record[start..end]);
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::execute;
    use ipmi_rs_core::storage::sdr::record::{RecordContents, WithSensorRecordCommon};
    use ipmi_rs_core::storage::sdr::{GetDeviceSdr, RecordId};

    fn req(netfn: NetFn, cmd: u8, data: &[u8]) -> RawRequest {
        RawRequest::new(netfn, cmd, data.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn sdr_repository_parses_with_ipmi_rs_core_and_readings_convert() {
        let bmc = SimBmc::new(BmcConfig::default());
        let info = bmc.handle(&req(NetFn::Storage, 0x20, &[]));
        assert_eq!(info.data[..3], [0x51, 2, 0]);
        // Walk with ipmi-rs-core's own Get SDR command and record parser.
        let first = execute(&bmc, GetDeviceSdr::new(None, RecordId::new_raw(0)))
            .await
            .unwrap();
        assert_eq!(first.next_entry.value(), 0x0012);
        let RecordContents::FullSensor(fan) = &first.record.contents else {
            panic!("{:?}", first.record)
        };
        assert_eq!(fan.common().sensor_id.to_string(), "Fan2A");
        let reading = bmc.handle(&req(NetFn::SensorEvent, 0x2D, &[0x32]));
        assert_eq!(fan.display_reading(reading.data[0]).unwrap(), "5280.00 rpm");
        let second = execute(&bmc, GetDeviceSdr::new(None, first.next_entry))
            .await
            .unwrap();
        assert!(second.next_entry.is_last());
        let RecordContents::FullSensor(inlet) = &second.record.contents else {
            panic!()
        };
        let reading = bmc.handle(&req(NetFn::SensorEvent, 0x2D, &[0x04]));
        assert!(
            inlet
                .display_reading(reading.data[0])
                .unwrap()
                .starts_with("25.00"),
            "{:?}",
            inlet.display_reading(reading.data[0])
        );
        // Partial reads need the reservation; unknown records and sensors are "not present".
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x23, &[0, 0, 0x0D, 0, 5, 10]))
                .completion,
            CompletionCode::ReservationCanceled
        );
        let r = bmc.handle(&req(NetFn::Storage, 0x22, &[])).data;
        let part = bmc.handle(&req(NetFn::Storage, 0x23, &[r[0], r[1], 0x0D, 0, 5, 10]));
        assert_eq!(part.data[2..], SDR_RECORDS[0][5..15]);
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x23, &[0, 0, 0x44, 0, 0, 0xFF]))
                .completion,
            CompletionCode::NotPresent
        );
        assert_eq!(
            bmc.handle(&req(NetFn::SensorEvent, 0x2D, &[0x99]))
                .completion,
            CompletionCode::NotPresent
        );
    }

    #[test]
    fn fru_image_is_well_formed_and_read_in_bounded_chunks() {
        let bmc = SimBmc::new(BmcConfig::default());
        let info = bmc.handle(&req(NetFn::Storage, 0x10, &[0]));
        let size = u16::from_le_bytes([info.data[0], info.data[1]]) as usize;
        let mut image = Vec::new();
        while image.len() < size {
            let [o0, o1] = (image.len() as u16).to_le_bytes();
            let r = bmc.handle(&req(NetFn::Storage, 0x11, &[0, o0, o1, 32]));
            assert_eq!(r.completion, CompletionCode::Normal);
            assert_eq!(r.data[0] as usize, r.data.len() - 1);
            image.extend_from_slice(&r.data[1..]);
        }
        assert_eq!(image, fru_image(&bmc.config().identity));
        // Common header: version 1, zero checksum; each area's 8-byte units and zero checksum.
        assert_eq!(image[0], 1);
        assert_eq!(image[..8].iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0);
        for offset in &image[2..5] {
            let at = *offset as usize * 8;
            let len = image[at + 1] as usize * 8;
            assert_eq!(
                image[at..at + len]
                    .iter()
                    .fold(0u8, |s, b| s.wrapping_add(*b)),
                0,
                "area at {at}"
            );
        }
        let text = String::from_utf8_lossy(&image);
        for s in ["CNSIM0000000001", "SIM0001", "SIMCH0001", "PowerEdge R650"] {
            assert!(text.contains(s), "{s}");
        }
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x11, &[0, 0, 0, 65]))
                .completion,
            CompletionCode::CannotReturnRequestedBytes
        );
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x10, &[1])).completion,
            CompletionCode::NotPresent
        );
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x11, &[0, 0xFF, 0x0F, 8]))
                .completion,
            CompletionCode::ParameterOutOfRange
        );
    }

    #[test]
    fn wrong_lengths_and_unknown_commands_get_the_right_codes() {
        let bmc = SimBmc::new(BmcConfig::default());
        assert_eq!(
            bmc.handle(&req(NetFn::App, 0x01, &[1])).completion,
            CompletionCode::RequestDataLengthInvalid
        );
        assert_eq!(
            bmc.handle(&req(NetFn::Storage, 0x43, &[0, 0])).completion,
            CompletionCode::RequestDataLengthInvalid
        );
        assert_eq!(
            bmc.handle(&req(NetFn::App, 0x99, &[])).completion,
            CompletionCode::InvalidCommand
        );
        assert_eq!(
            bmc.handle(&req(NetFn::Transport, 0x02, &[5, 3, 0, 0]))
                .completion,
            CompletionCode::InvalidDataField
        );
    }
}
