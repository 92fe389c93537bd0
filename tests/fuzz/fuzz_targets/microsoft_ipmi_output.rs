//! The `Microsoft_IPMI.RequestResponse` output binding: a real reply's shape with the fuzzer's
//! text in `CompletionCode`, `ResponseDataSize` and each `ResponseData`, and its namespace in any
//! case. Never a panic; and whatever strict mode accepts, the default reading reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use winrm_ipmi::wmi::microsoft_ipmi;
use winrm_ipmi::wsman::{MessageId, RequestContext};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut fields = rest.split(|b| *b == 0);
    let mut text = |omit: bool| -> Option<String> {
        let f = fields.next()?;
        (!omit).then(|| String::from_utf8_lossy(f).into_owned())
    };
    let cc = text(mode & 1 == 1);
    let size = text(mode & 2 == 2);
    let mut items = Vec::new();
    while let Some(t) = text(false) {
        items.push(t);
        if items.len() > 300 {
            break;
        }
    }
    let ns = if mode & 4 == 4 { "ROOT/WMI" } else { "root/wmi" };
    let mut body = String::new();
    if let Some(c) = cc {
        body.push_str(&format!("<p:CompletionCode>{c}</p:CompletionCode>"));
    }
    for i in &items {
        body.push_str(&format!("<p:ResponseData>{i}</p:ResponseData>"));
    }
    if let Some(s) = size {
        body.push_str(&format!("<p:ResponseDataSize>{s}</p:ResponseDataSize>"));
    }
    let xml = format!(
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><s:Header><a:RelatesTo>uuid:5C133D7F-2E87-4B7D-84F1-23B0BD81AF6B</a:RelatesTo></s:Header><s:Body><p:RequestResponse_OUTPUT xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wmi/{ns}/Microsoft_IPMI\">{body}</p:RequestResponse_OUTPUT></s:Body></s:Envelope>"
    );
    let id = MessageId(uuid::Uuid::from_u128(0x5C133D7F_2E87_4B7D_84F1_23B0BD81AF6B));
    let req = RequestContext::new("http://h:5985/wsman")
        .invoke(microsoft_ipmi::RESOURCE_URI, "RequestResponse", &[], &[], id)
        .unwrap();
    let liberal = microsoft_ipmi::parse_request_response(xml.as_bytes(), &req);
    if let Ok(strict) = microsoft_ipmi::parse_request_response_strict(xml.as_bytes(), &req) {
        assert_eq!(liberal.as_ref().ok(), Some(&strict), "strict and default disagree");
    }
});
