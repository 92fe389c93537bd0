//! SOAP faults as WinRM sends them (MS-WSMV §2.2.4.43), with everything they carry.

use std::fmt;

use serde::Serialize;

use super::WsmanError;
use super::cim::{CimObject, parse_object};
use super::cursor::{Cursor, Ev, MAX_DEPTH, Ns, Tag};

/// A SOAP 1.2 fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// `s:Code/s:Value` local name: `Sender` or `Receiver`.
    pub code: String,
    /// `s:Code/s:Subcode/s:Value` local name, e.g. `TimedOut`, `AccessDenied`, `InvalidSelectors`.
    pub subcode: Option<String>,
    /// The subcode's namespace URI, when it is one of the WS-Management namespaces.
    pub subcode_namespace: Option<&'static str>,
    /// `s:Reason/s:Text`.
    pub reason: String,
    /// `w:FaultDetail` URI, e.g. `.../faultDetail/InvalidValue`.
    pub fault_detail: Option<String>,
    /// Microsoft's `f:WSManFault` detail, with its nested provider faults.
    pub wsman_fault: Option<WsmanFault>,
    /// The CIM error (`MSFT_WmiError`) the MI stack puts in the detail instead.
    pub wmi_error: Option<CimObject>,
}

/// `f:WSManFault`: a Win32/HRESULT code, the machine, and the message with provider faults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WsmanFault {
    /// `Code` attribute (decimal on the wire; Win32 error or HRESULT).
    pub code: Option<u32>,
    /// `Machine` attribute.
    pub machine: Option<String>,
    /// The message text (outside any provider fault), trimmed.
    pub message: String,
    /// `f:ProviderFault` elements inside the message.
    pub provider_faults: Vec<ProviderFault>,
}

/// `f:ProviderFault`: what the WMI or shell plugin reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderFault {
    /// `provider` attribute.
    pub provider: Option<String>,
    /// `path` attribute (the plugin DLL).
    pub path: Option<String>,
    /// `providerId` attribute.
    pub provider_id: Option<String>,
    /// Text directly inside, trimmed.
    pub message: String,
    /// A nested `f:WSManFault`.
    pub inner: Option<Box<WsmanFault>>,
    /// `f:ExtendedError/__ExtendedStatus` (WMI's extended status object).
    pub extended_status: Option<CimObject>,
}

/// What a fault means, for programs deciding what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The account may not do this (not a local administrator, or WinRM SDDL).
    AccessDenied,
    /// The class, instance or resource does not exist.
    NotFound,
    /// The selectors do not name an instance.
    InvalidSelectors,
    /// The operation did not finish within OperationTimeout.
    TimedOut,
    /// A WinRM quota was exceeded (concurrent operations, shells, ...).
    QuotaExceeded,
    /// The envelope or reply exceeds MaxEnvelopeSize.
    EnvelopeTooLarge,
    /// A parameter or value was rejected.
    InvalidParameter,
    /// Any other fault.
    Other,
}

/// WSManFault codes (decimal on the wire) and WMI HRESULTs that carry a meaning of their own
/// (MS-WSMV §2.2.4.43, winerror.h, wbemcli.h): the one table the parser and the simulator share.
pub mod codes {
    /// `ERROR_ACCESS_DENIED`.
    pub const ERROR_ACCESS_DENIED: u32 = 5;
    /// `ERROR_INVALID_PARAMETER`.
    pub const ERROR_INVALID_PARAMETER: u32 = 87;
    /// `ERROR_WSMAN_CANNOT_PROCESS_FILTER`.
    pub const WSMAN_CANNOT_PROCESS_FILTER: u32 = 0x8033_801A;
    /// `ERROR_WSMAN_INVALID_MESSAGE_INFORMATION_HEADER` (a missing or empty MessageID).
    pub const WSMAN_INVALID_MESSAGE_INFORMATION_HEADER: u32 = 0x8033_800F;
    /// `ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT`.
    pub const WSMAN_INVALID_ENUMERATION_CONTEXT: u32 = 0x8033_801B;
    /// `ERROR_WSMAN_OPERATION_TIMEDOUT`.
    pub const WSMAN_TIMED_OUT: u32 = 0x8033_8029;
    /// `ERROR_WSMAN_ENCODING_LIMIT` (the reply exceeds MaxEnvelopeSize).
    pub const WSMAN_ENCODING_LIMIT: u32 = 0x8033_8030;
    /// `ERROR_WSMAN_ACTION_NOT_SUPPORTED`.
    pub const WSMAN_ACTION_NOT_SUPPORTED: u32 = 0x8033_8054;
    /// `ERROR_WSMAN_INVALID_SELECTORS`.
    pub const WSMAN_INVALID_SELECTORS: u32 = 0x8033_805B;
    /// `ERROR_WSMAN_QUOTA_MAX_OPERATIONS_USER`.
    pub const WSMAN_QUOTA_OPERATIONS: u32 = 0x8033_81A4;
    /// `ERROR_WSMAN_QUOTA_MAX_SHELLS`.
    pub const WSMAN_QUOTA_SHELLS: u32 = 0x8033_81A5;
    /// `WBEM_E_NOT_FOUND`.
    pub const WBEM_E_NOT_FOUND: u32 = 0x8004_1002;
    /// `WBEM_E_ACCESS_DENIED`.
    pub const WBEM_E_ACCESS_DENIED: u32 = 0x8004_1003;
    /// `WBEM_E_INVALID_NAMESPACE`.
    pub const WBEM_E_INVALID_NAMESPACE: u32 = 0x8004_100E;
    /// `WBEM_E_INVALID_CLASS`.
    pub const WBEM_E_INVALID_CLASS: u32 = 0x8004_1010;

