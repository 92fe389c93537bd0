//! `root/cimv2:Win32_ComputerSystemProduct`: the SMBIOS system UUID and serial number, what
//! proves which BMC belongs to which host (compared with the BMC's System GUID).

use serde::Serialize;

use crate::wsman::CimObject;

/// The class's namespace.
pub const NAMESPACE: &str = "root/cimv2";
/// The class.
pub const CLASS: &str = "Win32_ComputerSystemProduct";

/// The class's resource URI.
pub fn resource_uri() -> String {
    super::class_uri(NAMESPACE, CLASS)
}

/// The properties this crate uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComputerSystemProduct {
    /// `UUID`: the SMBIOS system UUID as Windows shows it (SMBIOS 2.6+ byte order: the first
    /// three fields little-endian).
    pub uuid: Option<String>,
    /// `IdentifyingNumber`: the serial number (service tag).
    pub identifying_number: Option<String>,
    /// `Name`: the model.
    pub name: Option<String>,
    /// `Vendor`.
    pub vendor: Option<String>,
}

impl ComputerSystemProduct {
    /// Reads an enumerated instance.
    pub fn from_object(o: &CimObject) -> Self {
        let text = |name| super::trimmed_text(o, name);
        ComputerSystemProduct {
            uuid: text("UUID"),
            identifying_number: text("IdentifyingNumber"),
            name: text("Name"),
            vendor: text("Vendor"),
        }
    }
}
