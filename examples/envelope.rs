//! The wire format, offline: the exact WS-Management envelope that asks a Windows host's BMC for
//! its Device ID through `Microsoft_IPMI.RequestResponse`, and how a reply (and a fault) is read.
//!
//!     cargo run --example envelope

use winrm_ipmi::ipmi::app::DeviceId;
use winrm_ipmi::ipmi::{NetFn, RawRequest};
use winrm_ipmi::wmi::WmiError;
use winrm_ipmi::wmi::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{MessageId, RequestContext, WsmanError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What an Enumerate of root/wmi:Microsoft_IPMI reports on a typical server.
    let instance = IpmiInstance {
        instance_name: r"ROOT\SYSTEM\0001_0".into(),
        active: true,
        bmc_address: 0x20,
    };
    let ctx = RequestContext::new("http://server01.example.com:5985/wsman");
    // A fixed MessageID so the fixture reply below relates to this request.
    let id = MessageId(uuid::Uuid::parse_str(
        "5C133D7F-2E87-4B7D-84F1-23B0BD81AF6B",
    )?);

    // Get Device ID: NetFn App (06h), command 01h, no data. The NetFn is explicit, never derived.
    let request = RawRequest::new(NetFn::App, 0x01, vec![])?;
    let envelope = microsoft_ipmi::request_response(&ctx, &instance, &request, id);
    println!(
        "== Request ({} bytes)\n{}\n",
        envelope.xml.len(),
        pretty(&envelope.xml)
    );

    // A reply in Windows' shape: the completion code is ResponseData[0] and is counted in
    // ResponseDataSize (fixtures/PROVENANCE.md explains this fixture).
    let reply = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/wsman/synthetic_request_response_output.xml"
    ))?;
    let response = microsoft_ipmi::parse_request_response(&reply, &envelope)?;
    println!("== Reply: completion {}", response.completion);
    println!("   data: {}", hex(&response.data));
    let id = DeviceId::parse(&response.data)?;
    println!(
        "   Device ID {}, firmware {}, IPMI {}, manufacturer {} ({}), product 0x{:04x}\n",
        id.device_id,
        id.firmware_revision(),
        id.ipmi_version(),
        id.manufacturer_id,
        id.manufacturer_name().unwrap_or("unknown"),
        id.product_id
    );

    // A real Windows fault (pypsrp capture): what a caller gets when WinRM times out.
    let fault = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/wsman/pypsrp_fault_timed_out.xml"
    ))?;
    let fault_req = microsoft_ipmi::request_response(
        &ctx,
        &instance,
        &request,
        MessageId(uuid::Uuid::parse_str(
            "9BE5F54A-6B47-487D-9ACD-65201E650446",
        )?),
    );
    match microsoft_ipmi::parse_request_response(&fault, &fault_req) {
        Err(WmiError::Wsman(WsmanError::Fault(f))) => {
            println!("== A fault reads as: {:?}\n   {f}", f.kind())
        }
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Puts each element of the header and body on its own line, for reading.
fn pretty(xml: &str) -> String {
    xml.replace("><", ">\n<")
}