    /// Prefix of the `w:FaultDetail` URIs (DSP0226 §14).
    pub const FAULT_DETAIL: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/";
}

use codes::*;

impl Fault {
    /// Every WSManFault code in the fault, outermost first.
    pub fn codes(&self) -> Vec<u32> {
        fn walk(f: &WsmanFault, out: &mut Vec<u32>) {
            out.extend(f.code);
            for p in &f.provider_faults {
                if let Some(inner) = &p.inner {
                    walk(inner, out);
                }
            }
        }
        let mut out = Vec::new();
        if let Some(f) = &self.wsman_fault {
            walk(f, &mut out);
        }
        if let Some(Ok(code)) = self
            .wmi_error
            .as_ref()
            .map(|e| e.parse::<u32>("error_Code"))
        {
            out.push(code);
        }
        out
    }

    /// The most specific message: the innermost WSManFault's, else the outer one's, else the
    /// CIM error's, else the reason.
    pub fn message(&self) -> &str {
        fn innermost(f: &WsmanFault) -> Option<&str> {
            for p in &f.provider_faults {
                if let Some(m) = p.inner.as_deref().and_then(innermost) {
                    return Some(m);
                }
                if !p.message.is_empty() {
                    return Some(&p.message);
                }
            }
            (!f.message.is_empty()).then_some(f.message.as_str())
        }
        self.wsman_fault
            .as_ref()
            .and_then(innermost)
            .or_else(|| self.wmi_error.as_ref().and_then(|e| e.text("Message")))
            .unwrap_or(self.reason.trim())
    }

