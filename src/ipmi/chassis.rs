//! Chassis commands (NetFn 00h, IPMI 2.0 §28): status, power control, identify, boot device.

use ipmi_rs_core::connection::{IpmiCommand, Message, NetFn};
use serde::Serialize;

/// Get Chassis Status (00h 01h).
#[derive(Clone, Copy, Debug, Default)]
pub struct GetChassisStatus;

/// The chassis status (§28.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChassisStatus {
    /// System power is on.
    pub power_on: bool,
    /// Power overload.
    pub power_overload: bool,
    /// Power interlock active.
    pub power_interlock: bool,
    /// Main power fault.
    pub main_power_fault: bool,
    /// Power control fault.
    pub power_control_fault: bool,
    /// Power restore policy: 0 always off, 1 previous, 2 always on, 3 unknown.
    pub restore_policy: u8,
    /// Last power event bits: 0 AC failed, 1 overload, 2 interlock, 3 fault, 4 by command.
    pub last_power_event: u8,
    /// Chassis intrusion active.
    pub intrusion: bool,
    /// Front panel lockout active.
    pub front_panel_lockout: bool,
    /// Drive fault.
    pub drive_fault: bool,
    /// Cooling or fan fault.
    pub cooling_fault: bool,
    /// Identify state (0 off, 1 timed on, 2 indefinitely on) where the BMC reports it.
    pub identify: Option<u8>,
    /// Front panel button capabilities and disable state, where given (byte 4).
    pub front_panel: Option<u8>,
}

impl From<GetChassisStatus> for Message {
    fn from(_: GetChassisStatus) -> Message {
        Message::new_request(NetFn::Chassis, 0x01, Vec::new())
    }
}

impl IpmiCommand for GetChassisStatus {
    type Output = ChassisStatus;
    type Error = String;

    fn parse_success_response(d: &[u8]) -> Result<ChassisStatus, String> {
        if d.len() < 3 {
            return Err(format!("expected at least 3 bytes, got {}", d.len()));
        }
        Ok(ChassisStatus {
            power_on: d[0] & 0x01 != 0,
            power_overload: d[0] & 0x02 != 0,
            power_interlock: d[0] & 0x04 != 0,
            main_power_fault: d[0] & 0x08 != 0,
            power_control_fault: d[0] & 0x10 != 0,
            restore_policy: (d[0] >> 5) & 0x03,
            last_power_event: d[1] & 0x1F,
            intrusion: d[2] & 0x01 != 0,
            front_panel_lockout: d[2] & 0x02 != 0,
            drive_fault: d[2] & 0x04 != 0,
            cooling_fault: d[2] & 0x08 != 0,
            identify: (d[2] & 0x40 != 0).then_some((d[2] >> 4) & 0x03),
            front_panel: d.get(3).copied(),
        })
    }
}

/// Chassis Control actions (§28.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    /// Power down (hard off).
    Off,
    /// Power up.
    On,
    /// Power cycle (off, at least 1 s, on).
    Cycle,
    /// Hard reset.
    Reset,
    /// Pulse a diagnostic interrupt (NMI).
    Diag,
    /// Soft shutdown through ACPI (the OS shuts down).
    Soft,
}

impl PowerAction {
    /// The control byte.
    pub const fn byte(self) -> u8 {
        match self {
            PowerAction::Off => 0,
            PowerAction::On => 1,
            PowerAction::Cycle => 2,
            PowerAction::Reset => 3,
            PowerAction::Diag => 4,
            PowerAction::Soft => 5,
        }
    }

    /// ipmitool's word for it (`chassis power off`).
    pub const fn word(self) -> &'static str {
        match self {
            PowerAction::Off => "off",
            PowerAction::On => "on",
            PowerAction::Cycle => "cycle",
            PowerAction::Reset => "reset",
            PowerAction::Diag => "diag",
            PowerAction::Soft => "soft",
        }
    }

    /// Whether the host's OS (and so the WinRM connection carrying the command) may go away
    /// when the BMC carries it out.
    pub const fn stops_the_host(self) -> bool {
        !matches!(self, PowerAction::On | PowerAction::Diag)
    }
}

