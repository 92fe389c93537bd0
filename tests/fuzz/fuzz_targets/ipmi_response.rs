//! The IPMI layer's response handling: splitting the method output, then every typed parser.
#![no_main]

use ipmi_core::connection::IpmiCommand;
use libfuzzer_sys::fuzz_target;
use winrm_ipmi::ipmi::app::{DeviceId, GetSystemGuid, GetSystemInfoParameters};
use winrm_ipmi::ipmi::{CompletionCode, NetFn, core as ipmi_core};
use winrm_ipmi::wmi::microsoft_ipmi::MethodOutput;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let cc = (head & 1 == 1).then(|| rest.first().copied().unwrap_or(0));
    let size = (head & 2 == 2).then_some(rest.len() as u32 ^ u32::from(head >> 4));
    let output = MethodOutput { completion_code: cc, response_data_size: size, response_data: rest.to_vec() };
    if let Ok(r) = output.into_response() {
        let code = r.completion;
        let _ = (code.class(), code.describe_for(NetFn::Transport, 0x02), code.to_string());
        let _ = CompletionCode::from_byte(head);
        let _ = DeviceId::parse(&r.data).map(|d| (d.firmware_revision(), d.manufacturer_name()));
        let _ = GetSystemGuid::parse_success_response(&r.data).map(|g| (g.ipmi_string(), g.smbios_string()));
        let _ = GetSystemInfoParameters::parse_success_response(&r.data);
        let _ = ipmi_core::app::GetChannelInfo::parse_success_response(&r.data);
        let _ = ipmi_core::transport::GetLanConfigParameters::parse_success_response(&r.data);
    }
    let _ = winrm_ipmi::ipmi::sysinfo::StringEncoding::from_nibble(head).decode(rest);
});