    /// What the fault means.
    pub fn kind(&self) -> FaultKind {
        let codes = self.codes();
        let has = |c: u32| codes.contains(&c);
        let detail = self.fault_detail.as_deref().unwrap_or_default();
        match self.subcode.as_deref() {
            Some("AccessDenied") => return FaultKind::AccessDenied,
            Some("TimedOut") => return FaultKind::TimedOut,
            Some("InvalidSelectors") => return FaultKind::InvalidSelectors,
            Some("QuotaLimit") => return FaultKind::QuotaExceeded,
            Some("EncodingLimit") if detail.ends_with("MaxEnvelopeSize") || detail.is_empty() => {
                return FaultKind::EnvelopeTooLarge;
            }
            Some("DestinationUnreachable") => return FaultKind::NotFound,
            _ => {}
        }
        if has(ERROR_ACCESS_DENIED) || has(WBEM_E_ACCESS_DENIED) {
            FaultKind::AccessDenied
        } else if has(WSMAN_TIMED_OUT) {
            FaultKind::TimedOut
        } else if has(WSMAN_INVALID_SELECTORS) {
            FaultKind::InvalidSelectors
        } else if has(WSMAN_QUOTA_SHELLS) || has(WSMAN_QUOTA_OPERATIONS) {
            FaultKind::QuotaExceeded
        } else if has(WBEM_E_INVALID_CLASS)
            || has(WBEM_E_NOT_FOUND)
            || has(WBEM_E_INVALID_NAMESPACE)
            || has(WSMAN_CANNOT_PROCESS_FILTER)
        {
            FaultKind::NotFound
        } else if detail.ends_with("MaxEnvelopeSize") {
            FaultKind::EnvelopeTooLarge
        } else if matches!(self.subcode.as_deref(), Some("InvalidParameter"))
            || has(ERROR_INVALID_PARAMETER)
        {
            FaultKind::InvalidParameter
        } else {
            FaultKind::Other
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WS-Management fault {}", self.code)?;
        if let Some(sub) = &self.subcode {
            write!(f, "/{sub}")?;
        }
        if let Some(w) = &self.wsman_fault {
            if let Some(code) = w.code {
                write!(f, " (code 0x{code:08X}")?;
                match w.machine.as_deref() {
                    Some(m) if !m.is_empty() => write!(f, " on {m})")?,
                    _ => write!(f, ")")?,
                }
            }
        }
        write!(f, ": {}", self.message().trim())
    }
}

/// Parses `s:Fault`, whose start tag was just read.
pub(crate) fn parse_fault(cursor: &mut Cursor<'_, '_>) -> Result<Fault, WsmanError> {
    let mut fault = Fault {
        code: String::new(),
        subcode: None,
        subcode_namespace: None,
        reason: String::new(),
        fault_detail: None,
        wsman_fault: None,
        wmi_error: None,
    };
    while let Some((tag, empty)) = cursor.child()? {
        if empty {
            continue;
        }
        match (tag.ns, tag.local()) {
            (Ns::Soap, "Code") => parse_code(cursor, &mut fault)?,
            (Ns::Soap, "Reason") => {
                while let Some((t, empty)) = cursor.child()? {
                    if empty {
                        continue;
                    }
                    if t.is(Ns::Soap, "Text") && fault.reason.is_empty() {
                        fault.reason = cursor.text()?;
                    } else {
                        cursor.skip()?;
                    }
                }
            }
            (Ns::Soap, "Detail") => {
                while let Some((t, empty)) = cursor.child()? {
                    match (t.ns, t.local(), empty) {
                        (_, _, true) => {}
                        (Ns::Wsman, "FaultDetail", _) => {
                            fault.fault_detail = Some(cursor.text()?.trim().to_string())
                        }
                        (Ns::Fault, "WSManFault", _) => {
                            fault.wsman_fault = Some(parse_wsman_fault(cursor, &t, 0)?)
                        }
                        (_, "MSFT_WmiError", _) => {
                            fault.wmi_error = Some(parse_object(cursor, &t, false)?)
                        }
                        _ => cursor.skip()?,
                    }
                }
            }
            _ => cursor.skip()?,
        }
    }
    Ok(fault)
}

fn parse_code(cursor: &mut Cursor<'_, '_>, fault: &mut Fault) -> Result<(), WsmanError> {
    while let Some((t, empty)) = cursor.child()? {
        if empty {
            continue;
        }
        match (t.ns, t.local()) {
            (Ns::Soap, "Value") => {
                let text = cursor.text()?;
                let (_, local) = cursor.resolve_qname(text.trim());
                fault.code = local.to_string();
            }
            (Ns::Soap, "Subcode") => {
                while let Some((s, empty)) = cursor.child()? {
                    if empty {
                        continue;
                    }
                    if s.is(Ns::Soap, "Value") && fault.subcode.is_none() {
                        let text = cursor.text()?;
                        let (ns, local) = cursor.resolve_qname(text.trim());
                        fault.subcode = Some(local.to_string());
                        fault.subcode_namespace = ns.uri();
                    } else {
                        cursor.skip()?;
                    }
                }
            }
            _ => cursor.skip()?,
        }
    }
    Ok(())
}

fn parse_wsman_fault(
    cursor: &mut Cursor<'_, '_>,
    tag: &Tag<'_>,
    depth: usize,
) -> Result<WsmanFault, WsmanError> {
    if depth > MAX_DEPTH {
        return Err(WsmanError::xml(0, "WSManFault nested too deeply"));
    }
    let mut out = WsmanFault {
        code: tag.attr("Code")?.and_then(|c| c.trim().parse().ok()),
        machine: tag.attr("Machine")?,
        message: String::new(),
        provider_faults: Vec::new(),
    };
    while let Some((t, empty)) = cursor.child()? {
        if t.is(Ns::Fault, "Message") && !empty {
            let mut text = String::new();
            loop {
                match cursor.next()? {
                    Ev::Text(s) => text.push_str(&s),
                    Ev::Start(p) if p.is(Ns::Fault, "ProviderFault") => {
                        out.provider_faults
                            .push(parse_provider_fault(cursor, &p, depth)?);
                    }
                    Ev::Start(_) => cursor.skip()?,
                    Ev::Empty(p) if p.is(Ns::Fault, "ProviderFault") => {
                        out.provider_faults.push(provider_fault_attrs(&p)?);
                    }
                    Ev::Empty(_) => {}
                    Ev::End => break,
                    Ev::Eof => return Err(cursor.unexpected_eof()),
                }
            }
            out.message = text.trim().to_string();
        } else if !empty {
            cursor.skip()?;
        }
    }
    Ok(out)
}

fn provider_fault_attrs(tag: &Tag<'_>) -> Result<ProviderFault, WsmanError> {
    Ok(ProviderFault {
        provider: tag.attr("provider")?,
        path: tag.attr("path")?,
        provider_id: tag.attr("providerId")?,
        message: String::new(),
        inner: None,
        extended_status: None,
    })
}

fn parse_provider_fault(
    cursor: &mut Cursor<'_, '_>,
    tag: &Tag<'_>,
    depth: usize,
) -> Result<ProviderFault, WsmanError> {
    let mut out = provider_fault_attrs(tag)?;
    let mut text = String::new();
    loop {
        match cursor.next()? {
            Ev::Text(s) => text.push_str(&s),
            Ev::Start(t) if t.is(Ns::Fault, "WSManFault") => {
                out.inner = Some(Box::new(parse_wsman_fault(cursor, &t, depth + 1)?));
            }
            Ev::Start(t) if t.is(Ns::Fault, "ExtendedError") => {
                while let Some((obj, empty)) = cursor.child()? {
                    let parsed = parse_object(cursor, &obj, empty)?;
                    out.extended_status.get_or_insert(parsed);
                }
            }
            Ev::Start(_) => cursor.skip()?,
            Ev::Empty(_) => {}
            Ev::End => break,
            Ev::Eof => return Err(cursor.unexpected_eof()),
        }
    }
    out.message = text.trim().to_string();
    Ok(out)
}
