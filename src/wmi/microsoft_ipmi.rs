//! The `root/wmi:Microsoft_IPMI` class over WS-Management: finding the instance, and
//! `RequestResponse` carrying one raw IPMI request.

use serde::Serialize;

use super::WmiError;
use crate::ipmi::{CompletionCode, DEFAULT_BMC_ADDRESS, RawRequest, RawResponse};
use crate::wsman::cursor::Ns;
use crate::wsman::response::{decode, expect_body, parse_envelope};
use crate::wsman::{
    CimObject, EnumerateOptions, InvokeTemplate, MessageId, Request, RequestContext, WsmanError,
};

/// The class's resource URI.
pub const RESOURCE_URI: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/wmi/Microsoft_IPMI";
/// The method.
pub const METHOD: &str = "RequestResponse";
/// The `InstanceName` Windows gives the driver's instance on most servers.
pub const DEFAULT_INSTANCE_NAME: &str = "ROOT\\SYSTEM\\0001_0";

/// A `Microsoft_IPMI` instance: the driver's handle on one BMC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpmiInstance {
    /// The WMI key, e.g. `ROOT\SYSTEM\0001_0`; the selector of every invocation.
    pub instance_name: String,
    /// `Active`.
    pub active: bool,
    /// `BMCAddress`: the BMC's IPMB slave address, the default responder address.
    pub bmc_address: u8,
}

impl IpmiInstance {
    /// An active instance with this `InstanceName` and BMC address.
    pub fn new(instance_name: impl Into<String>, bmc_address: u8) -> Self {
        IpmiInstance {
            instance_name: instance_name.into(),
            active: true,
            bmc_address,
        }
    }

    /// Reads an enumerated instance.
    pub fn from_object(object: &CimObject) -> Result<Self, WsmanError> {
        let instance_name = object
            .text("InstanceName")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WsmanError::MissingProperty("InstanceName".into()))?
            .to_string();
        let active = match object.text("Active") {
            None => true,
            Some(_) => object.parse::<bool>("Active")?,
        };
        // A missing or nil BMCAddress means the BMC's usual IPMB address.
        let bmc_address = match object.text("BMCAddress").map(str::trim) {
            None | Some("") => {
                tracing::debug!(
                    instance = %instance_name,
                    "Microsoft_IPMI has no BMCAddress; using 0x20"
                );
                DEFAULT_BMC_ADDRESS
            }
            Some(_) => object.parse("BMCAddress")?,
        };
        Ok(IpmiInstance {
            instance_name,
            active,
            bmc_address,
        })
    }

    /// The instance to use among those enumerated: the first active one, else the first.
    pub fn choose(items: &[CimObject]) -> Result<Option<Self>, WsmanError> {
        let instances = items
            .iter()
            .map(IpmiInstance::from_object)
            .collect::<Result<Vec<_>, _>>()?;
        let active = instances.iter().position(|i| i.active).unwrap_or(0);
        Ok(instances.into_iter().nth(active))
    }
}

/// How a zero-length `RequestData` goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EmptyRequestData {
    /// The element is left out.
    Omitted,
    /// `<p:RequestData xsi:nil="true"/>`.
    #[allow(dead_code)] // the switch's other position, for a field report to flip to
    Nil,
}

/// No capture shows what Windows' WMI provider wants for a request without data (Get Device ID
/// and most Get commands). COM callers pass an empty `uint8[]`; WS-Management has no empty-array
/// form, and DSP0230 writes an empty array as no element at all, which is also what a null array
/// becomes when the provider reads it back as "no data". We therefore omit the element (with
/// `RequestDataSize` 0). If a field report shows a provider that wants the nil form, flip this
/// one switch.
const EMPTY_REQUEST_DATA: EmptyRequestData = EmptyRequestData::Omitted;

