//! Building WS-Management request envelopes.
//!
//! Header layout follows MS-WSMV §4.1.4 and what Windows' own clients send: To, ResourceURI,
//! ReplyTo (anonymous), Action, MaxEnvelopeSize, MessageID, Locale, DataLocale, OperationTimeout,
//! SelectorSet. Every value we insert is escaped; element names are checked.

use std::fmt::{self, Display, Write};
use std::time::Duration;

use quick_xml::escape::escape;

use super::{WsmanError, ns};

/// Default `MaxEnvelopeSize`: 150 KiB, below every Windows default (`MaxEnvelopeSizekb` 500 since
/// WinRM 2.0, 150 before), as pywinrm and pypsrp send.
pub const DEFAULT_MAX_ENVELOPE_SIZE: u32 = 153_600;
/// Default `OperationTimeout`.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

const ACTION_ENUMERATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
const ACTION_PULL: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
const ACTION_RELEASE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";
const ACTION_GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";

/// A WS-Addressing MessageID (`uuid:...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageId(pub uuid::Uuid);

impl MessageId {
    /// A random-looking (v4) ID.
    ///
    /// One system-randomness call per process seeds a SplitMix64 stream over a counter; each ID
    /// is two outputs of it with the v4 version and variant bits, so a request costs no
    /// `getrandom` syscall (the per-request profile showed one). IDs of one process are distinct
    /// in practice (distinct counters give distinct outputs; the six fixed bits make a repeat
    /// possible only in theory) and differ between processes. They are not secrets: a MessageID
    /// only pairs a reply with its request, and one ID reveals the process's sequence.
    pub fn random() -> Self {
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU64, Ordering};
        static SEED: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = *SEED.get_or_init(|| {
            let mut b = [0u8; 8];
            // Without system randomness, time and address still make collisions unlikely.
            if getrandom::fill(&mut b).is_err() {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                b = (t ^ (&COUNTER as *const _ as u64)).to_le_bytes();
            }
            u64::from_le_bytes(b)
        });
        let n = COUNTER.fetch_add(2, Ordering::Relaxed);
        let (hi, lo) = (
            splitmix64(seed.wrapping_add(n)),
            splitmix64(seed.wrapping_add(n + 1)),
        );
        let bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
        MessageId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

/// SplitMix64's output function: a bijection on u64, so distinct counters give distinct IDs.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl MessageId {
    /// Appends `uuid:` and the upper-case UUID (what [`Display`] writes, without the
    /// formatting machinery: this runs once per request).
    pub fn write_to(&self, out: &mut String) {
        out.push_str("uuid:");
        out.push_str(
            self.0
                .hyphenated()
                .encode_upper(&mut uuid::Uuid::encode_buffer()),
        );
    }
}

impl Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("uuid:")?;
        f.write_str(
            self.0
                .hyphenated()
                .encode_upper(&mut uuid::Uuid::encode_buffer()),
        )
    }
}

impl MessageId {
    /// Whether a `RelatesTo` value names this ID (case-insensitive on the UUID, as Windows
    /// echoes it in its own case).
    pub fn matches(&self, relates_to: &str) -> bool {
        let r = relates_to.trim();
        r.strip_prefix("uuid:")
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
            .is_some_and(|u| u == self.0)
    }
}

/// Which operation a request performs; the matching parser uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Identify.
    Identify,
    /// Enumerate.
    Enumerate,
    /// Pull.
    Pull,
    /// Release.
    Release,
    /// Get.
    Get,
    /// Invoke of this method.
    Invoke(String),
}

/// A built request: the envelope, and what is needed to check its reply.
#[derive(Clone, Debug)]
pub struct Request {
    /// The SOAP envelope (UTF-8).
    pub xml: String,
    /// Its MessageID (`None` for Identify, which has no WS-Addressing headers).
    pub message_id: Option<MessageId>,
    /// The resource URI (empty for Identify).
    pub resource_uri: String,
    /// The operation.
    pub operation: Operation,
}

/// Options of an Enumerate.
#[derive(Clone, Debug)]
pub struct EnumerateOptions {
    /// Return items in the Enumerate response itself (`w:OptimizeEnumeration`).
    pub optimize: bool,
    /// Items per response (`w:MaxElements`).
    pub max_elements: u32,
    /// A WQL filter, sent with the WQL dialect.
    pub wql: Option<String>,
    /// The most items the whole enumeration may bring, all pages together (default 100,000).
    /// More is an error ([`WsmanError::EnumerationLimit`]), as are Pull pages that bring
    /// nothing and do not end the sequence: a service that never ends it cannot hold a client
    /// or fill its memory.
    pub max_items: usize,
    /// The most properties the whole enumeration may bring, all pages and embedded objects
    /// together (default 1,000,000): items are bounded by count, and this bounds what they
    /// hold (an empty element costs about 90 bytes parsed, so a 1 MiB page of them is about
    /// 22 MiB). More is an error ([`WsmanError::EnumerationLimit`]).
    pub max_properties: usize,
}

