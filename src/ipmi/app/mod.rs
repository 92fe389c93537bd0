//! Application commands (NetFn 06h) that `ipmi-rs-core` lacks or that we need in serialisable form.

mod get_device_id;
mod get_system_guid;
mod get_system_info_parameters;
mod set_system_info_parameters;

pub use get_device_id::{AdditionalSupport, DeviceId, GetDeviceId, manufacturer_name};
pub use get_system_guid::{GetSystemGuid, GuidOrder, SystemGuid};
pub use get_system_info_parameters::{GetSystemInfoParameters, SystemInfoParameterData};
pub use set_system_info_parameters::SetSystemInfoParameters;

/// System Info parameter selectors (IPMI 2.0 Table 22-16a).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemInfoParameter {
    /// 0: set in progress.
    SetInProgress,
    /// 1: system firmware (BIOS) version.
    FirmwareVersion,
    /// 2: system name (host name).
    SystemName,
    /// 3: primary operating system name.
    PrimaryOsName,
    /// 4: operating system name (the running OS).
    OsName,
    /// 5: present OS version number.
    PresentOsVersion,
    /// 6: BMC URL.
    BmcUrl,
    /// 7: base OS / hypervisor URL.
    BaseOsHypervisorUrl,
    /// Any other selector (C0h–FFh are OEM).
    Other(u8),
}

impl SystemInfoParameter {
    /// The string parameters 1–7, in selector order.
    pub const STRINGS: [SystemInfoParameter; 7] = [
        SystemInfoParameter::FirmwareVersion,
        SystemInfoParameter::SystemName,
        SystemInfoParameter::PrimaryOsName,
        SystemInfoParameter::OsName,
        SystemInfoParameter::PresentOsVersion,
        SystemInfoParameter::BmcUrl,
        SystemInfoParameter::BaseOsHypervisorUrl,
    ];

    /// The strings `ipmitool mc getsysinfo` users read first (1–5), in selector order.
    pub const SUMMARY: [SystemInfoParameter; 5] = [
        SystemInfoParameter::FirmwareVersion,
        SystemInfoParameter::SystemName,
        SystemInfoParameter::PrimaryOsName,
        SystemInfoParameter::OsName,
        SystemInfoParameter::PresentOsVersion,
    ];

    /// The parameter's name for people ("Primary OS Name"); `None` for OEM and unknown ones.
    pub const fn label(self) -> Option<&'static str> {
        match self {
            SystemInfoParameter::SetInProgress => Some("Set In Progress"),
            SystemInfoParameter::FirmwareVersion => Some("System Firmware Version"),
            SystemInfoParameter::SystemName => Some("System Name"),
            SystemInfoParameter::PrimaryOsName => Some("Primary OS Name"),
            SystemInfoParameter::OsName => Some("OS Name"),
            SystemInfoParameter::PresentOsVersion => Some("Present OS Version"),
            SystemInfoParameter::BmcUrl => Some("BMC URL"),
            SystemInfoParameter::BaseOsHypervisorUrl => Some("OS/Hypervisor URL"),
            SystemInfoParameter::Other(_) => None,
        }
    }

    /// The names [`parse`](Self::parse) accepts, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = Self::STRINGS.iter().map(|p| p.name()).collect();
        format!("{}, or 0-255", names.join(", "))
    }

    /// The selector byte.
    pub const fn selector(self) -> u8 {
        match self {
            SystemInfoParameter::SetInProgress => 0,
            SystemInfoParameter::FirmwareVersion => 1,
            SystemInfoParameter::SystemName => 2,
            SystemInfoParameter::PrimaryOsName => 3,
            SystemInfoParameter::OsName => 4,
            SystemInfoParameter::PresentOsVersion => 5,
            SystemInfoParameter::BmcUrl => 6,
            SystemInfoParameter::BaseOsHypervisorUrl => 7,
            SystemInfoParameter::Other(b) => b,
        }
    }

    /// The parameter for a selector byte.
    pub const fn from_selector(b: u8) -> Self {
        match b {
            0 => SystemInfoParameter::SetInProgress,
            1 => SystemInfoParameter::FirmwareVersion,
            2 => SystemInfoParameter::SystemName,
            3 => SystemInfoParameter::PrimaryOsName,
            4 => SystemInfoParameter::OsName,
            5 => SystemInfoParameter::PresentOsVersion,
            6 => SystemInfoParameter::BmcUrl,
            7 => SystemInfoParameter::BaseOsHypervisorUrl,
            b => SystemInfoParameter::Other(b),
        }
    }

    /// The name ipmitool's `mc getsysinfo` uses.
    pub const fn name(self) -> &'static str {
        match self {
            SystemInfoParameter::SetInProgress => "set_in_progress",
            SystemInfoParameter::FirmwareVersion => "system_fw_version",
            SystemInfoParameter::SystemName => "system_name",
            SystemInfoParameter::PrimaryOsName => "primary_os_name",
            SystemInfoParameter::OsName => "os_name",
            SystemInfoParameter::PresentOsVersion => "present_os_version",
            SystemInfoParameter::BmcUrl => "bmc_url",
            SystemInfoParameter::BaseOsHypervisorUrl => "os_hyper_url",
            SystemInfoParameter::Other(_) => "other",
        }
    }

    /// The parameter for an ipmitool name (`system_name`, `os_name`, ...) or a number.
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(p) = Self::STRINGS.iter().find(|p| p.name() == s) {
            return Some(*p);
        }
        let n = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            u8::from_str_radix(hex, 16).ok()?
        } else {
            s.parse().ok()?
        };
        Some(Self::from_selector(n))
    }
}
