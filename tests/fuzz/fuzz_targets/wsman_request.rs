//! The service-side request reader (what the simulator parses) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use winrm_ipmi::wmi::microsoft_ipmi;
use winrm_ipmi::wsman::server;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = server::parse_request(data) {
        let _ = microsoft_ipmi::parse_request_response_input(&req);
    }
});
