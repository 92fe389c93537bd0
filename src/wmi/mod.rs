//! The WMI bindings: the classes this crate reads and invokes, over the [`wsman`](crate::wsman)
//! layer's envelopes.
//!
//! - [`microsoft_ipmi`]: `root/wmi:Microsoft_IPMI`, the IPMI driver's handle on the BMC, and its
//!   `RequestResponse` method carrying one raw IPMI request.
//! - [`operating_system`]: `root/cimv2:Win32_OperatingSystem`, with the choice of the running
//!   (primary) OS among several instances.
//! - [`computer_system`]: `root/cimv2:Win32_ComputerSystem` (host name, domain, model).
//!
//! Each binding is sans-IO: it builds the [`Request`](crate::wsman::Request) and parses its
//! reply; the [`Client`](crate::Client) moves the bytes. `wsman` knows no IPMI, and `ipmi` knows
//! no WMI: this layer is where the two meet.
//!
//! ```
//! use winrm_ipmi::ipmi::{NetFn, RawRequest};
//! use winrm_ipmi::wmi::microsoft_ipmi::{self, IpmiInstance};
//! use winrm_ipmi::wsman::{MessageId, RequestContext};
//!
//! let ctx = RequestContext::new("http://server01:5985/wsman");
//! let instance = IpmiInstance::new(r"ROOT\SYSTEM\0001_0", 0x20);
//! let get_device_id = RawRequest::new(NetFn::App, 0x01, [])?;
//! let envelope = microsoft_ipmi::request_response(&ctx, &instance, &get_device_id, MessageId::random());
//! assert!(envelope.xml.contains("<m:NetworkFunction>6</m:NetworkFunction>"));
//! # Ok::<(), winrm_ipmi::ipmi::IpmiError>(())
//! ```

pub mod computer_system;
pub mod computer_system_product;
mod error;
pub mod microsoft_ipmi;
pub mod operating_system;

pub use error::WmiError;

use crate::wsman::ns::WMI_PREFIX;

/// A property's text, trimmed; `None` when absent, nil or blank.
pub(crate) fn trimmed_text(o: &crate::wsman::CimObject, name: &str) -> Option<String> {
    o.text(name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The WS-Management resource URI of a WMI class, e.g. `root/wmi` + `Microsoft_IPMI`.
pub fn class_uri(namespace: &str, class: &str) -> String {
    let namespace = namespace.trim_matches(['/', '\\']).replace('\\', "/");
    format!("{WMI_PREFIX}{namespace}/{class}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn wmi_uris() {
        assert_eq!(
            super::class_uri("root\\wmi", "Microsoft_IPMI"),
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/wmi/Microsoft_IPMI"
        );
        assert_eq!(
            super::class_uri("/root/cimv2/", "Win32_OperatingSystem"),
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem"
        );
    }
}
