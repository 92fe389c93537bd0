//! Reading WS-Management replies: decoding, the envelope walk, and one parser per operation.

use std::borrow::Cow;

use serde::Serialize;

use super::WsmanError;
use super::cim::{CimObject, parse_object};
use super::cursor::{Cursor, Ev, Ns, Tag};
use super::fault::parse_fault;
use super::request::{Operation, Request};

/// Largest reply accepted, in bytes: twice the largest `MaxEnvelopeSize` we would ask for
/// (500 KiB, the Windows default ceiling) to allow for UTF-16.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The WS-Addressing headers of a reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplyHeader {
    /// `a:Action`.
    pub action: Option<String>,
    /// `a:MessageID`.
    pub message_id: Option<String>,
    /// `a:RelatesTo`.
    pub relates_to: Option<String>,
}

/// Decodes a reply body: UTF-8 (with or without BOM) or UTF-16 (LE/BE, with or without BOM),
/// refusing anything larger than [`MAX_REPLY_BYTES`].
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, WsmanError> {
    if bytes.len() > MAX_REPLY_BYTES {
        return Err(WsmanError::TooLarge {
            len: bytes.len(),
            limit: MAX_REPLY_BYTES,
        });
    }
    fn utf16(b: &[u8], be: bool) -> Result<Cow<'static, str>, WsmanError> {
        if b.len() % 2 != 0 {
            return Err(WsmanError::Encoding("UTF-16"));
        }
        let units = b.chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(Cow::Owned)
            .map_err(|_| WsmanError::Encoding("UTF-16"))
    }
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|_| WsmanError::Encoding("UTF-8")),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        [b'<', 0, ..] => utf16(bytes, false),
        [0, b'<', ..] => utf16(bytes, true),
        _ => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| WsmanError::Encoding("UTF-8")),
    }
}

