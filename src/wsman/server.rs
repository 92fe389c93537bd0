//! The service side of the envelopes: reading a request as WinRM does, and writing replies in
//! Windows' shapes. Used by the simulator and by round-trip tests of the client builders.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::WsmanError;
use super::cim::{CimObject, parse_object};
use super::cursor::{Cursor, Ev, Ns};
use super::ns;
use super::response::decode;

/// A request as the service reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingRequest {
    /// `a:To`.
    pub to: Option<String>,
    /// `w:ResourceURI`.
    pub resource_uri: Option<String>,
    /// `a:Action`.
    pub action: Option<String>,
    /// `a:MessageID`.
    pub message_id: Option<String>,
    /// `w:MaxEnvelopeSize`.
    pub max_envelope_size: Option<u32>,
    /// `w:OperationTimeout`, as sent (`PT20.000S`).
    pub operation_timeout: Option<String>,
    /// `w:SelectorSet`, in order.
    pub selectors: Vec<(String, String)>,
    /// The body's first element (`<Method>_INPUT`, `n:Enumerate`, `n:Pull`, ...), if any.
    pub body: Option<CimObject>,
    /// Namespace URI of the body's first element, when it is the resource URI.
    pub body_in_resource_namespace: bool,
}

impl IncomingRequest {
    /// The selector named `name` (case-insensitive, as Windows treats selector names).
    pub fn selector(&self, name: &str) -> Option<&str> {
        self.selectors
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request envelope.
pub fn parse_request(bytes: &[u8]) -> Result<IncomingRequest, WsmanError> {
    let xml = decode(bytes)?;
    // First pass for the ResourceURI is avoided: the header precedes the body, so the resource
    // URI is known by the time the body is classified.
    let mut req = IncomingRequest::default();
    let mut cursor = Cursor::new(&xml, None);
    loop {
        match cursor.next()? {
            Ev::Start(t) if t.is(Ns::Soap, "Envelope") => break,
            Ev::Text(t) if t.trim().is_empty() => {}
            _ => return Err(WsmanError::NotSoap("root element is not s:Envelope".into())),
        }
    }
    while let Some((tag, empty)) = cursor.child()? {
        match (tag.ns, tag.local(), empty) {
            (_, _, true) => {}
            (Ns::Soap, "Header", _) => {
                while let Some((h, empty)) = cursor.child()? {
                    if empty {
                        continue;
                    }
                    match (h.ns, h.local()) {
                        (Ns::Addressing, "To") => req.to = Some(cursor.text()?.trim().into()),
                        (Ns::Addressing, "Action") => {
                            req.action = Some(cursor.text()?.trim().into())
                        }
                        (Ns::Addressing, "MessageID") => {
                            req.message_id = Some(cursor.text()?.trim().into())
                        }
                        (Ns::Wsman, "ResourceURI") => {
                            req.resource_uri = Some(cursor.text()?.trim().into())
                        }
                        (Ns::Wsman, "MaxEnvelopeSize") => {
                            let t = cursor.text()?;
                            req.max_envelope_size =
                                Some(t.trim().parse().map_err(|_| WsmanError::InvalidValue {
                                    property: "MaxEnvelopeSize".into(),
                                    value: t.clone(),
                                })?);
                        }
                        (Ns::Wsman, "OperationTimeout") => {
                            req.operation_timeout = Some(cursor.text()?.trim().into())
                        }
                        (Ns::Wsman, "SelectorSet") => {
                            while let Some((s, empty)) = cursor.child()? {
                                if s.is(Ns::Wsman, "Selector") {
                                    let name = s.attr("Name")?.unwrap_or_default();
                                    let value =
                                        if empty { String::new() } else { cursor.text()? };
                                    req.selectors.push((name, value));
                                } else if !empty {
                                    cursor.skip()?;
                                }
                            }
                        }
                        _ => cursor.skip()?,
                    }
                }
            }
            (Ns::Soap, "Body", _) => {
                if let Some((first, empty)) = cursor.child()? {
                    // The cursor has no target URI: compare the body's namespace by re-resolving.
                    req.body_in_resource_namespace = req
                        .resource_uri
                        .as_deref()
                        .is_some_and(|uri| cursor.element_namespace_is(&first, uri));
                    req.body = Some(parse_object(&mut cursor, &first, empty)?);
                    // Anything after the first element is ignored, as WinRM does.
                }
                return Ok(req);
            }
            _ => cursor.skip()?,
        }
    }
    Err(WsmanError::NotSoap("no s:Body".into()))
}

/// Starts a reply envelope with the header Windows sends.
pub fn reply_start(out: &mut String, action: &str, relates_to: Option<&str>) {
    let _ = write!(
        out,
        "<s:Envelope xml:lang=\"en-US\" xmlns:s=\"{}\" xmlns:a=\"{}\" xmlns:x=\"{}\" xmlns:w=\"{}\" xmlns:n=\"{}\" xmlns:p=\"{}\"><s:Header><a:Action>{}</a:Action><a:MessageID>uuid:{}</a:MessageID><a:To>{}</a:To>",
        ns::SOAP,
        ns::ADDRESSING,
        ns::TRANSFER,
        ns::WSMAN,
        ns::ENUMERATION,
        ns::MS_WSMAN,
        escape(action),
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_upper(&mut uuid::Uuid::encode_buffer()),
        ns::ANONYMOUS,
    );
    if let Some(r) = relates_to {
        let _ = write!(out, "<a:RelatesTo>{}</a:RelatesTo>", escape(r));
    }
    out.push_str("</s:Header><s:Body>");
}

/// Ends a reply envelope.
pub fn reply_end(out: &mut String) {
    out.push_str("</s:Body></s:Envelope>");
}

/// A method's reply: `<p:Method_OUTPUT xmlns:p="resource">` with the given (already escaped)
/// children, the prefix `p` rebound as Windows does.
pub fn invoke_reply(
    resource_uri: &str,
    method: &str,
    relates_to: Option<&str>,
    children: &str,
) -> String {
    let mut out = String::with_capacity(1024 + children.len());
    reply_start(
        &mut out,
        &format!("{resource_uri}/{method}Response"),
        relates_to,
    );
    let _ = write!(
        out,
        "<p:{method}_OUTPUT xmlns:xsi=\"{}\" xmlns:p=\"{}\" xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\">{children}</p:{method}_OUTPUT>",
        ns::XSI,
        escape(resource_uri)
    );
    reply_end(&mut out);
    out
}

/// What a simulated fault carries, in Windows' shape (MS-WSMV §2.2.4.43).
#[derive(Clone, Debug)]
pub struct FaultSpec<'a> {
    /// `Sender` or `Receiver`.
    pub code: &'a str,
    /// Subcode QName with its prefix (`w:AccessDenied`, `a:DestinationUnreachable`).
    pub subcode: &'a str,
    /// `s:Reason/s:Text`.
    pub reason: &'a str,
    /// `w:FaultDetail`, if any: the detail's name after [`codes::FAULT_DETAIL`]
    /// (`InvalidValue`).
    ///
    /// [`codes::FAULT_DETAIL`]: super::codes::FAULT_DETAIL
    pub fault_detail: Option<&'a str>,
    /// `WSManFault@Code`.
    pub wsman_code: u32,
    /// `WSManFault@Machine`.
    pub machine: &'a str,
    /// A provider fault nested in the message: provider name and its inner message.
    pub provider: Option<(&'a str, &'a str)>,
}

/// A fault reply (sent with HTTP 500).
pub fn fault_reply(relates_to: Option<&str>, f: &FaultSpec<'_>) -> String {
    let mut out = String::with_capacity(2048);
    reply_start(
        &mut out,
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
        relates_to,
    );
    let _ = write!(
        out,
        "<s:Fault><s:Code><s:Value>s:{}</s:Value><s:Subcode><s:Value>{}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{}</s:Text></s:Reason><s:Detail>",
        escape(f.code),
        escape(f.subcode),
        escape(f.reason)
    );
    if let Some(d) = f.fault_detail {
        let _ = write!(
            out,
            "<w:FaultDetail>{}{}</w:FaultDetail>",
            super::codes::FAULT_DETAIL,
            escape(d)
        );
    }
    let _ = write!(
        out,
        "<f:WSManFault xmlns:f=\"{}\" Code=\"{}\" Machine=\"{}\"><f:Message>",
        ns::WSMAN_FAULT,
        f.wsman_code,
        escape(f.machine)
    );
    match f.provider {
        Some((provider, inner)) => {
            let _ = write!(
                out,
                "<f:ProviderFault provider=\"{}\" path=\"%systemroot%\\system32\\WsmWmiPl.dll\"><f:WSManFault xmlns:f=\"{}\" Code=\"{}\" Machine=\"{}\"><f:Message>{}</f:Message></f:WSManFault></f:ProviderFault>",
                escape(provider),
                ns::WSMAN_FAULT,
                f.wsman_code,
                escape(f.machine),
                escape(inner)
            );
        }
        None => out.push_str(&escape(f.reason)),
    }
    out.push_str("</f:Message></f:WSManFault></s:Detail></s:Fault>");
    reply_end(&mut out);
    out
}

/// An instance element `<p:Class xmlns:p="uri">` with text properties (`None` = `xsi:nil`).
pub fn instance_xml(
    resource_uri: &str,
    class: &str,
    properties: &[(&str, Option<String>)],
) -> String {
    let mut out = format!(
        "<p:{class} xmlns:p=\"{}\" xmlns:xsi=\"{}\" xsi:type=\"p:{class}_Type\">",
        escape(resource_uri),
        ns::XSI
    );
    for (name, value) in properties {
        match value {
            Some(v) => {
                let _ = write!(out, "<p:{name}>{}</p:{name}>", escape(v));
            }
            None => {
                let _ = write!(out, "<p:{name} xsi:nil=\"true\"/>");
            }
        }
    }
    let _ = write!(out, "</p:{class}>");
    out
}

/// An optimized EnumerateResponse (all items, `w:EndOfSequence`), or with `context`, an
/// EnumerateResponse that only hands out the context.
pub fn enumerate_reply(
    relates_to: Option<&str>,
    items: &[String],
    context: Option<&str>,
) -> String {
    let mut out = String::with_capacity(1024 + items.iter().map(String::len).sum::<usize>());
    reply_start(
        &mut out,
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse",
        relates_to,
    );
    out.push_str("<n:EnumerateResponse>");
    match context {
        Some(c) => {
            let _ = write!(
                out,
                "<n:EnumerationContext>{}</n:EnumerationContext>",
                escape(c)
            );
        }
        None => {
            out.push_str("<w:Items>");
            for i in items {
                out.push_str(i);
            }
            out.push_str("</w:Items><w:EndOfSequence/>");
        }
    }
    out.push_str("</n:EnumerateResponse>");
    reply_end(&mut out);
    out
}

/// A PullResponse with every item and `n:EndOfSequence`.
pub fn pull_reply(relates_to: Option<&str>, items: &[String]) -> String {
    let mut out = String::with_capacity(1024 + items.iter().map(String::len).sum::<usize>());
    reply_start(
        &mut out,
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse",
        relates_to,
    );
    out.push_str("<n:PullResponse><n:Items>");
    for i in items {
        out.push_str(i);
    }
    out.push_str("</n:Items><n:EndOfSequence/></n:PullResponse>");
    reply_end(&mut out);
    out
}

/// A ReleaseResponse (an empty body).
pub fn release_reply(relates_to: Option<&str>) -> String {
    let mut out = String::with_capacity(1024);
    reply_start(
        &mut out,
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse",
        relates_to,
    );
    reply_end(&mut out);
    out
}

/// A GetResponse carrying one instance.
pub fn get_reply(relates_to: Option<&str>, instance: &str) -> String {
    let mut out = String::with_capacity(1024 + instance.len());
    reply_start(
        &mut out,
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse",
        relates_to,
    );
    out.push_str(instance);
    reply_end(&mut out);
    out
}

/// The Identify reply Windows Server 2022 sends.
pub fn identify_reply() -> String {
    format!(
        "<s:Envelope xmlns:s=\"{}\" xml:lang=\"en-US\"><s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid=\"{}\"><wsmid:ProtocolVersion>{}</wsmid:ProtocolVersion><wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor><wsmid:ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:ProductVersion><wsmid:SecurityProfiles><wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos</wsmid:SecurityProfileName></wsmid:SecurityProfiles></wsmid:IdentifyResponse></s:Body></s:Envelope>",
        ns::SOAP,
        ns::IDENTITY,
        ns::WSMAN
    )
}
