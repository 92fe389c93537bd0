//! Golden tests: real Windows replies captured by public projects (fixtures/PROVENANCE.md).

use winrm_ipmi::ipmi::{CompletionCode, NetFn, RawRequest};
use winrm_ipmi::wmi::microsoft_ipmi::{self, IpmiInstance};
use winrm_ipmi::wsman::{
    CimValue, EnumerateOptions, FaultKind, MessageId, Operation, Request, RequestContext,
    WsmanError, ns, parse_enumeration, parse_invoke,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/wsman/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn id(s: &str) -> MessageId {
    MessageId(uuid::Uuid::parse_str(s).unwrap())
}

fn ctx() -> RequestContext {
    RequestContext::new("http://server:5985/wsman")
}

fn fault_of(r: Result<impl std::fmt::Debug, WsmanError>) -> winrm_ipmi::wsman::Fault {
    match r {
        Err(WsmanError::Fault(f)) => *f,
        other => panic!("expected a fault, got {other:?}"),
    }
}

fn any_enumerate(message_id: &str) -> Request {
    ctx().enumerate(
        &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_OperatingSystem"),
        &EnumerateOptions::default(),
        id(message_id),
    )
}

#[test]
fn winrm_1_1_fault_with_nested_provider_fault() {
    let req = any_enumerate("B90EC4BB-4484-4ADA-920B-019517747915");
    let f = fault_of(parse_enumeration(&fixture("winrb_soap_fault_v1.xml"), &req));
    assert_eq!(f.code, "Sender");
    assert_eq!(f.subcode.as_deref(), Some("CannotProcessFilter"));
    assert_eq!(f.subcode_namespace, Some(ns::ENUMERATION));
    assert!(
        f.reason
            .contains("The data source could not process the filter.")
    );
    let w = f.wsman_fault.as_ref().unwrap();
    assert_eq!(w.code, Some(2150858778));
    assert_eq!(w.machine.as_deref(), Some(""));
    let p = &w.provider_faults[0];
    assert_eq!(
        p.provider.as_deref(),
        Some("WMIv1 plugin for Windows Remote Management ")
    );
    assert_eq!(
        p.path.as_deref(),
        Some("%systemroot%\\system32\\WsmWmiPl.dll")
    );
    assert_eq!(p.inner.as_ref().unwrap().code, Some(2150858778));
    assert_eq!(
        f.message(),
        "The specified class does not exist in the given namespace."
    );
    assert_eq!(f.kind(), FaultKind::NotFound);
    assert!(f.to_string().contains("0x8033801A"), "{f}");
}

#[test]
fn winrm_2_fault_with_extended_status() {
    let req = any_enumerate("0CB1C49A-5054-4C12-AF30-FC60BE995DD9");
    let f = fault_of(parse_enumeration(&fixture("winrb_soap_fault_v2.xml"), &req));
    let w = f.wsman_fault.as_ref().unwrap();
    assert_eq!(w.machine.as_deref(), Some("localhost"));
    let p = &w.provider_faults[0];
    assert_eq!(p.provider.as_deref(), Some("WMI Provider"));
    assert_eq!(
        p.inner.as_ref().unwrap().machine.as_deref(),
        Some("vagrant-2008R2")
    );
    let ext = p.extended_status.as_ref().unwrap();
    assert_eq!(ext.name, "__ExtendedStatus");
    assert_eq!(ext.text("Operation"), Some("ExecQuery"));
    assert_eq!(
        ext.text("ParameterInfo"),
        Some("Select * from Win32_Processa where name=\"sshd.exe\"")
    );
    assert_eq!(ext.get("Description"), Some(&CimValue::Null));
    assert_eq!(ext.text("ProviderName"), Some("WinMgmt"));
    assert_eq!(f.kind(), FaultKind::NotFound);
    assert_eq!(f.codes(), vec![2150858778, 2150858778]);
}

#[test]
fn cim_error_form_without_relates_to() {
    let req = any_enumerate("0CB1C49A-5054-4C12-AF30-FC60BE995DD9");
    let f = fault_of(parse_enumeration(&fixture("winrb_wmi_error_v2.xml"), &req));
    assert_eq!(f.subcode.as_deref(), Some("QuotaLimit"));
    assert_eq!(f.subcode_namespace, Some(ns::WSMAN));
    let e = f.wmi_error.as_ref().unwrap();
    assert_eq!(e.text("MessageID"), Some("HRESULT 0x803381a5"));
    assert_eq!(e.parse::<u32>("error_Code").unwrap(), 2150859173);
    assert_eq!(e.parse::<u32>("CIMStatusCode").unwrap(), 27);
    assert!(f.message().starts_with("The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells"));
    assert_eq!(f.kind(), FaultKind::QuotaExceeded);
}

#[test]
fn timed_out_and_relates_to_is_checked() {
    let bytes = fixture("pypsrp_fault_timed_out.xml");
    let req = any_enumerate("9BE5F54A-6B47-487D-9ACD-65201E650446");
    let f = fault_of(parse_enumeration(&bytes, &req));
    assert_eq!(f.code, "Receiver");
    assert_eq!(f.kind(), FaultKind::TimedOut);
    assert_eq!(
        f.wsman_fault.as_ref().unwrap().machine.as_deref(),
        Some("192.168.56.11")
    );
    assert_eq!(
        f.to_string(),
        "WS-Management fault Receiver/TimedOut (code 0x80338029 on 192.168.56.11): The WS-Management service cannot complete the operation within the time specified in OperationTimeout."
    );
    // The same reply to another request is not ours.
    let other = any_enumerate("00000000-0000-4000-8000-000000000001");
    assert!(matches!(
        parse_enumeration(&bytes, &other),
        Err(WsmanError::RelatesToMismatch { .. })
    ));
}

#[test]
fn invalid_selectors() {
    let req = any_enumerate("877294B2-0B63-493A-9A91-DD6A4D68B0B3");
    let f = fault_of(parse_enumeration(
        &fixture("pypsrp_fault_invalid_selectors.xml"),
        &req,
    ));
    assert_eq!(f.kind(), FaultKind::InvalidSelectors);
    assert_eq!(
        f.fault_detail.as_deref(),
        Some("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors")
    );
    assert_eq!(
        f.wsman_fault.as_ref().unwrap().provider_faults[0]
            .provider
            .as_deref(),
        Some("Shell provider")
    );
}

#[test]
fn invoke_output_with_array_and_rebound_prefix() {
    let req = ctx()
        .invoke(
            &winrm_ipmi::wmi::class_uri("root/default", "StdRegProv"),
            "EnumKey",
            &[],
            &[],
            id("357dee93-b5a1-15a1-8004-4b73f7201300"),
        )
        .unwrap();
    let out = parse_invoke(&fixture("openwsman_enumkey_output.xml"), &req).unwrap();
    assert_eq!(out.name, "EnumKey_OUTPUT");
    let names: Vec<&str> = out.values("sNames").filter_map(CimValue::as_text).collect();
    assert_eq!(names.len(), 26);
    assert_eq!(names[0], "AddressBook");
    assert_eq!(names[16], "Mozilla Firefox 9.0.1 (x86 en-US)");
    assert_eq!(names[25], "{F8FBDC28-C265-4F0D-8B91-6E92913E19F6}");
    assert_eq!(out.parse::<u32>("ReturnValue").unwrap(), 0);

    // The same reply read against another method or class is refused, not misread.
    let wrong = ctx()
        .invoke(
            &winrm_ipmi::wmi::class_uri("root/default", "StdRegProv"),
            "EnumValues",
            &[],
            &[],
            id("357dee93-b5a1-15a1-8004-4b73f7201300"),
        )
        .unwrap();
    assert!(matches!(
        parse_invoke(&fixture("openwsman_enumkey_output.xml"), &wrong),
        Err(WsmanError::UnexpectedBody { .. })
    ));
}

#[test]
fn typed_enumeration_with_nil_and_datetime() {
    let req = any_enumerate("55F28C75-F63E-4F68-8360-A8C478003959");
    let page =
        parse_enumeration(&fixture("txwinrm_2012_operatingsystem_enumerate.xml"), &req).unwrap();
    assert!(page.end_of_sequence);
    assert_eq!(page.context, None);
    let os = &page.items[0];
    assert_eq!(os.name, "Win32_OperatingSystem");
    assert_eq!(
        os.text("Caption"),
        Some("Microsoft Windows Server 2012 Standard")
    );
    assert_eq!(os.text("CSName"), Some("AMAZONA-SDFU7B1"));
    assert_eq!(os.get("CSDVersion"), Some(&CimValue::Null));
    assert_eq!(os.text("Description"), Some(""));
    assert_eq!(os.text("BootDevice"), Some("\\Device\\HarddiskVolume1"));
    match os.get("InstallDate") {
        Some(CimValue::Object(d)) => assert_eq!(d.text("Datetime"), Some("2013-03-09T02:57:32Z")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn enumerate_then_pull_pages() {
    let req = any_enumerate("55F28C75-F63E-4F68-8360-A8C478003959");
    let first =
        parse_enumeration(&fixture("txwinrm_2012_ip4routetable_enumerate.xml"), &req).unwrap();
    assert!(!first.end_of_sequence);
    assert_eq!(
        first.context.as_deref(),
        Some("uuid:11027EBF-A5A2-43C7-B65E-94B2852318EC")
    );
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].name, "XmlFragment");
    assert_eq!(first.items[0].text("NextHop"), Some("10.30.40.1"));
    assert_eq!(first.items[0].get("Status"), Some(&CimValue::Null));

    let pull = ctx().pull(
        &winrm_ipmi::wmi::class_uri("root/cimv2", "Win32_IP4RouteTable"),
        first.context.as_deref().unwrap(),
        32000,
        id("578DC055-B6C4-4387-B39F-E992D0ED76A0"),
    );
    assert_eq!(pull.operation, Operation::Pull);
    let second = parse_enumeration(&fixture("txwinrm_2012_ip4routetable_pull.xml"), &pull).unwrap();
    assert!(second.end_of_sequence);
    assert_eq!(second.context, None);
    assert_eq!(second.items.len(), 13);
    assert_eq!(second.items[12].text("Caption"), Some("255.255.255.255"));
}

#[test]
fn request_response_output_in_windows_shape() {
    let instance = IpmiInstance {
        instance_name: "ROOT\\SYSTEM\\0001_0".into(),
        active: true,
        bmc_address: 0x20,
    };
    let raw = RawRequest::new(NetFn::App, 0x01, vec![]).unwrap();
    let req = microsoft_ipmi::request_response(
        &ctx(),
        &instance,
        &raw,
        id("5C133D7F-2E87-4B7D-84F1-23B0BD81AF6B"),
    );
    let bytes = fixture("synthetic_request_response_output.xml");
    let resp = microsoft_ipmi::parse_request_response(&bytes, &req).unwrap();
    assert_eq!(resp.completion, CompletionCode::Normal);
    assert_eq!(
        resp.data,
        vec![
            0x00, 0x03, 0x09, 0x08, 0x02, 0x9f, 0x91, 0x12, 0x00, 0x02, 0x0f, 0, 0, 0, 0
        ]
    );

    // UTF-16 (as Windows answers a UTF-16 request), with a BOM and without.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut bom = vec![0xFF, 0xFE];
    bom.extend_from_slice(&le);
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for b in [le, bom, be] {
        assert_eq!(
            microsoft_ipmi::parse_request_response(&b, &req).unwrap(),
            resp
        );
    }

    // The `_OUTPUT` namespace as the provider may spell it: WMI namespaces are case-insensitive.
    let upper = text.replace("/root/wmi/Microsoft_IPMI", "/ROOT/WMI/Microsoft_IPMI");
    assert_ne!(upper, text);
    assert_eq!(
        microsoft_ipmi::parse_request_response(upper.as_bytes(), &req).unwrap(),
        resp
    );

    // In strict mode, inconsistent outputs are errors, not guesses; by default they are read
    // as every peer reads them (cut to ResponseDataSize; a failure in CompletionCode wins).
    let short = text.replace("<p:ResponseDataSize>16<", "<p:ResponseDataSize>15<");
    assert!(matches!(
        microsoft_ipmi::parse_request_response_strict(short.as_bytes(), &req),
        Err(winrm_ipmi::wmi::WmiError::SizeMismatch {
            declared: 15,
            actual: 16
        })
    ));
    let cc = text.replace("<p:CompletionCode>0<", "<p:CompletionCode>193<");
    assert!(matches!(
        microsoft_ipmi::parse_request_response_strict(cc.as_bytes(), &req),
        Err(winrm_ipmi::wmi::WmiError::CompletionCodeMismatch { .. })
    ));
    let liberal = microsoft_ipmi::parse_request_response(short.as_bytes(), &req).unwrap();
    assert_eq!(liberal.data, resp.data[..14]);
    let liberal = microsoft_ipmi::parse_request_response(cc.as_bytes(), &req).unwrap();
    assert_eq!(liberal.completion, CompletionCode::InvalidCommand);
    let big = text.replace("<p:ResponseData>159<", "<p:ResponseData>256<");
    assert!(matches!(
        microsoft_ipmi::parse_request_response(big.as_bytes(), &req),
        Err(winrm_ipmi::wmi::WmiError::Wsman(
            WsmanError::InvalidValue { .. }
        ))
    ));
}

#[test]
fn instance_choice() {
    let req = ctx().enumerate(
        microsoft_ipmi::RESOURCE_URI,
        &EnumerateOptions::default(),
        id("11111111-1111-4111-8111-111111111111"),
    );
    let reply = format!(
        "<s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\" xmlns:n=\"{}\" xmlns:w=\"{}\"><s:Header><a:RelatesTo>uuid:11111111-1111-4111-8111-111111111111</a:RelatesTo></s:Header><s:Body><n:EnumerateResponse><w:Items>\
         <p:Microsoft_IPMI xmlns:p=\"{uri}\"><p:Active>false</p:Active><p:BMCAddress>34</p:BMCAddress><p:InstanceName>ROOT\\SYSTEM\\0001_0</p:InstanceName></p:Microsoft_IPMI>\
         <p:Microsoft_IPMI xmlns:p=\"{uri}\"><p:Active>true</p:Active><p:BMCAddress>32</p:BMCAddress><p:InstanceName>ACPI\\IPI0001\\0_0</p:InstanceName></p:Microsoft_IPMI>\
         </w:Items><w:EndOfSequence/></n:EnumerateResponse></s:Body></s:Envelope>",
        ns::SOAP,
        ns::ADDRESSING,
        ns::ENUMERATION,
        ns::WSMAN,
        uri = microsoft_ipmi::RESOURCE_URI
    );
    let page = parse_enumeration(reply.as_bytes(), &req).unwrap();
    let chosen = IpmiInstance::choose(&page.items).unwrap().unwrap();
    assert_eq!(chosen.instance_name, "ACPI\\IPI0001\\0_0");
    assert_eq!(chosen.bmc_address, 0x20);
    assert_eq!(IpmiInstance::choose(&[]).unwrap(), None);
}
