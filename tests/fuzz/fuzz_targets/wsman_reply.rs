//! Every reply parser (faults included) on arbitrary bytes: typed errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use winrm_ipmi::wmi::microsoft_ipmi;
use winrm_ipmi::wsman::{
    EnumerateOptions, MessageId, RequestContext, parse_enumeration, parse_get, parse_identify,
    parse_invoke,
};

fuzz_target!(|data: &[u8]| {
    // Fixed IDs so RelatesTo can match the corpus' replies.
    let id = MessageId(uuid::Uuid::from_u128(0x5C133D7F_2E87_4B7D_84F1_23B0BD81AF6B));
    let ctx = RequestContext::new("http://h:5985/wsman");
    let inv = ctx
        .invoke(microsoft_ipmi::RESOURCE_URI, "RequestResponse", &[], &[], id)
        .unwrap();
    if let Err(e) = microsoft_ipmi::parse_request_response(data, &inv) {
        if let Some(f) = e.fault() {
            let _ = (f.kind(), f.message(), f.to_string(), f.codes());
        }
    }
    let _ = parse_invoke(data, &inv);
    let en = ctx.enumerate(microsoft_ipmi::RESOURCE_URI, &EnumerateOptions::default(), id);
    if let Ok(page) = parse_enumeration(data, &en) {
        let _ = microsoft_ipmi::IpmiInstance::choose(&page.items);
    }
    let _ = parse_get(data, &ctx.get(microsoft_ipmi::RESOURCE_URI, &[], id));
    let _ = parse_identify(data);
});