/// Walks a reply envelope: reads the header, checks `RelatesTo` against `request`, turns a
/// `s:Fault` into [`WsmanError::Fault`], and hands the body's first element (or `None` for an
/// empty body) to `body`.
pub(crate) fn parse_envelope<T>(
    xml: &str,
    target: Option<&str>,
    request: Option<&Request>,
    body: impl FnOnce(&mut Cursor<'_, '_>, Option<(Tag<'_>, bool)>) -> Result<T, WsmanError>,
) -> Result<(ReplyHeader, T), WsmanError> {
    let mut cursor = Cursor::new(xml, target);
    // The root element.
    loop {
        match cursor.next()? {
            Ev::Start(t) if t.is(Ns::Soap, "Envelope") => break,
            Ev::Start(t) | Ev::Empty(t) => {
                return Err(WsmanError::NotSoap(format!(
                    "root element is {:?}",
                    super::scan::short(t.local())
                )));
            }
            Ev::Text(t) if t.trim().is_empty() => {}
            Ev::Text(_) => return Err(WsmanError::NotSoap("text before the root element".into())),
            Ev::End | Ev::Eof => return Err(WsmanError::NotSoap("empty document".into())),
        }
    }
    let mut header = ReplyHeader::default();
    loop {
        let Some((tag, empty)) = cursor.child()? else {
            return Err(WsmanError::NotSoap("no s:Body".into()));
        };
        match (tag.ns, tag.local()) {
            (Ns::Soap, "Header") if !empty => {
                while let Some((h, empty)) = cursor.child()? {
                    if empty {
                        continue;
                    }
                    let slot = match (h.ns, h.local()) {
                        (Ns::Addressing, "Action") => &mut header.action,
                        (Ns::Addressing, "MessageID") => &mut header.message_id,
                        (Ns::Addressing, "RelatesTo") => &mut header.relates_to,
                        _ => {
                            cursor.skip()?;
                            continue;
                        }
                    };
                    let mut text = cursor.text()?;
                    let trimmed = text.trim();
                    if trimmed.len() != text.len() {
                        text = trimmed.to_string();
                    }
                    *slot = Some(text);
                }
            }
            (Ns::Soap, "Body") => {
                let expected = request.and_then(|r| r.message_id);
                if let (Some(expected), Some(got)) = (expected, header.relates_to.as_deref())
                    && !expected.matches(got)
                {
                    return Err(WsmanError::RelatesToMismatch {
                        expected: expected.to_string(),
                        got: got.to_string(),
                    });
                }
                let first = if empty { None } else { cursor.child()? };
                if let Some((t, false)) = &first
                    && t.is(Ns::Soap, "Fault")
                {
                    return Err(WsmanError::Fault(Box::new(parse_fault(&mut cursor)?)));
                }
                if let (Some(expected), None) = (expected, &header.relates_to) {
                    return Err(WsmanError::MissingRelatesTo {
                        expected: expected.to_string(),
                    });
                }
                let value = body(&mut cursor, first)?;
                return Ok((header, value));
            }
            _ if empty => {}
            _ => cursor.skip()?,
        }
    }
}

pub(crate) fn expect_body<'x>(
    first: Option<(Tag<'x>, bool)>,
    expected: &str,
    ok: impl Fn(&Tag<'_>) -> bool,
) -> Result<(Tag<'x>, bool), WsmanError> {
    match first {
        Some((t, empty)) if ok(&t) => Ok((t, empty)),
        Some((t, _)) => Err(WsmanError::UnexpectedBody {
            expected: expected.to_string(),
            found: super::scan::short(t.local()).to_string(),
        }),
        None => Err(WsmanError::UnexpectedBody {
            expected: expected.to_string(),
            found: "an empty body".into(),
        }),
    }
}

/// The service's answer to Identify.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentifyResponse {
    /// `ProtocolVersion` (the DMTF WS-Management namespace).
    pub protocol_version: String,
    /// `ProductVendor` ("Microsoft Corporation").
    pub product_vendor: String,
    /// `ProductVersion` ("OS: 10.0.20348 SP: 0.0 Stack: 3.0").
    pub product_version: String,
}

/// Parses the reply to Identify.
pub fn parse_identify(bytes: &[u8]) -> Result<IdentifyResponse, WsmanError> {
    let xml = decode(bytes)?;
    let (_, out) = parse_envelope(&xml, None, None, |cursor, first| {
        let (tag, empty) = expect_body(first, "wsmid:IdentifyResponse", |t| {
            t.is(Ns::Identity, "IdentifyResponse")
        })?;
        let mut out = IdentifyResponse::default();
        if !empty {
            while let Some((t, empty)) = cursor.child()? {
                let slot = match (t.ns, t.local(), empty) {
                    (_, _, true) => continue,
                    (Ns::Identity, "ProtocolVersion", _) => &mut out.protocol_version,
                    (Ns::Identity, "ProductVendor", _) => &mut out.product_vendor,
                    (Ns::Identity, "ProductVersion", _) => &mut out.product_version,
                    _ => {
                        cursor.skip()?;
                        continue;
                    }
                };
                *slot = cursor.text()?.trim().to_string();
            }
        }
        let _ = tag;
        Ok(out)
    })?;
    Ok(out)
}

/// One page of an enumeration (the Enumerate response, or a Pull response).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnumerationPage {
    /// The items.
    pub items: Vec<CimObject>,
    /// The context for the next Pull; `None` once the sequence has ended.
    pub context: Option<String>,
    /// `EndOfSequence` was present.
    pub end_of_sequence: bool,
}

/// Parses the reply to Enumerate or Pull.
pub fn parse_enumeration(bytes: &[u8], request: &Request) -> Result<EnumerationPage, WsmanError> {
    let xml = decode(bytes)?;
    let target = Some(request.resource_uri.as_str());
    let (_, page) = parse_envelope(&xml, target, Some(request), |cursor, first| {
        let expected = match request.operation {
            Operation::Pull => "PullResponse",
            _ => "EnumerateResponse",
        };
        let (_, empty) = expect_body(first, expected, |t| t.is(Ns::Enumeration, expected))?;
        let mut page = EnumerationPage {
            items: Vec::new(),
            context: None,
            end_of_sequence: false,
        };
        if empty {
            return Ok(page);
        }
        while let Some((t, empty)) = cursor.child()? {
            match (t.ns, t.local()) {
                (Ns::Enumeration, "EnumerationContext") if !empty => {
                    let c = cursor.text()?.trim().to_string();
                    page.context = (!c.is_empty()).then_some(c);
                }
                (Ns::Wsman | Ns::Enumeration, "Items") if !empty => {
                    while let Some((item, empty)) = cursor.child()? {
                        if item.is(Ns::Wsman, "Item") && !empty {
                            // EnumerateObjectAndEPR: the object, then its EPR.
                            while let Some((inner, empty)) = cursor.child()? {
                                if inner.is(Ns::Addressing, "EndpointReference") {
                                    if !empty {
                                        cursor.skip()?;
                                    }
                                } else {
                                    page.items.push(parse_object(cursor, &inner, empty)?);
                                }
                            }
                        } else {
                            page.items.push(parse_object(cursor, &item, empty)?);
                        }
                    }
                }
                (Ns::Wsman | Ns::Enumeration, "EndOfSequence") => {
                    page.end_of_sequence = true;
                    if !empty {
                        cursor.skip()?;
                    }
                }
                _ if !empty => cursor.skip()?,
                _ => {}
            }
        }
        if page.end_of_sequence {
            page.context = None;
        }
        Ok(page)
    })?;
    Ok(page)
}

/// Parses the reply to Get: the instance.
pub fn parse_get(bytes: &[u8], request: &Request) -> Result<CimObject, WsmanError> {
    let xml = decode(bytes)?;
    let (_, object) = parse_envelope(
        &xml,
        Some(&request.resource_uri),
        Some(request),
        |cursor, first| {
            let (tag, empty) = expect_body(first, "an instance", |_| true)?;
            parse_object(cursor, &tag, empty)
        },
    )?;
    Ok(object)
}

/// Parses the reply to Invoke: the `<Method>_OUTPUT` element, in the class's namespace.
pub fn parse_invoke(bytes: &[u8], request: &Request) -> Result<CimObject, WsmanError> {
    let Operation::Invoke(method) = &request.operation else {
        return Err(WsmanError::UnexpectedBody {
            expected: "an Invoke request".into(),
            found: format!("{:?}", request.operation),
        });
    };
    let xml = decode(bytes)?;
    let output = format!("{method}_OUTPUT");
    let (_, object) = parse_envelope(
        &xml,
        Some(&request.resource_uri),
        Some(request),
        |cursor, first| {
            let (tag, empty) = expect_body(first, &output, |t| t.is(Ns::Target, &output))?;
            parse_object(cursor, &tag, empty)
        },
    )?;
    Ok(object)
}