/// Enumerate request for the class's instances.
pub fn enumerate_instances(ctx: &RequestContext, id: MessageId) -> Request {
    ctx.enumerate(RESOURCE_URI, &EnumerateOptions::default(), id)
}

/// The `RequestResponse` invocation for `request` on `instance`: see [`RequestResponseMethod`],
/// which a client keeps per instance instead of writing the constant parts each time.
pub fn request_response(
    ctx: &RequestContext,
    instance: &IpmiInstance,
    request: &RawRequest,
    id: MessageId,
) -> Request {
    RequestResponseMethod::new(ctx, instance).request(request, id)
}

/// `RequestResponse` on one instance, with the envelope's constant parts (context, resource,
/// selector) written once ([`InvokeTemplate`]). Parameters go in the MOF's order
/// (NetworkFunction, Lun, ResponderAddress, Command, RequestDataSize, RequestData), values in
/// decimal, `RequestData` one element per byte and omitted when empty.
#[derive(Clone, Debug)]
pub struct RequestResponseMethod {
    template: InvokeTemplate,
    bmc_address: u8,
}

impl RequestResponseMethod {
    /// The method on `instance`, as `ctx` sends it.
    pub fn new(ctx: &RequestContext, instance: &IpmiInstance) -> Self {
        let selectors = [("InstanceName", instance.instance_name.as_str())];
        RequestResponseMethod {
            template: ctx
                .invoke_template(RESOURCE_URI, METHOD, &selectors)
                .expect("the method name is a constant XML name"),
            bmc_address: instance.bmc_address,
        }
    }

    /// The invocation for `request`.
    pub fn request(&self, request: &RawRequest, id: MessageId) -> Request {
        self.template.request(id, |w| {
            w.scalar("NetworkFunction", request.netfn().request_byte());
            w.scalar("Lun", request.lun());
            w.scalar("ResponderAddress", request.responder_or(self.bmc_address));
            w.scalar("Command", request.cmd());
            w.scalar("RequestDataSize", request.data().len());
            match (request.data().is_empty(), EMPTY_REQUEST_DATA) {
                (false, _) => w.array("RequestData", request.data()),
                (true, EmptyRequestData::Nil) => w.null("RequestData"),
                (true, EmptyRequestData::Omitted) => {}
            }
        })
    }
}

/// Parses the reply to [`request_response`]: `CompletionCode`, `ResponseDataSize` and
/// `ResponseData` in any order (unknown elements and attributes ignored), split and
/// read liberally by [`MethodOutput::into_response`] (every disagreement logged).
///
/// This is the hot path of every IPMI request, so it reads the output parameters straight into
/// numbers instead of building a [`CimObject`].
pub fn parse_request_response(bytes: &[u8], request: &Request) -> Result<RawResponse, WmiError> {
    parse_method_output(bytes, request)?.into_response()
}

/// [`parse_request_response`], with every disagreement in the output an error
/// ([`MethodOutput::into_response_strict`]).
pub fn parse_request_response_strict(
    bytes: &[u8],
    request: &Request,
) -> Result<RawResponse, WmiError> {
    parse_method_output(bytes, request)?.into_response_strict()
}