/// Chassis Control (00h 02h).
#[derive(Clone, Copy, Debug)]
pub struct ChassisControl(pub PowerAction);

impl From<ChassisControl> for Message {
    fn from(c: ChassisControl) -> Message {
        Message::new_request(NetFn::Chassis, 0x02, vec![c.0.byte()])
    }
}

impl IpmiCommand for ChassisControl {
    type Output = ();
    type Error = String;

    fn parse_success_response(_: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Chassis Identify (00h 04h): light the identify LED for `seconds` (0 turns it off; `None`
/// leaves the BMC's default of 15 s), or indefinitely with `force`.
#[derive(Clone, Copy, Debug)]
pub struct ChassisIdentify {
    /// Interval in seconds.
    pub seconds: Option<u8>,
    /// On until turned off.
    pub force: bool,
}

impl From<ChassisIdentify> for Message {
    fn from(c: ChassisIdentify) -> Message {
        let data = match (c.force, c.seconds) {
            (true, _) => vec![0, 1],
            (false, Some(s)) => vec![s],
            (false, None) => Vec::new(),
        };
        Message::new_request(NetFn::Chassis, 0x04, data)
    }
}

impl IpmiCommand for ChassisIdentify {
    type Output = ();
    type Error = String;

    fn parse_success_response(_: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Boot devices for `chassis bootdev` (boot flags data 2, bits 5:2, §28.13 Table 28-14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootDevice {
    /// No override.
    None,
    /// PXE.
    Pxe,
    /// Default hard drive.
    Disk,
    /// Default hard drive, safe mode.
    Safe,
    /// Diagnostic partition.
    Diag,
    /// CD/DVD.
    Cdrom,
    /// BIOS setup.
    Bios,
    /// Remote floppy/primary removable media.
    Floppy,
}

impl BootDevice {
    /// Every device with ipmitool's name for it.
    pub const ALL: [BootDevice; 8] = [
        BootDevice::None,
        BootDevice::Pxe,
        BootDevice::Disk,
        BootDevice::Safe,
        BootDevice::Diag,
        BootDevice::Cdrom,
        BootDevice::Bios,
        BootDevice::Floppy,
    ];

    /// ipmitool's name.
    pub const fn word(self) -> &'static str {
        match self {
            BootDevice::None => "none",
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::Safe => "safe",
            BootDevice::Diag => "diag",
            BootDevice::Cdrom => "cdrom",
            BootDevice::Bios => "bios",
            BootDevice::Floppy => "floppy",
        }
    }

    /// The device for ipmitool's name.
    pub fn parse(s: &str) -> Option<BootDevice> {
        Self::ALL.into_iter().find(|d| d.word() == s)
    }

    /// The boot device selector (data 2 bits 5:2).
    const fn selector(self) -> u8 {
        match self {
            BootDevice::None => 0x0,
            BootDevice::Pxe => 0x1,
            BootDevice::Disk => 0x2,
            BootDevice::Safe => 0x3,
            BootDevice::Diag => 0x4,
            BootDevice::Cdrom => 0x5,
            BootDevice::Bios => 0x6,
            BootDevice::Floppy => 0xF,
        }
    }
}

/// Set System Boot Options parameter 5, boot flags (00h 08h): boot from `device` next time
/// (or every time with `persistent`), in EFI mode with `efi`.
#[derive(Clone, Copy, Debug)]
pub struct SetBootDevice {
    /// The device.
    pub device: BootDevice,
    /// Every boot, not only the next.
    pub persistent: bool,
    /// EFI boot type rather than legacy.
    pub efi: bool,
}

impl SetBootDevice {
    /// The five boot-flag bytes.
    pub fn flags(&self) -> [u8; 5] {
        let mut data1 = 0x80; // boot flags valid
        if self.persistent {
            data1 |= 0x40;
        }
        if self.efi {
            data1 |= 0x20;
        }
        [data1, self.device.selector() << 2, 0, 0, 0]
    }
}

impl From<SetBootDevice> for Message {
    fn from(c: SetBootDevice) -> Message {
        let mut data = vec![0x05];
        data.extend_from_slice(&c.flags());
        Message::new_request(NetFn::Chassis, 0x08, data)
    }
}

impl IpmiCommand for SetBootDevice {
    type Output = ();
    type Error = String;

    fn parse_success_response(_: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// `chassis bootdev` as ipmitool sends it (Set System Boot Options, §28.13): set in progress
/// (parameter 0 = 1), clear the BIOS boot-info acknowledgement (parameter 4), the boot flags
/// (parameter 5), commit-write (parameter 0 = 2), set complete (parameter 0 = 0). A BMC
/// without set-in-progress gets the rest without it.
pub async fn set_boot_device<B: super::Bmc + ?Sized>(
    bmc: &B,
    device: SetBootDevice,
) -> Result<(), B::Error> {
    use super::{IpmiError, NetFn, RawRequest};
    let set = |data: Vec<u8>| RawRequest::new(NetFn::Chassis, 0x08, data);
    let in_progress = bmc
        .request(set(vec![0x00, 0x01])?)
        .await?
        .completion
        .is_success();
    let mut flags = vec![0x05];
    flags.extend_from_slice(&device.flags());
    let flags = set(flags)?;
    let (ack, done) = (set(vec![0x04, 0x01, 0x01])?, set(vec![0x00, 0x02])?);
    let written = async {
        // Acknowledge flags: a BMC may refuse; ipmitool goes on, and so do we.
        let _ = bmc.request(ack).await?;
        let r = bmc.request(flags).await?;
        if !r.completion.is_success() {
            return Ok(Err(IpmiError::Completion {
                netfn: NetFn::Chassis,
                cmd: 0x08,
                code: r.completion,
            }));
        }
        if in_progress {
            let _ = bmc.request(done).await?;
        }
        Ok::<_, B::Error>(Ok(()))
    }
    .await;
    if in_progress {
        // Set complete whatever happened, the carrier's failure included, so the lock is
        // never left held; a failure here is secondary to the one being reported.
        let released = bmc.request(set(vec![0x00, 0x00])?).await;
        if matches!(written, Ok(Ok(()))) {
            released?;
        }
    }
    let written: Result<(), IpmiError> = written?;
    written.map_err(Into::into)
}

#[cfg(all(test, feature = "sim"))]
mod boot_tests {
    use super::*;
    use crate::ipmi::test_support::CarrierFails;
    use crate::ipmi::{Bmc, NetFn, RawRequest};
    use crate::sim::{BmcConfig, SimBmc};

    #[tokio::test]
    async fn a_failure_after_locking_the_boot_options_releases_them() {
        let device = SetBootDevice {
            device: BootDevice::Pxe,
            persistent: false,
            efi: false,
        };
        // The connection goes down on the boot flags' write.
        let bmc = CarrierFails {
            inner: SimBmc::new(BmcConfig::default()),
            when: |r| r.netfn() == NetFn::Chassis && r.cmd() == 0x08 && r.data()[0] == 5,
        };
        let e = set_boot_device(&bmc, device).await.unwrap_err();
        assert!(e.to_string().contains("went down"), "{e}");
        // Set in progress was released: taking it again succeeds, and so does a whole write.
        let again = bmc
            .inner
            .request(RawRequest::new(NetFn::Chassis, 0x08, vec![0x00, 0x01]).unwrap())
            .await
            .unwrap();
        assert!(again.completion.is_success(), "{:?}", again.completion);
        let _ = bmc
            .inner
            .request(RawRequest::new(NetFn::Chassis, 0x08, vec![0x00, 0x00]).unwrap())
            .await;
        set_boot_device(&bmc.inner, device).await.unwrap();
    }
}