/// Pull pages in a row with no items and no end of sequence before the enumeration is given up
/// (Windows answers a Pull that finds nothing in time with a `TimedOut` fault, not such a page).
pub const MAX_EMPTY_PULLS: u32 = 3;

impl Default for EnumerateOptions {
    fn default() -> Self {
        EnumerateOptions {
            optimize: true,
            max_elements: 32_000,
            wql: None,
            max_items: 100_000,
            max_properties: 1_000_000,
        }
    }
}

/// A method parameter's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue {
    /// A scalar (numbers in decimal, booleans `true`/`false`).
    Scalar(String),
    /// An array: one element per item; an empty array sends no element.
    Array(Vec<String>),
    /// Null: the element once, with `xsi:nil="true"`.
    Null,
}

/// A method parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Name, as in the class schema (case matters).
    pub name: String,
    /// Value.
    pub value: ParamValue,
}

impl Param {
    /// A scalar parameter.
    pub fn scalar(name: impl Into<String>, value: impl Display) -> Self {
        Param {
            name: name.into(),
            value: ParamValue::Scalar(value.to_string()),
        }
    }

    /// An array parameter.
    pub fn array<T: Display>(name: impl Into<String>, items: impl IntoIterator<Item = T>) -> Self {
        Param {
            name: name.into(),
            value: ParamValue::Array(items.into_iter().map(|i| i.to_string()).collect()),
        }
    }

    /// A null parameter.
    pub fn null(name: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            value: ParamValue::Null,
        }
    }
}

/// Connection-level settings every envelope carries, and the builders.
#[derive(Clone, Debug)]
pub struct RequestContext {
    endpoint: String,
    max_envelope_size: u32,
    operation_timeout: Duration,
    locale: Option<String>,
}