/// The output parameters of a `RequestResponse` reply, as they came.
pub fn parse_method_output(bytes: &[u8], request: &Request) -> Result<MethodOutput, WmiError> {
    let xml = decode(bytes)?;
    let (_, (cc, size, data)) =
        parse_envelope(&xml, Some(RESOURCE_URI), Some(request), |cursor, first| {
            let (_, empty) = expect_body(first, "RequestResponse_OUTPUT", |t| {
                t.is(Ns::Target, "RequestResponse_OUTPUT")
            })?;
            let mut cc: Option<u8> = None;
            let mut size: Option<u32> = None;
            let mut data: Vec<u8> = Vec::new();
            let mut null_items = 0usize;
            let mut text = String::new();
            if !empty {
                while let Some((tag, empty)) = cursor.child()? {
                    if tag.ns != Ns::Target {
                        if !empty {
                            cursor.skip()?;
                        }
                        continue;
                    }
                    let name = match tag.local() {
                        n @ ("CompletionCode" | "ResponseDataSize" | "ResponseData") => n,
                        _ => {
                            if !empty {
                                cursor.skip()?;
                            }
                            continue;
                        }
                    };
                    let nil = cursor.is_nil(&tag)?;
                    if empty {
                        text.clear();
                    } else {
                        cursor.text_into(&mut text)?;
                    }
                    if nil {
                        if name == "ResponseData" {
                            null_items += 1;
                        }
                        continue;
                    }
                    let invalid = || WsmanError::InvalidValue {
                        property: name.to_string(),
                        value: text.clone(),
                    };
                    match name {
                        "CompletionCode" => cc = Some(text.trim().parse().map_err(|_| invalid())?),
                        "ResponseDataSize" => {
                            size = Some(text.trim().parse().map_err(|_| invalid())?)
                        }
                        _ => data.push(text.trim().parse().map_err(|_| invalid())?),
                    }
                }
            }
            // A null array is the element once with xsi:nil; a nil among items is malformed.
            if null_items > 1 || (null_items == 1 && !data.is_empty()) {
                return Err(WsmanError::InvalidValue {
                    property: "ResponseData".into(),
                    value: "xsi:nil item in an array".into(),
                });
            }
            Ok((cc, size, data))
        })?;
    Ok(MethodOutput {
        completion_code: cc,
        response_data_size: size,
        response_data: data,
    })
}

/// The output parameters of `RequestResponse`, as they came.
///
/// Windows returns the completion code as `ResponseData[0]` and counts it in `ResponseDataSize`
/// (Microsoft's IPMIPrv documentation: "Completion code is included in this size"); the
/// `CompletionCode` out-parameter repeats it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MethodOutput {
    /// `CompletionCode`.
    pub completion_code: Option<u8>,
    /// `ResponseDataSize`.
    pub response_data_size: Option<u32>,
    /// `ResponseData`, completion code first.
    pub response_data: Vec<u8>,
}

impl MethodOutput {
    /// The output Windows gives for `response`.
    pub fn from_response(response: &RawResponse) -> Self {
        let mut data = Vec::with_capacity(response.data.len() + 1);
        data.push(response.completion.byte());
        data.extend_from_slice(&response.data);
        MethodOutput {
            completion_code: Some(response.completion.byte()),
            response_data_size: Some(data.len() as u32),
            response_data: data,
        }
    }

    /// Reads the output as every peer does (ipmiutil, go-ipmi, LibreHardwareMonitor): never
    /// failing on an inconsistency the data can be read past. Each disagreement is logged as a
    /// warning.
    ///
    /// - `ResponseData` is cut to `ResponseDataSize` when the size is smaller (as go-ipmi does);
    ///   a larger size keeps the bytes there are.
    /// - An empty `ResponseData` with a `CompletionCode` is a driver-level failure and reads as
    ///   that completion code with no data (not as a missing completion code).
    /// - A `CompletionCode` that differs from `ResponseData[0]` wins when it reports a failure
    ///   (the driver knows something the bytes do not say); otherwise `ResponseData[0]` is used.
    /// - Nothing at all (no data, no `CompletionCode`) is [`WmiError::MissingCompletionCode`].
    pub fn into_response(self) -> Result<RawResponse, WmiError> {
        let MethodOutput {
            completion_code,
            response_data_size,
            mut response_data,
        } = self;
        if let Some(declared) = response_data_size
            && declared as usize != response_data.len()
        {
            tracing::warn!(
                declared,
                actual = response_data.len(),
                "RequestResponse: ResponseDataSize disagrees with ResponseData; reading the bytes up to the smaller"
            );
            response_data.truncate(declared as usize);
        }
        let Some((&in_data, data)) = response_data.split_first() else {
            return match completion_code {
                Some(cc) => {
                    tracing::warn!(
                        code = cc,
                        "RequestResponse: no ResponseData; taking the CompletionCode out-parameter"
                    );
                    Ok(RawResponse::new(CompletionCode::from_byte(cc), []))
                }
                None => Err(WmiError::MissingCompletionCode),
            };
        };
        let code = match completion_code {
            Some(parameter) if parameter != in_data => {
                tracing::warn!(
                    parameter,
                    in_data,
                    "RequestResponse: CompletionCode disagrees with ResponseData[0]"
                );
                if parameter != 0 { parameter } else { in_data }
            }
            _ => in_data,
        };
        Ok(RawResponse::new(CompletionCode::from_byte(code), data))
    }

