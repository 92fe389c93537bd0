//! Namespace URIs of WS-Management as WinRM uses them.

/// SOAP 1.2 envelope.
pub const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (2004/08), as WinRM uses it.
pub const ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Enumeration.
pub const ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/// WS-Transfer.
pub const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/// DMTF WS-Management (DSP0226).
pub const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// Microsoft's WS-Management extensions (MS-WSMV): DataLocale, SessionId, ...
pub const MS_WSMAN: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
/// WS-Management Identify (DSP0226 §11).
pub const IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// Microsoft's fault detail (`WSManFault`, MS-WSMV §2.2.4.43).
pub const WSMAN_FAULT: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
/// XML Schema instance (`xsi:nil`, `xsi:type`).
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The anonymous reply address.
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
/// Prefix of WMI class resource URIs: append `<namespace with / separators>/<Class>`.
pub const WMI_PREFIX: &str = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";
/// WQL filter dialect.
pub const WQL: &str = "http://schemas.microsoft.com/wbem/wsman/1/WQL";
