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

mod app;
mod chassis;
mod sdr;
mod sensor;
mod storage;
mod sysinfo;
mod transport;

use storage::fru_image;
use sysinfo::SysInfoString;
pub use transport::LanChannelConfig;

/// Parameter revision returned by the LAN and System Info parameter commands.
const PARAMETER_REVISION: u8 = 0x11;

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
    /// Chassis power, and whether a Chassis Control set it.
    power_on: bool,
    power_commanded: bool,
    /// Chassis Identify: on for ever (forced), or until an instant (timed).
    identify_forced: bool,
    identify_until: Option<std::time::Instant>,
    /// Boot options: set in progress, and the boot flags (parameter 5).
    boot_in_progress: bool,
    boot_flags: [u8; 5],
    users: Vec<chassis::SimUser>,
    /// LAN channels as set (from the configuration at start), and set in progress.
    lan: Vec<LanChannelConfig>,
    lan_in_progress: [bool; 16],
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
            state: Mutex::new(State {
                next_sel_id: sel.len() as u16 + 1,
                sel,
                sel_reservation: 0,
                sdr_reservation: 0,
                reservations: 0,
                last_sel_add: 0x6560_0078,
                last_sel_erase: 0x6560_0000,
                power_on: config.identity.power_on,
                power_commanded: false,
                identify_forced: false,
                identify_until: None,
                boot_in_progress: false,
                boot_flags: [0; 5],
                users: chassis::default_users(),
                lan: config.lan_channels.clone(),
                lan_in_progress: [false; 16],
                sysinfo,
                staged: None,
            }),
            config,
        }
    }

    /// Whether the chassis is powered on now.
    pub fn power_on(&self) -> bool {
        self.state().power_on
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
            (NetFn::Transport, 0x01) => self.set_lan_config(d),
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
                // Added and erased at fixed times (as a BMC's repository is, at its firmware
                // update): identical hosts have identical repositories, and say so.
                let n = (sdr::repository().len() as u16).to_le_bytes();
                let [a0, a1, a2, a3] = 0x6560_0000u32.to_le_bytes();
                vec![
                    0x51, n[0], n[1], 0xFF, 0xFF, a0, a1, a2, a3, a0, a1, a2, a3, 0x02,
                ]
            }),
            (NetFn::Storage, 0x22) => no_data(d).map(|()| self.reserve(false)),
            (NetFn::Storage, 0x23) => self.get_sdr(d),
            (NetFn::SensorEvent, 0x2D) => self.sensor_reading(d),
            (NetFn::Storage, 0x10) => self.fru_area_info(d),
            (NetFn::Storage, 0x11) => self.read_fru(d),
            (NetFn::Chassis, 0x01) => self.chassis_status(d),
            (NetFn::Chassis, 0x02) => self.chassis_control(d),
            (NetFn::Chassis, 0x04) => self.chassis_identify(d),
            (NetFn::Chassis, 0x08) => self.set_boot_options(d),
            (NetFn::SensorEvent, 0x27) => self.sensor_thresholds(d),
            (NetFn::App, 0x25) => self.get_watchdog(d),
            (NetFn::App, 0x41) => self.get_channel_access(d),
            (NetFn::App, 0x54) => self.get_cipher_suites(d),
            (NetFn::App, 0x44) => self.get_user_access(d),
            (NetFn::App, 0x46) => self.get_user_name(d),
            (NetFn::GroupExtension, 0x02) => self.dcmi_power_reading(d),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::execute;
    use ipmi_rs_core::storage::sdr::record::{RecordContents, WithSensorRecordCommon};
    use ipmi_rs_core::storage::sdr::{GetDeviceSdr, RecordId};

    fn req(netfn: NetFn, cmd: u8, data: &[u8]) -> RawRequest {
        RawRequest::new(netfn, cmd, data.to_vec()).unwrap()
    }

    #[test]
    fn identify_is_timed_unless_forced_and_channel_0e_is_the_system_interface() {
        let bmc = SimBmc::new(BmcConfig::default());
        let misc = || bmc.handle(&req(NetFn::Chassis, 0x01, &[])).data[2] & 0x70;
        assert_eq!(misc(), 0x40);
        for (data, state) in [
            (&[][..], 0x50),  // 15 s by default: temporary (timed) on
            (&[10], 0x50),    // timed
            (&[0], 0x40),     // off
            (&[0, 1], 0x60),  // forced: indefinite on
            (&[10, 0], 0x50), // the force bit cleared: timed again
        ] {
            assert!(
                bmc.handle(&req(NetFn::Chassis, 0x04, data))
                    .completion
                    .is_success()
            );
            assert_eq!(misc(), state, "{data:?}");
        }
        // A timed identify ends.
        bmc.state().identify_until = Some(std::time::Instant::now());
        assert_eq!(misc(), 0x40);
        let r = bmc.handle(&req(NetFn::App, 0x42, &[0x0E]));
        assert!(r.completion.is_success(), "{r:?}");
        assert_eq!(r.data[0], 0x0F);
        // LAN set in progress is a channel's own, and a channel that does not exist has none.
        let set = |ch: u8, v: u8| {
            bmc.handle(&req(NetFn::Transport, 0x01, &[ch, 0, v]))
                .completion
        };
        assert_eq!(set(5, 1), CompletionCode::InvalidDataField);
        assert_eq!(set(1, 1), CompletionCode::Normal);
        assert_eq!(set(1, 1), CompletionCode::CommandSpecific(0x81));
        assert_eq!(set(1, 0), CompletionCode::Normal);
    }

    #[tokio::test]
    async fn sdr_repository_parses_with_ipmi_rs_core_and_readings_convert() {
        let bmc = SimBmc::new(BmcConfig::default());
        let info = bmc.handle(&req(NetFn::Storage, 0x20, &[]));
        assert_eq!(info.data[..3], [0x51, sdr::repository().len() as u8, 0]);
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
        assert!(
            !second.next_entry.is_last(),
            "the synthesized sensors follow"
        );
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
        assert_eq!(part.data[2..], storage::SDR_RECORDS[0][5..15]);
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