    /// Splits the output at the completion code, cross-checking everything: an empty
    /// `ResponseData`, a size that disagrees with the bytes, or a `CompletionCode` that differs
    /// from `ResponseData[0]` is an error, never a guess. For tests and for users who want to
    /// see a provider's inconsistencies.
    pub fn into_response_strict(self) -> Result<RawResponse, WmiError> {
        if let Some(declared) = self.response_data_size
            && declared as usize != self.response_data.len()
        {
            return Err(WmiError::SizeMismatch {
                declared,
                actual: self.response_data.len(),
            });
        }
        let (&cc, data) = self
            .response_data
            .split_first()
            .ok_or(WmiError::MissingCompletionCode)?;
        if let Some(parameter) = self.completion_code
            && parameter != cc
        {
            return Err(WmiError::CompletionCodeMismatch {
                parameter,
                in_data: cc,
            });
        }
        Ok(RawResponse::new(CompletionCode::from_byte(cc), data))
    }
}

/// The service side: the instance and raw request carried by a `RequestResponse` invocation.
#[cfg(feature = "sim")]
pub fn parse_request_response_input(
    request: &crate::wsman::server::IncomingRequest,
) -> Result<(String, RawRequest), WmiError> {
    let body = request
        .body
        .as_ref()
        .filter(|b| b.name == "RequestResponse_INPUT" && request.body_in_resource_namespace)
        .ok_or_else(|| WsmanError::UnexpectedBody {
            expected: "RequestResponse_INPUT".into(),
            found: request.body.as_ref().map_or("an empty body".into(), |b| {
                crate::wsman::scan::short(&b.name).to_string()
            }),
        })?;
    let instance = request
        .selector("InstanceName")
        .ok_or_else(|| WsmanError::MissingProperty("InstanceName selector".into()))?
        .to_string();
    let data: Vec<u8> = body.parse_array("RequestData")?;
    let size: u32 = body.parse("RequestDataSize")?;
    if size as usize != data.len() {
        return Err(WsmanError::InvalidValue {
            property: "RequestDataSize".into(),
            value: size.to_string(),
        }
        .into());
    }
    let raw = RawRequest::from_bytes(body.parse("NetworkFunction")?, body.parse("Command")?, data)?
        .with_lun(body.parse("Lun")?)?
        .with_responder(body.parse("ResponderAddress")?);
    Ok((instance, raw))
}