impl RequestContext {
    /// Settings for the endpoint URL (`To` header), e.g. `http://host:5985/wsman`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        RequestContext {
            endpoint: endpoint.into(),
            max_envelope_size: DEFAULT_MAX_ENVELOPE_SIZE,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            locale: Some("en-US".to_string()),
        }
    }

    /// Sets `MaxEnvelopeSize` (Windows refuses less than 8192).
    pub fn with_max_envelope_size(mut self, bytes: u32) -> Self {
        self.max_envelope_size = bytes.max(8192);
        self
    }

    /// Sets `OperationTimeout`.
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Sets `Locale`/`DataLocale` (`None` omits both).
    pub fn with_locale(mut self, locale: Option<String>) -> Self {
        self.locale = locale;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The OperationTimeout.
    pub fn operation_timeout(&self) -> Duration {
        self.operation_timeout
    }

    /// Identify (DSP0226 §11): no addressing headers; sent with `WSMANIDENTIFY: unauthenticated`.
    pub fn identify(&self) -> Request {
        let xml = format!(
            "<s:Envelope xmlns:s=\"{}\" xmlns:wsmid=\"{}\"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>",
            ns::SOAP,
            ns::IDENTITY
        );
        Request {
            xml,
            message_id: None,
            resource_uri: String::new(),
            operation: Operation::Identify,
        }
    }

    /// Enumerate the instances of `resource_uri`.
    pub fn enumerate(
        &self,
        resource_uri: &str,
        options: &EnumerateOptions,
        id: MessageId,
    ) -> Request {
        let mut out = self.start(resource_uri, ACTION_ENUMERATE, id, &[]);
        out.push_str("<n:Enumerate>");
        if options.optimize {
            let _ = write!(
                out,
                "<w:OptimizeEnumeration/><w:MaxElements>{}</w:MaxElements>",
                options.max_elements
            );
        }
        if let Some(wql) = &options.wql {
            let _ = write!(
                out,
                "<w:Filter Dialect=\"{}\">{}</w:Filter>",
                ns::WQL,
                escape(wql)
            );
        }
        out.push_str("</n:Enumerate>");
        self.finish(out, id, resource_uri, Operation::Enumerate)
    }

    /// Pull the next items of an enumeration.
    pub fn pull(
        &self,
        resource_uri: &str,
        context: &str,
        max_elements: u32,
        id: MessageId,
    ) -> Request {
        let mut out = self.start(resource_uri, ACTION_PULL, id, &[]);
        let _ = write!(
            out,
            "<n:Pull><n:EnumerationContext>{}</n:EnumerationContext><n:MaxElements>{max_elements}</n:MaxElements></n:Pull>",
            escape(context)
        );
        self.finish(out, id, resource_uri, Operation::Pull)
    }

    /// Release an enumeration that will not be pulled to its end.
    pub fn release(&self, resource_uri: &str, context: &str, id: MessageId) -> Request {
        let mut out = self.start(resource_uri, ACTION_RELEASE, id, &[]);
        let _ = write!(
            out,
            "<n:Release><n:EnumerationContext>{}</n:EnumerationContext></n:Release>",
            escape(context)
        );
        self.finish(out, id, resource_uri, Operation::Release)
    }

    /// Get one instance.
    pub fn get(&self, resource_uri: &str, selectors: &[(&str, &str)], id: MessageId) -> Request {
        let out = self.start(resource_uri, ACTION_GET, id, selectors);
        self.finish(out, id, resource_uri, Operation::Get)
    }

    /// Invoke method `method` of `resource_uri` (instance methods need `selectors`).
    pub fn invoke(
        &self,
        resource_uri: &str,
        method: &str,
        selectors: &[(&str, &str)],
        params: &[Param],
        id: MessageId,
    ) -> Result<Request, WsmanError> {
        for p in params {
            check_name(&p.name)?;
        }
        self.invoke_with(resource_uri, method, selectors, id, |w| {
            for p in params {
                match &p.value {
                    ParamValue::Scalar(v) => w.scalar(&p.name, escape(v)),
                    ParamValue::Array(items) => w.array(&p.name, items.iter().map(escape)),
                    ParamValue::Null => w.null(&p.name),
                }
            }
        })
    }

    /// Invoke with the input parameters written by `body`, with no [`Param`] values built. For
    /// one invocation; a binding that invokes one method on one instance again and again keeps
    /// its [`InvokeTemplate`] instead. Values written through [`MethodInput`] must already be
    /// escaped (numbers need no escaping); parameter names must be XML names.
    pub fn invoke_with(
        &self,
        resource_uri: &str,
        method: &str,
        selectors: &[(&str, &str)],
        id: MessageId,
        body: impl FnOnce(&mut MethodInput<'_>),
    ) -> Result<Request, WsmanError> {
        Ok(self
            .invoke_template(resource_uri, method, selectors)?
            .request(id, body))
    }

    /// The constant parts of invocations of `method` on one instance, written once; see
    /// [`InvokeTemplate`].
    pub fn invoke_template(
        &self,
        resource_uri: &str,
        method: &str,
        selectors: &[(&str, &str)],
    ) -> Result<InvokeTemplate, WsmanError> {
        check_name(method)?;
        let action = format!("{resource_uri}/{method}");
        let mut head = String::with_capacity(768);
        self.write_head(&mut head, resource_uri, &action);
        let mut tail = String::with_capacity(640);
        self.write_tail(&mut tail, selectors);
        let _ = write!(
            tail,
            "<m:{method}_INPUT xmlns:m=\"{}\">",
            escape(resource_uri)
        );
        Ok(InvokeTemplate {
            close: format!("</m:{method}_INPUT></s:Body></s:Envelope>"),
            head,
            tail,
            resource_uri: resource_uri.to_string(),
            method: method.to_string(),
        })
    }

    fn start(
        &self,
        resource_uri: &str,
        action: &str,
        id: MessageId,
        selectors: &[(&str, &str)],
    ) -> String {
        let mut out = String::with_capacity(1536);
        self.write_head(&mut out, resource_uri, action);
        id.write_to(&mut out);
        self.write_tail(&mut out, selectors);
        out
    }

    /// The envelope from its start to the MessageID's value: namespaces, To, ResourceURI,
    /// ReplyTo, Action, MaxEnvelopeSize and `<a:MessageID>`.
    fn write_head(&self, out: &mut String, resource_uri: &str, action: &str) {
        let _ = write!(
            out,
            "<s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\" xmlns:n=\"{}\" xmlns:w=\"{}\" xmlns:p=\"{}\" xmlns:xsi=\"{}\"><s:Header>",
            ns::SOAP,
            ns::ADDRESSING,
            ns::ENUMERATION,
            ns::WSMAN,
            ns::MS_WSMAN,
            ns::XSI
        );
        let _ = write!(
            out,
            "<a:To>{}</a:To><w:ResourceURI s:mustUnderstand=\"true\">{}</w:ResourceURI>\
             <a:ReplyTo><a:Address s:mustUnderstand=\"true\">{}</a:Address></a:ReplyTo>\
             <a:Action s:mustUnderstand=\"true\">{}</a:Action>\
             <w:MaxEnvelopeSize s:mustUnderstand=\"true\">{}</w:MaxEnvelopeSize>\
             <a:MessageID>",
            escape(&self.endpoint),
            escape(resource_uri),
            ns::ANONYMOUS,
            escape(action),
            self.max_envelope_size,
        );
    }

    /// The envelope after the MessageID's value: Locale, DataLocale, OperationTimeout, the
    /// selectors, up to `<s:Body>`.
    fn write_tail(&self, out: &mut String, selectors: &[(&str, &str)]) {
        out.push_str("</a:MessageID>");
        if let Some(locale) = &self.locale {
            let l = escape(locale);
            let _ = write!(
                out,
                "<w:Locale xml:lang=\"{l}\" s:mustUnderstand=\"false\"/><p:DataLocale xml:lang=\"{l}\" s:mustUnderstand=\"false\"/>"
            );
        }
        let t = self.operation_timeout;
        let _ = write!(
            out,
            "<w:OperationTimeout>PT{}.{:03}S</w:OperationTimeout>",
            t.as_secs(),
            t.subsec_millis()
        );
        if !selectors.is_empty() {
            out.push_str("<w:SelectorSet>");
            for (name, value) in selectors {
                let _ = write!(
                    out,
                    "<w:Selector Name=\"{}\">{}</w:Selector>",
                    escape(*name),
                    escape(*value)
                );
            }
            out.push_str("</w:SelectorSet>");
        }
        out.push_str("</s:Header><s:Body>");
    }

    fn finish(
        &self,
        mut out: String,
        id: MessageId,
        resource_uri: &str,
        operation: Operation,
    ) -> Request {
        out.push_str("</s:Body></s:Envelope>");
        Request {
            xml: out,
            message_id: Some(id),
            resource_uri: resource_uri.to_string(),
            operation,
        }
    }
}

/// The constant parts of invocations of one method on one instance (context, resource URI,
/// method, selectors), written once: each [`request`](InvokeTemplate::request) writes only its
/// MessageID and input parameters. Typed bindings keep one per instance, since their method is
/// invoked thousands of times on it (`Microsoft_IPMI`'s `RequestResponse`).
///
/// Its requests are byte for byte what [`RequestContext::invoke_with`] builds (which uses it).
#[derive(Clone, Debug)]
pub struct InvokeTemplate {
    /// From the envelope's start to `<a:MessageID>`.
    head: String,
    /// From `</a:MessageID>` to the opening `<m:{method}_INPUT ...>` tag.
    tail: String,
    /// `</m:{method}_INPUT>` to the envelope's end.
    close: String,
    resource_uri: String,
    method: String,
}

impl InvokeTemplate {
    /// One invocation, with the input parameters written by `body` (values already escaped,
    /// names XML names, as for [`RequestContext::invoke_with`]).
    pub fn request(&self, id: MessageId, body: impl FnOnce(&mut MethodInput<'_>)) -> Request {
        let mut out = String::with_capacity(self.head.len() + self.tail.len() + 512);
        out.push_str(&self.head);
        id.write_to(&mut out);
        out.push_str(&self.tail);
        body(&mut MethodInput { out: &mut out });
        out.push_str(&self.close);
        Request {
            xml: out,
            message_id: Some(id),
            resource_uri: self.resource_uri.clone(),
            operation: Operation::Invoke(self.method.clone()),
        }
    }
}

/// Writes the children of a `<Method>_INPUT` element.
pub struct MethodInput<'o> {
    out: &'o mut String,
}

impl MethodInput<'_> {
    /// `<m:name>value</m:name>`.
    pub fn scalar(&mut self, name: &str, value: impl Display) {
        self.out.push_str("<m:");
        self.out.push_str(name);
        self.out.push('>');
        let _ = write!(self.out, "{value}");
        self.out.push_str("</m:");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// One `<m:name>` per item; nothing for an empty array.
    pub fn array<T: Display>(&mut self, name: &str, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.scalar(name, item);
        }
    }

    /// `<m:name xsi:nil="true"/>`.
    pub fn null(&mut self, name: &str) {
        let _ = write!(self.out, "<m:{name} xsi:nil=\"true\"/>");
    }
}

/// Accepts XML NCNames made of ASCII letters, digits, `_`, `-` and `.`, starting with a letter or
/// `_` (every CIM class, method and property name has this form).
fn check_name(name: &str) -> Result<(), WsmanError> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WsmanError::InvalidName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_v4_and_never_repeat() {
        let ids: std::collections::HashSet<_> = (0..100_000).map(|_| MessageId::random()).collect();
        assert_eq!(ids.len(), 100_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.0.get_version_num(), 4);
            assert_eq!(id.0.get_variant(), uuid::Variant::RFC4122);
        }
    }
}