/// The service side: the reply Windows sends for a completed `RequestResponse` (completion code
/// as `ResponseData[0]`, counted in `ResponseDataSize`).
#[cfg(feature = "sim")]
pub fn request_response_reply(relates_to: Option<&str>, response: &RawResponse) -> String {
    use std::fmt::Write;
    let data = MethodOutput::from_response(response).response_data;
    let mut children = String::with_capacity(64 + data.len() * 32);
    let _ = write!(
        children,
        "<p:CompletionCode>{}</p:CompletionCode>",
        response.completion.byte()
    );
    for b in &data {
        let _ = write!(children, "<p:ResponseData>{b}</p:ResponseData>");
    }
    let _ = write!(
        children,
        "<p:ResponseDataSize>{}</p:ResponseDataSize>",
        data.len()
    );
    crate::wsman::server::invoke_reply(RESOURCE_URI, METHOD, relates_to, &children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(cc: Option<u8>, size: Option<u32>, data: &[u8]) -> MethodOutput {
        MethodOutput {
            completion_code: cc,
            response_data_size: size,
            response_data: data.to_vec(),
        }
    }

    fn out(cc: Option<u8>, size: Option<u32>, data: &[u8]) -> Result<RawResponse, WmiError> {
        output(cc, size, data).into_response_strict()
    }

    #[test]
    fn the_default_reading_carries_on_as_every_peer_does() {
        let read = |cc, size, data: &[u8]| output(cc, size, data).into_response().unwrap();
        // Consistent output reads the same as in strict mode.
        assert_eq!(
            read(Some(0), Some(4), &[0, 17, 34, 51]),
            out(Some(0), Some(4), &[0, 17, 34, 51]).unwrap()
        );
        // Cut to ResponseDataSize (go-ipmi); a larger size keeps what is there.
        assert_eq!(read(Some(0), Some(3), &[0, 1, 2, 3, 4]).data, vec![1, 2]);
        assert_eq!(read(Some(0), Some(9), &[0, 1]).data, vec![1]);
        // A driver-level failure: no ResponseData, the code in the out-parameter.
        let r = read(Some(0xc3), Some(0), &[]);
        assert_eq!((r.completion, r.data.len()), (CompletionCode::Timeout, 0));
        // Disagreeing codes: a failure reported by the driver wins; otherwise the data's.
        assert_eq!(
            read(Some(0xc0), Some(1), &[0x00]).completion,
            CompletionCode::NodeBusy
        );
        assert_eq!(
            read(Some(0x00), Some(1), &[0xc1]).completion,
            CompletionCode::InvalidCommand
        );
        // Nothing at all is still an error.
        assert!(matches!(
            output(None, None, &[]).into_response(),
            Err(WmiError::MissingCompletionCode)
        ));
    }

    // go-ipmi's parseWinIPMIResponse cases (bougou/go-ipmi pkg/open/wmi_ps_windows_test.go) and
    // ipmiutil's Get Device ID dump (ResponseDataSize 16 = cc + 15 bytes).
    #[test]
    fn method_output_is_split_at_the_completion_code() {
        let r = out(Some(0), Some(4), &[0, 17, 34, 51]).unwrap();
        assert_eq!(r.completion, CompletionCode::Normal);
        assert_eq!(r.data, vec![0x11, 0x22, 0x33]);

        let devid = [0u8, 0, 3, 9, 8, 2, 0x9f, 0x91, 0x12, 0, 2, 0x0f, 0, 0, 0, 0];
        let r = out(Some(0), Some(16), &devid).unwrap();
        assert_eq!(r.data.len(), 15);
        assert_eq!(
            MethodOutput::from_response(&r).response_data,
            devid.to_vec()
        );

        let r = out(Some(0xc1), Some(1), &[0xc1]).unwrap();
        assert_eq!(r.completion, CompletionCode::InvalidCommand);
        assert!(r.data.is_empty());
    }

    #[test]
    fn method_output_inconsistencies_are_errors() {
        assert!(matches!(
            out(Some(0), Some(3), &[0, 1, 2, 3, 4]),
            Err(WmiError::SizeMismatch {
                declared: 3,
                actual: 5
            })
        ));
        assert!(matches!(
            out(Some(0), Some(0), &[]),
            Err(WmiError::MissingCompletionCode)
        ));
        assert!(matches!(
            out(None, None, &[]),
            Err(WmiError::MissingCompletionCode)
        ));
        assert!(matches!(
            out(Some(0xc0), Some(1), &[0x00]),
            Err(WmiError::CompletionCodeMismatch {
                parameter: 0xc0,
                in_data: 0
            })
        ));
    }
}
